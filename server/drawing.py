"""SVG -> drawing: every visible shape as cubic Bezier control points plus its style.

Coordinates are the root's user units (its viewBox), with every transform applied.
Each path is a list of sub-paths; a sub-path with n segments holds 1 + 3n points:
P0, then (c1, c2, end) per cubic segment. Lines become cubics with handles at a
third and two thirds, so long straight edges bend smoothly when their bones do.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import numpy as np
import svgelements as se

from .safesvg import SvgError, check_svg_bytes

MAX_COORDINATE = 1e7      # user units; a shape beyond draws nothing anyone can see
MIN_VIEW_SIZE = 1e-6


@dataclass(frozen=True)
class Style:
    fill: str | None = "#000000"
    stroke: str | None = None
    stroke_width: float = 1.0
    opacity: float = 1.0
    fill_opacity: float = 1.0
    stroke_opacity: float = 1.0
    fill_rule: str = "nonzero"
    line_cap: str = "butt"
    line_join: str = "miter"
    miter_limit: float = 4.0

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class DrawnPath:
    points: np.ndarray                    # (n, 2) control points, user units
    subpaths: list[tuple[int, bool]]      # (segment count, closed) per sub-path
    style: Style
    element_id: str | None = None
    tag: str = "path"
    ancestors: tuple = ()                 # ids of the svgelements groups above it
    bind_group: str | None = None         # bone group the author pinned it to (data-bind)


@dataclass
class Drawing:
    view_box: tuple[float, float, float, float]
    paths: list[DrawnPath] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedSvg:
    """The svgelements tree with the mapping from its pixel space to user units."""
    root: se.SVG
    to_user: se.Matrix
    view_box: tuple[float, float, float, float]
    gradients: dict[str, tuple[str, float]] = field(default_factory=dict)   # id -> (mean colour, mean alpha)


def parse_svg(data: bytes) -> ParsedSvg:
    data = check_svg_bytes(data)
    try:
        root = se.SVG.parse(io.BytesIO(data), reify=False, ppi=96.0, parse_display_none=True)
    except RecursionError:
        raise SvgError("the SVG is nested too deeply") from None
    except Exception as exc:  # svgelements raises many kinds on bad attribute values
        raise SvgError(f"the SVG could not be read: {type(exc).__name__}: {exc}") from None
    if not isinstance(root, se.SVG):
        raise SvgError("the file has no <svg> root")
    view_box = _view_box(root)
    to_user = _pixels_to_user_units(root, view_box)
    return ParsedSvg(root, to_user, view_box, _gradient_paints(data))


def _view_box(root: se.SVG) -> tuple[float, float, float, float]:
    vb = root.viewbox
    if vb is not None and vb.width and vb.height and vb.width > 0 and vb.height > 0:
        box = (float(vb.x), float(vb.y), float(vb.width), float(vb.height))
    else:
        w, h = _finite_positive(root.width), _finite_positive(root.height)
        box = (0.0, 0.0, w or 100.0, h or 100.0)
    # Beyond these, rendering, joint markers and float32 coordinates on the wire break down.
    if not (np.isfinite(box).all() and max(map(abs, box)) <= MAX_COORDINATE
            and min(box[2:]) >= MIN_VIEW_SIZE):
        raise SvgError("the SVG's viewBox (or width and height) is out of range: "
                       + " ".join(f"{v:g}" for v in box))
    return box


def _finite_positive(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v > 0 else None


def _pixels_to_user_units(root: se.SVG, view_box) -> se.Matrix:
    """svgelements maps the viewBox onto width x height pixels; undo that."""
    vb = root.viewbox
    if vb is None or not vb.width or not vb.height:
        return se.Matrix()
    w, h = _finite_positive(root.width), _finite_positive(root.height)
    if not w or not h:
        return se.Matrix()
    try:
        m = se.Matrix(vb.transform(root))
        inv = ~m
    except Exception:
        return se.Matrix()
    return inv


def element_path(shape: se.Shape, to_user: se.Matrix) -> tuple[np.ndarray, list[tuple[int, bool]]] | None:
    """A shape as cubic control points in user units, or None if it draws nothing."""
    try:
        path = abs(se.Path(shape) * to_user) if not to_user.is_identity() else abs(se.Path(shape))
    except Exception:
        return None
    return path_to_cubics(path)


def path_to_cubics(path: se.Path) -> tuple[np.ndarray, list[tuple[int, bool]]] | None:
    points: list[complex] = []
    subpaths: list[tuple[int, bool]] = []
    start: complex | None = None
    current: complex | None = None
    n_segments = 0

    def finish(closed: bool):
        nonlocal start, n_segments
        if start is not None and (n_segments > 0 or closed):
            if n_segments == 0:  # a lone point still marks a position; keep it drawable
                points.extend([start, start, start])
                n_segments = 1
            subpaths.append((n_segments, closed))
        elif start is not None:
            points.pop()  # a bare move-to with nothing after it
        start, n_segments = None, 0

    for seg in path:
        if isinstance(seg, se.Move):
            finish(False)
            current = start = _c(seg.end)
            points.append(start)
            continue
        if start is None:  # a segment without a move-to starts where it is
            current = start = _c(seg.start) if seg.start is not None else 0j
            points.append(start)
        if isinstance(seg, se.Close):
            if abs(current - start) > 1e-9:
                points.extend(_line(current, start))
                n_segments += 1
            current = start
            finish(True)
            continue
        for c1, c2, end in _as_cubics(seg, current):
            points.extend((c1, c2, end))
            n_segments += 1
            current = end
    finish(False)
    if not subpaths:
        return None
    arr = np.array(points, dtype=np.complex128)
    if not np.isfinite(arr).all() or np.abs(arr).max() > MAX_COORDINATE:
        return None
    return np.column_stack([arr.real, arr.imag]), subpaths


def _c(p) -> complex:
    return complex(float(p[0]), float(p[1]))


def _line(a: complex, b: complex):
    return (a + (b - a) / 3, a + 2 * (b - a) / 3, b)


def _as_cubics(seg, current: complex):
    end = _c(seg.end)
    if isinstance(seg, se.Line):
        return [_line(current, end)]
    if isinstance(seg, se.CubicBezier):
        return [(_c(seg.control1), _c(seg.control2), end)]
    if isinstance(seg, se.QuadraticBezier):
        q = _c(seg.control)
        return [(current + 2 / 3 * (q - current), end + 2 / 3 * (q - end), end)]
    if isinstance(seg, se.Arc):
        try:
            cubics = list(seg.as_cubic_curves())
        except Exception:
            cubics = []
        if not cubics:
            return [_line(current, end)]
        return [(_c(c.control1), _c(c.control2), _c(c.end)) for c in cubics]
    return [_line(current, end)]


# ---------------------------------------------------------------- styles

_STYLE_DECL = re.compile(r"\s*([\w-]+)\s*:\s*([^;]+)")


def own_attributes(el) -> dict:
    """An element's own attributes and inline style, not those inherited by svgelements."""
    attrs = dict(el.values.get("attributes") or {}) if hasattr(el, "values") else {}
    style = attrs.get("style") or ""
    for key, value in _STYLE_DECL.findall(style):
        attrs[key] = value.strip()
    return attrs


