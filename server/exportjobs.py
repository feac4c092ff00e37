"""Export jobs: a take rendered to a file in a child process, one job at a time.

Rasterising and encoding are CPU-heavy and hold the GIL (resvg), so in a thread they
would stall the live clients; a child process (lower priority) leaves the server
responsive. The parent watches it from a background thread, relays progress, and
cancels it through an Event.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .export import FORMATS, ExportCancelled, ExportOptions, export_track
from .retarget import RetargetSettings
from .rigstore import RigUnavailable, safe_name
from .takes import (
    TakeConflict,
    TakeError,
    TakeLimits,
    TakeNotFound,
    TakeStore,
    clean_settings,
)

log = logging.getLogger(__name__)

JOB_ID = re.compile(r"^[0-9a-f]{16}$")


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
        context.set_forkserver_preload(["server.exportjobs"])
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
            skinner = self.rigs.usable_skinner(rig_id)
        except RigUnavailable as exc:
            raise TakeError(str(exc)) from None
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
                # e.g. the worker process could not be started, or its code changed on disk
                self._end(job, "failed", f"the export could not run ({type(exc).__name__}); "
                                         "if the server was updated while running, restart it")

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
    cleaned = clean_settings(given)
    return {k: cleaned[k] for k in given}
