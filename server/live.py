"""The live socket: camera frames in, deformed vector paths out (DESIGN.md section 5).

Per client: one MediaPipe tracker (created on its first frame, closed when it
leaves), one retargeting state, at most one frame being worked on. A client that
sends faster than allowed, or sends junk, gets a ``problem`` event; everyone else
keeps being served.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from flask import request
from flask_socketio import SocketIO, emit

from .demo_motion import demo_track
from .pipeline import Performance, Posed
from .posetrack import PoseFrame
from .retarget import RetargetSettings
from .rigstore import RigStore, RigUnavailable
from .rig import RigError
from .safesvg import SvgError
from .skeleton import BODY_BONE_GROUPS, FACE_BONES
from .skinning import Skinner
from .takes import Recorder, TakeError
from .tracking import ImageError, Tracker, decode_image


@dataclass
class LiveLimits:
    max_clients: int = 4
    max_fps: float = 30.0
    max_frame_bytes: int = 1_000_000
    # A camera frame needs no more than full HD (the page sends 480 pixels wide): a
    # small file claiming many pixels must not buy seconds of decoding.
    max_frame_pixels: int = 1920 * 1088
    max_svg_bytes: int = 5 * 1024 * 1024
    flood_factor: float = 2.0      # frames above max_fps x this within a second are refused
    flood_strikes: int = 40        # refused frames before the client is disconnected


@dataclass
class Client:
    sid: str
    skinner: Skinner | None = None
    rig_id: str | None = None
    camera: Performance | None = None
    demo: Performance | None = None
    tracker: Tracker | None = None
    busy: threading.Lock = field(default_factory=threading.Lock)
    recent: list = field(default_factory=list)      # arrival times of the last second
    strikes: int = 0
    closed: bool = False
    recorder: Recorder | None = None       # the take being recorded
    playback: tuple | None = None          # (key, frame times, track, Performance) of the take replayed


class LiveServer:
    def __init__(self, socketio: SocketIO, store: RigStore, limits: LiveLimits | None = None):
        self.socketio = socketio
        self.store = store
        self.limits = limits or LiveLimits()
        self.clients: dict[str, Client] = {}
        self._lock = threading.Lock()
        # Trackers of clients that left, restarted and kept for the next ones: building
        # MediaPipe graphs anew for every visitor cost time and, over hundreds of
        # visits, hundreds of megabytes the allocator never gave back.
        self._spare_trackers: list[Tracker] = []
        self._demo = demo_track()
        self.takes = None                  # a TakeStore, set by takes_api.install()
        self._register()

    # -------------------------------------------------------------- events

    def _register(self) -> None:
        on = self.socketio.on
        on("connect")(self.on_connect)
        on("disconnect")(self.on_disconnect)
        on("choose_rig")(self._guarded(self.on_choose_rig))
        on("frame")(self._guarded(self.on_frame))
        on("demo")(self._guarded(self.on_demo))
        on("upload_rig")(self._guarded(self.on_upload_rig))
        on("record_start")(self._guarded(self.on_record_start))
        on("record_stop")(self._guarded(self.on_record_stop))
        on("take")(self._guarded(self.on_take))

    def _guarded(self, handler):
        """Any bad input becomes a readable ``problem`` for that client alone."""
        def wrapper(data=None):
            client = self.clients.get(request.sid)
            if client is None:
                return
            try:
                handler(client, data)
            except BadRequest as exc:
                emit("problem", {"message": str(exc), **_seq_of(data)})
            except Exception as exc:  # keep serving: report, never crash the server
                self.socketio.server.logger.exception("live handler failed")
                emit("problem", {"message": f"the server could not handle that ({type(exc).__name__})",
                                 **_seq_of(data)})
        wrapper.__name__ = handler.__name__
        return wrapper

    def on_connect(self, auth=None):
        with self._lock:
            full = len(self.clients) >= self.limits.max_clients
            if not full:
                self.clients[request.sid] = Client(request.sid)
        if full:
            people = "1 person is" if self.limits.max_clients == 1 else f"{self.limits.max_clients} people are"
            emit("busy", {"message": f"The server is busy ({people} animating). Please try again in a minute."})
            sid = request.sid
            self.socketio.start_background_task(self._disconnect_later, sid)
            return
        emit("welcome", {"rigs": [r.to_json() for r in self.store.list()], "rig": self.store.default_id,
                         "max_fps": self.limits.max_fps, "max_frame_bytes": self.limits.max_frame_bytes,
                         "demo": {"seconds": self._demo_seconds(), "fps": self._demo.fps}})

    def _disconnect_later(self, sid: str) -> None:
        self.socketio.sleep(0.3)
        self.socketio.server.disconnect(sid, namespace="/")

    def on_disconnect(self, *args):
        with self._lock:
            client = self.clients.pop(request.sid, None)
        if client is not None:
            client.closed = True
            with client.busy:            # wait for a frame in progress, then free MediaPipe
                self._finish_recording(client)      # the frames received so far make the take
                if client.tracker is not None:
                    self._release_tracker(client.tracker)
                    client.tracker = None

    def on_choose_rig(self, client: Client, data):
        rig_id = _field(data, "id", str)
        try:
            skinner = self.store.usable_skinner(rig_id)
        except RigUnavailable as exc:
            raise BadRequest(str(exc)) from None
        client.skinner, client.rig_id = skinner, rig_id
        client.camera = Performance(skinner, RetargetSettings(mirror=True))
        client.demo = Performance(skinner, RetargetSettings(mirror=False))
        emit("topology", topology(rig_id, skinner))

    def on_frame(self, client: Client, data):
        seq = _field(data, "seq", int)
        jpeg = _field(data, "jpeg", (bytes, bytearray))
        if client.skinner is None:
            raise BadRequest("choose a rig before sending frames")
        if len(jpeg) > self.limits.max_frame_bytes:
            raise BadRequest(f"frame {seq} is too big ({len(jpeg)} bytes; limit {self.limits.max_frame_bytes})")
        self._admit(client, seq)
        if not client.busy.acquire(blocking=False):
            raise BadRequest(f"frame {seq} dropped: send one frame at a time, after the previous answer")
        try:
            if client.closed:
                return
            started = time.perf_counter()
            image = decode_image(bytes(jpeg), self.limits.max_frame_pixels)
            decoded = time.perf_counter()
            if client.tracker is None:
                client.tracker = self._acquire_tracker()
            frame = client.tracker.process(image, t=time.monotonic())
            tracked = time.perf_counter()
            self._record(client, frame, image.shape[1], image.shape[0])
            _apply_settings(client.camera, data)
            posed = client.camera.pose(frame, image.shape[1], image.shape[0])
            done = time.perf_counter()
        except ImageError as exc:
            raise BadRequest(f"frame {seq}: {exc}") from None
        finally:
            client.busy.release()
        emit("pose", pose_message(seq, client.rig_id, posed, {
            "decode_ms": 1000 * (decoded - started), "track_ms": 1000 * (tracked - decoded),
            "skin_ms": 1000 * (done - tracked), "total_ms": 1000 * (done - started)}))

    def on_demo(self, client: Client, data):
        seq, t = _replay_request(client, data, "the demo")
        self._admit(client, seq)
        started = time.perf_counter()
        frames = self._demo.frames
        source = frames[int(round((t % self._demo_seconds()) * self._demo.fps)) % len(frames)]
        self._replay(client, client.demo, source, t, self._demo, data, seq, started, record=True)

    def _replay(self, client: Client, performance: Performance, source: PoseFrame, t: float, track,
                data: dict, seq: int, started: float, record: bool = False) -> None:
        """Pose one frame of a stored motion (demo or take) at the page's time t and answer."""
        _apply_settings(performance, data)
        frame = PoseFrame(float(t), source.body, source.face, source.face_conf)
        if record:
            self._record(client, frame, track.width, track.height)
        posed = performance.pose(frame, track.width, track.height)
        ms = 1000 * (time.perf_counter() - started)
        emit("pose", pose_message(seq, client.rig_id, posed,
                                  {"decode_ms": 0.0, "track_ms": 0.0, "skin_ms": ms, "total_ms": ms}))

    def on_upload_rig(self, client: Client, data):
        name = _field(data, "name", str)
        svg = _field(data, "svg", (str, bytes))
        raw = svg.encode("utf-8") if isinstance(svg, str) else bytes(svg)
        if len(raw) > self.limits.max_svg_bytes:
            raise BadRequest(f"{name}: the SVG is too large ({len(raw) // 1024} KiB; limit "
                             f"{self.limits.max_svg_bytes // 1024} KiB)")
        try:
            info = self.store.add_upload(name, raw)
        except RigError as exc:     # a drawing without a (complete) skeleton: the editor rigs it
            raise BadRequest(f"{name}: {exc}. Open the rig editor (/editor) to rig this drawing.") from None
        except SvgError as exc:
            raise BadRequest(f"{name}: {exc}") from None
        emit("rig_added", info.to_json())
        self.broadcast_rigs()

    # -------------------------------------------------------------- takes

    def on_record_start(self, client: Client, data):
        if self.takes is None:
            raise BadRequest("this server does not record takes")
        if client.recorder is not None:
            raise BadRequest("already recording: stop the current take first")
        data = data if isinstance(data, dict) else {}
        source = data.get("source") if data.get("source") in ("camera", "demo") else "camera"
        try:
            client.recorder = self.takes.start_recording(source, client.rig_id, data, data.get("name"))
        except TakeError as exc:
            raise BadRequest(str(exc)) from None
        emit("recording", {"id": client.recorder.id, "max_seconds": self.takes.limits.max_seconds})

    def on_record_stop(self, client: Client, data):
        if client.recorder is None:
            raise BadRequest("not recording")
        take = self._finish_recording(client)
        emit("take_saved", {"take": take, "reason": "stopped" if take else "nothing was recorded"})

    def _record(self, client: Client, frame: PoseFrame, width: int, height: int) -> None:
        recorder = client.recorder
        if recorder is not None and not recorder.add(frame, width, height) and recorder.stop_reason:
            take = self._finish_recording(client)            # full, or the disk refused
            if take:
                emit("take_saved", {"take": take, "reason": recorder.stop_reason})

    def _finish_recording(self, client: Client) -> dict | None:
        recorder, client.recorder = client.recorder, None
        return recorder.finish() if recorder is not None else None

    def on_take(self, client: Client, data):
        """Replay a recorded take on the current rig, like the demo: the page asks for time t."""
        take_id = _field(data, "id", str)
        seq, t = _replay_request(client, data, "a take")
        if self.takes is None:
            raise BadRequest("this server does not record takes")
        self._admit(client, seq)
        started = time.perf_counter()
        try:
            meta = self.takes.meta(take_id)
            key = (take_id, str(meta["trim"]), client.rig_id)
            if client.playback is None or client.playback[0] != key:
                track = self.takes.track(take_id)
                times = np.array([f.t for f in track.frames])
                client.playback = (key, times, track, Performance(client.skinner, RetargetSettings(mirror=True)))
        except TakeError as exc:
            raise BadRequest(str(exc)) from None
        _, times, track, performance = client.playback
        index = max(0, int(np.searchsorted(times, t % meta["trimmed_duration"], side="right")) - 1)
        self._replay(client, performance, track.frames[index], t, track, data, seq, started)

    def broadcast_rigs(self) -> None:
        self.socketio.emit("rigs", {"rigs": [r.to_json() for r in self.store.list()]})

    # -------------------------------------------------------------- helpers

    def _admit(self, client: Client, seq: int) -> None:
        """Refuse frames beyond the rate limit; disconnect a client that keeps flooding."""
        now = time.monotonic()
        client.recent = [t for t in client.recent if now - t < 1.0]
        if len(client.recent) >= self.limits.max_fps * self.limits.flood_factor:
            client.strikes += 1
            if client.strikes >= self.limits.flood_strikes:
                emit("problem", {"message": "too many frames: disconnected", "seq": seq})
                self.socketio.start_background_task(self._disconnect_later, client.sid)
            raise BadRequest(f"frame {seq} refused: more than {self.limits.max_fps:g} frames per second")
        client.recent.append(now)
        client.strikes = max(0, client.strikes - 1)

    def _acquire_tracker(self) -> Tracker:
        with self._lock:
            if self._spare_trackers:
                return self._spare_trackers.pop()
        return Tracker(static_image_mode=False)

    def _release_tracker(self, tracker: Tracker) -> None:
        tracker.reset()              # nothing of the last person is carried over
        with self._lock:
            if len(self._spare_trackers) < self.limits.max_clients:
                self._spare_trackers.append(tracker)
                return
        tracker.close()

    def _demo_seconds(self) -> float:
        return len(self._demo.frames) / self._demo.fps


