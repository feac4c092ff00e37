"""Auto-rigging (real MediaPipe on rendered art), the rig writer and path pins.

The accuracy measurement strips the skeleton from the original project's characters,
auto-rigs the bare drawings and compares the 12 body joints with the author's.
"""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import PA_RIGS, ROOT, SHARED
from server.autorig import AutoRigError, autorig
from server.binding import bind
from server.drawing import Drawing
from server.rig import RigError, drawing_from_bytes, load_rig, rig_from_bytes
from server.rigwriter import rig_svg
from server.skeleton import ALL_JOINTS, BODY_JOINTS
from server.skinning import Skinner

EMOJI = sorted((SHARED / "svg" / "emoji").glob("*/*.svg"))
CHARACTERS = ("boy", "girl", "abstract")
ARTIFACTS = ROOT / "artifacts"
SVG_NS = "http://www.w3.org/2000/svg"


def strip_skeleton(data: bytes) -> bytes:
    """The character without its skeleton group: what a user would upload."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(data)
    for parent in list(root.iter()):
        for child in list(parent):
            if (child.get("id") or "").lower().startswith("skeleton"):
                parent.remove(child)
    return ET.tostring(root)


def body_error(joints: dict, truth: dict, height: float) -> np.ndarray:
    return np.array([np.linalg.norm(np.asarray(joints[n]) - truth[n]) for n in BODY_JOINTS]) / height


@pytest.fixture(scope="module")
def accuracy():
    results = {}
    for name in CHARACTERS:
        original = (PA_RIGS / f"{name}.svg").read_bytes()
        bare = strip_skeleton(original)
        with pytest.raises(RigError):
            rig_from_bytes(bare)                      # really nothing left to copy from
        truth = load_rig(PA_RIGS / f"{name}.svg")
        result = autorig(drawing_from_bytes(bare))
        errors = body_error(result.joints, truth.joints, truth.height)
        results[name] = {"mean_percent": round(100 * float(errors.mean()), 2),
                         "max_percent": round(100 * float(errors.max()), 2),
                         "parts": result.parts, "seconds": round(result.seconds, 2)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "autorig-accuracy.json").write_text(json.dumps(results, indent=1))
    print("\nauto-rig body-joint error (% of character height):",
          {n: r["mean_percent"] for n, r in results.items()})
    return results


@pytest.mark.parametrize("name", CHARACTERS)
def test_auto_rig_finds_the_authors_skeleton_within_5_percent(accuracy, name):
    assert accuracy[name]["mean_percent"] < 5.0, accuracy[name]


def test_the_report_says_what_was_detected_and_what_was_guessed(accuracy):
    # The boy and girl are read by MediaPipe; the abstract figure has no arms and a
    # diamond for a head, so its arms and face are guessed.
    assert accuracy["boy"]["parts"]["torso"] == "detected"
    assert accuracy["girl"]["parts"]["leftLeg"] == "detected"
    assert accuracy["abstract"]["parts"]["leftArm"] == "guessed"
    assert accuracy["abstract"]["parts"]["face"] == "guessed"
    assert accuracy["abstract"]["parts"]["leftLeg"] in ("fitted", "detected")


def test_every_emoji_figure_auto_rigs_into_a_loadable_rig():
    assert len(EMOJI) == 40
    kinds, sheet = {}, []
    for path in EMOJI:
        drawing = drawing_from_bytes(path.read_bytes())
        result = autorig(drawing)
        assert set(result.joints) == set(ALL_JOINTS), path.name
        assert set(result.source) == set(ALL_JOINTS)
        report = result.report()
        assert len(report["detected"]) + len(report["fitted"]) + len(report["guessed"]) == 85
        # The notes agree with the parts: what was placed by proportion was not detected.
        if any(note.startswith("bust:") for note in report["notes"]):
            assert "detected" not in (result.parts["leftLeg"], result.parts["rightLeg"]), path.name
        for note in report["notes"]:
            if note.startswith("placed by human proportions: "):
                for label in note.split(": ", 1)[1].split(", "):
                    assert result.parts[label.split()[0] + label.split()[-1].title() if " " in label
                                        else label] == "guessed", (path.name, note)
        # Where MediaPipe read the torso, the chin sits by the neck, not down the body (a
        # thin figure once had its template face stretched from the hair to the hips).
        if result.parts["torso"] == "detected":
            neck = (result.joints["leftShoulder"] + result.joints["rightShoulder"]) / 2
            hips = (result.joints["leftHip"] + result.joints["rightHip"]) / 2
            assert np.linalg.norm(result.joints["jawMid"] - neck) < np.linalg.norm(hips - neck), path.name
        rig = rig_from_bytes(rig_svg(drawing, result.joints).encode(), path.stem)
        assert len(rig.drawing.paths) == len(drawing.paths) and rig.has_face
        moved = max(np.abs(rig.joints[n] - result.joints[n]).max() for n in ALL_JOINTS)
        assert moved < 1e-3, path.name
        # The joints sit on the figure (a bust's legs may hang below it).
        lo, hi = _extent(drawing)
        size = float((hi - lo).max())
        for n in ("leftShoulder", "rightShoulder", "nose4", "leftEye0"):
            assert np.all(rig.joints[n] >= lo - 0.1 * size) and np.all(rig.joints[n] <= hi + 0.1 * size), (path, n)
        skinner = Skinner(rig)
        points, visible = skinner.rest()
        rest = np.concatenate([p.points for p in rig.drawing.paths])
        assert np.allclose(points, rest, atol=1e-6 * size) and visible.all()
        kinds[path.parent.name + "/" + path.stem] = result.parts
        sheet.append(_picture(drawing, result))
    detected_torsos = sum(parts["torso"] == "detected" for parts in kinds.values())
    assert detected_torsos >= 15, kinds          # MediaPipe reads many flat cartoons
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "autorig-emoji.json").write_text(json.dumps(kinds, indent=1))
    _contact_sheet(sheet).save(ARTIFACTS / "autorig-emoji.png")


COLOURS = {"detected": (0, 160, 0), "fitted": (230, 140, 0), "guessed": (220, 0, 0)}


def _picture(drawing: Drawing, result, side: int = 240):
    """The drawing with its auto-rig: green detected, orange fitted, red guessed joints."""
    from PIL import Image, ImageDraw

    from server.raster import rasterize_svg
    from server.rigwriter import artwork_svg
    from server.skeleton import BODY_BONE_GROUPS, FACE_BONES
    pts = np.concatenate([p.points for p in drawing.paths] + [np.array(list(result.joints.values()))])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = float((hi - lo).max()) * 1.08
    origin = (lo + hi) / 2 - extent / 2
    image = Image.fromarray(rasterize_svg(artwork_svg(drawing, (*origin, extent, extent)), side, side, "white"))
    pen = ImageDraw.Draw(image)

    def at(p):
        return tuple((np.asarray(p) - origin) / extent * side)
    for a, b in [bone for bones in BODY_BONE_GROUPS.values() for bone in bones] + FACE_BONES:
        pen.line([at(result.joints[a]), at(result.joints[b])], fill=(60, 60, 255), width=1)
    for name, p in result.joints.items():
        x, y = at(p)
        r = 3 if name in BODY_JOINTS else 1
        pen.ellipse([x - r, y - r, x + r, y + r], fill=COLOURS[result.source[name]])
    return image.convert("RGB")


def _contact_sheet(images, columns: int = 8):
    from PIL import Image
    w, h = images[0].size
    sheet = Image.new("RGB", (w * columns, h * -(-len(images) // columns)), "white")
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * w, (i // columns) * h))
    return sheet


def _extent(drawing: Drawing):
    pts = np.concatenate([p.points for p in drawing.paths])
    return pts.min(axis=0), pts.max(axis=0)


def test_a_drawing_with_nothing_to_rig_is_refused():
    empty = Drawing((0, 0, 10, 10), [])
    with pytest.raises(AutoRigError, match="no visible shapes"):
        autorig(empty)


def test_the_rig_command_writes_a_rig_and_prints_the_report(tmp_path):
    source = SHARED / "svg" / "emoji" / "twemoji" / "1f9cd_person-standing.svg"
    out, report = tmp_path / "standing.svg", tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "server", "rig", str(source), "--out", str(out),
                           "--report", str(report)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "torso" in proc.stdout and "detected" in proc.stdout
    rig = load_rig(out)
    assert set(rig.joints) == set(ALL_JOINTS)
    assert set(json.loads(report.read_text())["joints"]) == set(ALL_JOINTS)
    missing = subprocess.run([sys.executable, "-m", "server", "rig", str(tmp_path / "nope.svg"), "--out",
                              str(out)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no such file" in missing.stderr


# ---------------------------------------------------------------- writer round trip

ROUND_TRIP = [p for p in sorted(PA_RIGS.glob("*.svg")) if p.stem != "skeleton"] + sorted((ROOT / "rigs").glob("*.svg"))


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_a_rig_round_trips_through_the_writer(path):
    first = load_rig(path)
    text = rig_svg(first.drawing, first.joints, first.secondary)
    second = rig_from_bytes(text.encode(), first.name)
    third = rig_from_bytes(rig_svg(second.drawing, second.joints, second.secondary).encode())
    for again in (second, third):
        assert set(again.joints) == set(first.joints)
        assert max(np.abs(again.joints[n] - first.joints[n]).max() for n in first.joints) < 1e-3
        assert len(again.drawing.paths) == len(first.drawing.paths)
        for a, b in zip(first.drawing.paths, again.drawing.paths):
            assert a.subpaths == b.subpaths and a.style == b.style
            assert np.abs(a.points - b.points).max() < 1e-3
        assert [sorted(g.joints) for g in again.secondary] == [sorted(g.joints) for g in first.secondary]
        assert [g.path_indices for g in again.secondary] == [g.path_indices for g in first.secondary]
    assert "<script" not in text and "xlink" not in text


def test_the_writer_rebuilds_everything_from_numbers():
    hostile = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
      <script>alert(1)</script>
      <g id="illustration" onload="alert(2)">
        <path id="x&quot; onclick=&quot;alert(3)" d="M10 10 L90 10 L50 90 Z" fill="red" onmouseover="alert(4)"/>
        <foreignObject width="50" height="50"><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
        <rect id="leftWristband" x="40" y="40" width="10" height="10" style="fill:blue"/>
      </g></svg>"""
    drawing = drawing_from_bytes(hostile)
    # Distinct places, so every bone has a length.
    joints = {n: np.array([20.0 + (i % 7) * 10, 5.0 + i]) for i, n in enumerate(ALL_JOINTS)}
    text = rig_svg(drawing, joints)
    lowered = text.lower()
    for bad in ("script", "onload", "onclick", "onmouseover", "foreignobject", "alert", "<div"):
        assert bad not in lowered, bad
    assert 'id="leftWristband"' in text          # a plain layer id is kept
    assert rig_from_bytes(text.encode()).has_face


