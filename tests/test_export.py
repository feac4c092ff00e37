"""Exports: SMIL SVG checked in headless Chromium against the per-frame SVGs, GIF and MP4
decoded and measured, the size target, cancel, and the command line."""
from __future__ import annotations

import io
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile

import defusedxml.ElementTree as SafeET
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageSequence

from conftest import PA_RIGS, ROOT, TerminalProcess
from server.demo_motion import demo_track
from server.export import (ExportCancelled, ExportOptions, even_frames, export_track, format_for_path,
                           static_svg)
from server.pipeline import animate_track, skinner_for
from server.posetrack import PoseFrame, PoseTrack
from server.raster import rasterize_svg
from server.retarget import RetargetSettings

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = ROOT / "artifacts"
RAW = RetargetSettings(smoothing=0.0)     # no filtering: identical input frames give identical output


def _timed(frames, fps=30.0) -> PoseTrack:
    demo = demo_track()
    return PoseTrack(demo.width, demo.height, fps,
                     [PoseFrame(i / fps, f.body, f.face, f.face_conf) for i, f in enumerate(frames)], "test")


@pytest.fixture(scope="module")
def boy():
    return skinner_for(PA_RIGS / "boy.svg")


@pytest.fixture(scope="module")
def eventful_track():
    """2.5 s at 30 fps as a live take could be: dancing (frames 0-19), nobody in view
    (20-41: the last pose is held for 0.5 s, then hidden), dancing (42-49), no frame
    arrives for 0.3 s (50-58), dancing (59-74)."""
    demo = demo_track().frames
    frames = [demo[2 * i] for i in range(75)]
    for i in range(20, 42):
        frames[i] = PoseFrame(0.0)
    track = _timed(frames)
    del track.frames[50:59]                          # the stall: those frames never came
    return track


@pytest.fixture(scope="module")
def ten_seconds():
    """10 s at 30 fps of the demo dance (it loops seamlessly every 8 s)."""
    demo = demo_track().frames
    return _timed([demo[i % len(demo)] for i in range(300)])


# --------------------------------------------------------------------------- SMIL

def test_smil_svg_in_chromium_shows_the_frames_of_the_zip(tmp_path, boy, eventful_track):
    from playwright.sync_api import sync_playwright
    svg_path, zip_path = tmp_path / "take.svg", tmp_path / "take.zip"
    export_track(eventful_track, boy, "svg", svg_path, RAW)
    export_track(eventful_track, boy, "frames", zip_path, RAW)
    animated = svg_path.read_text()
    with zipfile.ZipFile(zip_path) as archive:
        frames = [archive.read(f"frame_{i + 1:05d}.svg").decode() for i in range(75)]
        assert len([n for n in archive.namelist() if n.endswith(".svg")]) == 75

    # Unchanged frames are merged: the still and hidden stretches cost one value each.
    root = SafeET.fromstring(animated)
    assert root.get("data-frames") == "75"
    d_values = [a.get("values").split(";") for a in root.iter(f"{SVG}animate") if a.get("attributeName") == "d"]
    assert d_values and max(len(v) for v in d_values) <= 75 - 21 - 8

    checks = {5: "dancing", 27: "just gone", 38: "gone", 53: "stalled", 66: "dancing"}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 420, "height": 420})
        page.set_content("<html><body style='margin:0;background:#fff'><div id='box'></div></body></html>")
        shots, states = {}, {}
        for index in checks:
            # The animation, paused at the middle of frame `index`.
            states[index] = _show(page, animated, time_s=(index + 0.5) / 30)
            shots[index] = _screenshot(page)
            # The per-frame SVG of the same frame.
            still = _show(page, frames[index], time_s=None)
            assert states[index] == still, f"frame {index} ({checks[index]}) differs from its per-frame SVG"
            assert np.abs(shots[index].astype(int) - _screenshot(page).astype(int)).mean() < 0.5
        # Any time within the stall shows the last frame that came before it.
        assert _show(page, animated, time_s=50.2 / 30) == states[53]
        browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    Image.fromarray(np.hstack([shots[i] for i in checks])).save(ARTIFACTS / "smil-frames.png")
    assert states[38] == []                                   # nobody in view: nothing drawn
    assert len(states[27]) > 20 and len(states[53]) > 20      # a short loss holds the last pose
    assert states[5] != states[66]                            # two times, two poses
    assert np.abs(shots[5].astype(int) - shots[66].astype(int)).mean() > 2


