"""The procedural demo dance: shape, anatomy, loop, liveliness, face."""
import numpy as np
import pytest

from server.demo_motion import demo_pose, demo_track, make_demo_track
from server.posetrack import BODY_NAMES, FACE_NAMES, PoseTrack

SECONDS, FPS, SIZE = 8.0, 30.0, 640
BODY_HEIGHT = 520.0
B = {name: i for i, name in enumerate(BODY_NAMES)}
F = {name: i for i, name in enumerate(FACE_NAMES)}


@pytest.fixture(scope="module")
def track():
    return make_demo_track(SECONDS, FPS, SIZE, SIZE)


@pytest.fixture(scope="module")
def body(track):
    return np.stack([f.body for f in track.frames])  # (n, 17, 3)


@pytest.fixture(scope="module")
def face(track):
    return np.stack([f.face for f in track.frames])  # (n, 73, 2)


def joint(body, name):
    return body[:, B[name], :2]


def point(face, name):
    return face[:, F[name]]


def test_frames_timing_and_source(track):
    assert len(track.frames) == round(SECONDS * FPS)
    assert (track.width, track.height, track.fps, track.source) == (SIZE, SIZE, FPS, "demo")
    times = np.array([f.t for f in track.frames])
    assert np.allclose(times, np.arange(len(times)) / FPS)


def test_other_lengths_and_sizes():
    short = make_demo_track(seconds=3.0, fps=24.0, width=320, height=480)
    assert len(short.frames) == 72
    b = np.stack([f.body for f in short.frames])
    assert (b[..., 0] > 0).all() and (b[..., 0] < 320).all()
    assert (b[..., 1] > 0).all() and (b[..., 1] < 480).all()
    end, _ = demo_pose([3.0], 3.0, 320, 480)
    assert np.abs(end[0] - b[0]).max() < 1.0


def test_every_frame_complete_finite_and_inside(body, face, track):
    assert body.shape == (len(track.frames), 17, 3)
    assert face.shape == (len(track.frames), 73, 2)
    for arr in (body, face):
        assert np.isfinite(arr).all()
        xy = arr[..., :2]
        assert (xy > 0).all() and (xy < SIZE).all()
    assert ((body[..., 2] >= 0.9) & (body[..., 2] <= 1.0)).all()
    assert all(0.9 <= f.face_conf <= 1.0 for f in track.frames)


@pytest.mark.parametrize("a, b, fraction", [
    ("leftShoulder", "leftElbow", 0.17), ("leftElbow", "leftWrist", 0.15),
    ("rightShoulder", "rightElbow", 0.17), ("rightElbow", "rightWrist", 0.15),
    ("leftHip", "leftKnee", 0.24), ("leftKnee", "leftAnkle", 0.23),
    ("rightHip", "rightKnee", 0.24), ("rightKnee", "rightAnkle", 0.23),
    ("leftShoulder", "rightShoulder", 0.23), ("leftHip", "rightHip", 0.16),
])
def test_bones_keep_their_length(body, a, b, fraction):
    length = np.linalg.norm(joint(body, a) - joint(body, b), axis=1)
    assert length.max() / length.min() < 1.01
    assert length.mean() == pytest.approx(fraction * BODY_HEIGHT, rel=0.05)


def test_loop_closes(body, face):
    end_body, end_face = demo_pose([SECONDS], SECONDS, SIZE, SIZE)
    assert np.abs(end_body[0, :, :2] - body[0, :, :2]).max() < 1.0
    assert np.abs(end_face[0] - face[0]).max() < 1.0


def test_motion_is_smooth_including_the_wrap(body):
    wrapped = np.concatenate([body, body[:1]])[..., :2]
    steps = np.linalg.norm(np.diff(wrapped, axis=0), axis=-1)
    assert steps.max() < 60  # px per frame at 30 fps: fast hands, no jumps
    # the seam is no bigger a step than an ordinary frame
    assert steps[-1].max() < 1.5 * np.percentile(steps.max(axis=1), 99)


def test_deterministic():
    a = np.stack([f.body for f in make_demo_track(2.0).frames])
    b = np.stack([f.body for f in make_demo_track(2.0).frames])
    assert np.array_equal(a, b)


def test_demo_track_is_cached():
    assert demo_track() is demo_track()
    assert len(demo_track().frames) == 240


def test_wrists_dance(body):
    for name in ("leftWrist", "rightWrist"):
        span = np.ptp(joint(body, name), axis=0)
        assert span.max() > 150, (name, span)


def test_hips_sway_and_bounce(body):
    hips = (joint(body, "leftHip") + joint(body, "rightHip")) / 2
    span = np.ptp(hips, axis=0)
    assert span[0] > 30 and span[1] > 8


