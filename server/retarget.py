"""Landmarks in a picture -> the rig's joints, keeping the character's own proportions.

The original tool put the character's joints exactly where the person's were, so a
big-headed cartoon shrank to human proportions and limbs stretched with the
camera's perspective. Here the person gives *directions* and the rig gives
*lengths*: the torso is the rig's own torso turned like the person's; each limb
bone points where the person's does, with the rig's length shortened only by
foreshortening (the person's bone against its longest seen length); a neck bone
carries the head, so the head follows the body even when the face is lost; the face
keeps the character's design and takes the person's expression and head roll.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import expression
from .filters import FilterSettings, OneEuroFilter
from .posetrack import BODY_NAMES, FACE_NAMES, PoseFrame
from .rig import Rig
from .skeleton import BODY_JOINTS, FACE_JOINTS, mirror_name

HOLD_SECONDS = 0.5          # keep the last pose this long when the person vanishes
MIN_LIMB_CONFIDENCE = 0.5   # below this a limb bone holds its last direction
HELD_CONFIDENCE = 0.5
# A limb bone seen with confidence between these blends from held to seen, so an arm
# coming into view swings there instead of jumping in one frame.
BLEND_FROM, BLEND_TO = 0.3, 0.6
NECK_FOLLOW = 0.5           # share of the person's head offset the neck leans by...
MAX_NECK_LEAN = np.radians(30)   # ...at most (a 3/4 view puts the nose beside the neck)
MAX_HEAD_ROLL = np.radians(45)
# FaceMesh sometimes "finds" a face on the back of a head, upside down: a face rolled
# further than this from the torso is not believed.
MAX_BELIEVED_ROLL = np.radians(70)
IN_VIEW_SLACK = 0.02        # the drawing may leave its picture by this share of its height
REFERENCE_EMA = 0.02        # per frame: how fast "stay centred" re-centres vertically
FLOOR_EMA = 0.02            # per frame: how fast the floor rises when the person steps back
NEUTRAL_FACE_EMA = 0.02     # per frame: how fast the neutral face adapts to the person
LIMB_MAX_DECAY = 0.999      # per frame: the longest-seen limb length slowly forgets
# A cartoon limb shortened further than this (an arm pointing at the camera) turns
# into a stump with the hand lost behind it; half its length still reads as "towards".
MIN_FORESHORTENING = 0.5

_B = {n: i for i, n in enumerate(BODY_NAMES)}
_LIMB_BONES = [("leftShoulder", "leftElbow"), ("leftElbow", "leftWrist"),
               ("rightShoulder", "rightElbow"), ("rightElbow", "rightWrist"),
               ("leftHip", "leftKnee"), ("leftKnee", "leftAnkle"),
               ("rightHip", "rightKnee"), ("rightKnee", "rightAnkle")]
_TORSO = ["leftShoulder", "rightShoulder", "leftHip", "rightHip"]
_ANKLES = ["leftAnkle", "rightAnkle"]
_BODY_MIRROR = np.array([BODY_NAMES.index(mirror_name(n)) for n in BODY_NAMES])
_FACE_MIRROR = np.array([FACE_NAMES.index(mirror_name(n)) for n in FACE_NAMES])


@dataclass
class RetargetSettings:
    mirror: bool = False
    follow: bool = False       # the character moves where the person is in the frame
    smoothing: float = 0.5     # 0 = raw landmarks; see FilterSettings.from_smoothing
    static: bool = False       # single photos: no filtering, no memory between calls


def fit_similarity(src: np.ndarray, dst: np.ndarray):
    """Least-squares z -> alpha z + beta (complex) taking src points onto dst points."""
    sc, dc = src.mean(), dst.mean()
    s, d = src - sc, dst - dc
    denom = float(np.sum(np.abs(s) ** 2))
    alpha = np.sum(d * np.conj(s)) / denom if denom > 0 else 1.0 + 0j
    if not np.isfinite(alpha) or abs(alpha) < 1e-9:
        alpha = 1.0 + 0j
    return alpha, dc - alpha * sc


def _unit(z: complex, fallback: complex = 1j) -> complex:
    return z / abs(z) if abs(z) > 1e-9 and np.isfinite(z) else fallback


class Retargeter:
    """Stateful per stream (one video, one live client); one call per frame."""

    def __init__(self, rig: Rig, settings: RetargetSettings | None = None):
        self.rig = rig
        self.settings = settings or RetargetSettings()
        rest = {n: complex(*p) for n, p in rig.joints.items()}
        self._rest = rest
        self._rest_torso = np.array([rest[n] for n in _TORSO])
        self._rest_len = {bone: abs(rest[bone[1]] - rest[bone[0]]) for bone in _LIMB_BONES}
        self._rest_dir = {bone: _unit(rest[bone[1]] - rest[bone[0]]) for bone in _LIMB_BONES}
        # Where the feet stand: below the hips by the legs' length, as if the character
        # stood (a figure drawn sitting cross-legged has its ankles up by its hips).
        self._rest_floor = max(rest[f"{side}Hip"].imag + abs(rest[f"{side}Knee"] - rest[f"{side}Hip"])
                               + abs(rest[f"{side}Ankle"] - rest[f"{side}Knee"]) for side in ("left", "right"))
        # The drawing's extent at rest (its joints and every control point).
        art = [p.points[:, 0] + 1j * p.points[:, 1] for p in rig.drawing.paths]
        every = np.concatenate([np.array(list(rest.values()))] + art)
        self._extent = (complex(every.real.min(), every.imag.min()), complex(every.real.max(), every.imag.max()))
        self._has_face = rig.has_face
        if self._has_face:
            self._rest_face = np.array([rest[n] for n in FACE_JOINTS])
            neck = (rest["leftShoulder"] + rest["rightShoulder"]) / 2
            self._rest_neck = rest["nose4"] - neck
            self._rest_ears = rest["leftJaw2"] - rest["rightJaw2"]
            self._rest_eyes = rest["leftEye0"] - rest["rightEye0"]
        self.reset()

    def reset(self) -> None:
        self._body_filter = self._face_filter = None
        self._filter_settings = None
        self._held_dir: dict = {}
        self._limb_max: dict = {}
        self._reference_y: float | None = None
        self._floor_y: float | None = None     # picture row of the floor the person stands on
        self._neutral: expression.Expression | None = None
        self._roll: complex = 1 + 0j
        self._turn: complex = 1 + 0j
        self._neck_lean = 0.0       # radians from the torso's up
        self._last: tuple | None = None
        self._last_t = -np.inf

    def update_settings(self, mirror=None, follow=None, smoothing=None) -> None:
        s = self.settings
        if mirror is not None and bool(mirror) != s.mirror:
            s.mirror = bool(mirror)
            self.reset()   # left and right swap: old memory no longer applies
        if follow is not None:
            s.follow = bool(follow)
        if smoothing is not None:
            s.smoothing = float(smoothing)

    # ------------------------------------------------------------------ frame

    def __call__(self, frame: PoseFrame, width: int, height: int):
        """Returns (joints complex, confidence) in the rig's joint order, or None."""
        if not frame.has_person:
            if self._last is not None and frame.t - self._last_t <= HOLD_SECONDS:
                return self._last
            return None
        body, face = self._prepared(frame, width)
        body, face = self._filtered(body, face, frame.t)
        joints, conf = self._solve(body, face, frame.face_conf, width, height)
        self._last, self._last_t = (joints, conf), frame.t
        return joints, conf

    def _prepared(self, frame: PoseFrame, width: int):
        body = np.array(frame.body, dtype=np.float64)
        face = None if frame.face is None else np.array(frame.face, dtype=np.float64)
        if self.settings.mirror:
            body = body[_BODY_MIRROR]
            body[:, 0] = width - body[:, 0]
            if face is not None:
                face = face[_FACE_MIRROR]
                face[:, 0] = width - face[:, 0]
        return body, face

    def _filtered(self, body, face, t):
        if self.settings.static:
            return body, face
        settings = FilterSettings.from_smoothing(self.settings.smoothing)
        if settings != self._filter_settings:
            self._filter_settings = settings
            self._body_filter = OneEuroFilter(settings) if settings else None
            self._face_filter = OneEuroFilter(settings) if settings else None
        if settings is None:
            return body, face
        size = _body_size(body)
        body = np.column_stack([self._body_filter(body[:, :2], t, size), body[:, 2]])
        if face is None:
            self._face_filter.reset()
        else:
            face_size = float(np.ptp(face[:, 1])) or size / 8
            face = self._face_filter(face, t, face_size)
        return body, face

    def _solve(self, body, face, face_conf, width, height):
        z = body[:, 0] + 1j * body[:, 1]
        conf = body[:, 2].copy()
        inside = (body[:, 0] >= 0) & (body[:, 0] <= width) & (body[:, 1] >= 0) & (body[:, 1] <= height)
        conf = np.where(inside, conf, np.minimum(conf, 0.2))
        person_torso = np.array([z[_B[n]] for n in _TORSO])
        alpha, _ = fit_similarity(self._rest_torso, person_torso)
        shoulders_seen = min(conf[_B["leftShoulder"]], conf[_B["rightShoulder"]]) >= MIN_LIMB_CONFIDENCE
        # Without the shoulders (a face filling the picture) the torso's turn is a guess: hold it.
        turn = _unit(alpha, self._turn) if shoulders_seen else self._turn
        self._turn = turn
        to_rig = 1.0 / abs(alpha)                    # rig units per pixel

        centre = self._torso_centre(person_torso.mean(), to_rig, width, height)
        out = {n: centre + turn * (self._rest[n] - self._rest_torso.mean()) for n in _TORSO}
        # The torso is the rig's own, so it is always there to draw while the person is.
        out_conf = {n: max(float(conf[_B[n]]), HELD_CONFIDENCE) for n in _TORSO}
        for bone in _LIMB_BONES:
            self._place_limb_bone(bone, z, conf, turn, to_rig, out, out_conf)
        if not self.settings.follow:
            self._plant_feet(out, z, conf, to_rig)
        names = list(BODY_JOINTS)
        if self._has_face:
            face_joints, fconf = self._place_face(z, conf, face, face_conf, turn, out, alpha)
            for n, p in zip(FACE_JOINTS, face_joints):
                out[n], out_conf[n] = p, fconf
            names += FACE_JOINTS
        joints = np.array([out[n] for n in names], dtype=np.complex128)
        confidence = np.array([out_conf[n] for n in names])
        return joints, confidence

    def _torso_centre(self, person_centre: complex, to_rig: float, width, height) -> complex:
        rest_centre = self._rest_torso.mean()
        if self.settings.follow:
            # Where the person is in the frame, the character is in its picture.
            _, _, w, h = self.rig.drawing.view_box
            return rest_centre + self._in_view(complex((person_centre.real / width - 0.5) * w,
                                                       (person_centre.imag / height - 0.5) * h))
        # Stay centred: horizontally fixed; vertically follow squats and jumps around
        # the person's usual height, which is learnt slowly.
        if self._reference_y is None or self.settings.static:
            self._reference_y = person_centre.imag
        else:
            self._reference_y += REFERENCE_EMA * (person_centre.imag - self._reference_y)
        return rest_centre + self._in_view(1j * to_rig * (person_centre.imag - self._reference_y))

    def _plant_feet(self, out: dict, z, conf, to_rig: float) -> None:
        """Stay centred with the feet on the ground: when the person's feet are seen, the
        character's lower foot stands on its floor (its legs' length below its hips at
        rest), lifted only by as much as the person's lower foot rises above the floor
        they stand on (a jump). A squat then bends the knees instead of sinking the
        whole character out of the picture."""
        seen = [n for n in _ANKLES if conf[_B[n]] >= MIN_LIMB_CONFIDENCE]
        if not seen:
            self._floor_y = None
            return
        person_low = max(z[_B[n]].imag for n in seen)
        if self._floor_y is None or self.settings.static or person_low > self._floor_y:
            self._floor_y = person_low            # the floor is where the feet come down to
        else:
            self._floor_y += FLOOR_EMA * (person_low - self._floor_y)    # or stepped back
        lift = (self._floor_y - person_low) * to_rig
        drop = self._rest_floor - lift - max(out[n].imag for n in _ANKLES)
        # A jump must not lift the head out of the picture (sinking is no risk: the feet
        # stay on the floor).
        torso_drop = np.mean([out[n] for n in _TORSO]).imag - self._rest_torso.mean().imag
        highest = self.rig.drawing.view_box[1] - self._slack() - self._extent[0].imag
        drop = max(torso_drop + drop, min(highest, 0.0)) - torso_drop
        for n in out:
            out[n] += 1j * drop

    def _in_view(self, shift: complex) -> complex:
        """The shift, limited so the character at rest stays in its picture (a small,
        far-away person must not fling it out of view)."""
        x, y, w, h = self.rig.drawing.view_box
        lo, hi = self._extent
        slack = self._slack()
        x, y, w, h = x - slack, y - slack, w + 2 * slack, h + 2 * slack
        dx = np.clip(shift.real, min(0.0, x - lo.real), max(0.0, x + w - hi.real))
        dy = np.clip(shift.imag, min(0.0, y - lo.imag), max(0.0, y + h - hi.imag))
        return complex(dx, dy)

    def _slack(self) -> float:
        return IN_VIEW_SLACK * (self._extent[1].imag - self._extent[0].imag)

    def _place_limb_bone(self, bone, z, conf, turn, to_rig, out, out_conf):
        parent, child = bone
        seen = min(conf[_B[parent]], conf[_B[child]])
        rest_len = self._rest_len[bone]
        held = turn * self._held_dir.get(bone, self._rest_dir[bone])
        direction, shorten = held, 1.0
        trust = float(np.clip((seen - BLEND_FROM) / (BLEND_TO - BLEND_FROM), 0.0, 1.0))
        if trust > 0:
            d = z[_B[child]] - z[_B[parent]]
            # Turn from the held direction towards the seen one by the share trusted.
            direction = held * np.exp(1j * trust * np.angle(_unit(d, held) / held))
            ratio = abs(d) * to_rig / rest_len
            if seen >= MIN_LIMB_CONFIDENCE:
                longest = ratio if self.settings.static else max(ratio, self._limb_max.get(bone, 0) * LIMB_MAX_DECAY)
                self._limb_max[bone] = longest
            longest = self._limb_max.get(bone, ratio)
            seen_shorten = min(1.0, max(MIN_FORESHORTENING, ratio / longest)) if longest > 0 else 1.0
            shorten = 1.0 + trust * (seen_shorten - 1.0)
        self._held_dir[bone] = direction / turn             # remembered relative to the torso
        out_conf[child] = max(float(conf[_B[child]]), HELD_CONFIDENCE) if trust > 0 else HELD_CONFIDENCE
        out[child] = out[parent] + direction * rest_len * shorten

    def _place_face(self, z, conf, face, face_conf, turn, out, alpha):
        neck = (out["leftShoulder"] + out["rightShoulder"]) / 2
        head = neck + self._neck_direction(z, conf, turn) * abs(self._rest_neck)
        roll = None
        if face is not None:
            person_face = face[:, 0] + 1j * face[:, 1]
            f_alpha, _ = fit_similarity(self._rest_face, person_face)
            roll = _unit(f_alpha, 1 + 0j)
            if abs(np.angle(roll / turn)) > MAX_BELIEVED_ROLL:
                roll = None
        if roll is not None:
            seen = expression.measure(person_face)
            if self.settings.static or self._neutral is None:
                self._neutral = expression.Expression.neutral()
            else:
                self._neutral = self._neutral.blend(seen, NEUTRAL_FACE_EMA)
            shape = expression.apply(self._rest_face, seen, self._neutral)
            fconf = float(face_conf)
        else:
            roll = self._roll_from_head_landmarks(z, conf)
            shape = self._rest_face
            fconf = max(HELD_CONFIDENCE, float(conf[_B["nose"]]))
        self._roll = roll
        lean = float(np.clip(np.angle(roll / turn), -MAX_HEAD_ROLL, MAX_HEAD_ROLL))
        nose_index = FACE_JOINTS.index("nose4")
        return head + turn * np.exp(1j * lean) * (shape - shape[nose_index]), fconf

    def _neck_direction(self, z, conf, turn) -> complex:
        """Up the neck, leaning like the person's head but less: in a 3/4 view the nose
        sits beside the neck without the head leaning at all."""
        rest_dir = turn * _unit(self._rest_neck)
        if conf[_B["nose"]] >= MIN_LIMB_CONFIDENCE:
            person_neck = (z[_B["leftShoulder"]] + z[_B["rightShoulder"]]) / 2
            lean = np.angle(_unit(z[_B["nose"]] - person_neck, rest_dir) / rest_dir)
            self._neck_lean = float(np.clip(NECK_FOLLOW * lean, -MAX_NECK_LEAN, MAX_NECK_LEAN))
        return rest_dir * np.exp(1j * self._neck_lean)

    def _roll_from_head_landmarks(self, z, conf) -> complex:
        for left, right, rest in (("leftEar", "rightEar", self._rest_ears),
                                  ("leftEye", "rightEye", self._rest_eyes)):
            if min(conf[_B[left]], conf[_B[right]]) >= MIN_LIMB_CONFIDENCE:
                return _unit(z[_B[left]] - z[_B[right]], 1 + 0j) / _unit(rest, 1 + 0j)
        return self._roll


def _body_size(body: np.ndarray) -> float:
    xy = body[:, :2]
    shoulders = (xy[_B["leftShoulder"]] + xy[_B["rightShoulder"]]) / 2
    hips = (xy[_B["leftHip"]] + xy[_B["rightHip"]]) / 2
    return float(max(np.linalg.norm(shoulders - hips), np.linalg.norm(xy[_B["leftShoulder"]] - xy[_B["rightShoulder"]]), 1.0))
