"""The `pose-animator` command on real clips and photos."""
from __future__ import annotations

import bisect
import re
import subprocess
import sys
import time

import defusedxml.ElementTree as SafeET
import numpy as np
import pytest

from conftest import DANCE, IMAGES, PA_RIGS, ROOT, TerminalProcess
from server.cli import main
from server.posetrack import BODY_NAMES, PoseTrack
from server.rig import load_rig

SVG = "{http://www.w3.org/2000/svg}"
B = {n: i for i, n in enumerate(BODY_NAMES)}


def _frames_of(svg_path):
    """Per path: the 'd' of every frame, from the SMIL animation (runs of unchanged frames
    are merged in the file: keyTimes say where each value starts)."""
    root = SafeET.parse(svg_path).getroot()
    n = int(root.get("data-frames"))
    frames = []
    for path in root.findall(f"{SVG}path"):
        anim = [a for a in path.findall(f"{SVG}animate") if a.get("attributeName") == "d"]
        if not anim:
            frames.append([path.get("d")] * n)
            continue
        values = anim[0].get("values").split(";")
        starts = [round(float(k) * n) for k in anim[0].get("keyTimes").split(";")]
        frames.append([values[bisect.bisect_right(starts, i) - 1] for i in range(n)])
    return root, frames


def _centroid(d: str) -> np.ndarray:
    nums = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]).reshape(-1, 2)
    return nums.mean(axis=0)


@pytest.fixture(scope="module")
def dance_render(tmp_path_factory, dance_track):
    out = tmp_path_factory.mktemp("render") / "boy.svg"
    pose = out.with_suffix(".json")
    dance_track.save(pose)
    assert main(["render", "--rig", str(PA_RIGS / "boy.svg"), "--pose", str(pose), "--out", str(out)]) == 0
    return out


def test_render_of_the_dance_clip_has_one_frame_per_input_frame(dance_render, dance_track):
    root, frames = _frames_of(dance_render)
    n = len(dance_track.frames)
    assert n == 120
    assert root.get("data-frames") == str(n)
    rig = load_rig(PA_RIGS / "boy.svg")
    assert len(frames) == len(rig.drawing.paths)
    assert all(len(f) == n for f in frames)
    # every frame of a path keeps the same command structure (so SMIL can animate it)
    for values in frames:
        assert len({re.sub(r"[-\d.]+", "#", v) for v in values}) == 1


def test_the_characters_hands_follow_the_tracked_wrists(dance_render, dance_track):
    rig = load_rig(PA_RIGS / "boy.svg")
    _, frames = _frames_of(dance_render)
    rest_centres = np.array([p.points.mean(axis=0) for p in rig.drawing.paths])
    for side in ("left", "right"):
        wrist_rest = rig.joints[f"{side}Wrist"]
        hand = int(np.argmin(np.linalg.norm(rest_centres - wrist_rest, axis=1)))
        hand_track = np.array([_centroid(d) for d in frames[hand]])
        wrist = np.array([f.body[BODY_NAMES.index(f"{side}Wrist"), :2] for f in dance_track.frames])
        for axis in (0, 1):
            r = np.corrcoef(hand_track[:, axis], wrist[:, axis])[0, 1]
            assert r > 0.8, (side, axis, r)
        assert np.ptp(hand_track[:, 1]) > 100        # the hand really travels


def test_render_straight_from_the_clip_with_progress_and_summary(tmp_path):
    out = tmp_path / "girl.svg"
    args = [sys.executable, "-m", "server", "render", "--rig", str(PA_RIGS / "girl.svg"),
            "--input", str(DANCE), "--out", str(out), "--fps", "10"]
    status, stdout, terminal = TerminalProcess(args, ROOT).finish()
    assert status == 0, terminal
    assert re.search(r"40 frame\(s\), 100% with a person, [\d.]+ s, [\d.]+ frames/s", stdout)
    assert "tracking" in terminal and "exporting svg" in terminal      # the progress bars
    root, frames = _frames_of(out)
    assert root.get("data-frames") == "40" and len(frames[0]) == 40
    # Into a log file (not a terminal) only the summary goes, without a bar's redraws.
    logged = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert logged.returncode == 0 and "\r" not in logged.stderr and "tracking" not in logged.stderr


