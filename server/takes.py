"""Recorded performances ("takes"): storage, export jobs, and the /api HTTP routes.

A take is a folder ``<data>/takes/<id>/``:

* ``meta.json``   - name, times, rig, settings, trim; written atomically on every change;
* ``frames.jsonl`` - while recording: one JSON line per live frame (the tracker's landmarks
  in source pixels and the frame size), appended and flushed as each frame arrives and
  fsync'ed every second, so a crash or a closed tab loses at most the last second;
* ``track.json``  - once finished: the pose track (posetrack.PoseTrack JSON), written
  atomically; ``frames.jsonl`` is then removed. A take found still "recording" at
  start-up (the server died) is finished from its frames file.

Trimming is non-destructive (meta ``trim``), so a trim can be undone.

Exports run in a child process, one at a time: rasterising and encoding are CPU-heavy
and hold the GIL (resvg), so in a thread they would stall the live clients; a child
process (lower priority) leaves the server responsive. The parent watches it from a
background thread, relays progress, and cancels it through an Event.
"""
from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import queue
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from flask import Blueprint, jsonify, request, send_file

from .export import FORMATS, MEDIA_TYPES, ExportCancelled, ExportOptions, export_track
from .posetrack import PoseFrame, PoseTrack, write_atomically
from .retarget import RetargetSettings
from .rigstore import safe_name

log = logging.getLogger(__name__)

TAKE_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
JOB_ID = re.compile(r"^[0-9a-f]{16}$")
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
                    "settings": _clean_settings(settings), "state": "recording",
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
            fps = meta["fps"]
            track = PoseTrack(width, height, fps, frames, source=meta["name"])
            track.save(folder / "track.json")
            meta.update(state="ready", frames=len(frames), width=width, height=height,
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


def _clean_settings(settings) -> dict:
    settings = settings if isinstance(settings, dict) else {}
    smoothing = settings.get("smoothing")
    ok_number = isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and math.isfinite(smoothing)
    return {"mirror": bool(settings.get("mirror", True)), "follow": bool(settings.get("follow", False)),
            "smoothing": float(min(1.0, max(0.0, smoothing))) if ok_number else 0.5}


# --------------------------------------------------------------------------- export jobs

@dataclass
class ExportJob:
    id: str
    take_id: str
    take_name: str
    format: str
    rig: str
    state: str = "queued"            # queued | running | done | failed | cancelled
    done: int = 0
    total: int = 0
    error: str | None = None
    result: dict | None = None
    path: Path | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: bool = False

    def to_json(self) -> dict:
        out = {"id": self.id, "take": self.take_id, "take_name": self.take_name, "format": self.format,
               "rig": self.rig, "state": self.state, "done": self.done, "total": self.total,
               "progress": round(self.done / self.total, 4) if self.total else 0.0,
               "error": self.error, "result": self.result}
        if self.state == "done":
            out["download"] = f"/api/exports/{self.id}/download"
            out["filename"] = self.filename
        return out

    @property
    def filename(self) -> str:
        return safe_name(self.take_name) + FORMATS[self.format]


def _mp_context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["server.takes"])
        return context
    return multiprocessing.get_context("spawn")


def _export_in_child(track, skinner, fmt, out, settings, options, conn, cancel) -> None:
    """Runs in the export process: the export, with progress sent up the pipe."""
    try:
        os.nice(10)                  # live clients first
    except OSError:
        pass
    try:
        result = export_track(track, skinner, fmt, out, settings, options,
                              progress=lambda done, total: conn.send(("progress", done, total)), cancel=cancel)
        conn.send(("done", result.to_json()))
    except ExportCancelled:
        conn.send(("cancelled",))
    except (ValueError, OSError) as exc:
        conn.send(("failed", str(exc)))
    except Exception as exc:     # report rather than die silently
        conn.send(("failed", f"the export failed ({type(exc).__name__}: {exc})"))
    finally:
        conn.close()


