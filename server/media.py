"""Read photos and clips as (time, RGB frame) pairs.

Photos (any Pillow format: RGBA, grayscale, palette, 16-bit) are one frame; clips
come from OpenCV; animated GIFs from Pillow, frame by frame with their delays.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np


class MediaError(ValueError):
    """The input cannot be read as a photo or a clip."""


@dataclass
class Media:
    width: int
    height: int
    fps: float
    frame_count: int
    is_photo: bool
    frames: Iterator[tuple[float, np.ndarray]]


@contextlib.contextmanager
def native_stderr_silenced():
    """Native libraries (FFmpeg, MediaPipe, TFLite) log straight to file descriptor 2,
    past Python's logging; point that descriptor at /dev/null for a while."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):   # no real stderr (e.g. captured)
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def read_media(path: str | Path, fps: float | None = None) -> Media:
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such file")
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            n_frames = getattr(im, "n_frames", 1)
            if n_frames <= 1:
                rgb = np.asarray(_to_rgb(_upright_and_bounded(im)))
                h, w = rgb.shape[:2]
                return Media(w, h, fps or 30.0, 1, True, iter([(0.0, rgb)]))
    except UnidentifiedImageError:
        pass
    except Image.DecompressionBombError:
        raise MediaError(f"{path}: the image has too many pixels to read safely") from None
    except (OSError, ValueError) as exc:
        raise MediaError(f"{path}: damaged image ({exc})") from None
    else:
        return _animated_image(path, fps)
    return _video(path, fps)


def _upright_and_bounded(im):
    """A photo as it is meant to be seen (a phone stores portraits sideways with an EXIF
    orientation), scaled down if it has more pixels than tracking needs."""
    from PIL import ImageOps

    from .tracking import MAX_PIXELS, MAX_SIDE

    def shrink_of(size) -> float:
        return min(1.0, (MAX_PIXELS / (size[0] * size[1])) ** 0.5, MAX_SIDE / max(size))
    shrink = shrink_of(im.size)
    if shrink < 1.0 and im.format == "JPEG":
        # Decode a big JPEG at a fraction of its size (far less memory), then finish.
        im.draft("RGB", (int(im.width * shrink), int(im.height * shrink)))
    im = ImageOps.exif_transpose(im)
    shrink = shrink_of(im.size)
    if shrink < 1.0:
        im = im.resize((max(2, int(im.width * shrink)), max(2, int(im.height * shrink))))
    return im


def _to_rgb(im):
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        from PIL import Image
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode == "I;16" or im.mode == "I":
        arr = np.asarray(im, dtype=np.float64)
        arr = (255 * (arr - arr.min()) / max(np.ptp(arr), 1)).astype(np.uint8)
        from PIL import Image
        return Image.fromarray(arr).convert("RGB")
    return im.convert("RGB")


def _animated_image(path: Path, fps: float | None) -> Media:
    from PIL import Image, ImageSequence
    with Image.open(path) as im:
        w, h = im.size
        n = im.n_frames
        durations = [max(frame.info.get("duration", 100), 10) / 1000.0 for frame in ImageSequence.Iterator(im)]
    source_fps = 1.0 / float(np.mean(durations)) if durations else 10.0

    def frames():
        with Image.open(path) as im:
            t = 0.0
            for frame, duration in zip(ImageSequence.Iterator(im), durations):
                yield t, np.asarray(_to_rgb(frame.convert("RGBA")))
                t += duration
    return _resampled(Media(w, h, source_fps, n, False, frames()), fps)


def _video(path: Path, fps: float | None) -> Media:
    import cv2

    with native_stderr_silenced():       # FFmpeg prints its own complaint about bad files
        cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise MediaError(f"{path}: not a readable image or video")
    # Phones store portrait clips sideways with a rotation in the container: apply it.
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    source_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    if not np.isfinite(source_fps) or source_fps <= 0 or source_fps > 1000:
        source_fps = 30.0
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
    ok, first = cap.read()
    if not ok or first is None or first.size == 0:
        cap.release()
        raise MediaError(f"{path}: not a readable image or video")
    h, w = first.shape[:2]              # after rotation, unlike CAP_PROP_FRAME_WIDTH

    def frames():
        try:
            i, image = 0, first
            while image is not None:
                yield i / source_fps, cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
                ok, image = cap.read()
                if not ok:
                    break
                i += 1
        finally:
            cap.release()
    return _resampled(Media(w, h, source_fps, max(count, 1), False, frames()), fps)


def _resampled(media: Media, fps: float | None) -> Media:
    """Keep the source frame nearest each tick of an ``fps`` clock (never duplicates)."""
    if not fps or fps <= 0 or fps >= media.fps:
        return media
    step = 1.0 / fps
    source = media.frames

    def frames():
        next_tick = 0.0
        for t, image in source:
            if t + 0.5 / media.fps >= next_tick:
                yield t, image
                next_tick += step
    count = int(np.ceil(media.frame_count * fps / media.fps))
    return Media(media.width, media.height, fps, count, False, frames())