class BadRequest(ValueError):
    pass


def _replay_request(client: Client, data, what: str) -> tuple[int, float]:
    """The (seq, t) of a demo or take request, checked."""
    seq = _field(data, "seq", int)
    t = _field(data, "t", (int, float))
    if client.skinner is None:
        raise BadRequest(f"choose a rig before playing {what}")
    if not np.isfinite(t):
        raise BadRequest("t must be a finite number of seconds")
    return seq, float(t)


def _seq_of(data) -> dict:
    if isinstance(data, dict) and isinstance(data.get("seq"), int) and not isinstance(data.get("seq"), bool):
        return {"seq": data["seq"]}
    return {}


def _field(data, name: str, kinds):
    if not isinstance(data, dict):
        raise BadRequest("expected an object with named fields")
    value = data.get(name)
    if value is None:
        raise BadRequest(f"missing field {name!r}")
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise BadRequest(f"field {name!r} has the wrong type ({type(value).__name__})")
    return value


def _apply_settings(performance: Performance, data: dict) -> None:
    def get(name, kind):
        value = data.get(name)
        return value if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)) else None
    smoothing = get("smoothing", (int, float))
    if smoothing is not None and not np.isfinite(smoothing):
        smoothing = None
    performance.retargeter.update_settings(mirror=get("mirror", bool), follow=get("follow", bool),
                                           smoothing=smoothing)


def topology(rig_id: str, skinner: Skinner) -> dict:
    rig = skinner.rig
    names = list(rig.joint_names)
    index = {n: i for i, n in enumerate(names)}
    pairs = [b for group in BODY_BONE_GROUPS.values() for b in group] + (FACE_BONES if rig.has_face else [])
    return {
        "id": rig_id, "name": rig.name, "view_box": list(rig.drawing.view_box),
        "paths": [{"subpaths": [[n, bool(c)] for n, c in p.subpaths], "style": p.style.to_json()}
                  for p in rig.drawing.paths],
        "n_points": skinner.n_points, "joint_names": names,
        "bones": [[index[a], index[b]] for a, b in pairs],
    }


def pose_message(seq: int, rig_id: str, posed: Posed, timings: dict) -> dict:
    joints = np.column_stack([posed.joints.real, posed.joints.imag])
    return {
        "seq": seq, "rig": rig_id, "person": bool(posed.person),
        "points": posed.points.astype("<f4").tobytes(),
        "visible": posed.visible.astype(np.uint8).tobytes(),
        "joints": joints.astype("<f4").tobytes(),
        "joint_conf": posed.confidence.astype("<f4").tobytes(),
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }
