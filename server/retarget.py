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

from .filters import FilterSettings, OneEuroFilter
from .posetrack import BODY_NAMES, FACE_NAMES, PoseFrame
from .rig import Rig
from .skeleton import BODY_JOINTS, FACE_JOINTS, mirror_name

HOLD_SECONDS = 0.5          # keep the last pose this long when the person vanishes
MIN_LIMB_CONFIDENCE = 0.5   # below this a limb bone holds its last direction
HELD_CONFIDENCE = 0.5
REFERENCE_EMA = 0.02        # per frame: how fast "stay centred" re-centres vertically
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
        self._neutral: np.ndarray | None = None
        self._roll: complex = 1 + 0j
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
        turn = _unit(alpha, 1 + 0j)
        to_rig = 1.0 / abs(alpha)                    # rig units per pixel

        centre = self._torso_centre(person_torso.mean(), to_rig, width, height)
        out = {n: centre + turn * (self._rest[n] - self._rest_torso.mean()) for n in _TORSO}
        out_conf = {n: float(conf[_B[n]]) for n in _TORSO}
        for bone in _LIMB_BONES:
            self._place_limb_bone(bone, z, conf, turn, to_rig, out, out_conf)
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
            return rest_centre + to_rig * (person_centre - complex(width / 2, height / 2))
        # Stay centred: horizontally fixed; vertically follow squats and jumps around
        # the person's usual height, which is learnt slowly.
        if self._reference_y is None or self.settings.static:
            self._reference_y = person_centre.imag
        else:
            self._reference_y += REFERENCE_EMA * (person_centre.imag - self._reference_y)
        return rest_centre + 1j * to_rig * (person_centre.imag - self._reference_y)

    def _place_limb_bone(self, bone, z, conf, turn, to_rig, out, out_conf):
        parent, child = bone
        seen = min(conf[_B[parent]], conf[_B[child]]) >= MIN_LIMB_CONFIDENCE
        rest_len = self._rest_len[bone]
        if seen:
            d = z[_B[child]] - z[_B[parent]]
            direction = _unit(d, turn * self._rest_dir[bone])
            self._held_dir[bone] = direction / turn         # remembered relative to the torso
            ratio = abs(d) * to_rig / rest_len
            longest = ratio if self.settings.static else max(ratio, self._limb_max.get(bone, 0) * LIMB_MAX_DECAY)
            self._limb_max[bone] = longest
            shorten = min(1.0, max(MIN_FORESHORTENING, ratio / longest)) if longest > 0 else 1.0
            out_conf[child] = float(conf[_B[child]])
        else:
            direction = turn * self._held_dir.get(bone, self._rest_dir[bone])
            shorten = 1.0
            out_conf[child] = HELD_CONFIDENCE
        out[child] = out[parent] + direction * rest_len * shorten

    def _place_face(self, z, conf, face, face_conf, turn, out, alpha):
        neck = (out["leftShoulder"] + out["rightShoulder"]) / 2
        person_neck = (z[_B["leftShoulder"]] + z[_B["rightShoulder"]]) / 2
        nose_dir = z[_B["nose"]] - person_neck
        rest_dir = _unit(self._rest_neck)
        if conf[_B["nose"]] >= MIN_LIMB_CONFIDENCE:
            direction = _unit(nose_dir, turn * rest_dir)
            self._held_dir["neck"] = direction / turn
        else:
            direction = turn * self._held_dir.get("neck", rest_dir)
        head = neck + direction * abs(self._rest_neck)

        if face is not None:
            person_face = face[:, 0] + 1j * face[:, 1]
            f_alpha, _ = fit_similarity(self._rest_face, person_face)
            roll = _unit(f_alpha, 1 + 0j)
            in_rig_face = self._rest_face.mean() + (person_face - person_face.mean()) / f_alpha
            if self.settings.static or self._neutral is None:
                self._neutral = self._rest_face.copy() if self.settings.static else in_rig_face.copy()
            else:
                self._neutral += NEUTRAL_FACE_EMA * (in_rig_face - self._neutral)
            shape = self._rest_face + (in_rig_face - self._neutral)
            fconf = float(face_conf)
        else:
            roll = self._roll_from_head_landmarks(z, conf)
            shape = self._rest_face
            fconf = max(HELD_CONFIDENCE, float(conf[_B["nose"]]))
        self._roll = roll
        nose_index = FACE_JOINTS.index("nose4")
        return head + roll * (shape - shape[nose_index]), fconf

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
