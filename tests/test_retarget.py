"""Retargeting and filtering on a real tracked clip: mirror, lost face, lost limbs, jitter."""
from __future__ import annotations


import numpy as np
import pytest

from conftest import PA_RIGS
from server.filters import FilterSettings, OneEuroFilter
from server.pipeline import Performance, skinner_for
from server.posetrack import BODY_NAMES, PoseFrame
from server.retarget import RetargetSettings, Retargeter
from server.rig import load_rig
from server.skeleton import FACE_JOINTS

B = {n: i for i, n in enumerate(BODY_NAMES)}


@pytest.fixture(scope="module")
def rig():
    return load_rig(PA_RIGS / "boy.svg")


def _joint(joints, rig, name):
    return joints[rig.joint_names.index(name)]


def test_rest_like_pose_keeps_the_characters_proportions(rig, dance_track):
    retarget = Retargeter(rig, RetargetSettings(static=True))
    joints, conf = retarget(dance_track.frames[0], dance_track.width, dance_track.height)
    for a, b in (("leftShoulder", "leftElbow"), ("rightHip", "rightKnee")):
        rest = np.linalg.norm(rig.joints[a] - rig.joints[b])
        assert abs(_joint(joints, rig, a) - _joint(joints, rig, b)) <= rest * 1.0001
    face = np.array([_joint(joints, rig, n) for n in FACE_JOINTS])
    rest_face = np.array([complex(*rig.joints[n]) for n in FACE_JOINTS])
    # the big cartoon head stays big (the original shrank it to the person's size)
    assert np.ptp(face.imag) == pytest.approx(np.ptp(rest_face.imag), rel=0.25)
    assert np.isfinite(joints).all() and (conf > 0).all()


def test_mirror_swaps_sides(rig, dance_track):
    frame = dance_track.frames[30]
    plain = Retargeter(rig, RetargetSettings(static=True))(frame, dance_track.width, dance_track.height)[0]
    mirrored = Retargeter(rig, RetargetSettings(static=True, mirror=True))(
        frame, dance_track.width, dance_track.height)[0]
    # the person's raised left wrist drives the character's left wrist, or mirrored its right one
    centre = _joint(plain, rig, "leftShoulder") / 2 + _joint(plain, rig, "rightShoulder") / 2
    p = _joint(plain, rig, "leftWrist") - centre
    centre_m = _joint(mirrored, rig, "leftShoulder") / 2 + _joint(mirrored, rig, "rightShoulder") / 2
    m = _joint(mirrored, rig, "rightWrist") - centre_m
    assert abs(p.real + m.real) < 0.1 * abs(p) and abs(p.imag - m.imag) < 0.1 * abs(p)


def test_lost_face_keeps_the_head_on_the_body(rig, dance_track):
    retarget = Retargeter(rig, RetargetSettings())
    heads = []
    for f in dance_track.frames[:60]:
        lost = PoseFrame(f.t, f.body, None, 0.0) if f.t >= 1.0 else f
        joints, conf = retarget(lost, dance_track.width, dance_track.height)
        nose = _joint(joints, rig, "nose4")
        neck = (_joint(joints, rig, "leftShoulder") + _joint(joints, rig, "rightShoulder")) / 2
        heads.append(abs(nose - neck))
    rest_neck = abs(complex(*rig.joints["nose4"]) - complex(*(rig.joints["leftShoulder"] + rig.joints["rightShoulder"]) / 2))
    assert np.allclose(heads, rest_neck, rtol=1e-6)       # the neck keeps its length, face or not


def test_a_limb_that_leaves_the_frame_is_held_not_flung(rig, dance_track):
    retarget = Retargeter(rig, RetargetSettings())
    w, h = dance_track.width, dance_track.height
    previous = None
    for i, f in enumerate(dance_track.frames[:40]):
        body = f.body.copy()
        if i >= 20:                       # the left arm "leaves": wild landmarks, no confidence
            body[B["leftWrist"]] = [-5000.0, 9000.0, 0.01]
            body[B["leftElbow"]] = [w + 3000.0, -700.0, 0.02]
        joints, conf = retarget(PoseFrame(f.t, body, f.face, f.face_conf), w, h)
        wrist = _joint(joints, rig, "leftWrist")
        if previous is not None and i >= 20:
            assert abs(wrist - previous) < 0.2 * rig.height     # no jump to a corner
            assert conf[rig.joint_names.index("leftWrist")] == pytest.approx(0.5)
        previous = wrist
    assert 0 <= previous.real <= 1000 and 0 <= previous.imag <= 1000


def test_no_person_holds_briefly_then_hides(rig, dance_track):
    skinner = skinner_for(PA_RIGS / "boy.svg")
    performance = Performance(skinner, RetargetSettings())
    w, h = dance_track.width, dance_track.height
    last = performance.pose(dance_track.frames[0], w, h)
    assert last.person and last.visible.all()
    held = performance.pose(PoseFrame(0.3), w, h)
    assert held.person and np.allclose(held.points, last.points)
    gone = performance.pose(PoseFrame(1.0), w, h)
    assert not gone.person and not gone.visible.any()


