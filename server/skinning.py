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
        # Derived joints inherit the confidence of the joints they are made from.
        weight = abs(sk.derive)
        self._conf_derive = (weight.multiply(1.0 / np.maximum(weight.sum(axis=1).A, 1e-12))).tocsr()

    def bone_scales(self, all_joints: np.ndarray) -> np.ndarray:
        """One scale for the body (from the torso, which foreshortens least), one for the face."""
        length = np.abs(all_joints[self._bones[:, 1]] - all_joints[self._bones[:, 0]])
        body = length[self._torso].sum() / self._rest_torso
        face = length[self._face_main].sum() / self._rest_face if self._face_main.any() else body
        return np.where(self._face, face, body)

    def deform(self, joints: np.ndarray, confidence: np.ndarray | None = None):
        """joints: complex (n_tracked,). Returns (points (n, 2) float64, visible (n_paths,) bool)."""
        sk = self.binding.skeleton
        all_joints = sk.derive @ joints
        direction = all_joints[self._bones[:, 1]] - all_joints[self._bones[:, 0]]
        length = np.abs(direction)
        unit = np.where(length > 1e-12, direction / np.where(length > 1e-12, length, 1.0), 1.0)
        features = np.concatenate([joints, self.bone_scales(all_joints) * unit])
        moved = self.binding.operator @ features
        points = np.empty((len(moved), 2))
        points[:, 0] = moved.real
        points[:, 1] = moved.imag
        return points, self.path_visibility(confidence)

    def path_visibility(self, confidence: np.ndarray | None) -> np.ndarray:
        if confidence is None:
            return np.ones(self.n_paths, dtype=bool)
        joint_conf = self._conf_derive @ confidence
        bone_conf = (joint_conf[self._bones[:, 0]] + joint_conf[self._bones[:, 1]]) / 2
        return self.binding.path_confidence @ bone_conf >= MIN_PATH_CONFIDENCE

    def rest(self):
        return self.deform(self.rest_joints)