def shape_style(shape: se.Shape, opacity_product: float, parsed: ParsedSvg) -> Style:
    values = shape.values
    fill, fill_alpha = _paint(shape.fill, values.get("fill"), parsed)
    stroke, stroke_alpha = _paint(shape.stroke, values.get("stroke"), parsed)
    fill_opacity = _alpha(shape.fill) * fill_alpha if fill else 1.0
    stroke_opacity = _alpha(shape.stroke) * stroke_alpha if stroke else 1.0
    try:
        width = float(shape.implicit_stroke_width) if stroke else 0.0
        width *= _scale_of(parsed.to_user)
    except Exception:
        width = 1.0
    return Style(
        fill=fill, stroke=stroke, stroke_width=round(width, 4) if np.isfinite(width) else 1.0,
        opacity=round(max(0.0, min(1.0, opacity_product)), 4),
        fill_opacity=round(fill_opacity, 4), stroke_opacity=round(stroke_opacity, 4),
        fill_rule="evenodd" if str(values.get("fill-rule", "")).strip() == "evenodd" else "nonzero",
        line_cap=_choice(values.get("stroke-linecap"), ("butt", "round", "square"), "butt"),
        line_join=_choice(values.get("stroke-linejoin"), ("miter", "round", "bevel"), "miter"),
        miter_limit=_number(values.get("stroke-miterlimit"), 4.0),
    )


