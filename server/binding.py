"""Bind a rig's control points to its bones, once, into one sparse linear operator.

DESIGN.md section 3 gives, per control point q and candidate bone i, a weight w_i and
bone-local coordinates (t, x, y); per frame q' = sum_i w_i [(1-t) a'_i + t b'_i +
S_i (x u'_i + y n'_i)]. In complex numbers n' = i u', so that is

    q' = sum_i w_i (1-t_i) a'_i + w_i t_i b'_i + w_i (x_i + i y_i) * (S_i u'_i)

which is linear in the joints and in the per-bone vectors S u'. Binding therefore
builds one sparse complex matrix M with q' = M @ [joints; S u'], and a frame costs
a few dozen numpy operations on the bones plus one sparse product.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .rig import Rig
from .skeleton import BODY_BONE_GROUPS, FACE_BONES, NECK_BONE, NECK_JOINT

TOP_K = 8            # bones kept per point; the dropped 1/d^2 weights are tiny
EPSILON_REL = 1e-3   # weight regulariser, relative to the median bone length
COLLINEAR_COS = 0.99
BONE_SAMPLES = 9        # points along each bone tested against the filled pieces
MIN_SAMPLES_INSIDE = 2  # a bone "runs through" a piece with this many samples inside
LIMB_GROUPS = ("leftArm", "rightArm", "leftLeg", "rightLeg")
MIN_PIECE_SHARE = 0.3   # of a boneless piece's points, for a group to keep any of it
FLATTEN_STEPS = 4       # polygon points per cubic for the inside test


@dataclass
class Skeleton:
    """Bones over the rig's joints plus derived joints (neck, secondary copies)."""
    joint_names: tuple[str, ...]          # the tracked joints, in the rig's order
    derive: sp.csr_matrix                  # all joints = derive @ tracked joints (complex)
    all_joint_names: list[str]
    bones: np.ndarray                      # (B, 2) indices into all joints
    bone_group: list[str]                  # group name per bone
    bone_is_face: np.ndarray               # (B,) bool: scales with the face, not the body
    rest_all: np.ndarray                   # (n_all,) complex rest positions


@dataclass
class Binding:
    skeleton: Skeleton
    operator: sp.csr_matrix                # (n_points, n_tracked + B) complex
    path_confidence: sp.csr_matrix         # (n_paths, B) mean anchor weight per bone
    path_offsets: np.ndarray               # (n_paths + 1,) start of each path's points
    main_bone: np.ndarray                  # (n_points,) strongest bone per point (for editors)
    rest_points: np.ndarray                # (n_points, 2)


def build_skeleton(rig: Rig) -> Skeleton:
    tracked = rig.joint_names
    index = {n: i for i, n in enumerate(tracked)}
    rows: list[dict[int, complex]] = [{i: 1.0} for i in range(len(tracked))]
    names = list(tracked)
    rest = list(rig.rest_joints())
    bones: list[tuple[int, int]] = []
    groups: list[str] = []
    is_face: list[bool] = []

    def add_bones(pairs, group, face, lookup):
        for a, b in pairs:
            bones.append((lookup[a], lookup[b]))
            groups.append(group)
            is_face.append(face)

    for group, pairs in BODY_BONE_GROUPS.items():
        add_bones(pairs, group, False, index)
    if rig.has_face:
        add_bones(FACE_BONES, "face", True, index)
        # The neck hangs between the shoulders; it carries the neck drawing.
        neck = len(names)
        rows.append({index["leftShoulder"]: 0.5, index["rightShoulder"]: 0.5})
        names.append(NECK_JOINT)
        rest.append((rest[index["leftShoulder"]] + rest[index["rightShoulder"]]) / 2)
        add_bones([NECK_BONE], "neck", False, {**index, NECK_JOINT: neck})

    for k, group in enumerate(rig.secondary):
        lookup = {}
        for name, local in group.joints.items():
            parent = index[name]
            # A local joint keeps its place in the frame running from its parent joint to
            # the nose tip: local' = parent' + c (ref' - parent'), c fixed at rest.
            ref_name = "nose4" if name != "nose4" else "topMid"
            ref = index.get(ref_name)
            local_c = complex(*local)
            if ref is None:
                rows.append({parent: 1.0})
                rest.append(rest[parent])
                local_c = rest[parent]
            else:
                c = (local_c - rest[parent]) / (rest[ref] - rest[parent])
                rows.append({parent: 1.0 - c, ref: c})
                rest.append(local_c)
            lookup[name] = len(names)
            names.append(f"{name}#{k}")
        add_bones(group.bones, f"secondary{k}", True, lookup)

    derive = _rows_to_csr(rows, len(tracked))
    return Skeleton(tuple(tracked), derive, names, np.array(bones, dtype=np.int64), groups,
                    np.array(is_face, dtype=bool), np.array(rest, dtype=np.complex128))