def test_a_photo_becomes_a_static_posed_svg(tmp_path):
    out = tmp_path / "photo.svg"
    assert main(["render", "--input", str(IMAGES / "fullbody_arms_raised.png"), "--out", str(out),
                 "--quiet"]) == 0
    root = SafeET.parse(out).getroot()
    assert root.get("data-frames") == "1"
    assert root.findall(f".//{SVG}animate") == []
    assert len(root.findall(f"{SVG}path")) > 20


def test_track_then_replay_on_another_rig(tmp_path, dance_track):
    pose = tmp_path / "pose.json"
    dance_track.save(pose)
    loaded = PoseTrack.load(pose)
    assert len(loaded.frames) == 120 and loaded.fps == pytest.approx(30, abs=0.1)
    assert np.allclose(loaded.frames[10].body, dance_track.frames[10].body, atol=0.01)
    out = tmp_path / "abstract.svg"
    assert main(["render", "--pose", str(pose), "--rig", str(PA_RIGS / "abstract.svg"), "--out", str(out),
                 "--mirror"]) == 0
    _, frames = _frames_of(out)
    assert all(len(f) == 120 for f in frames)


def test_track_command_writes_a_pose_track(tmp_path):
    out = tmp_path / "squats.json"
    assert main(["track", "--input", str(ROOT.parent / "shared/media/videos/street_5frames_960x540.mp4"),
                 "--out", str(out), "--quiet"]) == 0
    track = PoseTrack.load(out)
    assert len(track.frames) == 5 and track.width == 960 and track.height == 540
    assert [round(f.t, 3) for f in track.frames] == [0.0, 0.2, 0.4, 0.6, 0.8]


def test_without_input_the_demo_dance_plays_on_the_default_character(tmp_path):
    out = tmp_path / "demo.svg"
    assert main(["render", "--out", str(out)]) == 0
    root, frames = _frames_of(out)
    assert int(root.get("data-frames")) == 240
    assert len({v for v in frames[0]}) > 100                    # it moves


def test_a_photo_without_a_person_says_so(tmp_path, capsys):
    out = tmp_path / "cat.svg"
    assert main(["render", "--input", str(IMAGES / "noperson_cat_224.jpg"), "--out", str(out)]) == 0
    assert "no person found" in capsys.readouterr().out
    root = SafeET.parse(out).getroot()
    assert root.findall(f"{SVG}path") == []                     # nothing posed, nothing drawn


@pytest.mark.parametrize("args,message", [
    (["render", "--input", "nope.mp4"], "nope.mp4: no such file"),
    (["render", "--rig", "missing.svg"], "missing.svg: no such file"),
    (["render", "--pose", str(DANCE)], "cannot read pose track"),
    (["render", "--rig", str(IMAGES / "noperson_cat_224.jpg")], "not well-formed XML"),
    (["render", "--rig", str(ROOT / "pyproject.toml")], "not well-formed XML"),
    (["track", "--input", str(ROOT / "pyproject.toml"), "--out", "x.json"], "not a readable image or video"),
    (["render", "--input", str(ROOT)], "is a folder"),
    (["render", "--input", str(DANCE), "--fps", "0"], "fps must be a number"),
    (["render", "--input", str(DANCE), "--smoothing", "5"], "--smoothing must be from 0 to 1"),
    (["render", "--input", str(DANCE), "--out", "a.xyz"], "cannot tell the format"),
    (["render", "--input", str(DANCE), "--format", "gif", "--size", "-5"], "width must be"),
])
def test_user_errors_are_one_line_and_exit_2(args, message, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert message in lines[-1] and "Traceback" not in proc.stderr, proc.stderr


def test_a_phone_photo_is_tracked_the_way_it_is_shown(tmp_path):
    # Phones save portraits sideways and say so in EXIF (orientation 6: turn clockwise).
    from PIL import Image
    from server.pipeline import track_media
    upright = Image.open(IMAGES / "fullbody_arms_raised.png").convert("RGB")
    sideways = upright.transpose(Image.Transpose.ROTATE_90)          # stored turned counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif.tobytes())
    track = track_media(path)
    assert (track.width, track.height) == upright.size
    body = track.frames[0].body
    for side in ("left", "right"):
        assert body[B[f"{side}Wrist"], 1] < body[B[f"{side}Shoulder"], 1]    # arms up, not sideways


def test_a_phone_clip_is_tracked_the_way_it_plays(tmp_path):
    # Portrait clips are stored sideways with a rotation in the container.
    import imageio_ffmpeg
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    side, rotated = tmp_path / "side.mp4", tmp_path / "rotated.mp4"
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(DANCE), "-frames:v", "10",
                    "-vf", "crop=576:400:0:100,transpose=1", "-c:v", "libx264", str(side)], check=True)
    subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-display_rotation", "90", "-i", str(side),
                    "-c", "copy", str(rotated)], check=True)
    from server.pipeline import track_media
    track = track_media(rotated)
    assert (track.width, track.height) == (576, 400)
    people = [f for f in track.frames if f.has_person]
    assert len(people) >= 8
    for f in people:                                   # upright: head above hips
        assert f.body[B["nose"], 1] < f.body[B["leftHip"], 1]


