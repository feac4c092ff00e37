"""One stream of frames -> posed drawings: landmarks -> joints -> deformed points.

``Performance`` is the per-stream state (retargeting memory, filters) around a
shared, read-only ``Skinner``. ``track_media`` turns a photo or a clip into a pose
track; ``animate_track`` replays a pose track on a rig.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .media import MediaError, read_media
from .posetrack import PoseFrame, PoseTrack
from .retarget import Retargeter, RetargetSettings
from .rig import Rig, load_rig
from .skinning import Skinner

RIGS_DIR = Path(__file__).resolve().parent.parent / "rigs"
DEFAULT_RIG = "robin"


@dataclass
class Posed:
    """A frame of the character: control points, which paths show, and the joints."""
    t: float
    points: np.ndarray          # (n_points, 2)
    visible: np.ndarray         # (n_paths,) bool
    joints: np.ndarray          # (n_joints,) complex, rig units
    confidence: np.ndarray      # (n_joints,)
    person: bool


def default_rig_path() -> Path:
    return RIGS_DIR / f"{DEFAULT_RIG}.svg"


@functools.lru_cache(maxsize=32)
def _cached_skinner(path: str, mtime: float) -> Skinner:
    return Skinner(load_rig(path))


def skinner_for(path: str | Path) -> Skinner:
    """Binding is the slow part of loading; share one read-only Skinner per rig file."""
    path = Path(path).resolve()
    return _cached_skinner(str(path), path.stat().st_mtime)


class Performance:
    def __init__(self, skinner: Skinner, settings: RetargetSettings | None = None):
        self.skinner = skinner
        self.retargeter = Retargeter(skinner.rig, settings)

    @property
    def rig(self) -> Rig:
        return self.skinner.rig

    def pose(self, frame: PoseFrame, width: int, height: int) -> Posed:
        return self.pose_many([frame], width, height)[0]

    def pose_many(self, frames: list[PoseFrame], width: int, height: int) -> list[Posed]:
        """Consecutive frames: retargeted one by one (the filters keep state), then all
        skinned in one product."""
        solved = [self.retargeter(frame, width, height) for frame in frames]
        n_joints = len(self.skinner.rest_joints)
        joints = np.array([s[0] if s else self.skinner.rest_joints for s in solved]).reshape(-1, n_joints)
        confidence = np.array([s[1] if s else np.zeros(n_joints) for s in solved]).reshape(-1, n_joints)
        points, visible = self.skinner.deform_many(joints, confidence)
        return [Posed(frame.t, points[k], visible[k], joints[k], confidence[k], s is not None)
                for k, (frame, s) in enumerate(zip(frames, solved))]


def track_media(path: str | Path, fps: float | None = None,
                progress: Callable[[int, int], None] | None = None) -> PoseTrack:
    """Track a photo (one frame) or a clip (every frame, or resampled to ``fps``)."""
    from .tracking import Tracker
    media = read_media(path, fps)
    track = PoseTrack(media.width, media.height, media.fps, source=Path(path).name)
    with Tracker(static_image_mode=media.is_photo) as tracker:
        for i, (t, image) in enumerate(media.frames):
            track.frames.append(tracker.process(image, t))
            if progress:
                progress(i + 1, media.frame_count)
    if not track.frames:
        raise MediaError(f"{path}: no frames could be read")
    return track


def animate_track(track: PoseTrack, skinner: Skinner, settings: RetargetSettings | None = None,
                  ) -> Iterator[Posed]:
    performance = Performance(skinner, settings)
    for frame in track.frames:
        yield performance.pose(frame, track.width, track.height)
