"""Auto-rig any drawing: place the 12 body and 73 face joints, and say how each was found.

1. Render the drawing (our own re-serialisation, never the upload) to pixels, on
   white and padded to a square at a few scales: MediaPipe reads flat cartoons at
   some sizes and not others, so every variant is tried and the most confident
   detection that lies on the figure wins.
2. Fit a human skeleton to the figure's silhouette (``outlinefit``) — always, as a
   check on MediaPipe and as the fallback for art it cannot read.
3. Per part (torso, each limb): MediaPipe and the outline agree -> the outline's
   positions, centred on the drawn limb ("detected"); they disagree or the outline
   has no such limb -> MediaPipe's ("detected"); only the outline saw it ->
   "fitted"; nobody saw it -> human proportions ("guessed").
4. Face: FaceMesh on a crop around the head (and on the whole figure); otherwise a
   template face — the average of our bundled rigs' faces, relative to their head
   boxes — scaled into the head ("guessed").

Camera-facing convention: the character's left is at larger x, as MediaPipe's
"left" is the person's own left; nothing is mirrored.
"""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage as ndi

from .drawing import Drawing
from .outlinefit import MaskFrame, OutlineFit, fit_outline, head_box_of
from .posetrack import BODY_NAMES
from .raster import rasterize_svg
from .rigwriter import artwork_svg
from .skeleton import BODY_BONE_GROUPS, BODY_JOINTS, FACE_JOINTS, FACE_MESH_INDEX, mirror_name

MASK_SIDE = 400                   # pixels of the square the silhouette is measured in
# (pixels, padding, silhouette): MediaPipe reads flat cartoons at some sizes and not at
# others, and thin line art (OpenMoji) only once it is filled in as a silhouette.
# Ordered by how often they work; the search stops at the first very confident reading.
POSE_VARIANTS = ((512, 0.35, False), (512, 0.60, False), (768, 0.10, False), (512, 0.10, False),
                 (768, 0.35, False), (512, 0.35, True), (512, 0.60, True), (768, 0.60, True))
CONFIDENT = 0.9
MIN_SCORE = 0.3                   # mean visibility x on-figure below this: no person read
MIN_VISIBILITY = 0.5
AGREE = 0.12                      # MediaPipe and outline agree within this x figure height
ON_FIGURE_MARGIN = 0.03           # landmarks may lie this far (x figure height) off the ink
FACE_CROP = 256
PARTS = {
    "torso": ("leftShoulder", "rightShoulder", "leftHip", "rightHip"),
    "leftArm": ("leftElbow", "leftWrist"), "rightArm": ("rightElbow", "rightWrist"),
    "leftLeg": ("leftKnee", "leftAnkle"), "rightLeg": ("rightKnee", "rightAnkle"),
}
ROOT = {"leftArm": "leftShoulder", "rightArm": "rightShoulder", "leftLeg": "leftHip", "rightLeg": "rightHip"}
PART_NAMES = {"torso": "torso", "leftArm": "left arm", "rightArm": "right arm", "leftLeg": "left leg", "rightLeg": "right leg"}
BODY_BONES = [(a, b) for pairs in BODY_BONE_GROUPS.values() for a, b in pairs]
EXPLAINS_MARGIN = 0.05            # the outline must explain the figure this much better to overrule
_B = {n: i for i, n in enumerate(BODY_JOINTS)}
_HEAD = [BODY_NAMES.index(n) for n in ("nose", "leftEye", "rightEye", "leftEar", "rightEar")]
RIGS_DIR = Path(__file__).resolve().parent.parent / "rigs"


class AutoRigError(ValueError):
    """The drawing cannot be rigged (e.g. it draws nothing)."""


@dataclass
class AutoRig:
    joints: dict[str, np.ndarray]            # all 85 joints, user units
    source: dict[str, str]                   # joint -> detected | fitted | guessed
    parts: dict[str, str]                    # torso, leftArm, ..., face -> how it was found
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> dict:
        by = {kind: [n for n, s in self.source.items() if s == kind] for kind in ("detected", "fitted", "guessed")}
        return {"parts": dict(self.parts), "joints": dict(self.source), **by,
                "notes": list(self.notes), "seconds": round(self.seconds, 3)}

    def summary(self) -> list[str]:
        lines = []
        for part, how in self.parts.items():
            n = len(PARTS.get(part, ())) or len(FACE_JOINTS)
            lines.append(f"  {part:9s} {how:9s} ({n} joints)")
        counts = {k: sum(1 for s in self.source.values() if s == k) for k in ("detected", "fitted", "guessed")}
        lines.append(f"  {counts['detected']} joints detected, {counts['fitted']} fitted to the outline, "
                     f"{counts['guessed']} guessed from proportions")
        return lines + [f"  note: {n}" for n in self.notes]