def _rows_to_csr(rows: list[dict[int, complex]], n_cols: int) -> sp.csr_matrix:
    r, c, v = [], [], []
    for i, row in enumerate(rows):
        for j, value in row.items():
            r.append(i), c.append(j), v.append(value)
    return sp.csr_matrix((np.array(v, dtype=np.complex128), (r, c)), shape=(len(rows), n_cols))


def bind(rig: Rig, top_k: int = TOP_K) -> Binding:
    skeleton = build_skeleton(rig)
    paths = rig.drawing.paths
    counts = [len(p.points) for p in paths]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n_points = int(offsets[-1])
    points = np.concatenate([p.points for p in paths]) if paths else np.zeros((0, 2))
    q = points[:, 0] + 1j * points[:, 1]

    a = skeleton.rest_all[skeleton.bones[:, 0]]
    b = skeleton.rest_all[skeleton.bones[:, 1]]
    n_bones = len(a)
    anchor = _anchor_of_each_point(paths, offsets)
    candidates = _candidate_bones(rig, skeleton, paths, offsets, q, a, b)

    dist, t, local = _bone_local_coordinates(q, a, b)
    eps = (EPSILON_REL * float(np.median(np.abs(b - a)) or 1.0)) ** 2
    weights = np.where(candidates, 1.0 / (dist ** 2 + eps), 0.0)
    weights = _keep_top_k(weights, top_k)
    weights /= weights.sum(axis=1, keepdims=True)
    shares = _handles_share_anchor_weights(paths, offsets, points)
    weights[shares] = weights[anchor[shares]]

    operator = _operator(weights, t, local, skeleton, n_bones)
    path_conf = _path_confidence(weights, anchor, offsets, len(paths))
    return Binding(skeleton, operator, path_conf, offsets, np.argmax(weights, axis=1) if n_points else
                   np.zeros(0, dtype=np.int64), points)


def _bone_local_coordinates(q, a, b):
    """Distance, clamped position t along the bone, and (x + iy) in the bone's frame."""
    ab = b - a
    length = np.abs(ab)
    safe = np.where(length > 0, length, 1.0)
    u = np.where(length > 0, ab / safe, 1.0)
    qa = q[:, None] - a[None, :]
    t = np.clip((qa * np.conj(u)[None, :]).real / safe[None, :], 0.0, 1.0)
    t = np.where(length[None, :] > 0, t, 0.0)
    closest = a[None, :] + t * ab[None, :]
    offset = q[:, None] - closest
    local = offset * np.conj(u)[None, :]      # x along u, y along n = i u
    return np.abs(offset), t, local


def _candidate_bones(rig, skeleton, paths, offsets, q, a, b) -> np.ndarray:
    """Each point may use the bones of the group nearest its segment's anchor."""
    n_points, n_bones = len(q), len(a)
    candidates = np.zeros((n_points, n_bones), dtype=bool)
    groups = np.array(skeleton.bone_group)
    main = np.array([not g.startswith("secondary") for g in groups])
    group_names = sorted(set(groups[main]))
    member = np.stack([groups == g for g in group_names])          # (G, B)
    anchor = _anchor_of_each_point(paths, offsets)
    dist, _, _ = _bone_local_coordinates(q[anchor], a, b)           # anchors' distances
    group_dist = np.where(member[None, :, :], dist[:, None, :], np.inf).min(axis=2)
    allowed = _groups_for_pieces(paths, group_dist, a, b, member, group_names)
    nearest = np.argmin(np.where(allowed, group_dist, np.inf), axis=1)
    candidates[:] = member[nearest]
    for k, group in enumerate(rig.secondary):
        own = groups == f"secondary{k}"
        for path_index in group.path_indices:
            candidates[offsets[path_index]:offsets[path_index + 1]] = own
    # A path the author pinned to a bone group uses that group's bones, whatever is nearest.
    for path_index, path in enumerate(paths):
        pinned = getattr(path, "bind_group", None)
        if pinned in group_names:
            candidates[offsets[path_index]:offsets[path_index + 1]] = groups == pinned
    return candidates


