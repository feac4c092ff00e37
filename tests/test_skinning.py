"""Skinning properties: exact rest pose, similarity invariance, no NaN, smooth handles."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import PA_RIGS, RIGS
from server.binding import bind
from server.rig import load_rig, rig_from_bytes
from server.skinning import Skinner

RIG_FILES = [PA_RIGS / f"{n}.svg" for n in ("boy", "girl", "abstract")] + sorted(RIGS.glob("*.svg"))


@pytest.fixture(scope="module", params=RIG_FILES, ids=lambda p: p.stem)
def skinner(request):
    return Skinner(load_rig(request.param))


def _rest_points(rig):
    return np.concatenate([p.points for p in rig.drawing.paths])


def test_rest_pose_reproduces_the_drawing(skinner):
    points, visible = skinner.rest()
    assert np.abs(points - _rest_points(skinner.rig)).max() < 1e-6
    assert visible.all()


@pytest.mark.parametrize("scale,angle,shift", [(1.0, 0.0, 40 - 25j), (0.5, 0.9, 10 + 300j),
                                                (2.3, -2.5, -100 + 0j), (1.0, np.pi, 0j)])
def test_a_similarity_of_the_joints_moves_every_point_by_it(skinner, scale, angle, shift):
    alpha = scale * np.exp(1j * angle)
    points, _ = skinner.deform(alpha * skinner.rest_joints + shift)
    rest = _rest_points(skinner.rig)
    expected = alpha * (rest[:, 0] + 1j * rest[:, 1]) + shift
    assert np.abs(points[:, 0] + 1j * points[:, 1] - expected).max() < 1e-6 * max(1.0, scale) * 1000


def test_moving_one_wrist_moves_only_that_arm(skinner):
    joints = skinner.rest_joints.copy()
    joints[skinner.joint_names.index("leftWrist")] += 80 - 60j
    moved = np.linalg.norm(skinner.deform(joints)[0] - _rest_points(skinner.rig), axis=1) > 1e-6
    sk = skinner.binding.skeleton
    group_of_point = np.array(sk.bone_group)[skinner.binding.main_bone]
    forearm = np.array([sk.all_joint_names[sk.bones[b, 1]] == "leftWrist" for b in skinner.binding.main_bone])
    assert moved[forearm].all()                       # the left forearm's points all follow
    assert not moved[group_of_point == "rightArm"].any()
    assert not moved[group_of_point == "face"].any()


def test_points_exactly_on_bones_and_joints_never_become_nan():
    # A path whose anchors sit exactly on joints and on the middle of bones.
    art = ('<path d="M60 30 L40 30 L44 60 L56 60 Z M75 45 L85 60 M50 30 L50 60" '
           'fill="#f00" stroke="#000"/>')
    from test_rigs import _body_only_rig
    rig = rig_from_bytes(_body_only_rig(art))
    sk = Skinner(rig)
    points, visible = sk.rest()
    assert np.isfinite(points).all() and visible.all()
    assert np.abs(points - _rest_points(rig)).max() < 1e-6
    bent = sk.rest_joints.copy()
    bent[sk.joint_names.index("leftWrist")] += 30j
    assert np.isfinite(sk.deform(bent)[0]).all()


def test_degenerate_joints_give_finite_points(skinner):
    collapsed = np.full_like(skinner.rest_joints, 100 + 100j)
    points, _ = skinner.deform(collapsed)
    assert np.isfinite(points).all()


def test_smooth_anchors_share_weights_with_their_handles():
    rig = load_rig(PA_RIGS / "boy.svg")
    binding = bind(rig)
    op = binding.operator
    # Any smooth anchor (in/out handles collinear) must have handles with the anchor's bones.
    pts = binding.rest_points
    checked = 0
    for path_index, path in enumerate(rig.drawing.paths):
        start = binding.path_offsets[path_index]
        n_seg = path.subpaths[0][0]
        for k in range(1, n_seg):
            a = start + 3 * k
            vin, vout = pts[a - 1] - pts[a], pts[a + 1] - pts[a]
            if np.linalg.norm(vin) < 1e-9 or np.linalg.norm(vout) < 1e-9:
                continue
            cos = abs(vin @ vout) / (np.linalg.norm(vin) * np.linalg.norm(vout))
            if cos > 0.995:
                bones_of = lambda row: set(op[row].indices[op[row].indices >= len(binding.skeleton.joint_names)])
                assert bones_of(a - 1) == bones_of(a) == bones_of(a + 1)
                checked += 1
    assert checked > 10


def test_low_confidence_hides_paths(skinner):
    conf = np.ones(len(skinner.joint_names))
    assert skinner.deform(skinner.rest_joints, conf)[1].all()
    assert not skinner.deform(skinner.rest_joints, conf * 0.1)[1].any()


def test_many_frames_at_once_give_the_same_drawings_as_one_at_a_time(skinner):
    rng = np.random.default_rng(3)
    n = len(skinner.rest_joints)
    joints = skinner.rest_joints + rng.normal(0, 30, (5, n)) + 1j * rng.normal(0, 30, (5, n))
    confidence = rng.uniform(0, 1, (5, n))
    confidence[2] = 0.0                                   # a frame with nothing seen
    points, visible = skinner.deform_many(joints, confidence)
    assert points.shape == (5, skinner.n_points, 2) and visible.shape == (5, skinner.n_paths)
    assert not visible[2].any()
    for k in range(5):
        one_points, one_visible = skinner.deform(joints[k], confidence[k])
        assert np.allclose(points[k], one_points, atol=1e-9)
        assert (visible[k] == one_visible).all()


def _left_arm_hanging(art: str, elbow, wrist):
    """The small body-only test rig with its left arm hanging down, and ``art`` added."""
    from test_rigs import _body_only_rig
    svg = _body_only_rig(art)
    svg = svg.replace(b'id="leftElbow" cx="75" cy="45"', f'id="leftElbow" cx="{elbow[0]}" cy="{elbow[1]}"'.encode())
    svg = svg.replace(b'id="leftWrist" cx="85" cy="60"', f'id="leftWrist" cx="{wrist[0]}" cy="{wrist[1]}"'.encode())
    return rig_from_bytes(svg)


def test_a_hand_beside_the_trousers_does_not_tear_them_when_it_moves():
    # The left arm hangs down beside the trousers: their right edge is nearer to the
    # forearm (2 units) than to the leg bone (4 units). Only bones running through a
    # filled piece may move it, so the trousers stay whole; the hand, with no bone
    # inside it, goes with the arm it is nearest to as a whole.
    trousers = '<path d="M40 58 H60 V97 H40 Z" fill="#335"/>'
    hand = '<path d="M60.5 66 h3 v5 h-3 Z" fill="#fc9"/>'
    rig = _left_arm_hanging(trousers + hand, elbow=(62, 48), wrist=(62, 66))
    sk = Skinner(rig)
    raised = sk.rest_joints.copy()
    for name in ("leftElbow", "leftWrist"):               # the arm swings up and out
        i = sk.joint_names.index(name)
        shoulder = sk.rest_joints[sk.joint_names.index("leftShoulder")]
        raised[i] = shoulder + (raised[i] - shoulder) * np.exp(-2j)
    points, _ = sk.deform(raised)
    offsets = sk.binding.path_offsets
    rest = _rest_points(rig)
    trouser_move = np.abs(points[offsets[1]:offsets[2]] - rest[offsets[1]:offsets[2]]).max()
    assert trouser_move < 1e-6
    hand_pts = points[offsets[2]:offsets[3]]
    wrist = raised[sk.joint_names.index("leftWrist")]
    assert np.abs(hand_pts[:, 0] + 1j * hand_pts[:, 1] - wrist).max() < 8     # it went with the wrist


def test_a_detail_drawn_on_a_piece_moves_like_the_piece_beneath():
    # A hoodie whose body also covers the upper arm hanging at its side, and a shading
    # strip drawn along that side. The strip holds only a torso bone, yet the hoodie
    # under it bends with the arm there: the strip must too, or it sticks out.
    hoodie = '<path d="M42 28 H66 V62 H42 Z" fill="#3aa"/>'
    strip = '<path d="M58.5 33 H60.5 V58 H58.5 Z" fill="#288"/>'
    binding = bind(_left_arm_hanging(hoodie + strip, elbow=(63, 46), wrist=(64, 60)))
    groups = np.array(binding.skeleton.bone_group)[binding.main_bone]
    offsets = binding.path_offsets
    hoodie_groups, strip_groups = set(groups[offsets[1]:offsets[2]]), set(groups[offsets[2]:offsets[3]])
    assert {"torso", "leftArm"} <= hoodie_groups
    assert strip_groups == {"torso", "leftArm"}            # its arm side goes with the arm, like the hoodie's
