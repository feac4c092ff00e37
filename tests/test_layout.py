"""Page layout in a real headless Chromium: phones and desktops, camera and demo, a busy server."""
from __future__ import annotations

import shutil

import pytest

from conftest import ServerProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]   # a test pattern
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

BOXES = """(ids) => Object.fromEntries(ids.map((id) => {
    const e = document.getElementById(id);
    const b = e.getBoundingClientRect();
    const shown = e.checkVisibility() && b.width > 0 && b.height > 0;
    return [id, shown ? [b.left, b.top, b.right, b.bottom] : null];
}))"""


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("layout-server"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        yield p


def _browser(playwright, camera: bool):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + (FAKE_CAMERA if camera else []))


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _no_horizontal_overflow(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"


def _open_live(browser, server, viewport, mode):
    page = browser.new_page(bypass_csp=True, viewport=viewport)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    page.wait_for_function(f"window.poseAnimator.mode === '{mode}' && window.poseAnimator.posesDrawn > 5",
                           timeout=60000)
    return page, errors


@pytest.mark.parametrize("width", [320, 390, 430])
def test_the_live_page_fits_a_phone(layout_server, playwright, width):
    browser = _browser(playwright, camera=False)
    page, errors = _open_live(browser, layout_server, {"width": width, "height": 844}, "demo")
    _no_horizontal_overflow(page)
    boxes = page.evaluate(BOXES, ["editor-link", "mode", "retry-camera", "record-button", "hud", "stage"])
    for name in ("editor-link", "mode", "retry-camera", "record-button", "hud"):
        left, _, right, _ = boxes[name]
        assert 0 <= left and right <= width, f"#{name} is cut off: {boxes[name]}"
    # The controls have their own row: they never cover the character (its feet).
    assert not _overlap(boxes["record-button"], boxes["stage"])
    assert not _overlap(boxes["hud"], boxes["stage"])
    assert not _overlap(boxes["record-button"], boxes["hud"])
    browser.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_record_hud_and_camera_preview_do_not_overlap(layout_server, playwright, viewport):
    browser = _browser(playwright, camera=True)
    page, errors = _open_live(browser, layout_server, viewport, "camera")
    _no_horizontal_overflow(page)
    boxes = page.evaluate(BOXES, ["record-button", "hud", "preview", "stage"])
    assert all(boxes.values()), boxes
    assert not _overlap(boxes["record-button"], boxes["hud"])
    assert not _overlap(boxes["record-button"], boxes["preview"])
    assert not _overlap(boxes["hud"], boxes["preview"])
    assert not _overlap(boxes["record-button"], boxes["stage"])
    browser.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_toast_hides_no_control(layout_server, playwright, viewport):
    browser = _browser(playwright, camera=False)
    page, errors = _open_live(browser, layout_server, viewport, "demo")
    page.click("#retry-camera")                           # "Still no camera. No camera is connected."
    page.wait_for_selector("#toast.visible")
    page.wait_for_timeout(500)                            # its slide-in has ended
    boxes = page.evaluate(BOXES, ["toast", "record-button", "hud", "retry-camera", "rig-picker"])
    assert boxes["toast"]
    for control in ("record-button", "hud", "retry-camera", "rig-picker"):
        if boxes[control]:
            assert not _overlap(boxes["toast"], boxes[control]), (control, boxes)
    browser.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", [{"width": 400, "height": 800}, PHONE, {"width": 1024, "height": 768}],
                         ids=["400", "390", "1024"])
def test_the_editor_fits_and_frames_the_figure(layout_server, playwright, viewport):
    browser = _browser(playwright, camera=False)
    page = browser.new_page(bypass_csp=True, viewport=viewport)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(layout_server.url + "/editor?rig=bundled:robin")
    page.wait_for_function("window.rigEditor.ready", timeout=60000)
    page.wait_for_timeout(300)
    _no_horizontal_overflow(page)
    canvas = page.evaluate(BOXES, ["editor-canvas"])["editor-canvas"]
    narrow = viewport["width"] <= 900                     # panels stacked under the artwork
    assert canvas, "the artwork canvas is not shown"
    assert canvas[2] - canvas[0] > (0.8 * viewport["width"] if narrow else 300)
    assert canvas[3] - canvas[1] > 250
    joints = page.evaluate("Object.keys(window.rigEditor.joints).map((n) => window.rigEditor.jointOnPage(n))")
    assert all(canvas[0] <= x <= canvas[2] and canvas[1] <= y <= canvas[3] for x, y in joints)
    browser.close()
    assert not errors, errors