# ---------------------------------------------------------------- entry points

_TRACKER_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _shared_models():
    """One static-image Tracker and FaceMesh for the process (used under a lock)."""
    import mediapipe as mp

    from .tracking import Tracker
    face = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                           refine_landmarks=False, min_detection_confidence=0.5)
    return Tracker(static_image_mode=True), face


def autorig(drawing: Drawing) -> AutoRig:
    """Joints for a drawing; AutoRigError if it draws nothing to rig."""
    started = time.perf_counter()
    figure = _figure_paths(drawing)
    frame, boxes = _mask_frame(drawing, figure)
    outline_head = head_box_of(frame)
    with _TRACKER_LOCK:
        tracker, face_mesh = _shared_models()
        pose = _best_pose(drawing, figure, frame, tracker)
        face = _find_face(drawing, figure, frame, pose, outline_head, face_mesh)
    # A face found away from the outline's head means the outline missed the head
    # (a bust, arms over the head): measure the body from the face instead.
    head_hint = None
    if face is not None and not _face_in_box(face, outline_head):
        head_hint = _head_box_from_face(face)
    fit = fit_outline(frame, boxes, head_hint=head_hint)
    result = _fuse(frame, fit, pose, face)
    result.seconds = time.perf_counter() - started
    return result


# ---------------------------------------------------------------- rendering

def _figure_paths(drawing: Drawing) -> list[int]:
    """Indices of the paths that make the figure: a leading full-size backdrop is not."""
    if not drawing.paths:
        raise AutoRigError("the drawing has no visible shapes to rig")
    _, _, vw, vh = drawing.view_box
    first = drawing.paths[0]
    size = first.points.max(axis=0) - first.points.min(axis=0)
    backdrop = size[0] >= 0.95 * vw and size[1] >= 0.95 * vh and first.style.fill is not None
    return list(range(1 if backdrop and len(drawing.paths) > 1 else 0, len(drawing.paths)))


def _figure_box(drawing: Drawing, figure: list[int]):
    pts = np.concatenate([drawing.paths[i].points for i in figure])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if not np.isfinite(lo).all() or (hi - lo).max() <= 0:
        raise AutoRigError("the drawing has no extent to rig")
    return lo, hi


def _square_view(drawing, figure, pad: float):
    lo, hi = _figure_box(drawing, figure)
    side = float((hi - lo).max()) * (1.0 + 2.0 * pad)
    centre = (lo + hi) / 2
    return np.array([centre[0] - side / 2, centre[1] - side / 2]), side


def _render(drawing, figure, side_px: int, pad: float):
    """RGBA pixels of the figure in a padded square, and its pixel -> user mapping."""
    origin, side = _square_view(drawing, figure, pad)
    skip = set(range(len(drawing.paths))) - set(figure)
    svg = artwork_svg(drawing, (origin[0], origin[1], side, side), skip=skip)
    try:
        pixels = rasterize_svg(svg, side_px, side_px)
    except ValueError as exc:          # resvg refuses sizes and numbers it cannot draw
        raise AutoRigError(f"the drawing could not be rendered to find its figure: {exc}") from None
    return pixels, origin, side / side_px


def _on_white(rgba: np.ndarray) -> np.ndarray:
    # Straight alpha over white, in integers: colour * a + white * (1 - a).
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    blended = (rgba[:, :, :3] * alpha + 255 * (255 - alpha) + 127) // 255
    return np.ascontiguousarray(blended.astype(np.uint8))


def _silhouette(rgba: np.ndarray) -> np.ndarray:
    """The figure as one dark shape on white."""
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    grey = (255.0 * (1.0 - alpha) + 60.0 * alpha).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(grey, 3, axis=2))