class ExportJobs:
    """A small queue of export jobs, worked through by background threads, each job in a
    child process."""

    def __init__(self, folder: Path, takes: TakeStore, rigs, limits: TakeLimits | None = None):
        self.folder = Path(folder)
        self.takes, self.rigs = takes, rigs
        self.limits = limits or takes.limits
        self.jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self._queue: "queue.Queue[tuple[ExportJob, tuple]]" = queue.Queue()
        self._cancels: dict[str, object] = {}
        self._context = None
        shutil.rmtree(self.folder, ignore_errors=True)     # files of a previous run's jobs
        self.folder.mkdir(parents=True, exist_ok=True)
        for i in range(max(1, self.limits.export_workers)):
            threading.Thread(target=self._work, name=f"export-{i}", daemon=True).start()

    def submit(self, take_id: str, fmt: str, rig_id: str | None, settings: dict | None,
               options: ExportOptions) -> ExportJob:
        if fmt not in FORMATS:
            raise TakeError(f"unknown export format {fmt!r} (choose {', '.join(FORMATS)})")
        meta = self.takes.meta(take_id)
        rig_id = rig_id or meta.get("rig") or self.rigs.default_id
        try:
            skinner = self.rigs.skinner(rig_id)
        except KeyError:
            raise TakeError(f"there is no rig called {rig_id!r}") from None
        except ValueError as exc:
            raise TakeError(f"that rig cannot be used: {exc}") from None
        try:
            options = options.validated(fmt)
        except ValueError as exc:
            raise TakeError(str(exc)) from None
        track = self.takes.track(take_id)
        merged = {**meta["settings"], **_clean_settings_partial(settings)}
        retarget = RetargetSettings(mirror=merged["mirror"], follow=merged["follow"],
                                    smoothing=merged["smoothing"])
        with self._lock:
            waiting = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if waiting >= self.limits.max_waiting_exports:
                raise TakeConflict(f"{waiting} exports are already waiting; try again when one is done")
            self._expire()
            job = ExportJob(secrets.token_hex(8), take_id, meta["name"], fmt, rig_id)
            job.path = self.folder / f"{job.id}{FORMATS[fmt]}"
            self.jobs[job.id] = job
        self._queue.put((job, (track, skinner, fmt, job.path, retarget, options)))
        return job

    def get(self, job_id) -> ExportJob:
        with self._lock:
            job = self.jobs.get(job_id) if isinstance(job_id, str) and JOB_ID.match(job_id) else None
        if job is None:
            raise TakeNotFound(f"there is no export {job_id!r}")
        return job

    def cancel(self, job_id) -> ExportJob:
        job = self.get(job_id)
        with self._lock:
            if job.state in ("queued", "running"):
                job.cancel_requested = True
                if job.state == "queued":
                    job.state, job.finished = "cancelled", time.time()
                event = self._cancels.get(job.id)
                if event is not None:
                    event.set()
        return job

    # ---- workers

    def _work(self) -> None:
        while True:
            job, args = self._queue.get()
            try:
                with self._lock:
                    if job.state != "queued":
                        continue
                    job.state = "running"
                self._run(job, args)
            except Exception as exc:      # a worker must survive any one job
                log.exception("export job %s failed", job.id)
                self._end(job, "failed", f"the export failed ({type(exc).__name__})")

    def _run(self, job: ExportJob, args: tuple) -> None:
        if self._context is None:
            self._context = _mp_context()
        context = self._context
        receive, send = context.Pipe(duplex=False)
        cancel = context.Event()
        with self._lock:
            self._cancels[job.id] = cancel
            if job.cancel_requested:
                cancel.set()
        process = context.Process(target=_export_in_child, args=(*args, send, cancel), daemon=True,
                                  name=f"export-{job.id}")
        process.start()
        send.close()
        outcome = None
        cancel_deadline = None
        try:
            while outcome is None:
                if receive.poll(0.2):
                    try:
                        message = receive.recv()
                    except EOFError:
                        break
                    if message[0] == "progress":
                        job.done, job.total = message[1], message[2]
                    else:
                        outcome = message
                elif not process.is_alive():
                    break
                if cancel.is_set():
                    cancel_deadline = cancel_deadline or time.monotonic() + 10
                    if time.monotonic() > cancel_deadline:      # stuck: stop it the hard way
                        process.terminate()
                        outcome = ("cancelled",)
        finally:
            receive.close()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
            with self._lock:
                self._cancels.pop(job.id, None)
            _remove_partials(job.path)
        if outcome is None:
            self._end(job, "failed", f"the export process stopped unexpectedly (exit code {process.exitcode})")
        elif outcome[0] == "done":
            job.result = outcome[1]
            job.done = job.total = outcome[1].get("frames", job.total)
            self._end(job, "done")
        elif outcome[0] == "cancelled":
            self._end(job, "cancelled")
        else:
            self._end(job, "failed", outcome[1])

    def _end(self, job: ExportJob, state: str, error: str | None = None) -> None:
        with self._lock:
            job.state, job.error, job.finished = state, error, time.time()
        if state != "done" and job.path is not None:
            job.path.unlink(missing_ok=True)

    def _expire(self) -> None:
        """Forget old finished jobs and their files (called with the lock held)."""
        finished = sorted((j for j in self.jobs.values() if j.finished), key=lambda j: j.finished)
        too_many = len(finished) - self.limits.keep_exports
        for i, job in enumerate(finished):
            if i < too_many or time.time() - job.finished > self.limits.export_ttl_seconds:
                del self.jobs[job.id]
                if job.path is not None:
                    job.path.unlink(missing_ok=True)


