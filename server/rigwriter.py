"""Drawing + joints -> a rig SVG in the original Pose Animator format (DESIGN.md section 1).

The output is rebuilt from parsed geometry, never copied from the input: one
``<path d=...>`` per drawn path with its style as presentation attributes inside
``<g id="illustration">``, and one ``<circle id=JOINT>`` per joint inside
``<g id="skeleton">``. Nothing of an upload but numbers, colours from a fixed
vocabulary and checked names can reach the file, so scripts, event handlers,
``foreignObject``, external references and entities cannot survive.

Sub-groups with their own joint copies ("secondary" groups: eyes or a mouth drawn
elsewhere) are written as ``<g>`` children of the illustration holding their paths
and their joint markers (ids with an Illustrator-style ``_N_`` suffix, so every id
stays unique). A path pinned to a bone group carries ``data-bind="leftArm"``.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Sequence
from xml.sax.saxutils import quoteattr

import numpy as np

from .drawing import Drawing, DrawnPath
from .export import path_data, style_attributes
from .rig import BIND_GROUPS
from .skeleton import ALL_JOINTS, BODY_JOINTS, match_joint_name

PRECISION = 4                 # decimals: a round trip moves nothing by more than 5e-5
_SAFE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def rig_svg(drawing: Drawing, joints: Mapping[str, Sequence[float]], secondary: Iterable = (),
            pins: Mapping[int, str] | None = None, precision: int = PRECISION) -> str:
    """The rig file text. ``pins`` maps path index -> bone group (overrides ``bind_group``)."""
    _check_joints(joints)
    pins = _effective_pins(drawing, pins)
    group_of_path = _secondary_of_path(secondary)
    marker_r = _marker_radius(drawing)
    used_ids: set[str] = set(joints)
    out = [_header(drawing.view_box), '<g id="illustration">\n']
    open_group = None
    for index, path in enumerate(drawing.paths):
        group = group_of_path.get(index)
        if group is not open_group:
            if open_group is not None:
                out.append("</g>\n")
            if group is not None:
                out.append("<g>\n")
                out.extend(_local_markers(group, used_ids, marker_r, precision))
            open_group = group
        out.append(_path_element(path, pins.get(index), used_ids, precision))
    if open_group is not None:
        out.append("</g>\n")
    out.append("</g>\n")
    out.append(_skeleton(joints, marker_r, precision))
    out.append("</svg>\n")
    return "".join(out)


def artwork_svg(drawing: Drawing, view_box=None, skip: Iterable[int] = (), precision: int = 3) -> str:
    """Only the drawn paths (no skeleton) in ``view_box``: what the rasteriser sees."""
    skipped = set(skip)
    out = [_header(view_box or drawing.view_box)]
    for index, path in enumerate(drawing.paths):
        if index not in skipped:
            out.append(f'<path d="{path_data(path.points, path.subpaths, precision)}" '
                       f'{style_attributes(path.style)}/>\n')
    out.append("</svg>\n")
    return "".join(out)


# ---------------------------------------------------------------- pieces

def _header(view_box) -> str:
    x, y, w, h = (float(v) for v in view_box)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="{_n(x)} {_n(y)} {_n(w)} {_n(h)}" '
            f'width="{_n(w)}" height="{_n(h)}">\n')


def _path_element(path: DrawnPath, pin: str | None, used_ids: set[str], precision: int) -> str:
    attrs = [f'd="{path_data(path.points, path.subpaths, precision)}"', _safe_style(path)]
    element_id = _usable_id(path.element_id, used_ids)
    if element_id:
        attrs.insert(0, f"id={quoteattr(element_id)}")
    if pin:
        attrs.append(f'data-bind="{pin}"')
    return "<path " + " ".join(attrs) + "/>\n"


def _safe_style(path: DrawnPath) -> str:
    """Style attributes; paints are already '#rrggbb' from the parser, but check anyway."""
    style = path.style
    for paint in (style.fill, style.stroke):
        if paint is not None and not _COLOUR.match(paint):
            raise ValueError(f"unexpected paint value {paint!r}")
    return style_attributes(style)


def _usable_id(element_id: str | None, used: set[str]) -> str | None:
    """Keep a layer's own id where it is plain, unique and cannot be mistaken for a joint."""
    if not element_id or not _SAFE_ID.match(element_id) or element_id in used:
        return None
    if match_joint_name(element_id) or element_id.lower().startswith(("skeleton", "illustration")):
        return None
    used.add(element_id)
    return element_id


def _local_markers(group, used_ids: set[str], r: float, precision: int) -> list[str]:
    out = []
    for name, xy in group.joints.items():
        suffix = 1
        while f"{name}_{suffix}_" in used_ids:
            suffix += 1
        marker_id = f"{name}_{suffix}_"
        used_ids.add(marker_id)
        # Inside the artwork, so unpainted: other viewers must not show dots on the face.
        out.append(_circle(marker_id, xy, r, precision, "none"))
    return out


def _skeleton(joints: Mapping[str, Sequence[float]], r: float, precision: int) -> str:
    out = ['<g id="skeleton">\n']
    for name in ALL_JOINTS:
        if name in joints:
            out.append(_circle(name, joints[name], r, precision,
                               "#e5484d" if name in BODY_JOINTS else "#3e63dd"))
    out.append("</g>\n")
    return "".join(out)


def _circle(element_id: str, xy, r: float, precision: int, colour: str) -> str:
    x, y = (float(v) for v in xy)
    return (f'<circle id="{element_id}" cx="{x:.{precision}f}" cy="{y:.{precision}f}" '
            f'r="{_n(r)}" fill="{colour}"/>\n')


def _marker_radius(drawing: Drawing) -> float:
    _, _, w, h = drawing.view_box
    return round(max(float(w), float(h)) * 0.004, 3) or 1.0


def _check_joints(joints: Mapping[str, Sequence[float]]) -> None:
    unknown = [n for n in joints if n not in ALL_JOINTS]
    if unknown:
        raise ValueError("unknown joint names: " + ", ".join(sorted(unknown)[:5]))
    for name, xy in joints.items():
        arr = np.asarray(xy, dtype=np.float64)
        if arr.shape != (2,) or not np.isfinite(arr).all():
            raise ValueError(f"joint {name} needs two finite coordinates")


def _effective_pins(drawing: Drawing, pins: Mapping[int, str] | None) -> dict[int, str]:
    effective = {i: p.bind_group for i, p in enumerate(drawing.paths) if p.bind_group}
    effective.update({int(i): g for i, g in (pins or {}).items()})
    for index, group in list(effective.items()):
        if not group:
            del effective[index]
        elif group not in BIND_GROUPS or not 0 <= index < len(drawing.paths):
            raise ValueError(f"cannot pin path {index} to {group!r}")
    return effective


def _secondary_of_path(secondary: Iterable) -> dict[int, object]:
    mapping = {}
    for group in secondary:
        for index in group.path_indices:
            mapping[int(index)] = group
    return mapping


def _n(v: float) -> str:
    return f"{v:.6g}"
