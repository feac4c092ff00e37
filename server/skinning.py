"""Per-frame skinning: tracked joints -> every control point of the drawing.

Everything that depends only on the rig is folded into matrices at bind time, so a
frame is: bone vectors (one product), their lengths and directions, the two scales
(one product), one sparse product for the points and one product for path
confidence. No Python loop over points, bones or paths.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .binding import Binding, bind
from .rig import Rig

MIN_PATH_CONFIDENCE = 0.3


class Skinner:
    def __init__(self, rig: Rig, binding: Binding | None = None):
        self.rig = rig
        self.binding = binding or bind(rig)
        sk = self.binding.skeleton
        self.joint_names = sk.joint_names
        self.rest_joints = rig.rest_joints()
        self.n_points = self.binding.operator.shape[0]
        self.n_paths = self.binding.path_confidence.shape[0]
        n_all, n_bones = len(sk.rest_all), len(sk.bones)
        start = sp.csr_matrix((np.ones(n_bones), (np.arange(n_bones), sk.bones[:, 0])), shape=(n_bones, n_all))
        end = sp.csr_matrix((np.ones(n_bones), (np.arange(n_bones), sk.bones[:, 1])), shape=(n_bones, n_all))
        # Bone vectors straight from the tracked joints (derived joints folded in).
        self._bone_vectors = _dense_if_small((end - start) @ sk.derive)
        self._scale_of_lengths, self._scale_per_bone = _scale_matrices(sk)
        # Path confidence is linear in joint confidence: derived joints take the mean
        # confidence of the joints they are made from, a bone the mean of its two ends.
        weight = abs(sk.derive)
        conf_derive = weight.multiply(1.0 / np.maximum(weight.sum(axis=1).A, 1e-12)).tocsr()
        bone_conf = 0.5 * (start + end) @ conf_derive
        self._path_conf = _dense_if_small((self.binding.path_confidence @ bone_conf).real)

    def bone_scales(self, length: np.ndarray) -> np.ndarray:
        """One scale for the body (from the torso, which foreshortens least), one for the
        face. ``length``: (B,) or (frames, B) bone lengths; the result has the same shape."""
        return (length @ self._scale_of_lengths) @ self._scale_per_bone.T

    def deform(self, joints: np.ndarray, confidence: np.ndarray | None = None):
        """joints: complex (n_tracked,). Returns (points (n, 2) float64, visible (n_paths,) bool)."""
        points, visible = self.deform_many(joints[None, :], None if confidence is None else confidence[None, :])
        return points[0], visible[0]

    def deform_many(self, joints: np.ndarray, confidence: np.ndarray | None = None):
        """Many frames at once (an export): joints complex (frames, n_tracked). Returns
        (points (frames, n, 2), visible (frames, n_paths)). One sparse product for all
        frames, so small rigs are not bound by per-call overhead."""
        direction = _product(self._bone_vectors, joints.T).T
        length = np.abs(direction)
        # A collapsed bone has no direction: its points sit on it rather than becoming NaN.
        unit = direction / np.where(length > 1e-12, length, np.inf)
        features = np.concatenate([joints, self.bone_scales(length) * unit], axis=1)
        moved = np.ascontiguousarray((self.binding.operator @ features.T).T)
        points = moved.view(np.float64).reshape(len(joints), -1, 2)
        if confidence is None:
            return points, np.ones((len(joints), self.n_paths), dtype=bool)
        return points, _product(self._path_conf, confidence.T).T >= MIN_PATH_CONFIDENCE

    def rest(self):
        return self.deform(self.rest_joints)


def _scale_matrices(sk) -> tuple[np.ndarray, np.ndarray]:
    """(B, 2) lengths -> [body scale, face scale], and (B, 2) picking each bone's scale.

    The body scale is the torso's length against its rest length; the face scale the
    main face bones' (secondary face bones follow it); a rig without a face uses the
    body's for everything."""
    rest = sk.rest_all
    rest_len = np.abs(rest[sk.bones[:, 1]] - rest[sk.bones[:, 0]])
    torso = np.array([g == "torso" for g in sk.bone_group], dtype=float)
    face_main = np.array([g == "face" for g in sk.bone_group], dtype=float)
    if not face_main.any():
        face_main = torso
    of_lengths = np.column_stack([torso / (rest_len @ torso or 1.0),
                                  face_main / (rest_len @ face_main or 1.0)])
    per_bone = np.column_stack([~sk.bone_is_face, sk.bone_is_face]).astype(float)
    return of_lengths, per_bone


def _product(matrix, columns: np.ndarray) -> np.ndarray:
    """matrix @ columns as a dense array, whether the matrix is sparse or dense."""
    out = matrix @ columns
    return out if isinstance(out, np.ndarray) else np.asarray(out)


def _dense_if_small(matrix, limit: int = 60_000):
    """Small matrices are faster dense: a sparse product costs microseconds of overhead."""
    return matrix.toarray() if matrix.shape[0] * matrix.shape[1] <= limit else matrix
