"""Posed frames -> SVG: a static picture, or one self-contained SMIL animation.

Every frame of a path has the same command structure, so one
``<animate attributeName="d" values="...;...">`` per path interpolates smoothly
between frames; visibility changes are a discrete ``<animate>`` of their own.
"""
from __future__ import annotations

from typing import Iterable, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from .drawing import Drawing, Style

DEFAULT_PRECISION = 1


def path_data(points: np.ndarray, subpaths, precision: int = DEFAULT_PRECISION) -> str:
    """Control points of one path -> 'M x y C x y x y x y ... Z'."""
    text = np.char.mod(f"%.{precision}f", np.round(points, precision) + 0.0)
    parts = []
    i = 0
    for n_seg, closed in subpaths:
        xy = [f"{text[k, 0]} {text[k, 1]}" for k in range(i, i + 1 + 3 * n_seg)]
        parts.append("M" + xy[0] + "C" + " ".join(xy[1:]) + ("Z" if closed else ""))
        i += 1 + 3 * n_seg
    return "".join(parts)


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


def _split(points: np.ndarray, drawing: Drawing) -> list[np.ndarray]:
    offsets = np.cumsum([0] + [len(p.points) for p in drawing.paths])
    return [points[offsets[i]:offsets[i + 1]] for i in range(len(drawing.paths))]


def static_svg(drawing: Drawing, points: np.ndarray, visible: np.ndarray,
               precision: int = DEFAULT_PRECISION) -> str:
    out = [_header(drawing, 1, None)]
    for path, pts, show in zip(drawing.paths, _split(points, drawing), visible):
        if show:
            out.append(f'<path d="{path_data(pts, path.subpaths, precision)}" {style_attributes(path.style)}/>\n')
    out.append("</svg>\n")
    return "".join(out)


def smil_svg(drawing: Drawing, frames: Sequence[tuple[np.ndarray, np.ndarray]], fps: float,
             precision: int = DEFAULT_PRECISION, loop: bool = True) -> str:
    """frames: (points, visible) per frame, evenly spaced at ``fps``."""
    if not frames:
        raise ValueError("no frames to animate")
    n = len(frames)
    duration = n / fps
    repeat = 'repeatCount="indefinite"' if loop else 'fill="freeze"'
    per_frame = [_split(points, drawing) for points, _ in frames]
    visible = np.array([v for _, v in frames])            # (n, n_paths)
    key_times = ";".join(f"{i / n:.5f}" for i in range(n))
    out = [_header(drawing, n, duration)]
    for k, path in enumerate(drawing.paths):
        values = [path_data(per_frame[i][k], path.subpaths, precision) for i in range(n)]
        shows = visible[:, k]
        first_visibility = "" if shows[0] else ' visibility="hidden"'
        out.append(f'<path d="{values[0]}" {style_attributes(path.style)}{first_visibility}>')
        if n > 1:
            out.append(f'<animate attributeName="d" dur="{duration:.4f}s" {repeat} calcMode="discrete" '
                       f'keyTimes="{key_times}" values="{";".join(values)}"/>')
            if not shows.all() and shows.any():
                vis = ";".join("visible" if s else "hidden" for s in shows)
                out.append(f'<animate attributeName="visibility" dur="{duration:.4f}s" {repeat} '
                           f'calcMode="discrete" keyTimes="{key_times}" values="{vis}"/>')
        out.append("</path>\n")
    out.append("</svg>\n")
    return "".join(out)


def posed_frames(posed: Iterable) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(p.points, p.visible) for p in posed]