def _groups_for_pieces(paths, group_dist, a, b, member, group_names) -> np.ndarray:
    """(points, groups): the groups each point may bind to, decided per piece of the
    drawing (each closed contour of a filled shape).

    Nearness alone is fooled by the drawing: a hand hanging beside the trousers is
    nearer to part of their outline than the legs are, and binding that part to the
    arm tears the trousers open as soon as the arm moves. So a piece may only bind to
    the groups with a bone running through its inside. A piece drawn on top of
    another with no limb running through it (a pocket, a shading, a button) also binds
    to the groups of the piece beneath, so the two move alike; a limb drawn over the
    body (a side view's arm) stays that limb. A piece on its own with no bone inside
    (a hand at the end of its bone, a shoe) moves with the groups nearest to most of
    it. Outlines and open strokes bind by nearness alone."""
    allowed = np.ones(group_dist.shape, dtype=bool)
    along = np.linspace(0.1, 0.9, BONE_SAMPLES)
    samples = (a[:, None] + along[None, :] * (b - a)[:, None]).ravel()     # (B * S,)
    pieces = _filled_pieces(paths)
    limbs = np.array([name in LIMB_GROUPS for name in group_names])
    resolved: list[np.ndarray] = []
    for k, (start, end, ring) in enumerate(pieces):
        through = _inside_ring(ring, samples).reshape(len(a), -1).sum(axis=1) >= MIN_SAMPLES_INSIDE
        groups = (member & through[None, :]).any(axis=1)
        beneath = _piece_beneath(pieces, k) if not (groups & limbs).any() else None
        if beneath is not None:
            groups = groups | resolved[beneath]       # a detail moves like what it is drawn on
        elif not groups.any():
            share = np.bincount(np.argmin(group_dist[start:end], axis=1),
                                minlength=len(member)) / (end - start)
            groups = (share >= MIN_PIECE_SHARE) | (share == share.max())
        resolved.append(groups)
        allowed[start:end] = groups
    return allowed


def _filled_pieces(paths) -> list[tuple[int, int, np.ndarray]]:
    """(first point, end, outline polygon) of every closed contour of a filled path, in
    drawing order."""
    pieces, start = [], 0
    for path in paths:
        local = 0
        for n_seg, _closed in path.subpaths:
            count = 1 + 3 * n_seg
            if path.style.fill is not None and n_seg:
                pieces.append((start, start + count, _ring(path.points[local:local + count])))
            start, local = start + count, local + count
    return pieces


def _piece_beneath(pieces, k: int) -> int | None:
    """The piece drawn last before piece k that holds most of it (k's outline points
    inside it), if any."""
    ring = pieces[k][2]
    for j in range(k - 1, -1, -1):
        under = pieces[j][2]
        if (ring.real.max() < under.real.min() or ring.real.min() > under.real.max()
                or ring.imag.max() < under.imag.min() or ring.imag.min() > under.imag.max()):
            continue                      # their boxes do not even meet
        if _inside_ring(under, ring).mean() >= 0.5:
            return j
    return None


def _ring(points: np.ndarray) -> np.ndarray:
    """One closed contour of cubics (its control points, (1 + 3n, 2)) flattened to a
    polygon (complex), FLATTEN_STEPS points per cubic."""
    pts = points[:, 0] + 1j * points[:, 1]
    n_seg = (len(pts) - 1) // 3
    ts = np.linspace(0.0, 1.0, FLATTEN_STEPS, endpoint=False)
    basis = np.stack([(1 - ts) ** 3, 3 * (1 - ts) ** 2 * ts, 3 * (1 - ts) * ts ** 2, ts ** 3], axis=1)
    return (pts[3 * np.arange(n_seg)[:, None] + np.arange(4)[None, :]] @ basis.T).ravel()