def _paint(color, raw, parsed: ParsedSvg) -> tuple[str | None, float]:
    """A paint as (flat colour or None, extra alpha from a gradient's stops)."""
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    if raw.startswith("url("):
        m = re.match(r"url\(\s*['\"]?#([^)'\"]+)", raw)
        if m and m.group(1) in parsed.gradients:
            return parsed.gradients[m.group(1)]
        # Any other reference (missing, a pattern, "javascript:") paints its fallback
        # colour if one follows, else nothing, as browsers do.
        fallback = raw[raw.find(")") + 1:].strip() if ")" in raw else ""
        return (_solid(se.Color(fallback)) if _is_colour(fallback) else None), 1.0
    return _solid(color), 1.0


def _is_colour(text: str) -> bool:
    """A colour svgelements can read: it takes anything else for black."""
    if re.fullmatch(r"#[0-9a-fA-F]{3,8}|(?:rgb|rgba|hsl|hsla)\([^()]*\)", text):
        return True
    return bool(re.fullmatch(r"[a-zA-Z]+", text)) and (text.lower() == "black" or se.Color(text).value != 255)


def _solid(color) -> str | None:
    if color is None or getattr(color, "value", None) is None:
        return None
    return "#%02x%02x%02x" % (color.red, color.green, color.blue)


def _alpha(color) -> float:
    try:
        return color.alpha / 255.0 if color is not None and color.value is not None else 1.0
    except Exception:
        return 1.0


_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _gradient_paints(data: bytes) -> dict[str, tuple[str, float]]:
    """Canvas paths carry flat paint: each gradient becomes the mean colour and the mean
    opacity of its stops (following href to borrowed stops). Read from the XML itself:
    svgelements' tree does not keep the stops of unreferenced definitions."""
    import defusedxml.ElementTree as SafeET
    root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    stops: dict[str, list[tuple[se.Color, float]]] = {}
    hrefs: dict[str, str] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.rsplit("}", 1)[-1] not in ("linearGradient", "radialGradient"):
            continue
        gid = el.get("id")
        if not gid:
            continue
        stops[gid] = [s for s in (_stop(child) for child in el) if s is not None]
        href = el.get("href") or el.get(_XLINK_HREF) or ""
        if href.startswith("#"):
            hrefs[gid] = href[1:]
    paints = {}
    for gid in stops:
        own, seen = gid, set()
        while not stops.get(own) and own in hrefs and own not in seen:
            seen.add(own)
            own = hrefs[own]
        found = stops.get(own) or []
        if found:
            rgb = np.mean([[c.red, c.green, c.blue] for c, _ in found], axis=0)
            alpha = float(np.mean([a for _, a in found]))
            paints[gid] = ("#%02x%02x%02x" % tuple(int(round(v)) for v in rgb), alpha)
    return paints


def _stop(el) -> tuple[se.Color, float] | None:
    if not isinstance(el.tag, str) or el.tag.rsplit("}", 1)[-1] != "stop":
        return None
    attrs = dict(el.attrib)
    for key, value in _STYLE_DECL.findall(attrs.get("style", "")):
        attrs[key] = value.strip()
    try:
        colour = se.Color(attrs.get("stop-color", "black"))
    except Exception:
        return None
    if colour.value is None:
        return None
    opacity = max(0.0, min(1.0, _number(attrs.get("stop-opacity", 1.0), 1.0))) * colour.alpha / 255.0
    return colour, opacity


def _scale_of(m: se.Matrix) -> float:
    return float(np.sqrt(abs(m.a * m.d - m.b * m.c))) or 1.0


def _choice(value, options, default):
    value = str(value or "").strip()
    return value if value in options else default


def _number(value, default: float) -> float:
    try:
        v = float(str(value).strip())
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) else default


def opacity_of(el) -> float:
    return max(0.0, min(1.0, _number(own_attributes(el).get("opacity", 1.0), 1.0)))


def is_hidden(el) -> bool:
    attrs = own_attributes(el)
    values = getattr(el, "values", {}) or {}
    return (str(attrs.get("display", "")).strip() == "none"
            or str(values.get("visibility", "")).strip() in ("hidden", "collapse"))
