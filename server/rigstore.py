"""Where rigs come from: bundled characters, rigs saved on the server, and uploads.

Ids say the source: ``bundled:robin``, ``saved:my-hero``, ``upload:3fa2c1d9``.
Uploads live in memory only (a bounded number); saved rigs are files written
atomically into the data folder. Skinners (the bound, ready-to-pose rigs) are
cached per id and shared read-only between clients.
"""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .pipeline import DEFAULT_RIG, RIGS_DIR
from .posetrack import write_atomically
from .rig import Rig, rig_from_bytes
from .skinning import Skinner

MAX_UPLOADS = 16
SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class RigInfo:
    id: str
    name: str
    kind: str          # bundled | saved | upload

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind}


def safe_name(name: str) -> str:
    """A file-name stem that cannot leave its folder: letters, digits, - and _ only."""
    stem = SAFE_NAME.sub("-", Path(str(name)).stem).strip("-_")[:64]
    return stem or "rig"


class RigUnavailable(ValueError):
    """No rig by that id, or its file no longer makes a rig; the message says which."""


class RigStore:
    def __init__(self, saved_dir: Path | None = None, bundled_dir: Path = RIGS_DIR):
        self.bundled_dir = Path(bundled_dir)
        self.saved_dir = Path(saved_dir) if saved_dir else None
        self._uploads: OrderedDict[str, tuple[str, Rig]] = OrderedDict()
        self._listed: set[str] = set()
        self._skinners: dict[tuple[str, float], Skinner] = {}
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
            infos += [RigInfo(rig_id, name, "upload") for rig_id, (name, _) in self._uploads.items()
                      if rig_id in self._listed]
        return infos

    def skinner(self, rig_id: str) -> Skinner:
        """The bound rig for an id; KeyError if there is no such rig."""
        if not isinstance(rig_id, str):
            raise KeyError(rig_id)
        kind, _, name = rig_id.partition(":")
        if kind == "upload":
            with self._lock:
                if rig_id not in self._uploads:
                    raise KeyError(rig_id)
                key = (rig_id, 0.0)
                if key not in self._skinners:
                    self._skinners[key] = Skinner(self._uploads[rig_id][1])
                return self._skinners[key]
        path = self.path_of(rig_id)
        key = (rig_id, path.stat().st_mtime)
        with self._lock:
            cached = self._skinners.get(key)
        if cached is None:
            cached = Skinner(rig_from_bytes(path.read_bytes(), name))
            with self._lock:
                self._skinners[key] = cached
        return cached

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
        with self._lock:
            if listed:
                self._listed.add(rig_id)
            self._uploads[rig_id] = (safe_name(name), rig)
            self._uploads.move_to_end(rig_id)
            while len(self._uploads) > MAX_UPLOADS:
                old, _ = self._uploads.popitem(last=False)
                self._skinners.pop((old, 0.0), None)
                self._listed.discard(old)
        return RigInfo(rig_id, safe_name(name), "upload")

    def save(self, name: str, svg_text: str) -> RigInfo:
        """Store a rig file atomically, keeping the previous version as NAME.prev.svg."""
        if self.saved_dir is None:
            raise PermissionError("this server does not store rigs")
        data = svg_text.encode("utf-8")
        rig_from_bytes(data, safe_name(name))          # refuse anything that is not a rig
        stem = safe_name(name)
        path = self.saved_dir / f"{stem}.svg"
        if path.exists():
            write_atomically(self.saved_dir / "previous" / f"{stem}.svg", path.read_bytes())
        write_atomically(path, data)
        return RigInfo(f"saved:{stem}", stem, "saved")