def _show(page, svg_text: str, time_s: float | None) -> list[str]:
    """Put an SVG in the page (400 px), optionally paused at a time; return the computed
    'd' of every visible path, as Chromium normalises it."""
    return page.evaluate("""([svgText, t]) => {
        const box = document.getElementById('box');
        box.innerHTML = svgText;
        const svg = box.querySelector('svg');
        svg.setAttribute('width', 400); svg.setAttribute('height', 400);
        if (t !== null) { svg.pauseAnimations(); svg.setCurrentTime(t); }
        return Array.from(svg.querySelectorAll('path'))
            .filter((p) => getComputedStyle(p).visibility !== 'hidden')
            .map((p) => getComputedStyle(p).d);
    }""", [svg_text, time_s])


def _screenshot(page) -> np.ndarray:
    png = page.locator("#box svg").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_the_animated_svg_plays_inside_an_img(tmp_path, boy, eventful_track):
    from playwright.sync_api import sync_playwright
    svg_path = tmp_path / "take.svg"
    export_track(eventful_track, boy, "svg", svg_path, RAW)
    (tmp_path / "page.html").write_text("<html><body style='margin:0'>"
                                        "<img id='anim' src='take.svg' width='300' height='300'></body></html>")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 320, "height": 320})
        page.goto((tmp_path / "page.html").as_uri())
        page.wait_for_function("document.getElementById('anim').complete && "
                               "document.getElementById('anim').naturalWidth > 0")
        seen = set()
        deadline = time.time() + 3            # the loop is 2.5 s long
        while time.time() < deadline and len(seen) < 4:
            seen.add(page.locator("#anim").screenshot())
            time.sleep(0.15)
        browser.close()
    assert len(seen) >= 4                          # the picture changes as it plays


def test_ten_seconds_on_boy_is_under_two_megabytes(tmp_path, boy, ten_seconds, record_property):
    out = tmp_path / "boy-10s.svg"
    result = export_track(ten_seconds, boy, "svg", out)
    root = SafeET.parse(out).getroot()
    assert root.get("data-frames") == "300" and float(root.get("data-duration")) == pytest.approx(10.0)
    assert result.extra["precision"] == 0              # 1/1000 of boy's 1000-unit view box
    record_property("boy_10s_svg_bytes", result.bytes)
    print(f"\n10 s @ 30 fps on boy.svg: {result.bytes / 1e6:.2f} MB SVG in {result.seconds:.2f} s")
    assert result.bytes < 2_000_000


def test_precision_is_configurable(tmp_path, boy, eventful_track):
    fine, coarse = tmp_path / "fine.svg", tmp_path / "coarse.svg"
    export_track(eventful_track, boy, "svg", fine, RAW, ExportOptions(precision=2))
    export_track(eventful_track, boy, "svg", coarse, RAW, ExportOptions(precision=0))
    first_d = lambda path: SafeET.parse(path).getroot().find(f"{SVG}path").get("d")    # noqa: E731
    assert re.fullmatch(r"[MCZ\d. -]+", first_d(fine)) and re.search(r"\.\d\d\b", first_d(fine))
    assert "." not in first_d(coarse)
    assert coarse.stat().st_size < 0.75 * fine.stat().st_size
    with pytest.raises(ValueError, match="precision"):
        export_track(eventful_track, boy, "svg", tmp_path / "bad.svg", RAW, ExportOptions(precision=7))
    assert not (tmp_path / "bad.svg").exists()


def test_uneven_live_timestamps_are_resampled_to_the_frame_rate():
    demo = demo_track().frames
    jitter = np.array([0.0, 0.031, 0.071, 0.098, 0.142, 0.169, 0.2])      # ~30 fps, uneven
    track = PoseTrack(640, 640, 30.0, [PoseFrame(t, demo[i].body) for i, t in enumerate(jitter)])
    even = even_frames(track)
    assert [round(f.t, 4) for f in even.frames] == [round(i / 30, 4) for i in range(7)]
    # each output frame is the input frame nearest in time
    picked = [next(i for i, f in enumerate(demo) if f.body is frame.body) for frame in even.frames]
    assert picked == [0, 1, 2, 3, 4, 5, 6]
    slower = even_frames(track, 10.0)
    assert len(slower.frames) == 3
    assert all(f.body is demo[i].body for f, i in zip(slower.frames, (0, 3, 6)))


