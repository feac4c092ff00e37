"""Rig loading: the original project's characters, our own, and every SVG feature we keep."""
from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import PA_RIGS, RIGS
from server.rig import RigError, drawing_from_bytes, load_rig, rig_from_bytes
from server.skeleton import ALL_JOINTS, BODY_JOINTS

# (drawn paths, secondary groups) per shared rig, counted by hand from the files:
# boy: 22 paths + 6 rect + 7 ellipse + 3 circle... minus joint markers and the invisible <line>.
EXPECTED = {"boy": (32, 6), "girl": (34, 9), "abstract": (6, 0), "skeleton": (0, 0)}


def _plain_joint_centres(text: str) -> dict[str, tuple[float, float]]:
    """Joint circles without transforms, read straight from the XML text."""
    skeleton = text[text.index('id="skeleton'):]
    found = {}
    for m in re.finditer(r'<circle id="([A-Za-z0-9]+?)(?:_\d+_)?" cx="([-\d.]+)" cy="([-\d.]+)"', skeleton):
        found.setdefault(m.group(1), (float(m.group(2)), float(m.group(3))))
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_rigs_load_with_every_joint_in_place(name):
    path = PA_RIGS / f"{name}.svg"
    rig = load_rig(path)
    n_paths, n_secondary = EXPECTED[name]
    assert len(rig.drawing.paths) == n_paths
    assert len(rig.secondary) == n_secondary
    assert set(rig.joints) == set(ALL_JOINTS) and rig.has_face
    plain = _plain_joint_centres(path.read_text())
    assert len(plain) > 70
    for joint, (x, y) in plain.items():
        assert rig.joints[joint] == pytest.approx((x, y), abs=1e-6), joint


def test_transformed_joint_uses_its_bounding_box_centre_after_the_matrix():
    # boy.svg's rightWrist is an ellipse under matrix(0.9806 0.1961 -0.1961 0.9806 ...).
    text = (PA_RIGS / "boy.svg").read_text()
    m = re.search(r'<ellipse id="rightWrist"[^>]*transform="matrix\(([^)]*)\)"[^>]*cx="([-\d.]+)" cy="([-\d.]+)"', text)
    a, b, c, d, e, f = (float(v) for v in m.group(1).split())
    cx, cy = float(m.group(2)), float(m.group(3))
    centre = (a * cx + c * cy + e, b * cx + d * cy + f)   # an ellipse's bbox centre is its mapped centre
    assert load_rig(PA_RIGS / "boy.svg").joints["rightWrist"] == pytest.approx(centre, abs=1e-6)


def test_skeleton_group_is_never_drawn_and_joint_markers_in_art_are_not_drawn():
    rig = load_rig(PA_RIGS / "boy.svg")
    ids = [p.element_id for p in rig.drawing.paths if p.element_id]
    assert not any(i.startswith(("rightEye", "leftBrow", "jawMid")) for i in ids)
    # every drawn path lies in the illustration (the skeleton's bone polylines are not drawn)
    assert all(p.style.fill or p.style.stroke for p in rig.drawing.paths)


def test_css_classes_give_the_abstract_rig_its_colours():
    rig = load_rig(PA_RIGS / "abstract.svg")
    fills = {p.style.fill for p in rig.drawing.paths}
    assert "#f0aeb6" in fills and "#39262b" in fills and "#000000" not in fills


@pytest.mark.parametrize("path", sorted(RIGS.glob("*.svg")), ids=lambda p: p.stem)
def test_bundled_characters_are_complete_rigs(path):
    rig = load_rig(path)
    assert rig.has_face and set(rig.joints) == set(ALL_JOINTS)
    assert len(rig.drawing.paths) >= 20


def test_there_are_at_least_two_bundled_characters_and_a_default():
    from server.pipeline import default_rig_path
    assert len(list(RIGS.glob("*.svg"))) >= 2
    assert default_rig_path().is_file()


def _strip_joint(text: str, joint: str) -> str:
    return re.sub(rf'<[^>]*id="{joint}"[^>]*/>', "", text, count=1)


def test_missing_body_joints_are_named():
    text = (PA_RIGS / "boy.svg").read_text()
    broken = _strip_joint(_strip_joint(text, "leftKnee"), "rightWrist")
    with pytest.raises(RigError, match=r"lacks body joints: .*rightWrist.*leftKnee|leftKnee.*rightWrist"):
        rig_from_bytes(broken.encode())


def test_missing_face_joints_are_named():
    text = (PA_RIGS / "boy.svg").read_text()
    with pytest.raises(RigError, match="missing: jawMid"):
        rig_from_bytes(_strip_joint(text, "jawMid").encode())


def _body_only_rig(extra_art: str = "") -> bytes:
    joints = {"leftShoulder": (60, 30), "rightShoulder": (40, 30), "leftElbow": (75, 45),
              "rightElbow": (25, 45), "leftWrist": (85, 60), "rightWrist": (15, 60),
              "leftHip": (56, 60), "rightHip": (44, 60), "leftKnee": (57, 78),
              "rightKnee": (43, 78), "leftAnkle": (57, 95), "rightAnkle": (43, 95)}
    circles = "".join(f'<circle id="{n}" cx="{x}" cy="{y}" r="1"/>' for n, (x, y) in joints.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
            f'<g id="illustration"><rect x="42" y="28" width="16" height="34" fill="#36c"/>{extra_art}</g>'
            f'<g id="skeleton">{circles}</g></svg>').encode()


