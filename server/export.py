"""Posed frames -> files: a static SVG, a SMIL-animated SVG, a ZIP of per-frame SVGs,
a GIF, an MP4, or the pose track itself as JSON.

Every frame of a path has the same command structure, so one
``<animate attributeName="d" values="...;...">`` per path animates it; visibility
changes are a discrete ``<animate>`` of their own. Runs of unchanged frames are
merged into one value (keyTimes say when each value starts), and a hidden path
keeps its last shape, so a still or hidden part costs nothing.

``export_track`` is the one entry point for the command line and the web app: it
poses a track on a rig, reports progress, can be cancelled between frames, and
writes through a temporary file, so a cancelled or failed export leaves nothing.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import struct
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from .atomic import atomic_output
from .drawing import Drawing, Style
from .posetrack import PoseFrame, PoseTrack

DEFAULT_PRECISION = 1
FORMATS = {"svg": ".svg", "frames": ".zip", "gif": ".gif", "mp4": ".mp4", "json": ".json"}
MEDIA_TYPES = {"svg": "image/svg+xml", "frames": "application/zip", "gif": "image/gif",
               "mp4": "video/mp4", "json": "application/json"}
DEFAULT_WIDTH = {"gif": 480, "mp4": 720}     # pixels; the height follows the view box
MIN_WIDTH, MAX_WIDTH = 16, 1920
MAX_FPS = 60.0
POSE_CHUNK = 64               # frames skinned in one product when exporting
MAX_GIF_FPS = 50.0            # browsers slow down GIF frames shorter than 2/100 s
GIF_ALPHA_THRESHOLD = 128     # GIF pixels are either opaque or transparent
GIF_TRANSPARENT = 255         # palette index kept for transparency
MP4_BACKGROUND = "#ffffff"    # MP4 has no alpha channel


class ExportCancelled(Exception):
    """The export was cancelled; no output file was written."""


# --------------------------------------------------------------------------- path data

def _subpath_template(subpaths, precision: int) -> str:
    """A %-format string turning a flat list of x, y numbers into one path's 'd'."""
    number = f"%.{int(precision)}f"
    pair = f"{number} {number}"
    parts = []
    for n_seg, closed in subpaths:
        body = "M" + pair + ("C" + " ".join([pair] * (3 * n_seg)) if n_seg else "")
        parts.append(body + ("Z" if closed else ""))
    return "".join(parts)


def _rounded(points: np.ndarray, precision: int) -> list[float]:
    # + 0.0 turns -0.0 into 0.0, so nothing prints as "-0".
    return (np.round(points, precision) + 0.0).ravel().tolist()


def path_data(points: np.ndarray, subpaths, precision: int = DEFAULT_PRECISION) -> str:
    """Control points of one path -> 'M x yC x y x y x y ... Z'."""
    return _subpath_template(subpaths, precision) % tuple(_rounded(points, precision))


class PathFormatter:
    """Every path's 'd' for a frame of control points: one C-level %-format per path,
    no Python loop over points."""

    def __init__(self, drawing: Drawing, precision: int):
        self.precision = int(precision)
        self.templates = [_subpath_template(p.subpaths, self.precision) for p in drawing.paths]
        counts = [2 * len(p.points) for p in drawing.paths]
        self.bounds = list(zip(np.cumsum([0] + counts[:-1]).tolist(), np.cumsum(counts).tolist()))

    def __call__(self, points: np.ndarray) -> list[str]:
        flat = _rounded(points, self.precision)
        return [t % tuple(flat[a:b]) for t, (a, b) in zip(self.templates, self.bounds)]


def auto_precision(drawing: Drawing) -> int:
    """Decimals that keep coordinates within 1/1000 of the picture's larger side:
    finer than a pixel at any usual display size, and compact."""
    size = max(float(drawing.view_box[2]), float(drawing.view_box[3]), 1e-9)
    return int(min(4, max(0, math.ceil(math.log10(1000.0 / size) - 1e-9))))


def check_precision(precision: int | None, drawing: Drawing) -> int:
    if precision is None:
        return auto_precision(drawing)
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 4:
        raise ValueError(f"precision must be a whole number of decimals from 0 to 4 (got {precision!r})")
    return precision


# --------------------------------------------------------------------------- SVG text