def _remove_partials(path: Path | None) -> None:
    """Temporary files a killed export process could not clean up."""
    if path is None:
        return
    for stray in path.parent.glob(f".{path.stem}.*.part{path.suffix}"):
        stray.unlink(missing_ok=True)


def _clean_settings_partial(settings) -> dict:
    """Only the settings actually given (the take's own fill in the rest)."""
    if not isinstance(settings, dict):
        return {}
    given = {k: v for k, v in settings.items() if k in ("mirror", "follow", "smoothing") and v is not None}
    cleaned = _clean_settings(given)
    return {k: cleaned[k] for k in given}


# --------------------------------------------------------------------------- HTTP

def takes_blueprint(takes: TakeStore, jobs: ExportJobs) -> Blueprint:
    api = Blueprint("takes", __name__, url_prefix="/api")

    @api.errorhandler(TakeError)
    def take_error(exc: TakeError):
        return jsonify({"error": str(exc)}), exc.status

    def body() -> dict:
        """Changes must come as JSON: a cross-site form cannot send that without CORS."""
        if not request.is_json:
            raise TakeError("send the request body as JSON (Content-Type: application/json)")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise TakeError("the request body must be a JSON object")
        return data

    @api.get("/takes")
    def list_takes():
        return jsonify({"takes": takes.list(), "formats": list(FORMATS),
                        "limits": {"max_takes": takes.limits.max_takes,
                                   "max_seconds": takes.limits.max_seconds}})

    @api.get("/takes/<take_id>")
    def get_take(take_id):
        return jsonify(takes.meta(take_id))

    @api.get("/takes/<take_id>/track")
    def get_track(take_id):
        meta = takes.meta(take_id)
        response = jsonify(takes.track(take_id).to_json())
        response.headers["Content-Disposition"] = f'attachment; filename="{safe_name(meta["name"])}.json"'
        return response

    @api.patch("/takes/<take_id>")
    def change_take(take_id):
        data = body()
        unknown = set(data) - {"name", "trim"}
        if unknown:
            raise TakeError(f"unknown field(s): {', '.join(sorted(unknown))} (use name, trim)")
        takes.meta(take_id)                                   # 404 before any change
        if "trim" in data:
            trim = data["trim"]
            if trim is None:
                takes.trim(take_id, None, None)
            elif isinstance(trim, (list, tuple)) and len(trim) == 2:
                takes.trim(take_id, trim[0], trim[1])
            else:
                raise TakeError("trim must be [start, end] in seconds, or null to keep the whole take")
        if "name" in data:
            takes.rename(take_id, data["name"])
        return jsonify(takes.meta(take_id))

    @api.delete("/takes/<take_id>")
    def delete_take(take_id):
        takes.delete(take_id)
        return jsonify({"deleted": take_id})

    @api.post("/takes/<take_id>/export")
    def start_export(take_id):
        data = body()
        fmt = data.get("format", "svg")
        if not isinstance(fmt, str):
            raise TakeError("format must be text")
        rig = data.get("rig")
        if rig is not None and not isinstance(rig, str):
            raise TakeError("rig must be a rig id")
        options = ExportOptions(fps=data.get("fps"), precision=data.get("precision"),
                                width=data.get("width"), loop=data.get("loop", True) is not False)
        if options.precision is not None and (isinstance(options.precision, bool)
                                              or not isinstance(options.precision, int)
                                              or not 0 <= options.precision <= 4):
            raise TakeError("precision must be a whole number of decimals from 0 to 4")
        job = jobs.submit(take_id, fmt, rig, data, options)
        return jsonify(job.to_json()), 202

    @api.get("/exports/<job_id>")
    def get_export(job_id):
        return jsonify(jobs.get(job_id).to_json())

    @api.post("/exports/<job_id>/cancel")
    def cancel_export(job_id):
        return jsonify(jobs.cancel(job_id).to_json())

    @api.get("/exports/<job_id>/download")
    def download_export(job_id):
        job = jobs.get(job_id)
        if job.state != "done" or job.path is None or not job.path.is_file():
            raise TakeConflict(f"export {job_id} is not ready ({job.state})")
        response = send_file(job.path, mimetype=MEDIA_TYPES[job.format], as_attachment=True,
                             download_name=job.filename, max_age=0)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return api


def install(app, live, store, data_dir: Path, limits: TakeLimits | None = None) -> TakeStore:
    """Wire takes into the app: storage, export jobs, HTTP routes, and the live server's
    record/playback events."""
    takes = TakeStore(Path(data_dir) / "takes", limits)
    jobs = ExportJobs(Path(data_dir) / "exports", takes, store)
    app.register_blueprint(takes_blueprint(takes, jobs))
    live.takes = takes
    app.extensions["pose_animator"].update({"takes": takes, "exports": jobs})
    return takes
