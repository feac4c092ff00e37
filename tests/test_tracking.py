"""Real MediaPipe inference on the shared photos."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import IMAGES
from server.posetrack import BODY_NAMES
from server.tracking import ImageError, Tracker, as_rgb, decode_image, plausible_person

B = {n: i for i, n in enumerate(BODY_NAMES)}


@pytest.fixture(scope="module")
def tracker():
    with Tracker(static_image_mode=True) as t:
        yield t


def _load(name):
    return np.asarray(Image.open(IMAGES / name))


def test_arms_raised_photo_has_wrists_above_shoulders(tracker):
    image = _load("fullbody_arms_raised.png")
    assert image.shape[2] == 4                                   # RGBA on purpose
    frame = tracker.process(image)
    assert frame.has_person
    body = frame.body
    for side in ("left", "right"):
        assert body[B[f"{side}Wrist"], 1] < body[B[f"{side}Shoulder"], 1] - 20
    # the person's left is on the image's right (the camera faces them)
    assert body[B["leftShoulder"], 0] > body[B["rightShoulder"], 0]


@pytest.mark.parametrize("name", ["noperson_cat_224.jpg"])
def test_no_person_gives_no_pose(tracker, name):
    frame = tracker.process(_load(name))
    assert not frame.has_person and frame.face is None


def test_blank_picture_gives_no_pose(tracker):
    assert not tracker.process(np.full((240, 320, 3), 128, np.uint8)).has_person


@pytest.mark.parametrize("name,mode", [("face_closeup_rgba.png", "RGBA"),
                                       ("upper_pencil_drawing_boy_grayscale.jpg", "L"),
                                       ("small_three_kids_horse_257.jpg", "RGB"),
                                       ("upper_rgba_black_band.png", "RGBA")])
def test_odd_formats_are_tracked(tracker, name, mode):
    image = Image.open(IMAGES / name)
    assert image.mode == mode
    frame = tracker.process(np.asarray(image))
    assert frame.has_person
    assert np.isfinite(frame.body).all()


def test_face_mesh_lands_on_the_face(tracker):
    frame = tracker.process(_load("face_closeup_rgba.png"))
    assert frame.face is not None and frame.face.shape == (73, 2)
    nose = frame.body[B["nose"], :2]
    from server.skeleton import FACE_JOINTS
    nose_tip = frame.face[FACE_JOINTS.index("nose4")]
    face_height = np.ptp(frame.face[:, 1])
    assert np.linalg.norm(nose - nose_tip) < 0.15 * face_height
    assert frame.face[FACE_JOINTS.index("jawMid"), 1] > nose_tip[1] > frame.face[FACE_JOINTS.index("topMid"), 1]


def test_small_face_in_a_full_body_shot_is_found_through_the_head_crop(tracker):
    frame = tracker.process(_load("fullbody_standing_dress.png"))
    assert frame.has_person and frame.face is not None


def test_views_and_odd_widths_give_the_same_pose(tracker):
    image = as_rgb(_load("fullbody_arms_raised.png"))
    fortran = np.asfortranarray(image)                            # same pixels, other memory order
    assert not fortran.flags["C_CONTIGUOUS"]
    a = tracker.process(image).body
    b = tracker.process(fortran).body
    assert np.allclose(a, b, atol=1.0)
    odd = image[:, 2:] if image.shape[1] % 2 else image[:, 1:]    # odd width, a strided view
    assert odd.shape[1] % 2 == 1 and not odd.flags["C_CONTIGUOUS"]
    assert tracker.process(odd).has_person


def test_bad_pictures_are_refused_clearly():
    with pytest.raises(ImageError, match="not a readable image"):
        decode_image(b"this is not a jpeg")
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")
    with pytest.raises(ImageError, match="shape"):
        as_rgb(np.zeros((4, 4, 7), np.uint8))
    big = Image.new("L", (20000, 20000))
    import io
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    with pytest.raises(ImageError, match="too large"):
        decode_image(buf.getvalue())
    # Few pixels but one side beyond what MediaPipe's warps survive (it would abort).
    with pytest.raises(ImageError, match="a side"):
        as_rgb(np.zeros((8, 32768, 3), np.uint8))
    thin = io.BytesIO()
    Image.new("L", (32768, 8)).save(thin, format="PNG")
    with pytest.raises(ImageError, match="a side"):
        decode_image(thin.getvalue())


def test_an_upside_down_person_is_found_with_their_face(tracker):
    # A handstand: FaceMesh runs on a crop turned with the head, so the face is found
    # upside down and the body counts as a person.
    image = as_rgb(_load("fullbody_arms_raised.png"))[::-1]
    frame = tracker.process(image)
    assert frame.has_person and frame.face is not None
    from server.skeleton import FACE_JOINTS
    top, chin = frame.face[FACE_JOINTS.index("topMid")], frame.face[FACE_JOINTS.index("jawMid")]
    assert top[1] > chin[1]                                        # upside down in the picture
    nose = frame.body[B["nose"], :2]
    assert np.linalg.norm(frame.face[FACE_JOINTS.index("nose4")] - nose) < 0.2 * abs(top[1] - chin[1])


def test_a_body_upside_down_without_a_face_is_not_a_person(tracker):
    # MediaPipe "finds" such bodies around a hand held up to the camera.
    upright = tracker.process(_load("fullbody_arms_raised.png"))
    h, w = _load("fullbody_arms_raised.png").shape[:2]
    body = upright.body.copy()
    assert plausible_person(body, None, w, h)
    flipped = body.copy()
    flipped[:, 1] = h - flipped[:, 1]
    assert not plausible_person(flipped, None, w, h)
    assert plausible_person(flipped, upright.face, w, h)            # with a face it is one
    off = body.copy()
    off[[B["leftShoulder"], B["rightShoulder"]], 1] = -50.0          # shoulders above the picture
    assert not plausible_person(off, None, w, h)


def test_track_and_render_agree_on_who_is_a_person(tmp_path):
    # The hand-only clip: MediaPipe reports bodies around the hand; implausible ones are
    # dropped when tracking, so the track and any render of it agree on who is there.
    from conftest import VIDEOS
    from server.pipeline import track_media
    track = track_media(VIDEOS / "hand_only_640x360.mp4", fps=5)
    seen = [f.has_person for f in track.frames]
    assert 0 < sum(seen) < len(seen)
    for f in track.frames:
        if f.has_person:
            assert plausible_person(f.body, f.face, track.width, track.height)
    # A render counts the same frames (not those where the last pose is held a moment).
    from server.export import export_track
    from server.pipeline import default_rig_path, skinner_for
    from server.retarget import RetargetSettings
    result = export_track(track, skinner_for(default_rig_path()), "svg", tmp_path / "hand.svg", RetargetSettings())
    assert result.frames == len(track.frames) and result.with_person == sum(seen)
