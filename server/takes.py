"""Recorded performances ("takes"): recording and storage on disk.

A take is a folder ``<data>/takes/<id>/``:

* ``meta.json``   - name, times, rig, settings, trim; written atomically on every change;
* ``frames.jsonl`` - while recording: one JSON line per live frame (the tracker's landmarks
  in source pixels and the frame size), appended and flushed as each frame arrives and
  fsync'ed every second, so a crash or a closed tab loses at most the last second;
* ``track.json``  - once finished: the pose track (posetrack.PoseTrack JSON), written
  atomically; ``frames.jsonl`` is then removed. A take found still "recording" at
  start-up (the server died) is finished from its frames file.

Trimming is non-destructive (meta ``trim``), so a trim can be undone.

Export jobs are in ``exportjobs.py``; the HTTP routes in ``takes_api.py``.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .atomic import write_atomically
from .posetrack import PoseFrame, PoseTrack

log = logging.getLogger(__name__)

TAKE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
MAX_NAME = 80
BAD_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")


@dataclass
class TakeLimits:
    fps: float = 30.0                # nominal frame rate of takes (the live rate limit)
    max_frames: int = 18_000         # 10 minutes at 30 fps
    max_takes: int = 30
    fsync_seconds: float = 1.0       # frames reach the disk at least this often
    export_workers: int = 1          # exports running at once (the rest wait in line)
    max_waiting_exports: int = 8
    keep_exports: int = 12           # finished export files kept for download
    export_ttl_seconds: float = 3600.0

    @property
    def max_seconds(self) -> float:
        return self.max_frames / self.fps


class TakeError(ValueError):
    """A request about takes that cannot be done; the message is for the user."""
    status = 400


class TakeNotFound(TakeError):
    status = 404


class TakeConflict(TakeError):
    status = 409


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_name(name) -> str:
    if not isinstance(name, str):
        raise TakeError("a take name must be text")
    name = name.strip()
    if not name:
        raise TakeError("a take name cannot be empty")
    if len(name) > MAX_NAME:
        raise TakeError(f"a take name can have at most {MAX_NAME} characters")
    if BAD_NAME.search(name) or name.startswith("."):
        raise TakeError("a take name cannot contain / or \\, control characters, or start with a dot")
    return name


# --------------------------------------------------------------------------- recording

class Recorder:
    """One take being recorded: frames go to disk as they arrive. Thread-safe."""

    def __init__(self, store: "TakeStore", take_id: str, folder: Path):
        self.store, self.id, self.folder = store, take_id, folder
        self._fh = open(folder / "frames.jsonl", "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._started = None              # monotonic time of the first frame
        self._last_sync = time.monotonic()
        self.frames = 0
        self.finished = False
        self.write_error: str | None = None

    @property
    def full(self) -> bool:
        return self.frames >= self.store.limits.max_frames

    @property
    def stop_reason(self) -> str | None:
        """Why the recorder stopped taking frames by itself (the caller should finish it)."""
        if self.write_error:
            return f"recording stopped: the server could not write the take ({self.write_error})"
        if self.full:
            return f"the take reached the limit of {self.store.limits.max_seconds / 60:g} minutes"
        return None

    @property
    def seconds(self) -> float:
        return 0.0 if self._started is None else time.monotonic() - self._started

    def add(self, frame: PoseFrame, width: int, height: int) -> bool:
        """Store a frame; False once the take is full (the caller then finishes it)."""
        with self._lock:
            if self.finished or self.full or self.write_error:
                return False
            now = time.monotonic()
            if self._started is None:
                self._started = now
            line = {"t": round(now - self._started, 4), "w": int(width), "h": int(height),
                    "body": None if frame.body is None else np.round(frame.body, 2).tolist(),
                    "face": None if frame.face is None else np.round(frame.face, 2).tolist(),
                    "face_conf": round(float(frame.face_conf), 3)}
            try:
                self._fh.write(json.dumps(line, separators=(",", ":")) + "\n")
                self._fh.flush()              # in the OS now: survives the process dying
                if now - self._last_sync >= self.store.limits.fsync_seconds:
                    os.fsync(self._fh.fileno())   # on the disk: survives the machine dying
                    self._last_sync = now
            except OSError as exc:            # e.g. the disk is full: keep what was written
                self.write_error = exc.strerror or type(exc).__name__
                return False
            self.frames += 1
            return not self.full

    def finish(self) -> dict | None:
        """Close the frames file and turn it into the take's pose track. Returns the take's
        metadata, or None if nothing was recorded (the empty take is removed)."""
        with self._lock:
            if self.finished:
                return None
            self.finished = True
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError:
                pass                          # a partial last line is skipped when read
            try:
                self._fh.close()
            except OSError:
                pass
        return self.store._finalise(self.id)


# --------------------------------------------------------------------------- store

class TakeStore:
    def __init__(self, root: Path, limits: TakeLimits | None = None):
        self.root = Path(root)
        self.limits = limits or TakeLimits()
        self._lock = threading.RLock()
        self._meta: dict[str, dict] = {}
        self._recording: dict[str, Recorder] = {}
        self.root.mkdir(parents=True, exist_ok=True)
        self._load()

    # ---- reading

    def list(self) -> list[dict]:
        with self._lock:
            takes = [self._public(m) for m in self._meta.values()]
        return sorted(takes, key=lambda m: m["created"], reverse=True)

    def meta(self, take_id) -> dict:
        with self._lock:
            return self._public(self._get(take_id))

    def track(self, take_id, trimmed: bool = True) -> PoseTrack:
        """The take's pose track, trimmed (times start again at 0), ready to export or replay."""
        with self._lock:
            meta = dict(self._get(take_id))
        if meta["state"] != "ready":
            raise TakeConflict(f"take {meta['name']!r} is still being recorded")
        track = PoseTrack.load(self._folder(take_id) / "track.json")
        if trimmed and meta.get("trim"):
            start, end = meta["trim"]
            eps = 0.5 / track.fps
            kept = [f for f in track.frames if start - eps <= f.t <= end + eps]
            if not kept:
                raise TakeError(f"the trimmed part of take {meta['name']!r} has no frames")
            track.frames = [PoseFrame(f.t - kept[0].t, f.body, f.face, f.face_conf) for f in kept]
        track.source = meta["name"]
        return track

    # ---- changing

    def start_recording(self, source: str, rig_id: str | None, settings: dict | None = None,
                        name: str | None = None) -> Recorder:
        name = None if name is None else check_name(name)
        with self._lock:
            if len(self._meta) >= self.limits.max_takes:
                raise TakeError(f"there are already {self.limits.max_takes} takes, the most this server "
                                "keeps; delete one to record another")
            take_id = self._new_id()
            folder = self._folder(take_id)
            folder.mkdir(parents=True)
            meta = {"id": take_id, "name": name or self._default_name(),
                    "created": _now_iso(), "source": source, "rig": rig_id,
                    "settings": clean_settings(settings), "state": "recording",
                    "frames": 0, "duration": 0.0, "fps": self.limits.fps, "width": 0, "height": 0,
                    "with_person": 0, "trim": None}
            self._write_meta(meta)
            recorder = Recorder(self, take_id, folder)
            self._meta[take_id] = meta
            self._recording[take_id] = recorder
            return recorder

    def rename(self, take_id, name) -> dict:
        name = check_name(name)
        with self._lock:
            meta = self._get(take_id)
            meta["name"] = name
            self._write_meta(meta)
            return self._public(meta)

    def trim(self, take_id, start, end) -> dict:
        """Keep only [start, end] seconds of the take; (None, None) keeps all of it again."""
        with self._lock:
            meta = self._get(take_id)
            if meta["state"] != "ready":
                raise TakeConflict("a take can be trimmed once it is recorded")
            duration = meta["duration"]
            if start is None and end is None:
                meta["trim"] = None
            else:
                start = 0.0 if start is None else _seconds(start, "start")
                end = duration if end is None else _seconds(end, "end")
                slack = 0.5 / meta["fps"]
                if not (0 <= start < end <= duration + slack):
                    raise TakeError(f"trim out of range: start and end must satisfy 0 <= start < end <= "
                                    f"{duration:.2f} s (the take's length); got {start:g} and {end:g}")
                if end - start < 1.0 / meta["fps"] - 1e-9:
                    raise TakeError("trim out of range: keep at least one frame "
                                    f"({1.0 / meta['fps']:.3f} s)")
                meta["trim"] = [round(start, 4), round(min(end, duration), 4)]
            self._write_meta(meta)
            return self._public(meta)

    def delete(self, take_id) -> None:
        with self._lock:
            meta = self._get(take_id)
            if meta["state"] == "recording":
                raise TakeConflict("stop recording before deleting the take")
            del self._meta[meta["id"]]
            shutil.rmtree(self._folder(meta["id"]), ignore_errors=True)

    # ---- internals

    def _get(self, take_id) -> dict:
        if not isinstance(take_id, str) or not TAKE_ID.match(take_id) or take_id not in self._meta:
            raise TakeNotFound(f"there is no take {take_id!r}")
        return self._meta[take_id]

    def _folder(self, take_id: str) -> Path:
        assert TAKE_ID.match(take_id)
        return self.root / take_id

    def _new_id(self) -> str:
        while True:
            take_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
            if take_id not in self._meta:
                return take_id

    def _default_name(self) -> str:
        used = {m["name"] for m in self._meta.values()}
        n = len(self._meta) + 1
        while f"Take {n}" in used:
            n += 1
        return f"Take {n}"

    def _write_meta(self, meta: dict) -> None:
        write_atomically(self._folder(meta["id"]) / "meta.json", json.dumps(meta, indent=1).encode())

    @staticmethod
    def _public(meta: dict) -> dict:
        out = dict(meta)
        trim = meta.get("trim")
        out["trimmed_duration"] = round(trim[1] - trim[0], 4) if trim else meta["duration"]
        out["trimmed_frames"] = meta.get("frames", 0)
        if trim and meta.get("frame_times"):
            eps = 0.5 / meta["fps"]
            out["trimmed_frames"] = sum(trim[0] - eps <= t <= trim[1] + eps for t in meta["frame_times"])
        out.pop("frame_times", None)
        return out

    def _finalise(self, take_id: str) -> dict | None:
        """Frames file -> pose track (atomically), then drop the frames file."""
        folder = self._folder(take_id)
        frames, width, height = _read_frames(folder / "frames.jsonl")
        with self._lock:
            self._recording.pop(take_id, None)
            meta = self._meta.get(take_id)
            if meta is None:
                return None
            if not frames:
                del self._meta[take_id]
                shutil.rmtree(folder, ignore_errors=True)
                return None
            fps = _measured_fps(frames, meta["fps"])       # a slow camera gives fewer frames
            meta["fps"] = fps
            track = PoseTrack(width, height, fps, frames, source=meta["name"])
            track.save(folder / "track.json")
            meta.update(state="ready", frames=len(frames), width=width, height=height,
                        frame_times=[round(f.t, 4) for f in frames],
                        duration=round(frames[-1].t + 1.0 / fps, 4),
                        with_person=sum(f.has_person for f in frames))
            self._write_meta(meta)
            (folder / "frames.jsonl").unlink(missing_ok=True)
            return self._public(meta)

    def _load(self) -> None:
        """Index the takes on disk; finish any the server was recording when it stopped."""
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and TAKE_ID.match(p.name)):
            try:
                meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
                if meta.get("id") != folder.name:
                    raise ValueError("meta.json names another take")
            except (OSError, ValueError) as exc:
                log.warning("skipping take folder %s: %s", folder, exc)
                continue
            self._meta[folder.name] = meta
            if meta.get("state") == "recording":
                if self._finalise(folder.name):
                    log.warning("recovered take %s (%s frames)", folder.name, self._meta[folder.name]["frames"])