def _mask_frame(drawing, figure):
    rgba, origin, scale = _render(drawing, figure, MASK_SIDE, 0.05)
    mask = rgba[:, :, 3] > 100
    if mask.sum() < 50:
        raise AutoRigError("the drawing covers almost no area; there is nothing to rig")
    boxes = [tuple(drawing.paths[i].points.min(axis=0)) + tuple(drawing.paths[i].points.max(axis=0))
             for i in figure]
    return MaskFrame(mask, origin, scale), boxes


# ---------------------------------------------------------------- MediaPipe

@dataclass
class _Pose:
    body: np.ndarray          # (17, 3) user units + visibility
    face: np.ndarray | None   # (73, 2) user units, from the tracker's own head crop
    score: float
    on_figure: np.ndarray     # (17,) bool


def _on_figure(frame: MaskFrame, points: np.ndarray) -> np.ndarray:
    """Which points lie on the drawing (or just beside it)."""
    grown = frame.grown(ON_FIGURE_MARGIN)
    px = np.round(frame.to_pixels(points)).astype(int)
    inside = (px[:, 0] >= 0) & (px[:, 1] >= 0) & (px[:, 0] < grown.shape[1]) & (px[:, 1] < grown.shape[0])
    result = np.zeros(len(points), dtype=bool)
    result[inside] = grown[px[inside, 1], px[inside, 0]]
    return result


def _best_pose(drawing, figure, frame: MaskFrame, tracker) -> _Pose | None:
    best = None
    for side_px, pad, silhouette in POSE_VARIANTS:
        rgba, origin, scale = _render(drawing, figure, side_px, pad)
        result = tracker.process(_silhouette(rgba) if silhouette else _on_white(rgba))
        if result.body is None:
            continue
        body = _facing_the_viewer(result.body.copy())
        body[:, :2] = origin + body[:, :2] * scale
        on = _on_figure(frame, body[:, :2])
        vis = body[:12, 2]
        score = float(np.mean(vis * on[:12]))
        if best is None or score > best.score:
            face = None if result.face is None else origin + result.face * scale
            best = _Pose(body, face, score, on)
            if score >= CONFIDENT:
                break
    if best is None or best.score < MIN_SCORE:
        return None
    return best


_MIRRORED = np.array([BODY_NAMES.index(mirror_name(n)) for n in BODY_NAMES])


def _facing_the_viewer(body: np.ndarray) -> np.ndarray:
    """Characters face the viewer. A faceless figure reads as well from the back, and
    then MediaPipe swaps its sides: put the character's left at its left again."""
    xy = body[:, :2]
    up = (xy[_B["leftShoulder"]] + xy[_B["rightShoulder"]] - xy[_B["leftHip"]] - xy[_B["rightHip"]]) / 2
    across = (xy[_B["leftShoulder"]] - xy[_B["rightShoulder"]] + xy[_B["leftHip"]] - xy[_B["rightHip"]]) / 2
    # Facing the viewer, "left" is a quarter turn clockwise from "up" on screen (y down).
    facing = up[0] * across[1] - up[1] * across[0]
    return body[_MIRRORED] if facing < 0 else body


def _part_from_pose(pose: _Pose | None, part: str) -> bool:
    if pose is None:
        return False
    names = PARTS[part] + ((ROOT[part],) if part in ROOT else ())
    idx = [_B[n] for n in names]
    return bool(np.all(pose.body[idx, 2] >= MIN_VISIBILITY) and np.all(pose.on_figure[idx]))


def _legs_seen(pose: _Pose) -> bool:
    knees = [_B["leftKnee"], _B["rightKnee"]]
    return bool(np.any((pose.body[knees, 2] >= MIN_VISIBILITY) & pose.on_figure[knees]))


# ---------------------------------------------------------------- face