def style_attributes(style: Style) -> str:
    attrs = {"fill": style.fill or "none"}
    if style.fill and style.fill_opacity < 1:
        attrs["fill-opacity"] = _num(style.fill_opacity)
    if style.fill_rule == "evenodd":
        attrs["fill-rule"] = "evenodd"
    if style.stroke and style.stroke_width > 0:
        attrs.update({"stroke": style.stroke, "stroke-width": _num(style.stroke_width)})
        if style.stroke_opacity < 1:
            attrs["stroke-opacity"] = _num(style.stroke_opacity)
        if style.line_cap != "butt":
            attrs["stroke-linecap"] = style.line_cap
        if style.line_join != "miter":
            attrs["stroke-linejoin"] = style.line_join
        if style.miter_limit != 4.0:
            attrs["stroke-miterlimit"] = _num(style.miter_limit)
    if style.opacity < 1:
        attrs["opacity"] = _num(style.opacity)
    return " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())


def _num(v: float) -> str:
    return f"{v:.4g}"


def _header(drawing: Drawing, frames: int, duration: float | None) -> str:
    x, y, w, h = drawing.view_box
    extra = f' data-frames="{frames}"' + (f' data-duration="{duration:.4f}"' if duration else "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_num(x)} {_num(y)} {_num(w)} {_num(h)}" '
            f'width="{_num(w)}" height="{_num(h)}"{extra}>\n')


def static_svg(drawing: Drawing, points: np.ndarray, visible: np.ndarray,
               precision: int = DEFAULT_PRECISION) -> str:
    return _static_from_data(drawing, PathFormatter(drawing, precision)(points), visible)


def _static_from_data(drawing: Drawing, data: Sequence[str], visible) -> str:
    out = [_header(drawing, 1, None)]
    for path, d, show in zip(drawing.paths, data, visible):
        if show:
            out.append(f'<path d="{d}" {style_attributes(path.style)}/>\n')
    out.append("</svg>\n")
    return "".join(out)


class SmilBuilder:
    """Collects frames one at a time (only their 'd' text is kept), then writes one
    SMIL animation in which unchanged runs of frames are merged."""

    def __init__(self, drawing: Drawing, fps: float, precision: int = DEFAULT_PRECISION,
                 loop: bool = True, merge: bool = True):
        if not fps > 0:
            raise ValueError("fps must be positive")
        self.drawing, self.fps, self.loop, self.merge = drawing, float(fps), loop, merge
        self.format = PathFormatter(drawing, precision)
        self.values: list[list[str]] = [[] for _ in drawing.paths]
        self.shown: list[np.ndarray] = []

    def add(self, points: np.ndarray, visible: np.ndarray) -> None:
        for column, d in zip(self.values, self.format(points)):
            column.append(d)
        self.shown.append(np.asarray(visible, dtype=bool))

    @property
    def frame_count(self) -> int:
        return len(self.shown)

    def chunks(self) -> Iterator[str]:
        """The SVG text, a path at a time (a long take is written without one huge string)."""
        n = self.frame_count
        if n == 0:
            raise ValueError("no frames to animate")
        duration = n / self.fps
        timing = f'dur="{duration:.4f}s" ' + ('repeatCount="indefinite"' if self.loop else 'fill="freeze"')
        shown = np.array(self.shown).reshape(n, len(self.drawing.paths))
        yield _header(self.drawing, n, duration)
        for k, path in enumerate(self.drawing.paths):
            values = _hold_while_hidden(self.values[k], shown[:, k])
            visibility = ["visible" if s else "hidden" for s in shown[:, k]]
            hidden = "" if shown[0, k] else ' visibility="hidden"'
            yield f'<path d="{values[0]}" {style_attributes(path.style)}{hidden}>'
            if n > 1:
                yield _animate("d", values, n, timing, self.merge)
                if len(set(visibility)) > 1:
                    yield _animate("visibility", visibility, n, timing, self.merge)
            yield "</path>\n"
        yield "</svg>\n"

    def text(self) -> str:
        return "".join(self.chunks())


def _hold_while_hidden(values: list[str], shown: np.ndarray) -> list[str]:
    """A hidden path's shape does not matter: keep the shape it last showed (or will
    first show), so hidden stretches merge into one value."""
    if shown.all() or not shown.any():
        return values
    visible_at = np.flatnonzero(shown)
    # For each frame, the latest visible frame at or before it (the first one for leading frames).
    source = visible_at[np.maximum(np.searchsorted(visible_at, np.arange(len(values)), side="right") - 1, 0)]
    return [values[i] for i in source.tolist()]


