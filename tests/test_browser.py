"""End to end in a real headless Chromium: its webcam is fed from the dance clip."""
from __future__ import annotations

import shutil
import time

import cv2
import numpy as np
import pytest

from conftest import DANCE, ROOT, ServerProcess
from server.pipeline import animate_track, default_rig_path, skinner_for
from server.retarget import RetargetSettings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
BASE_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def write_y4m(video, out, width=None) -> int:
    """Chromium's fake camera reads raw YUV4MPEG2; make it from the clip at test time."""
    cap = cv2.VideoCapture(str(video))
    count = 0
    with open(out, "wb") as fh:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if width:
                frame = cv2.resize(frame, (width, round(frame.shape[0] * width / frame.shape[1])))
            h, w = frame.shape[:2]
            if count == 0:
                fh.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
            fh.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
            count += 1
    cap.release()
    return count


@pytest.fixture(scope="module")
def browser_server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("browser-server"))
    yield srv
    srv.stop()


def _launch(playwright, extra_args):
    if not shutil.which("chromium") and not (ROOT / CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for the browser tests (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BASE_ARGS + extra_args)


def _canvas_stats(page):
    """How much of the stage is painted, and a fingerprint of what is on it."""
    return page.evaluate("""() => {
        const c = document.getElementById('stage');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let painted = 0, hash = 0;
        for (let i = 0; i < d.length; i += 16) {
            const sat = Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]);
            if (sat > 40) painted++;
            hash = (hash * 31 + d[i] + 7 * d[i+1] + 13 * d[i+2]) >>> 0;
        }
        return {painted: painted / (d.length / 16), hash};
    }""")


def test_the_webcam_drives_the_character(browser_server, tmp_path, dance_track):
    from playwright.sync_api import sync_playwright
    y4m = tmp_path / "dance.y4m"
    assert write_y4m(DANCE, y4m) == 120
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _launch(p, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                              f"--use-file-for-fake-video-capture={y4m}"])
        page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(browser_server.url)
        page.wait_for_function("window.poseAnimator && window.poseAnimator.mode === 'camera' "
                               "&& window.poseAnimator.posesDrawn > 10", timeout=60000)
        first = _canvas_stats(page)
        samples = []
        deadline = time.time() + 8
        while time.time() < deadline:
            pose = page.evaluate("(() => { const p = window.poseAnimator.lastPose;"
                                 " return p && p.person ? Array.from(p.joints) : null; })()")
            if pose:
                samples.append(np.array(pose).reshape(-1, 2))
            time.sleep(0.1)
        second = _canvas_stats(page)
        page.screenshot(path=str(ARTIFACTS / "live-camera.png"))
        assert page.locator("#mode").inner_text().strip().lower().startswith("live")
        browser.close()
    assert not errors, errors
    assert first["painted"] > 0.03 and second["painted"] > 0.03      # the character is drawn
    assert first["hash"] != second["hash"]                           # and it moves
    assert len(samples) > 30

    # The page's joints are poses the engine gives offline for frames of the same clip.
    skinner = skinner_for(default_rig_path())
    offline = [p.joints for p in animate_track(dance_track, skinner, RetargetSettings(mirror=True))]
    offline = np.array([np.column_stack([j.real, j.imag])[:12] for j in offline])      # body joints
    height = skinner.rig.height
    errors = [np.min(np.mean(np.linalg.norm(offline - s[:12], axis=2), axis=1)) / height for s in samples]
    assert np.median(errors) < 0.04, np.median(errors)
    live_wrists = np.array([s[4] for s in samples])
    assert np.ptp(live_wrists[:, 1]) > 0.1 * height                   # the arms really move


def test_without_a_camera_the_demo_dance_plays(browser_server):
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _launch(p, [])
        page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
        page.goto(browser_server.url)
        page.wait_for_function("window.poseAnimator && window.poseAnimator.mode === 'demo' "
                               "&& window.poseAnimator.posesDrawn > 10", timeout=60000)
        first = _canvas_stats(page)
        drawn = page.evaluate("window.poseAnimator.posesDrawn")
        time.sleep(1.5)
        second = _canvas_stats(page)
        assert page.evaluate("window.poseAnimator.posesDrawn") > drawn + 10
        assert page.locator("#retry-camera").is_visible()
        assert "demo" in page.locator("#mode").inner_text().lower()
        page.screenshot(path=str(ARTIFACTS / "demo-fallback.png"))
        # The picker lists both bundled characters; choosing one changes the drawing.
        options = page.locator("#rig-picker option").all_inner_texts()
        assert {"Robin", "Juno"} <= set(options)
        page.select_option("#rig-picker", "bundled:juno")
        page.wait_for_function("window.poseAnimator.topology && window.poseAnimator.topology.id === 'bundled:juno'")
        browser.close()
    assert first["painted"] > 0.03 and first["hash"] != second["hash"]


def test_the_pages_work_under_their_own_content_security_policy(browser_server):
    # The other browser tests let Playwright's helpers bypass the policy (they evaluate
    # strings); here it is enforced, so any script, style or connection of ours that
    # the policy forbids shows up as a violation.
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = _launch(p, [])
        for path, ready in (("/", "window.poseAnimator && window.poseAnimator.posesDrawn > 10"),
                            ("/editor", "window.rigEditor && window.rigEditor.ready !== undefined")):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script("window.__violations = [];"
                                 "document.addEventListener('securitypolicyviolation',"
                                 " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(browser_server.url + path)
            deadline = time.time() + 60
            while time.time() < deadline and not page.evaluate(f"() => !!({ready})"):
                time.sleep(0.2)
            assert page.evaluate(f"() => !!({ready})"), path
            time.sleep(1.0)
            assert page.evaluate("() => window.__violations") == [], path
            assert not errors, (path, errors)
            page.close()
        browser.close()