def test_person_faces_the_camera(body):
    for part in ("Shoulder", "Hip"):
        assert (joint(body, "left" + part)[:, 0] > joint(body, "right" + part)[:, 0]).all()
    assert (joint(body, "leftEye")[:, 0] > joint(body, "rightEye")[:, 0]).all()


def test_feet_stay_on_the_ground(body):
    ankles_y = body[:, [B["leftAnkle"], B["rightAnkle"]], 1]
    ground = ankles_y.max()
    # one foot always carries the weight; a stepping foot lifts, it never sinks
    assert np.allclose(ankles_y.max(axis=1), ground, atol=1.0)
    assert ground - ankles_y.min() > 5


def test_body_is_about_520px_tall_and_centred(body, face):
    top = point(face, "topMid")[:, 1]
    ankles = body[:, [B["leftAnkle"], B["rightAnkle"]], 1].max(axis=1)
    assert np.median(ankles - top) == pytest.approx(BODY_HEIGHT, rel=0.06)
    hips_x = (joint(body, "leftHip")[:, 0] + joint(body, "rightHip")[:, 0]) / 2
    assert abs(hips_x.mean() - SIZE / 2) < 20


def test_moves_are_distinct(body):
    def frame_at(beat):
        return int(round(beat * 0.5 * FPS))
    nose_y = joint(body, "nose")[:, 1]
    v_arms = frame_at(2)          # both wrists above the head
    assert joint(body, "leftWrist")[v_arms, 1] < nose_y[v_arms]
    assert joint(body, "rightWrist")[v_arms, 1] < nose_y[v_arms]
    wave = frame_at(6)            # right hand up, left hand down on the hip
    assert joint(body, "rightWrist")[wave, 1] < joint(body, "rightShoulder")[wave, 1]
    assert joint(body, "leftWrist")[wave, 1] > joint(body, "leftElbow")[wave, 1]
    disco_down = frame_at(14)     # left hand pointing down across the body
    assert joint(body, "leftWrist")[disco_down, 0] < joint(body, "leftShoulder")[disco_down, 0]
    assert joint(body, "leftWrist")[disco_down, 1] > joint(body, "leftShoulder")[disco_down, 1]


def test_face_sits_on_the_head(body, face):
    nose = joint(body, "nose")
    assert (np.linalg.norm(face - nose[:, None], axis=-1) < 0.12 * BODY_HEIGHT).all()
    shoulders_y = np.minimum(joint(body, "leftShoulder")[:, 1], joint(body, "rightShoulder")[:, 1])
    assert (face[..., 1].max(axis=1) < shoulders_y).all()
    height = np.linalg.norm(point(face, "topMid") - point(face, "jawMid"), axis=1)
    assert np.median(height) == pytest.approx(0.13 * BODY_HEIGHT, rel=0.1)
    assert (point(face, "jawMid")[:, 1] > point(face, "nose4")[:, 1]).all()
    assert (point(face, "nose4")[:, 1] > point(face, "nose0")[:, 1]).all()
    for side in ("left", "right"):
        assert (point(face, side + "Eye0")[:, 1] < point(face, side + "MouthCorner")[:, 1]).all()
    assert (point(face, "leftJaw3")[:, 0] > point(face, "rightJaw3")[:, 0]).all()


def test_pose_head_agrees_with_face(body, face):
    assert np.linalg.norm(joint(body, "nose") - point(face, "nose4"), axis=1).max() < 4
    for side in ("left", "right"):
        eye = face[:, [F[f"{side}Eye{k}"] for k in range(6)]].mean(axis=1)
        assert np.linalg.norm(joint(body, side + "Eye") - eye, axis=1).max() < 4
    ears_apart = joint(body, "leftEar")[:, 0] - joint(body, "rightEar")[:, 0]
    jaw_apart = point(face, "leftJaw3")[:, 0] - point(face, "rightJaw3")[:, 0]
    assert np.median(ears_apart) > np.median(jaw_apart)


def test_eyes_blink(face):
    for side in ("left", "right"):
        opening = (point(face, side + "Eye5")[:, 1] - point(face, side + "Eye1")[:, 1]
                   + point(face, side + "Eye4")[:, 1] - point(face, side + "Eye2")[:, 1]) / 2
        assert opening.min() < 0.3 * opening.max()
        closed = opening < 0.5 * opening.max()
        assert 0 < closed.mean() < 0.1  # blinks are brief


def test_mouth_opens_now_and_then(face):
    inner_gap = point(face, "lowerLipTopMid")[:, 1] - point(face, "upperLipBottomMid")[:, 1]
    assert inner_gap.min() < 0.25 * inner_gap.max()
    assert inner_gap.max() > 3  # px


def test_json_round_trip(track):
    again = PoseTrack.from_json(track.to_json())
    assert len(again.frames) == len(track.frames) and again.source == "demo"
    assert np.abs(again.frames[17].face - track.frames[17].face).max() < 0.01