def _animate(attribute: str, values: list[str], n: int, timing: str, merge: bool) -> str:
    if merge:
        starts = [0] + [i for i in range(1, n) if values[i] != values[i - 1]]
    else:
        starts = list(range(n))
    digits = len(str(n)) + 2       # keyTimes exact to well within a frame
    key_times = ";".join(_key_time(i / n, digits) for i in starts)
    kept = ";".join(values[i] for i in starts)
    return (f'<animate attributeName="{attribute}" {timing} calcMode="discrete" '
            f'keyTimes="{key_times}" values="{kept}"/>')


def _key_time(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def smil_svg(drawing: Drawing, frames: Sequence[tuple[np.ndarray, np.ndarray]], fps: float,
             precision: int = DEFAULT_PRECISION, loop: bool = True, merge: bool = True) -> str:
    """frames: (points, visible) per frame, evenly spaced at ``fps``."""
    if not frames:
        raise ValueError("no frames to animate")
    builder = SmilBuilder(drawing, fps, precision, loop, merge)
    for points, visible in frames:
        builder.add(points, visible)
    return builder.text()


def posed_frames(posed: Iterable) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(p.points, p.visible) for p in posed]


# --------------------------------------------------------------------------- timing

def nearest_frames(times: Sequence[float], fps: float) -> np.ndarray:
    """For evenly spaced output times ``1/fps`` apart (from the first frame to the last),
    the index of the input frame nearest in time. Non-decreasing."""
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError("fps must be a positive number")
    times = np.asarray(times, dtype=np.float64)
    if len(times) == 0:
        raise ValueError("the pose track has no frames")
    count = max(1, int(round((times[-1] - times[0]) * fps)) + 1)
    if len(times) == 1:
        return np.zeros(count, dtype=int)
    wanted = times[0] + np.arange(count) / fps
    after = np.clip(np.searchsorted(times, wanted), 1, len(times) - 1)
    before = after - 1
    return np.where(np.abs(times[before] - wanted) <= np.abs(times[after] - wanted), before, after)


def even_frames(track: PoseTrack, fps: float | None = None) -> PoseTrack:
    """The track at evenly spaced times, each output frame being the input frame nearest
    in time. Live takes arrive at uneven times; clips pass unchanged."""
    fps = float(fps or track.fps)
    indices = nearest_frames([f.t for f in track.frames], fps)
    frames = [PoseFrame(k / fps, track.frames[i].body, track.frames[i].face, track.frames[i].face_conf)
              for k, i in enumerate(indices.tolist())]
    return PoseTrack(track.width, track.height, fps, frames, track.source)


def posed_at_frame_rate(track: PoseTrack, skinner, settings, fps: float) -> tuple[np.ndarray, Iterator]:
    """(index of the track frame each output frame shows, Posed per output frame) at
    evenly spaced times. Every recorded frame is posed once, at the time it was
    captured (the filters see true timing); an output frame shows the nearest one, so
    a frame shown twice is exactly the same drawing."""
    from .pipeline import Performance
    indices = nearest_frames([f.t for f in track.frames], fps)

    def generate() -> Iterator:
        performance = Performance(skinner, settings)
        chunk: list = []
        first = 0                           # index of chunk[0] in track.frames
        for i in indices.tolist():
            while i >= first + len(chunk):  # every frame in order, a chunk per skinning product
                first += len(chunk)
                chunk = performance.pose_many(track.frames[first:first + POSE_CHUNK], track.width, track.height)
            yield chunk[i - first]
    return indices, generate()


# --------------------------------------------------------------------------- progress