def _inside_ring(ring: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Whether points z (complex) lie inside a closed polygon: the winding number of
    every point at once (non-zero rule)."""
    inside = np.zeros(len(z), dtype=bool)
    # Only points within the polygon's box can be inside it (most pieces are small).
    box = ((z.real >= ring.real.min()) & (z.real <= ring.real.max())
           & (z.imag >= ring.imag.min()) & (z.imag <= ring.imag.max()))
    if not box.any():
        return inside
    p0, p1 = ring[None, :], np.roll(ring, -1)[None, :]                 # fills close every contour
    zi = z[box][:, None]
    cross = (p1 - p0).real * (zi.imag - p0.imag) - (p1 - p0).imag * (zi.real - p0.real)
    up = (p0.imag <= zi.imag) & (p1.imag > zi.imag) & (cross > 0)
    down = (p0.imag > zi.imag) & (p1.imag <= zi.imag) & (cross < 0)
    inside[box] = up.sum(axis=1) != down.sum(axis=1)
    return inside


def _anchor_of_each_point(paths, offsets) -> np.ndarray:
    """Index of the on-curve point each control point belongs to (handles -> their anchor)."""
    anchors = []
    for path, start in zip(paths, offsets[:-1]):
        base = int(start)
        for n_seg, _closed in path.subpaths:
            idx = np.arange(1 + 3 * n_seg)
            role = (idx - 1) % 3                         # 0: c1, 1: c2, 2: end (for idx >= 1)
            owner = np.where(idx == 0, 0, np.where(role == 0, idx - 1, np.where(role == 1, idx + 1, idx)))
            anchors.append(base + owner)
            base += 1 + 3 * n_seg
    return np.concatenate(anchors) if anchors else np.zeros(0, dtype=np.int64)


def _handles_share_anchor_weights(paths, offsets, points) -> np.ndarray:
    """Handles of a smooth anchor (in and out handles collinear) reuse its weights."""
    share = np.zeros(len(points), dtype=bool)
    for path, start in zip(paths, offsets[:-1]):
        base = int(start)
        for n_seg, closed in path.subpaths:
            n = 1 + 3 * n_seg
            anchors = base + np.arange(0, n, 3)
            h_in = anchors - 1
            h_out = anchors + 1
            if closed and n_seg > 0:   # the first and last anchors are the same place
                h_in[0] = base + n - 2
                h_out[-1] = base + 1
            valid = (h_in >= base) & (h_out < base + n)
            p = points[anchors[valid]]
            vin, vout = points[h_in[valid]] - p, points[h_out[valid]] - p
            nin, nout = np.linalg.norm(vin, axis=1), np.linalg.norm(vout, axis=1)
            ok = (nin > 1e-12) & (nout > 1e-12)
            cos = np.zeros(len(p))
            cos[ok] = np.abs(np.sum(vin[ok] * vout[ok], axis=1)) / (nin[ok] * nout[ok])
            smooth = cos > COLLINEAR_COS
            share[h_in[valid][smooth]] = True
            share[h_out[valid][smooth]] = True
            base += n
    return share


def _keep_top_k(weights: np.ndarray, k: int) -> np.ndarray:
    if weights.shape[1] <= k:
        return weights
    cut = np.partition(weights, -k, axis=1)[:, -k][:, None]
    kept = np.where(weights >= cut, weights, 0.0)
    return kept


def _operator(weights, t, local, skeleton: Skeleton, n_bones: int) -> sp.csr_matrix:
    rows, cols = np.nonzero(weights)
    w = weights[rows, cols]
    bone_a = skeleton.bones[cols, 0]
    bone_b = skeleton.bones[cols, 1]
    n_points = weights.shape[0]
    n_all = len(skeleton.all_joint_names)
    tt = t[rows, cols]
    joint_part = sp.csr_matrix(
        (np.concatenate([w * (1 - tt), w * tt]).astype(np.complex128),
         (np.concatenate([rows, rows]), np.concatenate([bone_a, bone_b]))),
        shape=(n_points, n_all))
    bone_part = sp.csr_matrix((w * local[rows, cols], (rows, cols)), shape=(n_points, n_bones))
    # Fold derived joints back onto the tracked ones: one product per frame, not two.
    tracked_part = (joint_part @ skeleton.derive).tocsr()
    return sp.hstack([tracked_part, bone_part], format="csr")


def _path_confidence(weights, anchor, offsets, n_paths) -> sp.csr_matrix:
    """Row p averages the weights of path p's anchors: path confidence = row . bone scores."""
    anchors = np.unique(anchor)
    path_of = np.searchsorted(offsets, anchors, side="right") - 1
    per_path = np.bincount(path_of, minlength=n_paths).astype(np.float64)
    m = sp.csr_matrix(weights[anchors])
    spread = sp.csr_matrix((1.0 / per_path[path_of], (path_of, np.arange(len(anchors)))),
                           shape=(n_paths, len(anchors)))
    return (spread @ m).tocsr()