# ---------------------------------------------------------------- pins

def test_a_pinned_path_binds_to_its_group_and_survives_saving():
    rig = load_rig(ROOT / "rigs" / "robin.svg")
    skeleton_groups = np.array(bind(rig).skeleton.bone_group)
    default = bind(rig)
    # Pick the path whose points mostly follow the torso and pin it to the left leg.
    offsets = default.path_offsets
    torso_paths = [i for i in range(len(rig.drawing.paths))
                   if np.mean(skeleton_groups[default.main_bone[offsets[i]:offsets[i + 1]]] == "torso") > 0.9]
    index = torso_paths[0]
    text = rig_svg(rig.drawing, rig.joints, rig.secondary, pins={index: "leftLeg"})
    assert text.count('data-bind="leftLeg"') == 1
    pinned = rig_from_bytes(text.encode())
    assert pinned.drawing.paths[index].bind_group == "leftLeg"
    binding = bind(pinned)
    groups = np.array(binding.skeleton.bone_group)[binding.main_bone]
    assert np.all(groups[offsets[index]:offsets[index + 1]] == "leftLeg")
    others = np.ones(len(groups), dtype=bool)
    others[offsets[index]:offsets[index + 1]] = False
    assert np.array_equal(binding.main_bone[others], default.main_bone[others])    # nothing else changed
    # Un-pinning (an explicit None) writes the path without the attribute again.
    assert "data-bind" not in rig_svg(pinned.drawing, pinned.joints, pinned.secondary, pins={index: None})


def test_pins_to_unknown_groups_are_refused():
    rig = load_rig(ROOT / "rigs" / "robin.svg")
    with pytest.raises(ValueError, match="cannot pin"):
        rig_svg(rig.drawing, rig.joints, pins={0: "tail"})
    assert rig_from_bytes(rig_svg(rig.drawing, rig.joints).encode().replace(
        b"<path ", b'<path data-bind="tail" ', 1)).drawing.paths[0].bind_group is None