class _Progress:
    """Reports (done, total) at most ~20 times a second, and raises ExportCancelled
    between frames once ``cancel`` is set."""

    def __init__(self, total: int, callback: Callable[[int, int], None] | None, cancel):
        self.total, self.callback, self.cancel = total, callback, cancel
        self._last = 0.0

    def step(self, done: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise ExportCancelled("export cancelled")
        now = time.monotonic()
        if self.callback and (done >= self.total or now - self._last >= 0.05):
            self._last = now
            self.callback(done, self.total)


# --------------------------------------------------------------------------- export

@dataclass
class ExportOptions:
    fps: float | None = None            # default: the track's
    precision: int | None = None        # decimals in SVG coordinates; default: auto_precision
    width: int | None = None            # GIF/MP4 pixel width; default DEFAULT_WIDTH
    loop: bool = True
    background: str | None = None       # GIF: transparent; MP4: white

    def validated(self, fmt: str) -> "ExportOptions":
        fps = self.fps
        if fps is not None:
            if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1 <= fps <= MAX_FPS:
                raise ValueError(f"fps must be a number from 1 to {MAX_FPS:g} (got {fps!r})")
        if self.precision is not None and (isinstance(self.precision, bool) or not isinstance(self.precision, int)
                                           or not 0 <= self.precision <= 4):
            raise ValueError(f"precision must be a whole number of decimals from 0 to 4 (got {self.precision!r})")
        width = self.width
        if width is not None and (isinstance(width, bool) or not isinstance(width, int)
                                  or not MIN_WIDTH <= width <= MAX_WIDTH):
            raise ValueError(f"width must be a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH} "
                             f"(got {width!r})")
        return ExportOptions(fps, self.precision, width or DEFAULT_WIDTH.get(fmt), bool(self.loop),
                             self.background)


@dataclass
class ExportResult:
    path: Path
    format: str
    frames: int                 # frames written (before a GIF merges identical ones)
    with_person: int
    fps: float
    bytes: int
    seconds: float
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": self.format, "frames": self.frames, "with_person": self.with_person,
                "fps": self.fps, "bytes": self.bytes, "seconds": round(self.seconds, 3), **self.extra}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (choose {', '.join(FORMATS)})")
    return fmt


def format_for_path(path: str | os.PathLike) -> str | None:
    """The format an output file name asks for (.svg .zip .gif .mp4 .json), or None."""
    suffix = Path(path).suffix.lower()
    return next((fmt for fmt, ext in FORMATS.items() if ext == suffix), None)


def export_track(track: PoseTrack, skinner, fmt: str, out: str | os.PathLike, settings=None,
                 options: ExportOptions | None = None,
                 progress: Callable[[int, int], None] | None = None, cancel=None) -> ExportResult:
    """Pose ``track`` on ``skinner``'s rig and write it as ``fmt`` to ``out``.

    ``progress(done, total)`` is called as frames are finished; setting ``cancel`` (any
    object with ``is_set()``) stops the export between frames with ExportCancelled. The
    output appears only when complete (a temporary file is renamed onto it)."""
    fmt = check_format(fmt)
    options = (options or ExportOptions()).validated(fmt)
    out = Path(out)
    started = time.perf_counter()
    if not track.frames:
        raise ValueError("the pose track has no frames")
    if fmt == "json":
        _raise_if_cancelled(cancel)
        track.save(out)
        return _result(out, fmt, len(track.frames), sum(f.has_person for f in track.frames), track.fps, started)

    fps = float(options.fps or _playback_rate(track.fps))
    if fmt == "gif":
        fps = min(fps, MAX_GIF_FPS)
    shown, posed = posed_at_frame_rate(track, skinner, settings, fps)
    count = len(shown)
    counter = _Progress(count, progress, cancel)
    drawing = skinner.rig.drawing
    writer = {"svg": _write_svg, "frames": _write_frames_zip, "gif": _write_gif, "mp4": _write_mp4}[fmt]
    # Frames where the person was tracked (not those where the last pose is held a
    # moment after they left): the same count `pose-animator track` gives.
    people = sum(track.frames[i].has_person for i in shown.tolist())

    def frames() -> Iterator:
        for i, p in enumerate(posed):
            counter.step(i)
            yield p
        counter.step(count)

    with atomic_output(out) as tmp:
        extra = writer(tmp, frames(), drawing, fps, options) or {}
    return _result(out, fmt, count, people, fps, started, extra)


def _playback_rate(measured: float) -> float:
    """A camera take's rate is measured (17.164 frames a second): play it at the whole
    rate nearest, as players expect. Frames are picked by time, so the length stays.
    Rates of clips (30, 25, 29.97) are kept."""
    nearest = max(1.0, float(round(measured)))
    return measured if abs(measured - nearest) <= 0.05 else nearest