def _measured_fps(frames: list[PoseFrame], nominal: float) -> float:
    """The rate the frames really came at (never above the nominal rate)."""
    if len(frames) < 2 or frames[-1].t <= frames[0].t:
        return nominal
    return round(min(nominal, (len(frames) - 1) / (frames[-1].t - frames[0].t)), 3)


def _read_frames(path: Path) -> tuple[list[PoseFrame], int, int]:
    """Frames of a frames.jsonl, in the first frame's pixel size. A last line cut short
    by a crash is skipped."""
    frames, width, height = [], 0, 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return [], 0, 0
    for line in lines:
        try:
            item = json.loads(line)
            w, h = int(item["w"]), int(item["h"])
            body = None if item["body"] is None else np.asarray(item["body"], dtype=np.float64).reshape(-1, 3)
            face = None if item["face"] is None else np.asarray(item["face"], dtype=np.float64).reshape(-1, 2)
            t, face_conf = float(item["t"]), float(item["face_conf"])
        except (ValueError, KeyError, TypeError):
            continue
        if not width:
            width, height = w, h
        if (w, h) != (width, height) and w > 0 and h > 0:   # the camera changed size mid-take
            scale = np.array([width / w, height / h])
            body = None if body is None else np.column_stack([body[:, :2] * scale, body[:, 2]])
            face = None if face is None else face * scale
        frames.append(PoseFrame(t, body, face, face_conf))
    return frames, width, height


def _seconds(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TakeError(f"trim {what} must be a number of seconds")
    return float(value)


def clean_settings(settings) -> dict:
    settings = settings if isinstance(settings, dict) else {}
    smoothing = settings.get("smoothing")
    ok_number = isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and math.isfinite(smoothing)
    return {"mirror": bool(settings.get("mirror", True)), "follow": bool(settings.get("follow", False)),
            "smoothing": float(min(1.0, max(0.0, smoothing))) if ok_number else 0.5}