def test_bones_without_length_are_refused_by_name():
    flat = _body_only_rig().replace(b'id="leftElbow" cx="75" cy="45"', b'id="leftElbow" cx="60" cy="30"')
    with pytest.raises(RigError, match="no length .*leftShoulder-leftElbow"):
        rig_from_bytes(flat)


def test_a_rig_without_face_joints_works_for_the_body():
    rig = rig_from_bytes(_body_only_rig())
    assert not rig.has_face and rig.joint_names == BODY_JOINTS
    from server.skinning import Skinner
    points, visible = Skinner(rig).rest()
    assert np.allclose(points, rig.drawing.paths[0].points) and visible.all()


def test_compound_paths_use_display_opacity_and_fill_rule_are_kept():
    art = ('<path d="M10 10h20v20h-20z M15 15h10v10h-10z" fill="#123456" fill-rule="evenodd" opacity="0.5"/>'
           '<g opacity="0.5"><circle id="ring" cx="50" cy="50" r="5" fill="red" fill-opacity="0.5"/></g>'
           '<use href="#ring" x="10"/>'
           '<rect x="1" y="1" width="3" height="3" style="display:none"/>'
           '<rect x="1" y="1" width="3" height="3" visibility="hidden"/>'
           '<line x1="0" y1="0" x2="10" y2="10" stroke="blue" stroke-width="2" stroke-linecap="round"/>')
    rig = rig_from_bytes(_body_only_rig(art))
    paths = rig.drawing.paths
    compound = paths[1]
    assert [n for n, _ in compound.subpaths] == [4, 4] and all(c for _, c in compound.subpaths)
    assert compound.style.fill_rule == "evenodd" and compound.style.opacity == 0.5
    ring, used = paths[2], paths[3]
    assert ring.style.opacity == 0.5 and ring.style.fill_opacity == pytest.approx(0.5, abs=0.01)
    assert np.allclose(used.points - ring.points, [10, 0])   # <use x="10"> moved a copy
    line = paths[4]
    assert line.style.stroke == "#0000ff" and line.style.line_cap == "round" and line.style.fill is None
    assert len(paths) == 5   # the hidden rects are not drawn


def test_transforms_and_viewbox_units():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" width="500" height="500" viewBox="0 0 100 100">'
           b'<g transform="translate(10 20) scale(2)"><rect x="0" y="0" width="5" height="5"/></g></svg>')
    drawing = drawing_from_bytes(svg)
    pts = drawing.paths[0].points
    assert drawing.view_box == (0, 0, 100, 100)
    assert pts[:, 0].min() == pytest.approx(10) and pts[:, 0].max() == pytest.approx(20)
    assert pts[:, 1].min() == pytest.approx(20) and pts[:, 1].max() == pytest.approx(30)


def test_arcs_become_cubics_that_stay_on_the_circle():
    drawing = drawing_from_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
                                 b'<circle cx="50" cy="50" r="20"/></svg>')
    pts = drawing.paths[0].points
    anchors = pts[::3]
    assert np.allclose(np.hypot(anchors[:, 0] - 50, anchors[:, 1] - 50), 20, atol=1e-6)


def test_sub_groups_without_a_complete_bone_are_bound_not_dropped():
    # The original dropped such groups silently.
    art = '<g><path d="M45 35 L55 35 L50 45 Z" fill="#0a0"/><circle id="leftElbow_1_" cx="1" cy="1" r="1"/></g>'
    rig = rig_from_bytes(_body_only_rig(art))
    assert len(rig.drawing.paths) == 2 and rig.secondary == []


def test_gradients_are_drawn_in_their_mean_colour_and_opacity():
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
           b'<defs><linearGradient id="g"><stop offset="0" stop-color="#ff0000"/>'
           b'<stop offset="1" style="stop-color:#0000ff;stop-opacity:0"/></linearGradient>'
           b'<radialGradient id="h" xlink:href="#g"/></defs>'
           b'<rect width="4" height="4" fill="url(#g)"/><rect width="4" height="4" fill="url(#h)"/></svg>')
    paths = drawing_from_bytes(svg).paths
    for p in paths:
        assert p.style.fill == "#800080" and p.style.fill_opacity == pytest.approx(0.5)
    fluent = drawing_from_bytes((PA_RIGS.parent / "emoji/fluent-emoji/1f9cd_person-standing.svg").read_bytes())
    assert sum(p.style.fill in (None, "#000000") for p in fluent.paths) < 0.1 * len(fluent.paths)


def test_paint_references_that_lead_nowhere_paint_their_fallback_or_nothing():
    drawing = drawing_from_bytes(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<rect id="a" width="5" height="5" fill="url(javascript:alert(1))"/>'
        b'<rect id="b" width="5" height="5" fill="url(#missing) #f00"/>'
        b'<rect id="c" width="5" height="5" fill="url(#missing) nonsense" stroke="blue"/>'
        b'<rect id="d" width="5" height="5" fill="url(#missing) black"/></svg>')
    styles = {p.element_id: (p.style.fill, p.style.stroke) for p in drawing.paths}
    assert styles == {"b": ("#ff0000", None), "c": (None, "#0000ff"), "d": ("#000000", None)}
