"""Shared fixtures. Real data comes from ../shared beside the project (never copied in)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSE_ANIMATOR_SHARED", ROOT.parent / "shared")).resolve()
RIGS = ROOT / "rigs"
PA_RIGS = SHARED / "svg" / "pose-animator"
IMAGES = SHARED / "media" / "images"
VIDEOS = SHARED / "media" / "videos"
DANCE = VIDEOS / "dance_fullbody_576x576.mp4"

if not SHARED.is_dir():
    raise RuntimeError(f"the shared test data folder is missing: {SHARED} "
                       "(set POSE_ANIMATOR_SHARED to its location)")


@pytest.fixture(scope="session")
def dance_track():
    """The dance clip tracked once for the whole session (real MediaPipe inference)."""
    from server.pipeline import track_media
    return track_media(DANCE)


@pytest.fixture(scope="session")
def bundled_rigs():
    return sorted(RIGS.glob("*.svg"))