def test_a_camera_takes_measured_rate_plays_at_a_whole_rate(tmp_path, boy):
    demo = demo_track().frames
    measured = 17.164                                       # what a slow webcam delivered
    take = PoseTrack(640, 640, measured, [PoseFrame(i / measured, demo[i].body) for i in range(52)])
    result = export_track(take, boy, "svg", tmp_path / "take.svg", RetargetSettings())
    assert result.fps == 17.0
    duration = float(SafeET.parse(tmp_path / "take.svg").getroot().get("data-duration"))
    assert duration == pytest.approx(52 / measured, abs=1 / 17)          # the same length
    clip = PoseTrack(640, 640, 29.97, [PoseFrame(i / 29.97, demo[i].body) for i in range(30)])
    assert export_track(clip, boy, "svg", tmp_path / "clip.svg", RetargetSettings()).fps == 29.97


# --------------------------------------------------------------------------- GIF, MP4

@pytest.fixture(scope="module")
def short_take():
    demo = demo_track().frames
    return _timed([demo[3 * i] for i in range(45)])          # 1.5 s, lively


def test_gif_has_every_frame_transparent_and_timed(tmp_path, boy, short_take):
    out = tmp_path / "take.gif"
    result = export_track(short_take, boy, "gif", out, RAW, ExportOptions(width=241))
    with Image.open(out) as gif:
        assert gif.n_frames == 45 and gif.size == (241, 241)
        assert gif.info.get("loop") == 0
        durations, alphas = [], []
        for frame in ImageSequence.Iterator(gif):
            durations.append(frame.info["duration"])
            assert frame.disposal_method == 2             # cleared after showing: no piling up
            alphas.append(np.asarray(frame.convert("RGBA"))[:, :, 3] > 0)
    assert sum(durations) == 1500                         # 45 frames at 30 fps, exactly
    assert set(durations) <= {30, 40}
    # Each decoded frame shows exactly the character of that frame, on transparency.
    posed = list(animate_track(even_frames(short_take), boy, RAW))
    for k in (0, 22, 44):
        svg = static_svg(boy.rig.drawing, posed[k].points, posed[k].visible, 2)
        expected = rasterize_svg(svg, width=241)[:, :, 3] >= 128
        assert not alphas[k][0, 0] and not alphas[k][-1, -1]
        overlap = (alphas[k] & expected).sum() / (alphas[k] | expected).sum()
        assert overlap > 0.99, (k, overlap)
    assert (alphas[0] != alphas[22]).mean() > 0.01       # and the frames differ
    assert result.extra["gif_frames"] == 45


def test_identical_frames_become_one_longer_gif_frame(tmp_path, boy):
    """Three frames half a second apart (a stalled connection) make a 31-frame take at
    30 fps in which each frame is shown 8, 15 and 8 times: three GIF frames."""
    demo = demo_track().frames
    track = PoseTrack(640, 640, 30.0, [PoseFrame(t, demo[i].body, demo[i].face, demo[i].face_conf)
                                       for t, i in ((0.0, 0), (0.5, 40), (1.0, 80))])
    out = tmp_path / "still.gif"
    result = export_track(track, boy, "gif", out, RAW, ExportOptions(width=120))
    with Image.open(out) as gif:
        durations = [f.info["duration"] for f in ImageSequence.Iterator(gif)]
    assert result.frames == 31 and durations == [270, 500, 260]     # 31 frames = 1.03 s


def test_mp4_has_every_frame_at_the_right_size_and_duration(tmp_path, boy, short_take):
    out = tmp_path / "take.mp4"
    result = export_track(short_take, boy, "mp4", out, RAW, ExportOptions(width=241))
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == 45 and seconds == pytest.approx(1.5, abs=0.01)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["size"] == (242, 242) and meta["fps"] == pytest.approx(30)    # even sizes for yuv420p
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    decoded = [np.frombuffer(f, np.uint8).reshape(242, 242, 3) for f in reader]
    posed = list(animate_track(even_frames(short_take), boy, RAW))
    svg = static_svg(boy.rig.drawing, posed[30].points, posed[30].visible, 2)
    expected = rasterize_svg(svg, width=242, background="#ffffff")[:, :, :3].astype(int)
    own_error = np.abs(decoded[30].astype(int) - expected).mean()
    other_error = np.abs(decoded[0].astype(int) - expected).mean()
    assert own_error < 3 and other_error > 2 * own_error, (own_error, other_error)   # lossy, but that frame
    assert result.extra == {"width": 242, "height": 242}