def _find_face(drawing, figure, frame: MaskFrame, pose: _Pose | None, outline_head, face_mesh):
    """73 face points in user units, if FaceMesh finds a face that sits on the figure.

    Tries the tracker's own head crop, then a crop around the head (MediaPipe's or
    the outline's), then the whole figure; each is computed only if needed."""
    if pose is not None and pose.face is not None and _plausible_face(frame, pose.face, outline_head):
        return pose.face
    rgba, origin, scale = _render(drawing, figure, 512, 0.1)
    rgb = _on_white(rgba)
    region = _head_region(frame, pose)
    if region is not None:
        centre, side = region[0], 3.2 * region[1]
    else:
        x0, y0, x1, y1 = outline_head
        centre, side = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), 1.6 * max(x1 - x0, y1 - y0)
    crops = [((centre - origin) / scale, side / scale),
             (np.array(rgb.shape[1::-1]) / 2.0, float(max(rgb.shape[:2])))]
    for centre_px, side_px in crops:
        face = _face_in_crop(face_mesh, rgb, centre_px, side_px, origin, scale)
        if face is not None and _plausible_face(frame, face, outline_head):
            return face
    return None


def _face_in_box(face: np.ndarray, box) -> bool:
    """Whether the outline's head box is this face's head: around it, and ending near
    its chin (on a bust the outline may take head and chest for one head)."""
    x0, y0, x1, y1 = box
    centre = face.mean(axis=0)
    face_h = np.ptp(face[:, 1])
    chin_y = face[FACE_JOINTS.index("jawMid"), 1]
    return bool(x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 and (y1 - y0) < 3.5 * face_h
                and y1 - chin_y < 0.5 * face_h)


