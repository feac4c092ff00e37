"""Where rigs come from: bundled characters, rigs saved on the server, and uploads.

Ids say the source: ``bundled:robin``, ``saved:my-hero``, ``upload:3fa2c1d9``.
Uploads live in memory only (a bounded number, the editor's previews counted
apart so they never push out what people dropped on the live page); saved rigs are
files written atomically into the data folder, with their last few versions kept.
Skinners (the bound, ready-to-pose rigs) are cached per id, a bounded number, and
shared read-only between clients.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .pipeline import DEFAULT_RIG, RIGS_DIR
from .atomic import write_atomically
from .rig import Rig, rig_from_bytes
from .skinning import Skinner

MAX_UPLOADS = 16           # rigs dropped on live pages
MAX_PREVIEWS = 8           # the editor's rigs in the making
MAX_SKINNERS = 32          # bound rigs kept ready; clients keep their own alive anyway
KEEP_VERSIONS = 5          # earlier versions of a saved rig, in saved/previous/
UNSAFE = re.compile(r"[^\w-]+")


@dataclass(frozen=True)
class RigInfo:
    id: str
    name: str
    kind: str          # bundled | saved | upload

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind}


def safe_name(name: str, default: str = "rig") -> str:
    """A file-name stem that cannot leave its folder: letters (of any script), digits,
    - and _ only. Folders and a .svg ending are dropped; other dots become dashes, so
    "hero.v2" and "hero.v1" stay two names. ``default`` if nothing is left."""
    last = unicodedata.normalize("NFC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    if last.lower().endswith(".svg"):
        last = last[:-4]
    stem = UNSAFE.sub("-", last).strip("-_")[:64].strip("-_")
    return stem or default


class RigUnavailable(ValueError):
    """No rig by that id, or its file no longer makes a rig; the message says which."""


class RigStore:
    def __init__(self, saved_dir: Path | None = None, bundled_dir: Path = RIGS_DIR):
        self.bundled_dir = Path(bundled_dir)
        self.saved_dir = Path(saved_dir) if saved_dir else None
        self._uploads: OrderedDict[str, tuple[str, Rig]] = OrderedDict()     # listed in pickers
        self._previews: OrderedDict[str, tuple[str, Rig]] = OrderedDict()    # chosen by id only
        self._skinners: OrderedDict[tuple[str, int], Skinner] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def default_id(self) -> str:
        return f"bundled:{DEFAULT_RIG}"

    def list(self) -> list[RigInfo]:
        infos = [RigInfo(f"bundled:{p.stem}", p.stem.capitalize(), "bundled")
                 for p in sorted(self.bundled_dir.glob("*.svg"))]
        infos.sort(key=lambda r: r.id != self.default_id)        # the default first
        if self.saved_dir and self.saved_dir.is_dir():
            infos += [RigInfo(f"saved:{p.stem}", p.stem, "saved") for p in sorted(self.saved_dir.glob("*.svg"))]
        with self._lock:
            infos += [RigInfo(rig_id, name, "upload") for rig_id, (name, _) in self._uploads.items()]
        return infos

    def skinner(self, rig_id: str) -> Skinner:
        """The bound rig for an id; KeyError if there is no such rig."""
        if not isinstance(rig_id, str):
            raise KeyError(rig_id)
        kind, _, name = rig_id.partition(":")
        if kind == "upload":
            with self._lock:
                entry = self._uploads.get(rig_id) or self._previews.get(rig_id)
            if entry is None:
                raise KeyError(rig_id)
            return self._cached_skinner((rig_id, 0), lambda: entry[1])
        path = self.path_of(rig_id)
        return self._cached_skinner((rig_id, path.stat().st_mtime_ns),
                                    lambda: rig_from_bytes(path.read_bytes(), name))

    def _cached_skinner(self, key: tuple[str, int], load) -> Skinner:
        with self._lock:
            cached = self._skinners.get(key)
            if cached is not None:
                self._skinners.move_to_end(key)
                return cached
        skinner = Skinner(load())       # binding takes a while: not under the lock
        with self._lock:
            for stale in [k for k in self._skinners if k[0] == key[0]]:     # an older file version
                del self._skinners[stale]
            self._skinners[key] = skinner
            while len(self._skinners) > MAX_SKINNERS:
                self._skinners.popitem(last=False)
        return skinner

    def usable_skinner(self, rig_id: str) -> Skinner:
        """Like ``skinner`` but every failure is a RigUnavailable with a readable message."""
        try:
            return self.skinner(rig_id)
        except KeyError:
            raise RigUnavailable(f"there is no rig called {rig_id!r}") from None
        except ValueError as exc:       # SvgError, RigError: a stored file went bad
            raise RigUnavailable(f"that rig cannot be used: {exc}") from None

    def path_of(self, rig_id: str) -> Path:
        kind, _, name = rig_id.partition(":")
        folder = {"bundled": self.bundled_dir, "saved": self.saved_dir}.get(kind)
        if folder is None or safe_name(name) != name:
            raise KeyError(rig_id)
        path = folder / f"{name}.svg"
        if not path.is_file():
            raise KeyError(rig_id)
        return path

    def add_upload(self, name: str, data: bytes, listed: bool = True) -> RigInfo:
        """Parse (with every safety check) and keep an uploaded rig; SvgError if unusable.
        Unlisted uploads (the editor's previews) can be chosen by id but stay out of pickers."""
        rig = rig_from_bytes(data, safe_name(name))
        rig_id = "upload:" + hashlib.sha256(data).hexdigest()[:12]
        pool, limit = (self._uploads, MAX_UPLOADS) if listed else (self._previews, MAX_PREVIEWS)
        with self._lock:
            pool[rig_id] = (safe_name(name), rig)
            pool.move_to_end(rig_id)
            while len(pool) > limit:
                old, _ = pool.popitem(last=False)
                if old not in self._uploads and old not in self._previews:
                    self._skinners.pop((old, 0), None)
        return RigInfo(rig_id, safe_name(name), "upload")

    def save(self, name: str, svg_text: str) -> tuple[RigInfo, bool]:
        """Store a rig file atomically; the version it replaces goes to previous/ (the
        last few are kept). Returns the rig and whether an earlier one was replaced."""
        if self.saved_dir is None:
            raise PermissionError("this server does not store rigs")
        data = svg_text.encode("utf-8")
        stem = safe_name(name)
        rig_from_bytes(data, stem)          # refuse anything that is not a rig
        path = self.saved_dir / f"{stem}.svg"
        replaced = path.exists()
        if replaced:
            self._keep_version(stem, path.read_bytes())
        write_atomically(path, data)
        return RigInfo(f"saved:{stem}", stem, "saved"), replaced

    def _keep_version(self, stem: str, data: bytes) -> None:
        folder = self.saved_dir / "previous"
        now = time.time_ns()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now // 10**9)) + f"-{now % 10**9:09d}"
        write_atomically(folder / f"{stem}.{stamp}.svg", data)
        versions = sorted(folder.glob(f"{stem}.*.svg"))       # stems have no dots: no other rig's
        for old in versions[:-KEEP_VERSIONS]:
            old.unlink(missing_ok=True)
