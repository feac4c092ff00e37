"""The person's expression on the character's own face, measured on a real FaceMesh face."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import IMAGES, PA_RIGS
from server import expression
from server.rig import load_rig
from server.skeleton import FACE_JOINTS
from server.tracking import Tracker

F = {n: i for i, n in enumerate(FACE_JOINTS)}


@pytest.fixture(scope="module")
def person_face() -> np.ndarray:
    """A real face from the close-up photo, as complex points in FACE_JOINTS order."""
    with Tracker(static_image_mode=True) as tracker:
        frame = tracker.process(np.asarray(Image.open(IMAGES / "face_closeup_rgba.png")))
    assert frame.face is not None
    return frame.face[:, 0] + 1j * frame.face[:, 1]


@pytest.fixture(scope="module")
def rest_face() -> np.ndarray:
    rig = load_rig(PA_RIGS / "boy.svg")
    return np.array([complex(*rig.joints[n]) for n in FACE_JOINTS])


def _names(prefix: str) -> list[int]:
    return [i for n, i in F.items() if n.startswith(prefix)]


def _lids(face: np.ndarray, side: str) -> float:
    """Lid-to-lid distance of one eye, summed over its two pairs of lid points."""
    e = face[[F[f"{side}Eye{k}"] for k in range(6)]]
    return abs(e[1] - e[5]) + abs(e[2] - e[4])


def test_a_real_face_measures_within_human_ranges(person_face):
    seen = expression.measure(person_face)
    assert ((0.1 < seen.eyes) & (seen.eyes < 0.5)).all()
    assert ((0.02 < seen.brows) & (seen.brows < 0.2)).all()
    assert 0.2 < seen.mouth_width < 0.7
    assert -0.01 < seen.mouth_open < 0.2


def test_measures_do_not_depend_on_size_roll_or_place(person_face):
    seen = expression.measure(person_face)
    moved = expression.measure(person_face * 0.37 * np.exp(0.6j) + (120 - 40j))
    for a, b in ((seen.eyes, moved.eyes), (seen.brows, moved.brows),
                 (seen.mouth_open, moved.mouth_open), (seen.mouth_width, moved.mouth_width)):
        assert np.allclose(a, b, atol=1e-9)


def test_the_persons_neutral_face_leaves_the_drawing_as_it_is(person_face, rest_face):
    seen = expression.measure(person_face)
    assert np.allclose(expression.apply(rest_face, seen, seen), rest_face, atol=1e-9)
    neutral = expression.Expression.neutral()
    assert np.allclose(expression.apply(rest_face, neutral, neutral), rest_face, atol=1e-9)


def test_an_open_mouth_drops_the_characters_jaw_and_lower_lip(person_face, rest_face):
    neutral = expression.measure(person_face)
    height = abs(person_face[F["topMid"]] - person_face[F["jawMid"]])
    up = person_face[F["topMid"]] - person_face[F["jawMid"]]
    down = -up / abs(up)
    opened = person_face.copy()
    lower = _names("lowerLip") + _names("leftLowerLip") + _names("rightLowerLip")
    opened[lower] += 0.12 * height * down
    seen = expression.measure(opened)
    assert seen.mouth_open == pytest.approx(neutral.mouth_open + 0.12, abs=0.01)
    out = expression.apply(rest_face, seen, neutral)
    char_height = abs(rest_face[F["topMid"]] - rest_face[F["jawMid"]])
    drop = (out - rest_face).imag
    assert drop[F["lowerLipTopMid"]] == pytest.approx(0.12 * char_height, rel=0.1)
    assert drop[F["jawMid"]] == pytest.approx(0.12 * char_height, rel=0.1)
    assert abs(drop[F["upperLipTopMid"]]) < 1e-9 and abs(drop[F["nose4"]]) < 1e-9   # the rest stays


def test_shut_eyes_shut_the_characters_eyes_and_wide_ones_open_them_a_little(person_face, rest_face):
    neutral = expression.measure(person_face)
    shut = expression.Expression(np.full(2, expression.SHUT_EYE * 0.5), neutral.brows,
                                 neutral.mouth_open, neutral.mouth_width)
    out = expression.apply(rest_face, shut, neutral)
    for side in ("left", "right"):
        assert _lids(out, side) < 0.05 * _lids(rest_face, side)
    wide = expression.Expression(neutral.eyes * 2, neutral.brows, neutral.mouth_open, neutral.mouth_width)
    out = expression.apply(rest_face, wide, neutral)
    assert _lids(out, "left") == pytest.approx(1.15 * _lids(rest_face, "left"), rel=0.05)
    assert expression.eye_opening(0.8 * neutral.eyes[0], neutral.eyes[0]) == 1.0   # a slight squint


def test_raised_brows_lift_the_characters_brows(person_face, rest_face):
    neutral = expression.measure(person_face)
    raised = expression.Expression(neutral.eyes, neutral.brows + 0.04, neutral.mouth_open, neutral.mouth_width)
    out = expression.apply(rest_face, raised, neutral)
    char_height = abs(rest_face[F["topMid"]] - rest_face[F["jawMid"]])
    lift = -(out - rest_face).imag
    assert np.allclose(lift[_names("leftBrow") + _names("rightBrow")], 0.04 * char_height)
    assert np.allclose(lift[_names("rightJaw")], 0.0)