def _face_in_crop(face_mesh, rgb, centre_px, side_px, origin, scale):
    """FaceMesh on a square crop (centre and side in pixels of ``rgb``), in user units."""
    s = FACE_CROP / max(side_px, 8.0)
    to_crop = np.array([[s, 0, FACE_CROP / 2 - s * centre_px[0]], [0, s, FACE_CROP / 2 - s * centre_px[1]]])
    crop = cv2.warpAffine(rgb, to_crop, (FACE_CROP, FACE_CROP), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    result = face_mesh.process(crop)
    if not result.multi_face_landmarks:
        return None
    lm = result.multi_face_landmarks[0].landmark
    in_crop = np.array([[lm[i].x * FACE_CROP, lm[i].y * FACE_CROP] for i in FACE_MESH_INDEX.values()])
    px = (in_crop - to_crop[:, 2]) / s
    return origin + px * scale


def _plausible_face(frame: MaskFrame, face: np.ndarray, head_box) -> bool:
    """On the figure, and not a face-like detail (an eye, a button) much smaller than the head."""
    if not np.isfinite(face).all():
        return False
    fig_h = frame.figure_rows * frame.scale
    size = float(np.ptp(face[:, 1]))
    head_h = head_box[3] - head_box[1]
    on = _on_figure(frame, face)
    top = face[FACE_JOINTS.index("topMid")]
    chin = face[FACE_JOINTS.index("jawMid")]
    return bool(on.mean() >= 0.85 and max(0.04 * fig_h, 0.3 * head_h) <= size <= 0.9 * fig_h
                and np.linalg.norm(chin - top) > 0)


def _head_region(frame: MaskFrame, pose: _Pose | None):
    """(centre, radius) of the head in user units, from MediaPipe's head landmarks."""
    if pose is None:
        return None
    head = pose.body[_HEAD]                          # nose, eyes, ears
    seen = (head[:, 2] >= MIN_VISIBILITY) & pose.on_figure[_HEAD]
    if seen.sum() < 3:
        return None
    centre = head[seen, :2].mean(axis=0)
    px = np.round(frame.to_pixels(centre)).astype(int)
    dist = frame.inscribed
    inside = 0 <= px[1] < dist.shape[0] and 0 <= px[0] < dist.shape[1]
    radius = dist[px[1], px[0]] * frame.scale if inside else 0.0
    ears = np.linalg.norm(head[3, :2] - head[4, :2])
    return centre, max(radius, 0.6 * ears, 1e-6)


def _head_box_from_face(face: np.ndarray):
    """The head around a found face: a little wider, and up to the hair."""
    lo, hi = face.min(axis=0), face.max(axis=0)
    w, h = hi - lo
    return (lo[0] - 0.1 * w, lo[1] - 0.3 * h, hi[0] + 0.1 * w, hi[1])


@functools.lru_cache(maxsize=1)
def face_template() -> np.ndarray:
    """(73, 2) face joints in head-box units (0..1), averaged over our bundled rigs."""
    from .rig import load_rig
    layouts = []
    for path in sorted(RIGS_DIR.glob("*.svg")):
        rig = load_rig(path)
        if not rig.has_face:
            continue
        figure = list(range(len(rig.drawing.paths)))
        frame, _ = _mask_frame(rig.drawing, figure)
        x0, y0, x1, y1 = head_box_of(frame)
        face = np.array([rig.joints[n] for n in FACE_JOINTS])
        layouts.append((face - [x0, y0]) / [x1 - x0, y1 - y0])
    if not layouts:
        raise AutoRigError("no bundled rig with a face to take the template face from")
    return np.mean(layouts, axis=0)


def _template_face(box, up: np.ndarray | None = None) -> np.ndarray:
    """The template face in a head box, turned so the face's up is ``up`` (default: -y)."""
    x0, y0, x1, y1 = box
    uv = face_template() - 0.5
    local = uv * [x1 - x0, y1 - y0]
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    if up is not None and np.linalg.norm(up) > 0:
        angle = np.arctan2(up[0], -up[1])        # 0 when up points to -y
        c, s = np.cos(angle), np.sin(angle)
        local = local @ np.array([[c, s], [-s, c]])
    return centre + local


# ---------------------------------------------------------------- fusion

def _fuse(frame: MaskFrame, fit: OutlineFit, pose: _Pose | None, face: np.ndarray | None) -> AutoRig:
    fig_h = frame.figure_rows * frame.scale
    joints: dict[str, np.ndarray] = {}
    source: dict[str, str] = {}
    parts: dict[str, str] = {}
    pose, doubt = _checked_pose(frame, fit, pose)
    notes = ([doubt] if doubt else []) + list(fit.notes)
    for part, names in PARTS.items():
        by_pose = _part_from_pose(pose, part)
        seen = fit.seen.get(part, False)
        if by_pose:
            mp_joints = {n: pose.body[_B[n], :2] for n in names}
            agree = seen and max(np.linalg.norm(mp_joints[n] - fit.joints[n]) for n in names) <= AGREE * fig_h
            chosen = {n: fit.joints[n] for n in names} if agree else mp_joints
            how = "detected"
        else:
            chosen = {n: fit.joints[n] for n in names}
            how = "fitted" if seen else "guessed"
        for n, p in chosen.items():
            joints[n], source[n] = np.asarray(p, dtype=np.float64), how
        parts[part] = how
    by_proportion = ["torso"] * (parts["torso"] == "guessed") + _complete_limbs(joints, parts, fit, notes)
    if fit.cut_off and not any(parts[leg] == "detected" for leg in ("leftLeg", "rightLeg")):
        notes.append("bust: hips and legs placed below the picture by human proportions")
        by_proportion = [p for p in by_proportion if not p.endswith("Leg")]
    if by_proportion:
        notes.append("placed by human proportions: " + ", ".join(PART_NAMES[p] for p in by_proportion))
    if face is not None:
        face_joints, how = face, "detected"
    else:
        box, up = _head_for_template(frame, fit, pose, joints)
        face_joints, how = _template_face(box, up), "guessed"
    for n, p in zip(FACE_JOINTS, face_joints):
        joints[n], source[n] = np.asarray(p, dtype=np.float64), how
    parts["face"] = how
    return AutoRig(joints, source, parts, notes)


def _checked_pose(frame: MaskFrame, fit: OutlineFit, pose: _Pose | None):
    """MediaPipe's reading, or None with the reason it cannot be this figure."""
    if pose is None:
        return None, "MediaPipe found no person in the drawing"
    if _part_from_pose(pose, "torso") and not fit.cut_off and not _legs_seen(pose):
        # A whole figure taken for a bust: hips near the feet, arms folded into the body.
        return None, "MediaPipe's reading was ignored: it took the whole figure for a bust"
    if _explains(frame, _pose_bones(pose)) + EXPLAINS_MARGIN < _explains(frame, _fit_bones(fit)):
        # The outline's skeleton reaches into far more of the drawing: MediaPipe saw a
        # person somewhere in the picture, but not this figure.
        return None, "MediaPipe's reading was ignored: it does not fit the drawing's outline"
    return pose, None


def _pose_bones(pose: _Pose) -> list:
    ok = (pose.body[:12, 2] >= MIN_VISIBILITY) & pose.on_figure[:12]
    return [(pose.body[_B[a], :2], pose.body[_B[b], :2]) for a, b in BODY_BONES if ok[_B[a]] and ok[_B[b]]]


def _fit_bones(fit: OutlineFit) -> list:
    seen = {n for part, names in PARTS.items() if fit.seen.get(part) for n in names + ((ROOT[part],) if part in ROOT else ())}
    return [(fit.joints[a], fit.joints[b]) for a, b in BODY_BONES if a in seen and b in seen]


def _explains(frame: MaskFrame, bones: list) -> float:
    """How well a skeleton explains the silhouette: the share of the figure's pixels near
    one of its bones, less the share of bone length that runs outside the figure."""
    mask = frame.mask
    if not bones or not mask.any():
        return 0.0
    drawn = np.zeros(mask.shape, dtype=np.uint8)
    for a, b in bones:
        pa, pb = np.round(frame.to_pixels(a)).astype(int), np.round(frame.to_pixels(b)).astype(int)
        cv2.line(drawn, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), 1, 1)
    if not drawn.any():
        return 0.0
    to_bone = ndi.distance_transform_edt(drawn == 0)
    reach = max(float(frame.inscribed.max()), 2.0)        # about half the thickest part
    covered = float(np.mean(np.exp(-(to_bone[mask] / reach) ** 2)))
    outside = float(np.mean(~frame.grown(0.01)[drawn > 0]))
    return covered - 0.5 * outside


