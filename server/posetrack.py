"""Pose tracks: what a person did, frame by frame, independent of any rig.

A track holds the tracked landmarks in the source image's pixel coordinates (not
mirrored, the person's own left/right), so it can be replayed on any rig, mirrored
or not, with any smoothing. JSON layout (version 1)::

    {"format": "pose-animator/pose-track", "version": 1,
     "width": 576, "height": 576, "fps": 30.0, "source": "dance.mp4",
     "body_names": [...17 names...], "face_names": [...73 names...],
     "frames": [{"t": 0.0,
                 "body": [[x, y, confidence], ...] | null,   # null: no person
                 "face": [[x, y], ...] | null,               # null: face not found
                 "face_conf": 0.97}, ...]}
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import write_atomically
from .skeleton import BODY_JOINTS, FACE_JOINTS, HEAD_LANDMARKS

FORMAT = "pose-animator/pose-track"
BODY_NAMES = BODY_JOINTS + HEAD_LANDMARKS
FACE_NAMES = FACE_JOINTS


@dataclass
class PoseFrame:
    """One frame of landmarks, in source pixels. ``body`` is (17, 3): x, y, confidence."""
    t: float
    body: np.ndarray | None = None
    face: np.ndarray | None = None
    face_conf: float = 0.0

    @property
    def has_person(self) -> bool:
        return self.body is not None


@dataclass
class PoseTrack:
    width: int
    height: int
    fps: float
    frames: list[PoseFrame] = field(default_factory=list)
    source: str = ""

    def to_json(self) -> dict:
        def rounded(a, digits):
            return None if a is None else np.round(a, digits).tolist()
        return {
            "format": FORMAT, "version": 1,
            "width": self.width, "height": self.height, "fps": self.fps, "source": self.source,
            "body_names": list(BODY_NAMES), "face_names": list(FACE_NAMES),
            "frames": [{"t": round(f.t, 4), "body": rounded(f.body, 2), "face": rounded(f.face, 2),
                        "face_conf": round(float(f.face_conf), 3)} for f in self.frames],
        }

    @classmethod
    def from_json(cls, data: dict) -> "PoseTrack":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a pose track (expected \"format\": \"%s\")" % FORMAT)
        if data.get("version") != 1:
            raise ValueError("unsupported pose track version %r" % data.get("version"))
        body_order = _reorder(data.get("body_names"), BODY_NAMES, "body_names")
        face_order = _reorder(data.get("face_names"), FACE_NAMES, "face_names")
        frames = []
        for i, f in enumerate(data.get("frames") or []):
            try:
                body = _array(f.get("body"), (len(body_order), 3), body_order)
                face = _array(f.get("face"), (len(face_order), 2), face_order)
                frames.append(PoseFrame(float(f["t"]), body, face, float(f.get("face_conf", 0.0))))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"pose track frame {i} is malformed: {exc}") from None
        width, height = int(data.get("width", 0)), int(data.get("height", 0))
        if width <= 0 or height <= 0:
            raise ValueError("pose track needs a positive width and height")
        return cls(width, height, float(data.get("fps") or 30.0), frames, str(data.get("source", "")))

    def save(self, path: str | os.PathLike) -> None:
        write_atomically(path, json.dumps(self.to_json(), separators=(",", ":")).encode())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PoseTrack":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read pose track {path}: {exc}") from None
        return cls.from_json(data)


def _reorder(names, expected, what) -> np.ndarray:
    if names is None:
        return np.arange(len(expected))
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in expected if n not in index]
    if missing:
        raise ValueError(f"pose track {what} lacks {', '.join(missing[:5])}")
    return np.array([index[n] for n in expected])


def _array(value, shape, order) -> np.ndarray | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != shape[1] or arr.shape[0] <= order.max():
        raise ValueError(f"expected {shape[0]} rows of {shape[1]} numbers")
    arr = arr[order]
    if not np.isfinite(arr).all():
        raise ValueError("non-finite coordinates")
    return arr