def test_big_photos_are_scaled_down_not_refused(tmp_path):
    from PIL import Image
    from server.pipeline import track_media
    big = Image.open(IMAGES / "fullbody_arms_raised.png").convert("RGB")
    big = big.resize((big.width * 6000 // big.height, 6000))
    path = tmp_path / "big.jpg"
    big.save(path, quality=80)
    track = track_media(path)
    assert track.frames[0].has_person and track.width * track.height <= 4096 * 4096
    strip = tmp_path / "strip.png"
    Image.new("RGB", (32768, 8), "white").save(strip)             # would abort MediaPipe as is
    track = track_media(strip)
    assert max(track.width, track.height) <= 8192 and not track.frames[0].has_person


def test_output_that_would_destroy_something_is_refused_before_any_work(tmp_path):
    import os
    import shutil
    import stat
    clip = tmp_path / "clip.mp4"
    shutil.copy(DANCE, clip)
    before = clip.read_bytes()
    read_only = tmp_path / "kept.svg"
    read_only.write_text("<svg/>")
    read_only.chmod(stat.S_IRUSR)
    cases = [
        (["render", "--input", str(clip), "--out", str(clip)], "is also the input"),
        (["track", "--input", str(clip), "--out", str(clip)], "is also the input"),
        (["render", "--input", str(clip), "--out", "/dev/null"], "not a regular file"),
        (["render", "--input", str(clip), "--out", str(tmp_path / "no" / "such" / "x.svg")], "does not exist"),
        (["rig", str(PA_RIGS / "boy.svg"), "--out", str(tmp_path / "r.svg"), "--report", str(tmp_path / "r.svg")],
         "the same file"),
    ]
    cases.append((["render", "--input", str(clip), "--out", str(read_only)], "read-only"))
    bundled = ROOT / "rigs" / "robin.svg"                     # the default rig is an input too
    cases.append((["render", "--out", str(bundled)], "is also the input"))
    for args, message in cases:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=60)
        assert proc.returncode == 2 and message in proc.stderr.strip().splitlines()[-1], (args, proc.stderr)
        assert time.perf_counter() - started < 30          # refused up front, not after tracking
    assert clip.read_bytes() == before and read_only.read_text() == "<svg/>"
    assert not (tmp_path / "no").exists() and os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_a_symlink_is_written_through_and_files_get_ordinary_permissions(tmp_path, dance_track):
    import os
    pose = tmp_path / "dance.json"
    dance_track.save(pose)
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["render", "--pose", str(pose), "--out", str(link), "--quiet"]) == 0
    assert link.is_symlink() and PoseTrack.load(target).frames
    mask = os.umask(0)
    os.umask(mask)
    assert pose.stat().st_mode & 0o777 == 0o666 & ~mask              # a new file: the usual mode
    target.chmod(0o600)                                               # a replaced one keeps its own
    assert main(["render", "--pose", str(pose), "--out", str(target), "--quiet"]) == 0
    assert target.stat().st_mode & 0o777 == 0o600


def test_mp4_by_format_whatever_the_extension(tmp_path, dance_track):
    pose = tmp_path / "dance.json"
    dance_track.save(pose)
    out = tmp_path / "clip.video"
    assert main(["render", "--pose", str(pose), "--format", "mp4", "--out", str(out), "--fps", "5",
                 "--size", "160", "--quiet"]) == 0
    assert out.read_bytes()[4:8] == b"ftyp"                  # an MP4 container
