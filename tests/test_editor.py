"""The rig editor against the real server: upload, auto-rig, binding, save, hostile files,
and the whole flow in a real headless Chromium."""
from __future__ import annotations

import json
import queue
import re
import shutil
import time

import numpy as np
import pytest
import requests
import socketio

from conftest import PA_RIGS, ROOT, SHARED, ServerProcess
from server.rig import RigError, load_rig, rig_from_bytes
from server.rigstore import RigStore
from server.skeleton import ALL_JOINTS, BODY_JOINTS

EMOJI = SHARED / "svg" / "emoji"
STANDING = EMOJI / "noto-emoji" / "1f9cd_person-standing.svg"
LIBRSVG_HOSTILE = sorted((SHARED / "svgsuite" / "librsvg" / "crash").glob("*.svg*")) + \
    sorted((SHARED / "svgsuite" / "librsvg" / "errors").glob("*.svg*"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FORBIDDEN = ("<script", "onload", "onclick", "onmouseover", "foreignobject", "evil.example", "javascript:",
             "<!entity", "<!doctype", "xlink:href", "<image", "<use", "<iframe", "<div")


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("editor-server")
    srv = ServerProcess(data, max_clients=4)
    srv.data = data
    yield srv
    srv.stop()


def upload(srv, path_or_bytes, name="drawing.svg"):
    data = path_or_bytes.read_bytes() if hasattr(path_or_bytes, "read_bytes") else path_or_bytes
    filename = path_or_bytes.name if hasattr(path_or_bytes, "name") else name
    return requests.post(srv.url + "/api/autorig", files={"svg": (filename, data, "image/svg+xml")}, timeout=120)


def saved_files(srv) -> list[str]:
    folder = srv.data / "rigs"
    return sorted(str(p.relative_to(srv.data)) for p in folder.rglob("*")) if folder.exists() else []


def assert_clean(text: str):
    lowered = text.lower()
    for bad in FORBIDDEN:
        assert bad not in lowered, bad


def assert_clean_document(doc: dict):
    """An editor document: numbers, styles from a fixed vocabulary, and our own messages."""
    warnings = doc.pop("warnings")
    assert all(re.fullmatch(r"\d+ <(text|image)> element\(s\) cannot be drawn as paths and were skipped", w)
               for w in warnings), warnings
    assert_clean(json.dumps(doc))
    for path in doc["paths"]:
        for paint in (path["style"]["fill"], path["style"]["stroke"]):
            assert paint is None or re.fullmatch(r"#[0-9a-f]{6}", paint)


def hostile_rig() -> bytes:
    """The boy rig laced with everything that must never be served back."""
    boy = (PA_RIGS / "boy.svg").read_text()
    boy = boy.replace("<svg version", '<svg onload="alert(1)" version', 1)
    boy = boy.replace('<g id="illustration">', '<g id="illustration"><script>alert(2)</script>'
                      '<foreignObject width="100" height="100"><div xmlns="http://www.w3.org/1999/xhtml">'
                      '<iframe src="http://evil.example/"></iframe></div></foreignObject>'
                      '<image href="http://evil.example/a.png" x="0" y="0" width="10" height="10"/>'
                      '<use xlink:href="http://evil.example/sprite.svg#a"/>'
                      '<a href="javascript:alert(3)"><rect x="1" y="1" width="5" height="5" fill="red"/></a>'
                      '<path d="M0 0L10 10" stroke="red" onclick="alert(4)" onmouseover="alert(5)"/>', 1)
    return boy.encode()


OWN_HOSTILE = {
    "entity.svg": (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>', "entities"),
    "laughs.svg": (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
                   b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">'
                   b'<text>&b;</text></svg>', "entities"),
    "page.svg": (b"<html><body><script>alert(1)</script></body></html>", "not <svg>"),
    "broken.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><g><path d="M0 0"></svg>', "not well-formed"),
    "only-script.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
                        b'</svg>', "draws nothing"),
    "many.svg": (b'<svg xmlns="http://www.w3.org/2000/svg">' + b'<circle r="1"/>' * 20001 + b"</svg>",
                 "more than 20000 elements"),
    "shapes.svg": (b'<svg xmlns="http://www.w3.org/2000/svg">' + b'<rect width="1" height="1"/>' * 5200
                   + b"</svg>", "too many shapes"),
}


# ---------------------------------------------------------------- HTTP API

def test_an_uploaded_drawing_comes_back_auto_rigged(editor_server):
    reply = upload(editor_server, STANDING)
    assert reply.status_code == 200, reply.text
    doc = reply.json()
    assert set(doc["joints"]) == set(ALL_JOINTS)
    assert doc["source"].startswith("src-") and doc["name"] == "1f9cd_person-standing"
    assert doc["report"]["parts"]["torso"] == "detected" and not doc["report"]["from_file"]
    kinds = doc["report"]["joints"]
    assert set(kinds) == set(ALL_JOINTS) and set(kinds.values()) <= {"detected", "fitted", "guessed"}
    n_points = sum(len(p["points"]) // 2 for p in doc["paths"])
    assert len(doc["binding"]["point_group"]) == n_points
    assert set(doc["binding"]["groups"]) >= {"torso", "leftArm", "face"}
    assert len(doc["bones"]) == 12 + 68 and len(doc["sets"]["face"]) == 73
    assert all(isinstance(v, float) for p in doc["paths"] for v in p["points"][:4])


def test_an_existing_rig_opens_with_its_own_joints(editor_server):
    doc = upload(editor_server, PA_RIGS / "girl.svg").json()
    girl = load_rig(PA_RIGS / "girl.svg")
    assert doc["report"]["from_file"]
    assert max(abs(doc["joints"][n][k] - girl.joints[n][k]) for n in girl.joints for k in (0, 1)) < 1e-3
    bundled = requests.get(editor_server.url + "/api/rigs/bundled:juno/edit", timeout=30).json()
    assert set(bundled["joints"]) == set(ALL_JOINTS) and bundled["rig_id"] == "bundled:juno"


def test_binding_view_follows_joints_and_pins(editor_server):
    doc = upload(editor_server, STANDING).json()
    body = {"source": doc["source"], "joints": doc["joints"], "pins": {}}
    plain = requests.post(editor_server.url + "/api/binding", json=body, timeout=30).json()
    assert plain == doc["binding"]
    groups = plain["groups"]
    sizes = [len(p["points"]) // 2 for p in doc["paths"]]
    start = sum(sizes[:3])
    pinned = requests.post(editor_server.url + "/api/binding", json={**body, "pins": {"3": "rightLeg"}},
                           timeout=30).json()
    codes = pinned["point_group"][start:start + sizes[3]]
    assert {pinned["groups"][c] for c in codes} == {"rightLeg"}
    assert pinned["point_group"][:start] == plain["point_group"][:start]
    assert "rightLeg" in groups


def test_saving_writes_a_rig_keeps_the_previous_one_and_tells_live_pages(editor_server):
    doc = upload(editor_server, EMOJI / "twemoji" / "1f9cd_person-standing.svg").json()
    listener = socketio.Client(reconnection=False)
    announced: "queue.Queue[dict]" = queue.Queue()
    listener.on("rigs", lambda data: announced.put(data))
    listener.connect(editor_server.url, transports=["websocket"])
    try:
        first = requests.post(editor_server.url + "/api/rigs", json={
            "name": "Twemoji Hero!", "source": doc["source"], "joints": doc["joints"]}, timeout=30)
        assert first.status_code == 201, first.text
        info = first.json()
        assert info["id"] == "saved:Twemoji-Hero" and info["file"] == "Twemoji-Hero.svg"
        ids = [r["id"] for r in announced.get(timeout=10)["rigs"]]
        assert "saved:Twemoji-Hero" in ids
    finally:
        listener.disconnect()
    path = editor_server.data / "rigs" / "Twemoji-Hero.svg"
    version_one = path.read_bytes()
    moved = dict(doc["joints"], leftWrist=[doc["joints"]["leftWrist"][0] + 2.5, doc["joints"]["leftWrist"][1]])
    again = requests.post(editor_server.url + "/api/rigs", json={
        "name": "Twemoji Hero!", "source": doc["source"], "joints": moved, "pins": {"0": "torso"}}, timeout=30)
    assert again.status_code == 201
    assert again.json()["replaced"] and not info["replaced"]
    kept = sorted((editor_server.data / "rigs" / "previous").glob("Twemoji-Hero.*.svg"))
    assert [p.read_bytes() for p in kept] == [version_one]
    rig = load_rig(path)
    assert np.allclose(rig.joints["leftWrist"], moved["leftWrist"], atol=1e-3)
    assert rig.drawing.paths[0].bind_group == "torso"
    assert "saved:Twemoji-Hero" in [r["id"] for r in requests.get(editor_server.url + "/api/rigs").json()["rigs"]]

    served = requests.get(editor_server.url + "/api/rigs/saved:Twemoji-Hero/svg", timeout=30)
    assert served.headers["Content-Type"].startswith("image/svg+xml")
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert np.allclose(rig_from_bytes(served.content).joints["leftWrist"], moved["leftWrist"], atol=1e-3)
    download = requests.get(editor_server.url + "/api/rigs/saved:Twemoji-Hero/download", timeout=30)
    assert download.headers["Content-Disposition"].startswith('attachment; filename="Twemoji-Hero.svg"')
    exported = requests.post(editor_server.url + "/api/export", json={
        "name": "unsaved", "source": doc["source"], "joints": moved}, timeout=30)
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert np.allclose(rig_from_bytes(exported.content).joints["leftWrist"], moved["leftWrist"], atol=1e-3)


def test_a_shared_rig_round_trips_through_the_editor(editor_server):
    boy = load_rig(PA_RIGS / "boy.svg")
    doc = upload(editor_server, PA_RIGS / "boy.svg").json()
    saved = requests.post(editor_server.url + "/api/rigs", json={
        "name": "boy-again", "source": doc["source"], "joints": doc["joints"]}, timeout=30)
    assert saved.status_code == 201
    again = load_rig(editor_server.data / "rigs" / "boy-again.svg")
    assert max(np.abs(again.joints[n] - boy.joints[n]).max() for n in boy.joints) < 1e-3
    assert len(again.drawing.paths) == len(boy.drawing.paths)
    for a, b in zip(boy.drawing.paths, again.drawing.paths):
        assert a.subpaths == b.subpaths and np.abs(a.points - b.points).max() < 1e-3
    assert len(again.secondary) == len(boy.secondary)
    # The eyes' and mouth's own joint markers sit in the artwork: unpainted, so other
    # viewers show no dots on the face.
    markers = re.findall(r'<circle id="\w+_\d+_"[^>]*>', (editor_server.data / "rigs" / "boy-again.svg").read_text())
    assert len(markers) == sum(len(g.joints) for g in boy.secondary)
    assert all('fill="none"' in m for m in markers)


def test_the_preview_rig_animates_over_the_live_socket(editor_server):
    doc = upload(editor_server, STANDING).json()
    info = requests.post(editor_server.url + "/api/preview", json={
        "source": doc["source"], "joints": doc["joints"], "name": "standing"}, timeout=30).json()
    assert info["id"].startswith("upload:")
    listed = requests.get(editor_server.url + "/api/rigs", timeout=30).json()["rigs"]
    assert info["id"] not in {r["id"] for r in listed}        # previews stay out of the pickers
    events: "queue.Queue[tuple[str, object]]" = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("welcome", "topology", "pose", "problem"):
        client.on(name, lambda data=None, name=name: events.put((name, data)))
    client.connect(editor_server.url, transports=["websocket"])
    try:
        client.emit("choose_rig", {"id": info["id"]})
        got = wait_for(events, "topology")
        assert got["id"] == info["id"] and got["n_points"] == sum(len(p["points"]) // 2 for p in doc["paths"])
        client.emit("demo", {"seq": 1, "t": 1.0})
        pose = wait_for(events, "pose")
        assert pose["rig"] == info["id"] and len(pose["points"]) == 8 * got["n_points"]
    finally:
        client.disconnect()


def wait_for(events, name, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        event, data = events.get(timeout=max(0.01, deadline - time.time()))
        if event == name:
            return data
        assert event != "problem", data
    raise AssertionError(f"no {name}")


def test_bad_requests_get_clear_errors(editor_server):
    url = editor_server.url
    doc = upload(editor_server, STANDING).json()
    cases = [
        ({"source": "src-gone", "joints": doc["joints"]}, 409, "open the file again"),
        ({"source": doc["source"], "joints": {**doc["joints"], "tail": [0, 0]}}, 400, "unknown joint"),
        ({"source": doc["source"], "joints": {k: v for k, v in doc["joints"].items() if k != "leftHip"}}, 400,
         "missing body joints"),
        ({"source": doc["source"], "joints": {**doc["joints"], "leftHip": ["x", 1]}}, 400, "[x, y]"),
        ({"source": doc["source"], "joints": {**doc["joints"], "leftHip": [1e300, 1]}}, 400, "unusable"),
        ({"source": doc["source"], "joints": doc["joints"], "pins": {"0": "tail"}}, 400, "not a bone group"),
        ({"source": doc["source"], "joints": doc["joints"], "pins": {"9999": "torso"}}, 400, "no path 9999"),
    ]
    for body, status, message in cases:
        for endpoint in ("/api/binding", "/api/rigs"):
            reply = requests.post(url + endpoint, json={"name": "bad", **body}, timeout=30)
            assert reply.status_code == status and message in reply.json()["error"], (endpoint, reply.text)
    assert requests.post(url + "/api/rigs", data=b"{not json", timeout=30).status_code == 400
    assert requests.post(url + "/api/rigs", json={"name": " ", "source": doc["source"],
                                                  "joints": doc["joints"]}).status_code == 400
    for junk in ("..", "...", "/", "***"):
        reply = requests.post(url + "/api/rigs", json={"name": junk, "source": doc["source"], "joints": doc["joints"]})
        assert reply.status_code == 400 and "no letters or digits" in reply.json()["error"], junk
    assert requests.get(url + "/api/rigs/saved:nothing-here/svg", timeout=30).status_code == 404
    assert not any("bad" in f for f in saved_files(editor_server))


# ---------------------------------------------------------------- untrusted uploads

@pytest.mark.parametrize("path", LIBRSVG_HOSTILE, ids=lambda p: p.name)
def test_librsvg_crash_files_are_refused_or_sanitised(editor_server, path):
    before = saved_files(editor_server)
    reply = upload(editor_server, path)
    assert reply.status_code in (200, 413, 422), reply.status_code
    if reply.status_code != 200:
        error = reply.json()["error"]
        assert 10 < len(error) < 300 and "\n" not in error
    else:
        assert_clean_document(reply.json())
    assert saved_files(editor_server) == before
    assert editor_server.alive()


@pytest.mark.parametrize("name", sorted(OWN_HOSTILE))
def test_own_hostile_files_are_refused_with_a_clear_message(editor_server, name):
    data, message = OWN_HOSTILE[name]
    before = saved_files(editor_server)
    reply = upload(editor_server, data, name)
    assert reply.status_code in (413, 422), reply.text[:300]
    assert message in reply.json()["error"]
    # The same text sent as the "forgotten source" of a save is refused too.
    saved = requests.post(editor_server.url + "/api/rigs", json={
        "name": "sneaky", "source": "src-none", "svg": data.decode("latin-1"),
        "joints": {n: [0.0, 0.0] for n in ALL_JOINTS}}, timeout=60)
    assert saved.status_code in (413, 422)
    assert saved_files(editor_server) == before
    assert editor_server.alive()


def test_oversized_uploads_are_refused_before_parsing(editor_server):
    big = b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * (6 * 1024 * 1024) + b"</svg>"
    reply = upload(editor_server, big, "big.svg")
    assert reply.status_code == 413 and "too large" in reply.json()["error"]
    assert editor_server.alive()


def test_scripts_handlers_and_external_references_never_come_back(editor_server):
    reply = upload(editor_server, hostile_rig(), "boy.svg")
    assert reply.status_code == 200, reply.text
    doc = reply.json()
    assert_clean_document(dict(doc))
    saved = requests.post(editor_server.url + "/api/rigs", json={
        "name": "laced", "source": doc["source"], "joints": doc["joints"]}, timeout=30)
    assert saved.status_code == 201
    for text in ((editor_server.data / "rigs" / "laced.svg").read_text(),
                 requests.get(editor_server.url + "/api/rigs/saved:laced/svg").text,
                 requests.get(editor_server.url + "/api/rigs/saved:laced/download").text):
        assert_clean(text)
        assert rig_from_bytes(text.encode()).has_face
    # The forgotten-source path rebuilds from the text the same way.
    resent = requests.post(editor_server.url + "/api/export", json={
        "name": "laced", "source": "src-none", "svg": hostile_rig().decode(), "joints": doc["joints"]})
    assert resent.status_code == 200
    assert_clean(resent.text)


@pytest.mark.parametrize("name,stem", [("../../escape", "escape"), ("..\\..\\win", "win"),
                                       ("/etc/passwd", "passwd"), (".hidden", "hidden"),
                                       ("a/b/../c d.svg", "c-d"), ("Héros.v2.svg", "Héros-v2"),
                                       ("C:\\Users\\me\\Robin.SVG", "Robin")])
def test_rig_names_cannot_leave_the_rigs_folder(editor_server, name, stem):
    doc = upload(editor_server, STANDING).json()
    reply = requests.post(editor_server.url + "/api/rigs", json={
        "name": name, "source": doc["source"], "joints": doc["joints"]}, timeout=30)
    assert reply.status_code == 201, reply.text
    assert reply.json()["id"] == f"saved:{stem}"
    assert (editor_server.data / "rigs" / f"{stem}.svg").is_file()
    outside = [p for p in editor_server.data.rglob("*.svg") if p.parent.name not in ("rigs", "previous")]
    assert not outside
    for rig_id in ("saved:..%2F..%2Fescape", "bundled:..%2Fserver%2Fapp", "saved:%2Fetc%2Fpasswd"):
        assert requests.get(f"{editor_server.url}/api/rigs/{rig_id}/svg", timeout=10).status_code == 404


def test_saving_keeps_the_last_five_versions_of_a_rig(tmp_path):
    store = RigStore(saved_dir=tmp_path)
    base = (PA_RIGS / "boy.svg").read_text()
    versions = [base.replace("</svg>", f"<!-- version {i} --></svg>") for i in range(8)]
    for i, text in enumerate(versions):
        info, replaced = store.save("boy", text)
        assert info.id == "saved:boy" and replaced == (i > 0)
    assert (tmp_path / "boy.svg").read_text() == versions[-1]
    kept = sorted((tmp_path / "previous").glob("boy.*.svg"))
    assert [p.read_text() for p in kept] == versions[2:7]
    with pytest.raises(RigError):
        store.save("boy", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert (tmp_path / "boy.svg").read_text() == versions[-1]      # a refused save changes nothing


def test_other_sites_cannot_change_anything(editor_server):
    doc = upload(editor_server, STANDING).json()
    body = {"name": "forged", "source": doc["source"], "joints": doc["joints"]}
    forged = requests.post(editor_server.url + "/api/rigs", json=body,
                           headers={"Origin": "http://evil.example"}, timeout=30)
    assert forged.status_code == 403 and "same origin" in forged.json()["error"]
    as_form = requests.post(editor_server.url + "/api/rigs", data=json.dumps(body),
                            headers={"Content-Type": "text/plain"}, timeout=30)
    assert as_form.status_code == 400 and "as JSON" in as_form.json()["error"]
    assert not any("forged" in f for f in saved_files(editor_server))
    own = requests.post(editor_server.url + "/api/rigs", json=body,
                        headers={"Origin": editor_server.url}, timeout=30)
    assert own.status_code == 201


# ---------------------------------------------------------------- in the browser

def _launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)


def _stage_hash(page):
    return page.evaluate("""() => {
        const c = document.getElementById('stage');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let hash = 0;
        for (let i = 0; i < d.length; i += 64) hash = (hash * 31 + d[i] + 7 * d[i + 1]) >>> 0;
        return hash;
    }""")


def test_rig_an_emoji_in_the_browser_save_reload_and_animate_it_live(editor_server):
    from playwright.sync_api import sync_playwright
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    figure = EMOJI / "openmoji" / "1F9CD_person-standing.svg"
    with sync_playwright() as p:
        browser = _launch(p)
        errors = []
        live = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
        live.on("pageerror", lambda e: errors.append(str(e)))
        live.goto(editor_server.url)          # open before saving: it must learn of the new rig
        live.wait_for_function("window.poseAnimator && window.poseAnimator.posesDrawn > 3", timeout=60000)
        assert live.locator("#editor-link").get_attribute("href") == "/editor"

        page = browser.new_page(bypass_csp=True, viewport={"width": 1440, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(editor_server.url + "/editor")
        page.set_input_files("#svg-file", str(figure))
        page.wait_for_function("window.rigEditor.ready", timeout=60000)
        assert page.locator("#report-parts li").count() == 6
        start = page.evaluate("window.rigEditor.joints")

        # Drag the left wrist with the real mouse.
        x, y = page.evaluate("window.rigEditor.jointOnPage('leftWrist')")
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 30, y - 45, steps=6)
        page.mouse.up()
        dragged = page.evaluate("window.rigEditor.joints")
        assert dragged["leftWrist"] != start["leftWrist"]
        assert all(dragged[n] == start[n] for n in ALL_JOINTS if n != "leftWrist")
        assert page.evaluate("window.rigEditor.dirty")

        # Undo and redo by keyboard, mirror by button (then undo it).
        page.keyboard.press("Control+z")
        assert page.evaluate("window.rigEditor.joints")["leftWrist"] == start["leftWrist"]
        page.keyboard.press("Control+Shift+z")
        assert page.evaluate("window.rigEditor.joints")["leftWrist"] == dragged["leftWrist"]
        page.click("#mirror-left")
        mirrored = page.evaluate("window.rigEditor.joints")
        axis = np.mean([mirrored[n][0] for n in ("leftShoulder", "rightShoulder", "leftHip", "rightHip")])
        assert abs(mirrored["rightWrist"][0] - (2 * axis - mirrored["leftWrist"][0])) < 1e-6
        page.click("#undo")
        assert page.evaluate("window.rigEditor.joints") == dragged

        # Scale the face as a set with its corner handle.
        page.click("[data-set=face]")
        face_before = np.array([dragged[n] for n in ALL_JOINTS[12:]])
        corner = page.evaluate("""(() => { const e = window.rigEditor; const names = e.selection;
            const pts = names.map((n) => e.jointOnPage(n));
            return [Math.max(...pts.map((p) => p[0])) + 12, Math.max(...pts.map((p) => p[1])) + 12]; })()""")
        page.mouse.move(*corner)
        page.mouse.down()
        page.mouse.move(corner[0] + 15, corner[1] + 15, steps=4)
        page.mouse.up()
        scaled = page.evaluate("window.rigEditor.joints")
        face_after = np.array([scaled[n] for n in ALL_JOINTS[12:]])
        assert np.ptp(face_after[:, 0]) > 1.05 * np.ptp(face_before[:, 0])
        page.click("#undo")
        page.keyboard.press("Escape")

        # Binding colours and the demo preview.
        page.click("label.switch:has(#show-binding)")
        page.click("#preview-demo")
        page.wait_for_function("window.rigEditor.previewPoses > 5", timeout=30000)
        page.screenshot(path=str(artifacts / "editor.png"))
        page.click("#preview-stop")

        # Save, then reload: the joint is where it was left.
        page.fill("#rig-name", "e2e-hero")
        page.click("#save")
        page.wait_for_function("window.rigEditor.savedId === 'saved:e2e-hero' && !window.rigEditor.dirty",
                               timeout=30000)
        assert "rig=saved%3Ae2e-hero" in page.url or "rig=saved:e2e-hero" in page.url
        page.reload()
        page.wait_for_function("window.rigEditor.ready", timeout=60000)
        reloaded = page.evaluate("window.rigEditor.joints")
        assert max(abs(reloaded[n][k] - dragged[n][k]) for n in ALL_JOINTS for k in (0, 1)) < 1e-3

        # The live page, opened before the save, lists the rig at once and animates it.
        live.wait_for_function("[...document.querySelectorAll('#rig-picker option')]"
                               ".some((o) => o.value === 'saved:e2e-hero')", timeout=15000)
        live.select_option("#rig-picker", "saved:e2e-hero")
        live.wait_for_function("window.poseAnimator.topology && window.poseAnimator.topology.id === 'saved:e2e-hero'",
                               timeout=30000)
        drawn = live.evaluate("window.poseAnimator.posesDrawn")
        first = _stage_hash(live)
        live.wait_for_function(f"window.poseAnimator.posesDrawn > {drawn + 10}", timeout=30000)
        assert _stage_hash(live) != first
        live.screenshot(path=str(artifacts / "editor-rig-live.png"))
        browser.close()
    assert not errors, errors

    # The saved file loads in the engine with the joints the editor showed.
    rig = load_rig(editor_server.data / "rigs" / "e2e-hero.svg")
    assert max(abs(rig.joints[n][k] - dragged[n][k]) for n in ALL_JOINTS for k in (0, 1)) < 1e-3
    assert set(BODY_JOINTS) <= set(rig.joints)


def test_the_preview_plays_from_the_camera_too(editor_server):
    """Chromium's fake camera (a test pattern, no person): frames go out, poses come back."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(editor_server.url + "/editor?rig=bundled:robin")
        page.wait_for_function("window.rigEditor.ready", timeout=60000)
        page.click("#preview-camera")
        page.wait_for_function("window.rigEditor.previewPoses > 5", timeout=30000)
        page.click("#preview-stop")
        browser.close()
    assert not errors, errors