def _raise_if_cancelled(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise ExportCancelled("export cancelled")


def _result(out: Path, fmt: str, frames: int, with_person: int, fps: float, started: float,
            extra: dict | None = None) -> ExportResult:
    return ExportResult(out, fmt, frames, with_person, fps, out.stat().st_size,
                        time.perf_counter() - started, extra or {})


# --------------------------------------------------------------------------- writers

def _write_svg(tmp: Path, posed: Iterator, drawing: Drawing, fps: float, options: ExportOptions):
    precision = check_precision(options.precision, drawing)
    builder = SmilBuilder(drawing, fps, precision, options.loop)
    for p in posed:
        builder.add(p.points, p.visible)
    with open(tmp, "w", encoding="utf-8") as fh:
        if builder.frame_count == 1:    # a photo: a plain picture, no animation
            fh.write(_static_from_data(drawing, [v[0] for v in builder.values], builder.shown[0]))
        else:
            fh.writelines(builder.chunks())
    return {"precision": precision}


def _write_frames_zip(tmp: Path, posed: Iterator, drawing: Drawing, fps: float, options: ExportOptions):
    precision = check_precision(options.precision, drawing)
    formatter = PathFormatter(drawing, precision)
    count = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for i, p in enumerate(posed):
            svg = _static_from_data(drawing, formatter(p.points), p.visible)
            archive.writestr(f"frame_{i + 1:05d}.svg", svg)
            count += 1
        archive.writestr("frames.json", json.dumps({
            "format": "pose-animator/frames", "fps": fps, "frames": count,
            "names": [f"frame_{i + 1:05d}.svg" for i in range(count)]}, indent=1))
    return {"precision": precision}


def _pixel_size(drawing: Drawing, width: int, even: bool) -> tuple[int, int]:
    _, _, w, h = drawing.view_box
    height = max(1, int(round(width * float(h) / float(w))))
    if even:        # H.264 in yuv420p needs even sizes
        width, height = width + width % 2, height + height % 2
    return width, height


def _raster_frames(posed: Iterator, drawing: Drawing, size: tuple[int, int],
                   background: str | None) -> Iterator[np.ndarray]:
    """(H, W, 4) RGBA frames of exactly ``size``."""
    from .raster import rasterize_svg
    formatter = PathFormatter(drawing, 2)
    for p in posed:
        svg = _static_from_data(drawing, formatter(p.points), p.visible)
        yield _fit(rasterize_svg(svg, width=size[0], background=background), size)


def _fit(rgba: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop or pad (transparent) by the pixel that rounding may have added or lost."""
    width, height = size
    rgba = rgba[:height, :width]
    if rgba.shape[0] == height and rgba.shape[1] == width:
        return rgba
    padded = np.zeros((height, width, 4), dtype=np.uint8)
    padded[:rgba.shape[0], :rgba.shape[1]] = rgba
    return padded


def _write_mp4(tmp: Path, posed: Iterator, drawing: Drawing, fps: float, options: ExportOptions):
    import imageio_ffmpeg
    size = _pixel_size(drawing, options.width, even=True)
    writer = imageio_ffmpeg.write_frames(
        str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=None, macro_block_size=1, ffmpeg_log_level="error",
        output_params=["-crf", "20", "-preset", "veryfast", "-movflags", "+faststart", "-f", "mp4"])
    try:
        writer.send(None)
        try:
            for rgba in _raster_frames(posed, drawing, size, options.background or MP4_BACKGROUND):
                writer.send(np.ascontiguousarray(rgba[:, :, :3]).tobytes())
        finally:
            writer.close()          # ends the stream (or stops ffmpeg after a cancel)
    except (OSError, RuntimeError) as exc:
        # ffmpeg's own report is many lines (its whole command among them): keep the gist.
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise OSError(f"the MP4 encoder failed: {first}") from None
    return {"width": size[0], "height": size[1]}


def _write_gif(tmp: Path, posed: Iterator, drawing: Drawing, fps: float, options: ExportOptions):
    size = _pixel_size(drawing, options.width, even=False)
    frames = _raster_frames(posed, drawing, size, options.background)
    first = next(frames)
    palette = _gif_palette(drawing, first)
    with open(tmp, "wb") as fh:
        gif = GifWriter(fh, size, palette, loop=options.loop)
        delays = _DelayClock(fps)
        for rgba in _chain_first(first, frames):
            gif.add(rgba, delays.next())
        gif.close()
    return {"width": size[0], "height": size[1], "gif_frames": gif.frames_written}


def _chain_first(first, rest):
    yield first
    yield from rest


class _DelayClock:
    """Hands out GIF delays (1/100 s) frame by frame, on the true clock."""

    def __init__(self, fps: float):
        self.fps, self.index = fps, 0

    def next(self) -> int:
        i, self.index = self.index, self.index + 1
        return max(1, round((i + 1) * 100.0 / self.fps) - round(i * 100.0 / self.fps))


# --------------------------------------------------------------------------- GIF

def _gif_palette(drawing: Drawing, sample: np.ndarray) -> np.ndarray:
    """255 colours (index 255 is transparency): the drawing's own fill and stroke colours
    exactly, then the most common other colours of the first frame (anti-aliased edges
    between overlapping paths). One palette for all frames: no colour flicker."""
    from PIL import Image, ImageColor
    exact = []
    for path in drawing.paths:
        for colour in (path.style.fill, path.style.stroke):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                rgb = ImageColor.getrgb(colour)[:3]
                if rgb not in exact:
                    exact.append(rgb)
    exact = exact[:128]
    opaque = sample[sample[:, :, 3] >= GIF_ALPHA_THRESHOLD][:, :3]
    room = 255 - len(exact)
    extra = np.zeros((0, 3), dtype=np.uint8)
    if len(opaque) and room > 0:
        pixels = Image.fromarray(opaque.reshape(-1, 1, 3))
        quantized = pixels.quantize(colors=room, method=Image.Quantize.MEDIANCUT)
        used = len(quantized.getcolors(room) or [])
        extra = np.array(quantized.getpalette()[:3 * max(used, 1)], dtype=np.uint8).reshape(-1, 3)
    colours = np.vstack([np.array(exact, dtype=np.uint8).reshape(-1, 3), extra])[:255]
    if len(colours) == 0:
        colours = np.zeros((1, 3), dtype=np.uint8)
    return colours


class GifWriter:
    """An animated GIF written frame by frame (memory stays one frame, however long the
    take): one global palette, transparency, and disposal "restore to background" so
    every frame starts from a clear canvas instead of piling onto the previous one.
    Identical consecutive frames become one longer frame."""

    def __init__(self, fh, size: tuple[int, int], palette: np.ndarray, loop: bool = True):
        from PIL import Image
        self.fh, self.size = fh, size
        table = np.zeros((256, 3), dtype=np.uint8)
        table[:len(palette)] = palette
        table[len(palette):] = palette[0]       # padding (and the transparent slot) repeat colour 0
        self.used = len(palette)
        self._palette_image = Image.new("P", (1, 1))
        self._palette_image.putpalette(table.ravel().tolist())
        self._pending: tuple[np.ndarray, int] | None = None
        self.frames_written = 0
        width, height = size
        header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, GIF_TRANSPARENT, 0) + table.tobytes()
        if loop:
            header += b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", 0) + b"\x00"
        fh.write(header)

    def add(self, rgba: np.ndarray, delay_cs: int) -> None:
        indices = self._indices(rgba)
        if self._pending is not None and np.array_equal(self._pending[0], indices):
            self._pending = (self._pending[0], self._pending[1] + delay_cs)
            return
        self._flush()
        self._pending = (indices, delay_cs)

    def close(self) -> None:
        self._flush()
        self.fh.write(b";")

    def _indices(self, rgba: np.ndarray) -> np.ndarray:
        from PIL import Image
        rgb = Image.fromarray(np.ascontiguousarray(rgba[:, :, :3]))
        indices = np.asarray(rgb.quantize(palette=self._palette_image, dither=Image.Dither.NONE)).copy()
        indices[indices >= self.used] = 0                     # the same colour, a real entry
        indices[rgba[:, :, 3] < GIF_ALPHA_THRESHOLD] = GIF_TRANSPARENT
        return indices

    def _flush(self) -> None:
        if self._pending is None:
            return
        from PIL import GifImagePlugin, Image
        indices, delay_cs = self._pending
        self._pending = None
        rows = np.flatnonzero((indices != GIF_TRANSPARENT).any(axis=1))
        cols = np.flatnonzero((indices != GIF_TRANSPARENT).any(axis=0))
        if len(rows):       # only the drawn part; the rest of the canvas is transparent
            top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        else:
            top, bottom, left, right = 0, 1, 0, 1
        image = Image.frombytes("P", (int(right - left), int(bottom - top)),
                                np.ascontiguousarray(indices[top:bottom, left:right]).tobytes())
        image.putpalette(self._palette_image.getpalette())
        for chunk in GifImagePlugin.getdata(image, offset=(int(left), int(top)), duration=10 * delay_cs,
                                            disposal=2, transparency=GIF_TRANSPARENT):
            self.fh.write(chunk)
        self.frames_written += 1
