"""The web app: HTTP routes and the Socket.IO server (threading mode, real websockets)."""
from __future__ import annotations

import os
import socket
from pathlib import Path

from flask import Flask, abort, jsonify, render_template, request, send_from_directory
from flask_socketio import SocketIO
from werkzeug.serving import WSGIRequestHandler

from .httpio import JsonBodyError
from .live import LiveLimits, LiveServer
from .rigstore import RigStore
from .takes_api import install as install_takes

ROOT = Path(__file__).resolve().parent.parent
VENDOR = {"socket.io.min.js": ROOT / "node_modules" / "socket.io-client" / "dist"}
DATA_DIR = Path(os.environ.get("POSE_ANIMATOR_DATA", ROOT / "data"))


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(max_clients: int = 4, data_dir: Path | None = None, allowed_origins=None,
               limits: LiveLimits | None = None, allowed_hosts=LOOPBACK_NAMES):
    """Returns (app, socketio, live). Socket.IO accepts same-origin connections only
    unless ``allowed_origins`` lists others (or is "*"); requests must name one of
    ``allowed_hosts`` (None: any) in their Host header."""
    app = Flask(__name__, static_folder=str(ROOT / "static"), template_folder=str(ROOT / "templates"))
    app.config["MAX_CONTENT_LENGTH"] = 6 * 1024 * 1024
    store = RigStore(saved_dir=Path(data_dir or DATA_DIR) / "rigs")
    limits = limits or LiveLimits(max_clients=max_clients)
    socketio = SocketIO(app, async_mode="threading", cors_allowed_origins=allowed_origins,
                        max_http_buffer_size=max(limits.max_frame_bytes, limits.max_svg_bytes) + 65536)
    live = LiveServer(socketio, store, limits)

    @app.before_request
    def refuse_changes_from_other_sites():
        """A page on another site may post to this server from the user's browser; the
        browser then names that site in Origin. Only this server's own pages (and the
        --allow-origin ones) may change anything."""
        origin = request.headers.get("Origin")
        if request.method in ("GET", "HEAD", "OPTIONS") or origin is None:
            return None
        if origin == request.host_url.rstrip("/") or _origin_allowed(origin, allowed_origins):
            return None
        return jsonify({"error": f"requests from {origin} are refused (same origin only)"}), 403

    @app.after_request
    def page_protections(response):
        """Our pages load only our own scripts, talk only to this server, and cannot be
        framed by another site (clickjacking the camera or the Record button)."""
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.errorhandler(JsonBodyError)
    def bad_json_body(exc: JsonBodyError):
        return jsonify({"error": str(exc)}), exc.status

    @app.get("/")
    def index():
        return render_template("index.html")

    @app.get("/vendor/<path:name>")
    def vendor(name):
        folder = VENDOR.get(name)
        if folder is None or not (folder / name).is_file():
            abort(404)
        return send_from_directory(folder, name, max_age=3600)

    @app.get("/api/rigs")
    def rigs():
        return jsonify({"rigs": [r.to_json() for r in store.list()], "default": store.default_id})

    @app.get("/healthz")
    def healthz():
        return jsonify({"ok": True, "clients": len(live.clients)})

    app.extensions["pose_animator"] = {"store": store, "live": live}
    # Outermost, so the Socket.IO endpoint is covered too.
    app.wsgi_app = KnownHostsOnly(app.wsgi_app, allowed_hosts)
    install_takes(app, live, store, Path(data_dir or DATA_DIR))    # /api/takes, /api/exports, recording
    from .editor import bp as editor_blueprint                      # /editor, rigging your own SVG
    app.register_blueprint(editor_blueprint)
    return app, socketio, live


def _origin_allowed(origin: str, allowed) -> bool:
    if allowed == "*":
        return True
    return origin in ([allowed] if isinstance(allowed, str) else (allowed or []))


class KnownHostsOnly:
    """Refuse requests whose Host header names another site. Same-origin checks alone
    do not stop DNS rebinding: a page on evil.example whose name is made to point at
    127.0.0.1 is "same origin" with this server, but its requests say Host: evil.example."""

    def __init__(self, wsgi_app, allowed):
        self.wsgi_app = wsgi_app
        self.allowed = None if allowed is None else frozenset(h.lower() for h in allowed)

    def __call__(self, environ, start_response):
        if self.allowed is None or host_name(environ.get("HTTP_HOST", "")) in self.allowed:
            return self.wsgi_app(environ, start_response)
        body = b"unknown host: this server answers to " + ", ".join(sorted(self.allowed)).encode() + b"\n"
        start_response("421 Misdirected Request", [("Content-Type", "text/plain; charset=utf-8"),
                                                   ("Content-Length", str(len(body)))])
        return [body]


def host_name(host_header: str) -> str:
    """The name in a Host header, without the port ("[::1]:5000" -> "[::1]")."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_hosts_for(bind_host: str, extra=()) -> frozenset | None:
    """Host names to answer to: loopback names, the address bound, and any given. Bound
    to every interface with none given, any name is answered (the LAN's names are not
    known here)."""
    if bind_host in ("0.0.0.0", "::", "") and not extra:
        return None
    bound = f"[{bind_host}]" if ":" in bind_host else bind_host
    return LOOPBACK_NAMES | {bound.lower()} | {h.lower() for h in extra}


class NoDelayRequestHandler(WSGIRequestHandler):
    """Send small websocket frames at once. A pose is several frames (the event and its
    binary attachments); with Nagle's algorithm on, each answer waited ~40 ms for the
    browser's delayed ACK."""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives every thread that allocates its own memory arena; with a thread per
    connection and MediaPipe's large buffers, freed memory stayed spread over dozens of
    arenas and the server grew by megabytes per visitor. A couple of arenas is plenty."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(-8, arenas)          # M_ARENA_MAX
    except OSError:                           # not glibc: nothing to tune
        pass


def run(host: str = "127.0.0.1", port: int = 5000, max_clients: int = 4, allowed_origins=None,
        allowed_hosts=()) -> None:
    _limit_malloc_arenas()
    app, socketio, _ = create_app(max_clients=max_clients, allowed_origins=allowed_origins,
                                  allowed_hosts=allowed_hosts_for(host, allowed_hosts or ()))
    print(f"Pose Animator: open http://{host}:{port}/ in your browser (Ctrl+C to stop)", flush=True)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True,
                 request_handler=NoDelayRequestHandler)
