"""Per-frame skinning: tracked joints -> every control point of the drawing.

A frame is: derive the extra joints, compute each bone's unit direction and scale,
one sparse matrix product, one small product for path confidence. No Python loop
over points or paths.
"""
from __future__ import annotations

import numpy as np

from .binding import Binding, bind
from .rig import Rig

MIN_PATH_CONFIDENCE = 0.3


class Skinner:
    def __init__(self, rig: Rig, binding: Binding | None = None):
        self.rig = rig
        self.binding = binding or bind(rig)
        sk = self.binding.skeleton
        self.joint_names = sk.joint_names
        self._bones = sk.bones
        self._face = sk.bone_is_face
        self._torso = np.array([g == "torso" for g in sk.bone_group])
        rest = sk.rest_all
        self._rest_len = np.abs(rest[self._bones[:, 1]] - rest[self._bones[:, 0]])
        self._rest_torso = float(self._rest_len[self._torso].sum()) or 1.0
        face_main = self._face & np.array([g == "face" for g in sk.bone_group])
        self._face_main = face_main
        self._rest_face = float(self._rest_len[face_main].sum()) or 1.0
        self.rest_joints = rig.rest_joints()
        self.n_points = self.binding.operator.shape[0]
        self.n_paths = self.binding.path_confidence.shape[0]
        self._has_face = bool(face_main.any())
        self._bone_start, self._bone_end = self._bones[:, 0].copy(), self._bones[:, 1].copy()
        # Derived joints inherit the confidence of the joints they are made from.
        weight = abs(sk.derive)
        conf_derive = weight.multiply(1.0 / np.maximum(weight.sum(axis=1).A, 1e-12)).tocsr()
        # Small matrices are faster dense: a sparse product costs microseconds of overhead.
        self._derive = _dense_if_small(sk.derive)
        self._conf_derive = _dense_if_small(conf_derive)
        self._path_confidence = _dense_if_small(self.binding.path_confidence)

    def bone_scales(self, length: np.ndarray) -> np.ndarray:
        """One scale for the body (from the torso, which foreshortens least), one for the face."""
        body = length[self._torso].sum() / self._rest_torso
        face = length[self._face_main].sum() / self._rest_face if self._has_face else body
        return np.where(self._face, face, body)

    def deform(self, joints: np.ndarray, confidence: np.ndarray | None = None):
        """joints: complex (n_tracked,). Returns (points (n, 2) float64, visible (n_paths,) bool)."""
        all_joints = self._derive @ joints
        direction = all_joints[self._bone_end] - all_joints[self._bone_start]
        length = np.abs(direction)
        # A collapsed bone has no direction: its points sit on it rather than becoming NaN.
        unit = direction / np.where(length > 1e-12, length, np.inf)
        features = np.concatenate([joints, self.bone_scales(length) * unit])
        moved = self.binding.operator @ features
        return moved.view(np.float64).reshape(-1, 2), self.path_visibility(confidence)

    def path_visibility(self, confidence: np.ndarray | None) -> np.ndarray:
        if confidence is None:
            return np.ones(self.n_paths, dtype=bool)
        joint_conf = self._conf_derive @ confidence
        bone_conf = (joint_conf[self._bone_start] + joint_conf[self._bone_end]) * 0.5
        return self._path_confidence @ bone_conf >= MIN_PATH_CONFIDENCE

    def rest(self):
        return self.deform(self.rest_joints)


def _dense_if_small(matrix, limit: int = 60_000):
    return matrix.toarray() if matrix.shape[0] * matrix.shape[1] <= limit else matrix