def _complete_limbs(joints: dict, parts: dict, fit: OutlineFit, notes: list[str]) -> list[str]:
    """Limbs nobody saw. One that has a seen twin copies it, reflected: a figure drawn
    side-on hides one arm behind its body, and the copy swings the other way. Otherwise
    the outline fit's proportional limb hangs from the chosen root joint, turned with
    the torso if MediaPipe found it far from upright (a cartwheel). Returns those."""
    by_proportion = []
    for part in ("leftArm", "rightArm", "leftLeg", "rightLeg"):
        if parts[part] != "guessed":
            continue
        twin = mirror_name(part)
        root = joints[ROOT[part]]
        if parts[twin] != "guessed":
            twin_root = joints[ROOT[twin]]
            for name in PARTS[part]:
                joints[name] = root + (joints[mirror_name(name)] - twin_root) * np.array([-1.0, 1.0])
            notes.append(f"{PART_NAMES[part]} not found: copied from the {PART_NAMES[twin]}")
        else:
            turn = _torso_turn(joints, fit.joints) if parts["torso"] == "detected" and not fit.cut_off else 1
            for name in PARTS[part]:
                offset = complex(*(fit.joints[name] - fit.joints[ROOT[part]])) * turn
                joints[name] = root + np.array([offset.real, offset.imag])
            by_proportion.append(part)
    return by_proportion


def _torso_turn(joints: dict, fitted: dict) -> complex:
    """The rotation from the upright fitted torso to the chosen one, if that is far from
    upright (a cartwheel); small leans are left alone."""
    def down(j):
        d = (j["leftHip"] + j["rightHip"] - j["leftShoulder"] - j["rightShoulder"]) / 2
        return complex(d[0], d[1])
    source, target = down(fitted), down(joints)
    if abs(source) < 1e-9 or abs(target) < 1e-9:
        return 1.0 + 0j
    turn = (target / abs(target)) / (source / abs(source))
    return turn if abs(np.angle(turn)) > np.radians(60) else 1.0 + 0j


def _head_for_template(frame: MaskFrame, fit: OutlineFit, pose: _Pose | None, joints: dict):
    """Head box and up direction for the template face: MediaPipe's head if it saw one."""
    region = _head_region(frame, pose) if pose is not None and _part_from_pose(pose, "torso") else None
    if region is None:
        return fit.head_box, None
    centre, radius = region
    x0, y0, x1, y1 = fit.head_box
    neck = (joints["leftShoulder"] + joints["rightShoulder"]) / 2
    up = centre - neck
    # An upright head the outline found too, ending above the shoulders (on a figure
    # with a thin body the outline can take head and body for one long head).
    if x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1 and up[1] < 0 and y1 <= neck[1]:
        return fit.head_box, None
    r = max(1.15 * radius, 0.45 * float(np.linalg.norm(up)))
    box = (centre[0] - r, centre[1] - 1.1 * r, centre[0] + r, centre[1] + 0.9 * r)
    return box, up