def test_pose_json_export_replays_on_another_rig(tmp_path, boy, short_take):
    out = tmp_path / "take.json"
    export_track(short_take, boy, "json", out)
    loaded = PoseTrack.load(out)
    assert len(loaded.frames) == 45 and np.allclose(loaded.frames[7].body, short_take.frames[7].body, atol=0.01)
    girl = skinner_for(PA_RIGS / "girl.svg")
    svg = tmp_path / "girl.svg"
    export_track(loaded, girl, "svg", svg)
    root = SafeET.parse(svg).getroot()
    assert root.get("data-frames") == "45" and len(root.findall(f"{SVG}path")) == len(girl.rig.drawing.paths)


# --------------------------------------------------------------------------- cancel, progress

@pytest.mark.parametrize("fmt", ["mp4", "gif", "svg"])
def test_cancel_stops_between_frames_and_leaves_no_file(tmp_path, boy, short_take, fmt):
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        cancel.set()                   # as if the user pressed Cancel right after it started
    out = tmp_path / f"take.{fmt}"
    with pytest.raises(ExportCancelled):
        export_track(short_take, boy, fmt, out, RAW, ExportOptions(width=120), progress=progress, cancel=cancel)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert seen and seen[-1][1] == 45 and seen[-1][0] < 45


def test_progress_reaches_the_total(tmp_path, boy, short_take):
    seen = []
    export_track(short_take, boy, "frames", tmp_path / "f.zip", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (45, 45) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))


def test_format_comes_from_the_file_name():
    assert [format_for_path(n) for n in ("a.svg", "a.ZIP", "a.gif", "a.mp4", "a.json", "a.png")] == \
        ["svg", "frames", "gif", "mp4", "json", None]


# --------------------------------------------------------------------------- command line

def _cli(args, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "server", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def test_cli_renders_every_format(tmp_path, short_take):
    pose = tmp_path / "take.pose.json"
    short_take.save(pose)
    rig = str(PA_RIGS / "boy.svg")
    runs = {
        "gif": ["--format", "gif", "--size", "160", "--out", "a.gif"],
        "mp4": ["--out", "b.mp4", "--size", "160"],                        # inferred from the extension
        "frames": ["--format", "frames"],                                  # default name: take.pose.zip
        "json": ["--out", "c.json"],
    }
    for fmt, extra in runs.items():
        proc = _cli(["render", "--rig", rig, "--pose", str(pose), "--quiet", *extra], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert re.search(r"45 frame\(s\), 100% with a person", proc.stdout), proc.stdout
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.n_frames == 45 and gif.size == (160, 160)
    assert imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "b.mp4"))[0] == 45
    with zipfile.ZipFile(tmp_path / "take.pose.zip") as archive:
        assert sum(n.endswith(".svg") for n in archive.namelist()) == 45
    assert len(PoseTrack.load(tmp_path / "c.json").frames) == 45


@pytest.mark.parametrize("args,message", [
    (["--format", "gif", "--out", "x.svg"], "does not end in .gif"),
    (["--format", "webm"], "invalid choice: 'webm'"),
    (["--format", "gif", "--size", "5"], "width must be a whole number of pixels from 16"),
    (["--precision", "9"], "precision must be a whole number of decimals from 0 to 4"),
])
def test_cli_export_errors_are_one_line(tmp_path, args, message):
    proc = _cli(["render", *args], tmp_path)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not any(p.suffix in (".svg", ".gif") for p in tmp_path.iterdir())


def test_ctrl_c_cancels_a_long_export_cleanly(tmp_path):
    """The demo dance as a 720 px MP4 takes many seconds; Ctrl+C stops it, leaving no file."""
    run = TerminalProcess([sys.executable, "-m", "server", "render", "--out", "dance.mp4"], tmp_path)
    assert "exporting mp4" in run.read_until("exporting mp4", timeout=60)      # the progress bar
    time.sleep(1.0)
    run.proc.send_signal(signal.SIGINT)
    status, _, err = run.finish(timeout=30)
    assert status == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []                        # no output, no partial file
    # A plain kill (SIGTERM, as from a process manager) cleans up the same way.
    run = TerminalProcess([sys.executable, "-m", "server", "render", "--out", "dance.mp4"], tmp_path)
    assert "exporting mp4" in run.read_until("exporting mp4", timeout=60)
    run.proc.terminate()
    status, _, err = run.finish(timeout=30)
    assert status == 143 and "terminated" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