def test_the_editor_refits_when_the_window_shrinks(layout_server, playwright):
    browser = _browser(playwright, camera=False)
    page = browser.new_page(bypass_csp=True, viewport={"width": 1440, "height": 900})
    page.goto(layout_server.url + "/editor?rig=bundled:juno")
    page.wait_for_function("window.rigEditor.ready", timeout=60000)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(400)
    canvas = page.evaluate(BOXES, ["editor-canvas"])["editor-canvas"]
    joints = page.evaluate("Object.keys(window.rigEditor.joints).map((n) => window.rigEditor.jointOnPage(n))")
    assert all(canvas[0] <= x <= canvas[2] and canvas[1] <= y <= canvas[3] for x, y in joints)
    browser.close()


def test_a_busy_server_says_so_once_and_nothing_contradicts_it(tmp_path, playwright):
    server = ServerProcess(tmp_path, max_clients=1)
    try:
        browser = _browser(playwright, camera=False)
        first, _ = _open_live(browser, server, DESKTOP, "demo")            # takes the only place
        for viewport in (PHONE, DESKTOP):
            page = browser.new_page(bypass_csp=True, viewport=viewport)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url)
            page.wait_for_selector("#busy-banner:not([hidden])", timeout=20000)
            page.wait_for_timeout(1500)                    # the server has closed the socket by now
            assert "busy" in page.locator("#busy-message").inner_text()
            assert page.locator("#busy-retry").is_visible()
            text = page.locator("body").inner_text()
            for wrong in ("Connecting to the server", "Loading", "playing the demo dance", "Disconnected",
                          "Reconnecting", "Demo", "Live"):
                assert wrong not in text, f"{wrong!r} is shown while the server is busy"
            assert page.evaluate("document.getElementById('rig-picker').disabled")
            _no_horizontal_overflow(page)
            assert not errors, errors
            if viewport is DESKTOP:
                # Still busy: the banner stays, ready to try again.
                page.click("#busy-retry")
                page.wait_for_function("!document.getElementById('busy-retry').disabled", timeout=20000)
                assert page.locator("#busy-banner").is_visible()
                # A place frees up: trying again animates.
                first.close()
                page.wait_for_timeout(500)
                page.click("#busy-retry")
                page.wait_for_function("window.poseAnimator.posesDrawn > 5", timeout=30000)
                assert page.locator("#busy-banner").is_hidden()
                assert "playing the demo dance" in page.locator("#demo-note").inner_text()
            page.close()
        browser.close()
    finally:
        server.stop()


NAMES = ["Hero v2", "Hero.v2", "hero-v2.SVG", "folder/sub\\Hero v2.svg", "日本語の名前", "  -_ spaced _-  ",
         "Cafe\u0301", "नमस्ते", "ok😀emoji", "...", "", "a/", "x" * 63 + "😀" * 3, "-" * 70 + "y",
         "y" * 64 + "-z", "Ⅻ½²", "tab\tand\nnewline", "under_score__", "a.svg.svg"]


def test_the_editor_names_files_as_the_server_does(layout_server, playwright):
    """The save warning and the Download name use the JS twin of rigstore.safe_name."""
    from server.rigstore import safe_name
    browser = _browser(playwright, camera=False)
    page = browser.new_page(bypass_csp=True)
    page.goto(layout_server.url + "/healthz")
    got = page.evaluate("async (names) => { const { safeName } = await import('/static/editor-tools.js');"
                        " return names.map((n) => [safeName(n), safeName(n, '')]); }", NAMES)
    browser.close()
    assert got == [[safe_name(n), safe_name(n, default="")] for n in NAMES]
