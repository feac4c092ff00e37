"""A rig: the drawing plus its skeleton, read from an ordinary SVG (DESIGN.md section 1).

The skeleton group (id or inkscape:label starting with "skeleton") holds named joints
and is never drawn; the illustration group holds the artwork. Joint-named markers
inside the illustration belong to the sub-group they sit in and give that group its
own "secondary" bones; they are not drawn either.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import svgelements as se

from .drawing import (MAX_COORDINATE, Drawing, DrawnPath, ParsedSvg, element_path, is_hidden, opacity_of,
                      own_attributes, parse_svg, shape_style)
from .safesvg import SvgError
from .skeleton import BODY_BONE_GROUPS, BODY_JOINTS, FACE_BONES, FACE_JOINTS, match_joint_name

INKSCAPE_LABEL = "{http://www.inkscape.org/namespaces/inkscape}label"


class RigError(SvgError):
    """The SVG is fine but is not a usable rig (e.g. joints are missing)."""


@dataclass
class SecondaryGroup:
    """A sub-group of the illustration that carries its own copies of some joints."""
    joints: dict[str, np.ndarray]
    bones: list[tuple[str, str]]
    path_indices: list[int] = field(default_factory=list)


@dataclass
class Rig:
    name: str
    drawing: Drawing
    joints: dict[str, np.ndarray]              # joint name -> (x, y) at rest
    secondary: list[SecondaryGroup] = field(default_factory=list)

    @property
    def has_face(self) -> bool:
        return all(n in self.joints for n in FACE_JOINTS)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return BODY_JOINTS + (FACE_JOINTS if self.has_face else ())

    def rest_joints(self) -> np.ndarray:
        """Joints at rest as complex numbers, in ``joint_names`` order."""
        return np.array([complex(*self.joints[n]) for n in self.joint_names])

    @property
    def height(self) -> float:
        ys = np.array([p[1] for p in self.joints.values()])
        return float(ys.max() - ys.min()) or 1.0


def load_rig(path: str | os.PathLike, name: str | None = None) -> Rig:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RigError(f"cannot read rig {path}: {exc.strerror or exc}") from None
    return rig_from_bytes(data, name or path.stem)


def rig_from_bytes(data: bytes, name: str = "rig") -> Rig:
    parsed = parse_svg(data)
    walker = _Walker(parsed)
    walker.walk(parsed.root)
    joints = walker.skeleton_joints
    _check_joints(joints, walker.found_skeleton)
    secondary = _secondary_groups(walker, joints)
    return Rig(name=name, drawing=walker.drawing, joints=joints, secondary=secondary)


def drawing_from_bytes(data: bytes) -> Drawing:
    """Every visible shape of any SVG (no skeleton needed): for previews and auto-rigging."""
    parsed = parse_svg(data)
    walker = _Walker(parsed)
    walker.walk(parsed.root)
    return walker.drawing


def _check_joints(joints: dict, found_skeleton: bool) -> None:
    if not found_skeleton:
        raise RigError('the SVG has no skeleton group (a <g> whose id or label starts with "skeleton")')
    missing_body = [n for n in BODY_JOINTS if n not in joints]
    if missing_body:
        raise RigError("the rig lacks body joints: " + ", ".join(missing_body))
    present_face = [n for n in FACE_JOINTS if n in joints]
    if present_face and len(present_face) < len(FACE_JOINTS):
        missing = [n for n in FACE_JOINTS if n not in joints]
        raise RigError(f"the rig has {len(present_face)} of 73 face joints; missing: " + ", ".join(missing))
    far = [n for n, p in joints.items() if not np.all(np.abs(p) <= MAX_COORDINATE)]
    if far:
        raise RigError("these joints lie impossibly far away: " + ", ".join(far))
    # A bone without length has no direction to turn the drawing with.
    size = max(np.ptp(np.array([joints[n] for n in BODY_JOINTS]), axis=0).max(), 1e-300)
    flat = [f"{a}-{b}" for bones in BODY_BONE_GROUPS.values() for a, b in bones
            if np.linalg.norm(joints[a] - joints[b]) <= 1e-6 * size]
    if flat:
        raise RigError("these bones have no length (both joints at one place): " + ", ".join(flat))


def _secondary_groups(walker: "_Walker", joints: dict) -> list[SecondaryGroup]:
    """Sub-groups with a complete bone of their own bind to it; the rest bind normally."""
    all_bones = FACE_BONES + [b for group in BODY_BONE_GROUPS.values() for b in group]
    groups = []
    for key, local in walker.local_joints.items():
        bones = [(a, b) for a, b in all_bones if a in local and b in local and a in joints and b in joints]
        if bones:
            paths = walker.paths_in_group.get(key, [])
            groups.append(SecondaryGroup({n: local[n] for bone in bones for n in bone}, bones, paths))
    return groups


BIND_GROUPS = ("torso", "leftArm", "rightArm", "leftLeg", "rightLeg", "face", "neck")


def _bind_group(shape) -> str | None:
    """A path pinned to a bone group by the editor: data-bind="leftArm"."""
    value = own_attributes(shape).get("data-bind")
    value = value.strip() if isinstance(value, str) else ""
    return value if value in BIND_GROUPS else None


class _Walker:
    """Walks the svgelements tree once, sorting shapes into art, joints and guides."""

    def __init__(self, parsed: ParsedSvg):
        self.parsed = parsed
        self.drawing = Drawing(view_box=parsed.view_box)
        self.skeleton_joints: dict[str, np.ndarray] = {}
        self.local_joints: dict[int, dict[str, np.ndarray]] = {}
        self.paths_in_group: dict[int, list[int]] = {}
        self.found_skeleton = False
        self.found_illustration = self._has_group(parsed.root, "illustration")
        self._skipped: dict[str, int] = {}

    def walk(self, root) -> None:
        self._visit_children(root, opacity=1.0, role=None if self.found_illustration else "art",
                             top_group=None, depth=0)
        for tag, count in sorted(self._skipped.items()):
            self.drawing.warnings.append(f"{count} <{tag}> element(s) cannot be drawn as paths and were skipped")

    def _visit_children(self, group, opacity, role, top_group, depth):
        for child in list(group):
            self._visit(child, opacity, role, top_group, depth)

    def _visit(self, el, opacity, role, top_group, depth):
        if isinstance(el, (se.Group, se.Use)):
            role, top_group = self._group_role(el, role, top_group, depth)
            if is_hidden(el) and role != "skeleton":   # a hidden skeleton layer still rigs
                return
            self._visit_children(el, opacity * opacity_of(el), role, top_group, depth + 1)
            return
        if is_hidden(el) and role != "skeleton":
            return
        if isinstance(el, se.Shape):
            self._visit_shape(el, opacity * opacity_of(el), role, top_group)
        elif isinstance(el, (se.Text, se.Image)) and role == "art":
            tag = "text" if isinstance(el, se.Text) else "image"
            self._skipped[tag] = self._skipped.get(tag, 0) + 1

    def _group_role(self, el, role, top_group, depth):
        if role is None or role == "art" and not self.found_illustration:
            if self._named(el, "skeleton") and not self.found_skeleton:
                self.found_skeleton = True
                return "skeleton", None
            if role is None and self._named(el, "illustration"):
                return "art", None
        if role == "art" and top_group is None and isinstance(el, se.Group) and self.found_illustration:
            return role, id(el)  # a direct child group of the illustration
        return role, top_group

    def _visit_shape(self, shape, opacity, role, top_group):
        joint = match_joint_name(shape.id)
        if role == "skeleton":
            if joint and joint not in self.skeleton_joints:
                centre = self._centre(shape)
                if centre is not None:
                    self.skeleton_joints[joint] = centre
            return  # guides (bone lines) in the skeleton group are never drawn
        if role != "art":
            return
        if joint:
            centre = self._centre(shape)
            if centre is not None and top_group is not None:
                self.local_joints.setdefault(top_group, {}).setdefault(joint, centre)
            return
        if is_hidden(shape):
            return
        cubic = element_path(shape, self.parsed.to_user)
        if cubic is None:
            return
        points, subpaths = cubic
        style = shape_style(shape, opacity, self.parsed)
        tag = (getattr(shape, "values", {}) or {}).get("tag", "path")
        if tag == "line":   # a line has no inside; filling its bent copy would show a sliver
            style = replace(style, fill=None)
        if style.fill is None and (style.stroke is None or style.stroke_width <= 0):
            return  # draws nothing
        self.drawing.paths.append(DrawnPath(points, subpaths, style, shape.id, tag,
                                            bind_group=_bind_group(shape)))
        if top_group is not None:
            self.paths_in_group.setdefault(top_group, []).append(len(self.drawing.paths) - 1)

    def _centre(self, shape) -> np.ndarray | None:
        try:
            bbox = (se.Path(shape) * self.parsed.to_user).bbox(transformed=True)
        except Exception:
            bbox = None
        if bbox is None or not np.all(np.isfinite(bbox)):
            return None
        x0, y0, x1, y1 = bbox
        return np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])

    @staticmethod
    def _named(el, prefix: str) -> bool:
        attrs = own_attributes(el)
        for value in (getattr(el, "id", None), attrs.get(INKSCAPE_LABEL)):
            if isinstance(value, str) and value.strip().lower().startswith(prefix):
                return True
        return False

    def _has_group(self, root, prefix) -> bool:
        stack = list(root)
        while stack:
            el = stack.pop()
            if isinstance(el, se.Group):
                if self._named(el, prefix):
                    return True
                stack.extend(el)
        return False