def test_one_euro_filter_removes_jitter_but_follows_fast_moves():
    rng = np.random.default_rng(1)
    still = np.array([[100.0, 100.0]]) + rng.normal(0, 1.0, (300, 1, 2))   # 0.5% of a 200 px body
    f = OneEuroFilter(FilterSettings())
    out = np.array([f(p, i / 30, scale=200.0) for i, p in enumerate(still)])
    assert out[30:].std() < 0.4 * still[30:].std()
    f.reset()
    ramp = [np.array([[100.0 + 40.0 * i, 100.0]]) for i in range(30)]   # 1200 px/s, 6 bodies/s
    out = [f(p, i / 30, scale=200.0) for i, p in enumerate(ramp)]
    assert abs(out[-1][0, 0] - ramp[-1][0, 0]) < 8.0                  # under a fifth of a frame's step
    assert FilterSettings.from_smoothing(0) is None
    assert FilterSettings.from_smoothing(1).min_cutoff < FilterSettings().min_cutoff


def test_follow_me_keeps_the_character_in_its_picture(rig, dance_track):
    w, h = dance_track.width, dance_track.height
    frame = dance_track.frames[0]
    x, y, vw, vh = rig.drawing.view_box
    rest = np.array([complex(*rig.joints[n]) for n in rig.joint_names])
    slack = 0.08 * np.ptp(rest.imag) + 1e-6
    for shift in (-0.48 * w, 0.48 * w):          # the person at either edge of the frame
        body = frame.body.copy()
        body[:, 0] = (body[:, 0] - body[:, 0].mean()) * 0.3 + w / 2 + shift
        face = None if frame.face is None else (frame.face - [frame.body[:, 0].mean(), 0]) * [0.3, 1] + [w / 2 + shift, 0]
        joints, _ = Retargeter(rig, RetargetSettings(static=True, follow=True))(
            PoseFrame(0.0, body, face, frame.face_conf), w, h)
        # The body's core and head stay in the picture (a limb may reach out of it).
        core = joints[[rig.joint_names.index(n) for n in
                       ("leftShoulder", "rightShoulder", "leftHip", "rightHip", "nose4", "topMid")]]
        assert (core.real >= x - slack).all() and (core.real <= x + vw + slack).all()
        # and it did move towards that side
        assert np.sign(core.real.mean() - rest[:12].real.mean()) == np.sign(shift)


def test_a_face_upside_down_against_the_body_is_not_believed(rig, dance_track):
    w, h = dance_track.width, dance_track.height
    frame = next(f for f in dance_track.frames if f.face is not None)
    centre = frame.face.mean(axis=0)
    flipped_face = 2 * centre - frame.face             # turned 180 degrees about its centre
    upright, _ = Retargeter(rig, RetargetSettings(static=True))(frame, w, h)
    turned, _ = Retargeter(rig, RetargetSettings(static=True))(
        PoseFrame(frame.t, frame.body, flipped_face, frame.face_conf), w, h)
    top, jaw = rig.joint_names.index("topMid"), rig.joint_names.index("jawMid")
    for joints in (upright, turned):
        assert joints[top].imag < joints[jaw].imag       # the character's head stays upright


def test_squats_bend_the_knees_with_the_feet_on_the_ground(rig):
    from conftest import VIDEOS
    from server.pipeline import track_media
    track = track_media(VIDEOS / "squats_portrait_720x1280.mp4")
    retarget = Retargeter(rig, RetargetSettings(mirror=True))
    ankles = [rig.joint_names.index(n) for n in ("leftAnkle", "rightAnkle")]
    hips = [rig.joint_names.index(n) for n in ("leftHip", "rightHip")]
    floor = max(rig.joints["leftAnkle"][1], rig.joints["rightAnkle"][1])
    lows, hip_heights = [], []
    for frame in track.frames:
        solved = retarget(frame, track.width, track.height)
        if solved is None:
            continue
        joints = solved[0]
        lows.append(joints[ankles].imag.max())
        hip_heights.append(joints[hips].imag.mean())
    assert len(lows) > 50
    assert np.abs(np.array(lows) - floor).max() < 0.03 * rig.height      # feet stay down
    assert np.ptp(hip_heights) > 0.08 * rig.height                       # while the hips go down and up


def test_a_jump_lifts_the_character_off_the_ground(rig, dance_track):
    w, h = dance_track.width, dance_track.height
    retarget = Retargeter(rig, RetargetSettings(smoothing=0))
    ankles = [rig.joint_names.index(n) for n in ("leftAnkle", "rightAnkle")]
    frame = dance_track.frames[0]
    for i in range(10):                                   # standing: the floor is learnt
        retarget(PoseFrame(i / 30, frame.body, frame.face, frame.face_conf), w, h)
    standing = retarget(PoseFrame(10 / 30, frame.body, frame.face, frame.face_conf), w, h)[0]
    up = frame.body.copy()
    up[:, 1] -= 40.0                                      # the whole person 40 px higher
    face = None if frame.face is None else frame.face - [0.0, 40.0]
    jumping = retarget(PoseFrame(11 / 30, up, face, frame.face_conf), w, h)[0]
    person_torso = abs(frame.body[B["leftShoulder"], 1] - frame.body[B["leftHip"], 1])
    rig_torso = abs(rig.joints["leftShoulder"][1] - rig.joints["leftHip"][1])
    expected = 40.0 * rig_torso / person_torso
    lift = standing[ankles].imag.max() - jumping[ankles].imag.max()
    assert 0.6 * expected < lift < 1.4 * expected
