"""The rig editor's HTTP side: upload -> auto-rig -> edit -> preview -> save.

Every upload goes through the hardened parser (``safesvg`` + ``drawing``) and the
editor only ever sees and serves numbers rebuilt from it: path points and styles as
JSON, rig files written by ``rigwriter``. The raw upload is never stored or served.

A "source" is a parsed drawing kept in memory (bounded) under an id derived from
its bytes, so later requests (binding view, preview, save) send joints and pins,
not the drawing again. If a source has been forgotten (server restart, too many
uploads), the client may resend the original file text with the request.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from .autorig import AutoRigError, autorig
from .binding import bind
from .drawing import MAX_COORDINATE, Drawing
from .httpio import MAX_JSON_BYTES, content_disposition, json_object
from .rig import BIND_GROUPS, Rig, RigError, drawing_from_bytes, rig_from_bytes
from .rigstore import safe_name
from .rigwriter import rig_svg
from .safesvg import SvgError
from .skeleton import ALL_JOINTS, BODY_BONE_GROUPS, BODY_JOINTS, FACE_BONES, FACE_JOINTS

MAX_SVG_BYTES = 5 * 1024 * 1024
MAX_PATHS = 5000
MAX_POINTS = 400_000
MAX_SOURCES = 32

bp = Blueprint("editor", __name__)


class EditorError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Source:
    """A parsed drawing the editor is working on."""
    name: str
    drawing: Drawing
    secondary: list = field(default_factory=list)


class SourceCache:
    def __init__(self, limit: int = MAX_SOURCES):
        self.limit = limit
        self._items: OrderedDict[str, Source] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, source_id: str, source: Source) -> None:
        with self._lock:
            self._items[source_id] = source
            self._items.move_to_end(source_id)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, source_id) -> Source | None:
        if not isinstance(source_id, str):
            return None
        with self._lock:
            source = self._items.get(source_id)
            if source is not None:
                self._items.move_to_end(source_id)
            return source


def _state():
    ext = current_app.extensions["pose_animator"]
    if "editor_sources" not in ext:
        ext["editor_sources"] = SourceCache()
    return ext["store"], ext["live"], ext["editor_sources"]


@bp.errorhandler(EditorError)
def _editor_error(exc: EditorError):
    return jsonify({"error": str(exc)}), exc.status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    return jsonify({"error": f"the upload is too large (limit {MAX_SVG_BYTES // (1024 * 1024)} MiB)"}), 413


# ---------------------------------------------------------------- pages and reads

@bp.get("/editor")
def editor_page():
    return render_template("editor.html")


@bp.post("/api/autorig")
def autorig_upload():
    """An SVG (multipart field 'svg', or JSON {name, svg}) -> drawing + joints + report."""
    name, data = _uploaded_svg()
    _, _, sources = _state()
    source_id = "src-" + hashlib.sha256(data).hexdigest()[:16]
    source, joints, report = _read_or_rig(name, data)
    sources.put(source_id, source)
    return jsonify(_editor_document(source_id, source, joints, report))


@bp.get("/api/rigs/<rig_id>/edit")
def edit_existing(rig_id: str):
    """A stored rig (bundled, saved or uploaded) opened for editing."""
    store, _, sources = _state()
    rig = _stored_rig(store, rig_id)
    source = Source(rig.name, rig.drawing, rig.secondary)
    source_id = "rig-" + hashlib.sha256(rig_svg(rig.drawing, rig.joints, rig.secondary).encode()).hexdigest()[:16]
    sources.put(source_id, source)
    joints, report = _complete_face(rig.drawing, dict(rig.joints), _file_report(rig))
    document = _editor_document(source_id, source, joints, report)
    document["rig_id"] = rig_id
    return jsonify(document)


@bp.get("/api/rigs/<rig_id>/svg")
def rig_as_svg(rig_id: str):
    return _svg_response(_stored_rig(_state()[0], rig_id), download=False)


@bp.get("/api/rigs/<rig_id>/download")
def rig_download(rig_id: str):
    return _svg_response(_stored_rig(_state()[0], rig_id), download=True)


# ---------------------------------------------------------------- edits

@bp.post("/api/binding")
def binding_view():
    """Main bone group of every control point for these joints and pins."""
    body = json_object()
    source = _source_of(body)
    rig = _rig_for(source, _joints_of(body), _pins_of(body, source))
    return jsonify(_binding_summary(rig))


@bp.post("/api/preview")
def preview():
    """Register the rig being edited (in memory) so the live socket can animate it."""
    body = json_object()
    store, _, _ = _state()
    source = _source_of(body)
    text = _rig_text(source, _joints_of(body), _pins_of(body, source))
    try:
        info = store.add_upload("preview-" + safe_name(body.get("name") or source.name), text.encode("utf-8"),
                                listed=False)
    except SvgError as exc:
        raise EditorError(f"the rig cannot be previewed: {exc}", 422) from None
    return jsonify(info.to_json())


@bp.post("/api/rigs")
def save_rig():
    """Save: a rig file written atomically into the data folder, the old one kept."""
    body = json_object()
    store, live, _ = _state()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise EditorError("give the rig a name")
    if len(name) > 200:
        raise EditorError("the name is too long (200 characters at most)")
    if not safe_name(name, default=""):
        # ".." or "***" would all become one fallback name and replace each other.
        raise EditorError(f"the name {name!r} has no letters or digits to name a file with")
    source = _source_of(body)
    text = _rig_text(source, _joints_of(body), _pins_of(body, source))
    try:
        info, replaced = store.save(name, text)
    except PermissionError as exc:
        raise EditorError(str(exc), 403) from None
    except SvgError as exc:
        raise EditorError(f"the rig could not be saved: {exc}", 422) from None
    live.broadcast_rigs()
    return jsonify({**info.to_json(), "file": f"{info.name}.svg", "replaced": replaced}), 201


@bp.post("/api/export")
def export_rig():
    """The rig being edited as a file to download, without saving it."""
    body = json_object()
    source = _source_of(body)
    text = _rig_text(source, _joints_of(body), _pins_of(body, source))
    name = safe_name(body.get("name") if isinstance(body.get("name"), str) else source.name)
    return _svg_text_response(text, name, download=True)


# ---------------------------------------------------------------- reading uploads

def _uploaded_svg() -> tuple[str, bytes]:
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise EditorError(f"the upload is too large (limit {MAX_SVG_BYTES // (1024 * 1024)} MiB)", 413)
    if request.files:
        upload = request.files.get("svg")
        if upload is None:
            raise EditorError("send the SVG file in the form field 'svg'")
        data = upload.read(MAX_SVG_BYTES + 1)
        name = upload.filename or "drawing"
    else:
        body = json_object()
        svg = body.get("svg")
        if not isinstance(svg, str):
            raise EditorError("send the SVG as a file (field 'svg') or as JSON {name, svg}")
        data, name = svg.encode("utf-8"), body.get("name") or "drawing"
    if len(data) > MAX_SVG_BYTES:
        raise EditorError(f"the SVG is too large ({len(data) // 1024} KiB; limit {MAX_SVG_BYTES // 1024} KiB)", 413)
    if not isinstance(name, str):
        name = "drawing"
    return safe_name(name), data


def _parse_drawing(data: bytes) -> Drawing:
    try:
        drawing = drawing_from_bytes(data)
    except SvgError as exc:
        raise EditorError(str(exc), 422) from None
    _check_size(drawing)
    return drawing


def _check_size(drawing: Drawing) -> None:
    if not drawing.paths:
        raise EditorError("the SVG draws nothing that can be rigged (no visible shapes)", 422)
    if len(drawing.paths) > MAX_PATHS:
        raise EditorError(f"the drawing has too many shapes ({len(drawing.paths)}; limit {MAX_PATHS})", 413)
    points = sum(len(p.points) for p in drawing.paths)
    if points > MAX_POINTS:
        raise EditorError(f"the drawing has too many points ({points}; limit {MAX_POINTS})", 413)


def _read_or_rig(name: str, data: bytes):
    """A rig file keeps its joints; any other drawing is auto-rigged."""
    try:
        rig = rig_from_bytes(data, name)
    except RigError:
        rig = None
    except SvgError as exc:
        raise EditorError(str(exc), 422) from None
    if rig is not None:
        _check_size(rig.drawing)
        joints, report = _complete_face(rig.drawing, dict(rig.joints), _file_report(rig))
        return Source(name, rig.drawing, rig.secondary), joints, report
    drawing = _parse_drawing(data)
    try:
        result = autorig(drawing)
    except AutoRigError as exc:
        raise EditorError(str(exc), 422) from None
    return Source(name, drawing), result.joints, {**result.report(), "from_file": False}


def _file_report(rig: Rig) -> dict:
    names = list(rig.joints)
    return {"parts": {p: "from file" for p in ("torso", "leftArm", "rightArm", "leftLeg", "rightLeg", "face")},
            "joints": {n: "from file" for n in names}, "detected": [], "fitted": [], "guessed": [],
            "notes": [], "from_file": True}


def _complete_face(drawing: Drawing, joints: dict, report: dict):
    """A rig without a face gets a template face (guessed), so the editor always has 85 joints."""
    if all(n in joints for n in FACE_JOINTS):
        return joints, report
    try:
        guess = autorig(drawing)
    except AutoRigError as exc:
        raise EditorError(str(exc), 422) from None
    for n in FACE_JOINTS:
        joints[n] = guess.joints[n]
        report["joints"][n] = guess.source[n]
    report["parts"]["face"] = guess.parts["face"]
    report["notes"].append("the rig had no face joints: a face was added")
    return joints, report


# ---------------------------------------------------------------- request fields

def _source_of(body: dict) -> Source:
    _, _, sources = _state()
    source = sources.get(body.get("source"))
    if source is not None:
        return source
    svg = body.get("svg")
    if isinstance(svg, str):          # the source was forgotten: rebuild it from the file
        data = svg.encode("utf-8")
        if len(data) > MAX_SVG_BYTES:
            raise EditorError(f"the SVG is too large (limit {MAX_SVG_BYTES // 1024} KiB)", 413)
        name = safe_name(body.get("name") if isinstance(body.get("name"), str) else "drawing")
        try:
            rig = rig_from_bytes(data, name)
            source = Source(name, rig.drawing, rig.secondary)
        except RigError:
            source = Source(name, _parse_drawing(data))
        except SvgError as exc:
            raise EditorError(str(exc), 422) from None
        _check_size(source.drawing)
        sources.put("src-" + hashlib.sha256(data).hexdigest()[:16], source)
        return source
    raise EditorError("the drawing being edited is no longer on the server; open the file again", 409)


def _joints_of(body: dict) -> dict[str, np.ndarray]:
    raw = body.get("joints")
    if not isinstance(raw, dict):
        raise EditorError("missing joints")
    unknown = [k for k in raw if k not in ALL_JOINTS]
    if unknown:
        raise EditorError("unknown joint names: " + ", ".join(map(str, unknown[:5])))
    missing = [n for n in BODY_JOINTS if n not in raw]
    if missing:
        raise EditorError("missing body joints: " + ", ".join(missing))
    face = [n for n in FACE_JOINTS if n in raw]
    if face and len(face) != len(FACE_JOINTS):
        raise EditorError(f"give all 73 face joints or none (got {len(face)})")
    joints = {}
    for name, value in raw.items():
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise EditorError(f"joint {name} must be [x, y]")
        xy = np.array(value, dtype=np.float64)
        if not np.isfinite(xy).all() or np.abs(xy).max() > MAX_COORDINATE:
            raise EditorError(f"joint {name} has an unusable position")
        joints[name] = xy
    return joints


def _pins_of(body: dict, source: Source) -> dict[int, str | None]:
    """{path index: group or null}; null un-pins a path that the file had pinned."""
    raw = body.get("pins") or {}
    if not isinstance(raw, dict):
        raise EditorError("pins must map path numbers to bone groups")
    if len(raw) > len(source.drawing.paths):
        raise EditorError("more pins than paths")
    pins = {}
    for key, group in raw.items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise EditorError(f"pin key {key!r} is not a path number") from None
        if not 0 <= index < len(source.drawing.paths):
            raise EditorError(f"there is no path {index}")
        if group is not None and group not in BIND_GROUPS:
            raise EditorError(f"{group!r} is not a bone group ({', '.join(BIND_GROUPS)})")
        pins[index] = group
    return pins


# ---------------------------------------------------------------- building rigs

def _pinned_drawing(drawing: Drawing, pins: dict[int, str | None]) -> Drawing:
    paths = [replace(p, bind_group=pins[i]) if i in pins else p for i, p in enumerate(drawing.paths)]
    return Drawing(drawing.view_box, paths, list(drawing.warnings))


def _rig_for(source: Source, joints: dict, pins: dict) -> Rig:
    return Rig(source.name, _pinned_drawing(source.drawing, pins), joints, source.secondary)


def _rig_text(source: Source, joints: dict, pins: dict) -> str:
    try:
        return rig_svg(_pinned_drawing(source.drawing, pins), joints, source.secondary)
    except ValueError as exc:
        raise EditorError(f"the rig cannot be written: {exc}") from None


def _stored_rig(store, rig_id: str) -> Rig:
    try:
        return store.skinner(rig_id).rig
    except KeyError:
        raise EditorError(f"there is no rig called {rig_id!r}", 404) from None
    except SvgError as exc:
        raise EditorError(f"that rig cannot be read: {exc}", 422) from None


def _binding_summary(rig: Rig) -> dict:
    """Per control point, the bone group of its strongest bone (secondary groups are face parts)."""
    binding = bind(rig)
    groups = [g if not g.startswith("secondary") else "face" for g in binding.skeleton.bone_group]
    names = sorted(set(groups), key=lambda g: (BIND_GROUPS + (g,)).index(g))
    code = {g: i for i, g in enumerate(names)}
    per_bone = np.array([code[g] for g in groups], dtype=np.int64)
    per_point = per_bone[binding.main_bone] if len(binding.main_bone) else np.zeros(0, dtype=np.int64)
    return {"groups": names, "point_group": per_point.tolist()}


# ---------------------------------------------------------------- responses

def _editor_document(source_id: str, source: Source, joints: dict, report: dict) -> dict:
    drawing = source.drawing
    rig = Rig(source.name, drawing, joints, source.secondary)
    return {
        "source": source_id, "name": source.name, "view_box": [float(v) for v in drawing.view_box],
        "paths": [{"points": np.round(p.points, 3).ravel().tolist(),
                   "subpaths": [[int(n), bool(c)] for n, c in p.subpaths],
                   "style": p.style.to_json(), "bind": p.bind_group}
                  for p in drawing.paths],
        "joints": {n: [round(float(joints[n][0]), 4), round(float(joints[n][1]), 4)]
                   for n in ALL_JOINTS if n in joints},
        "report": report, "binding": _binding_summary(rig), "warnings": list(drawing.warnings),
        "bind_groups": list(BIND_GROUPS), **_skeleton_vocabulary(),
    }


def _skeleton_vocabulary() -> dict:
    """Bones (with their group) and the selectable sets, so the page has one source of truth."""
    bones = [[a, b, group] for group, pairs in BODY_BONE_GROUPS.items() for a, b in pairs]
    bones += [[a, b, "face"] for a, b in FACE_BONES]
    sets = {group: sorted({n for pair in pairs for n in pair}, key=ALL_JOINTS.index)
            for group, pairs in BODY_BONE_GROUPS.items()}
    sets["face"] = list(FACE_JOINTS)
    return {"bones": bones, "sets": sets}


def _svg_response(rig: Rig, download: bool) -> Response:
    return _svg_text_response(rig_svg(rig.drawing, rig.joints, rig.secondary), safe_name(rig.name), download)


def _svg_text_response(text: str, name: str, download: bool) -> Response:
    response = Response(text, mimetype="image/svg+xml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even though we write the file ourselves, a browser opening it runs nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Content-Disposition"] = content_disposition(f"{name}.svg", download)
    return response
