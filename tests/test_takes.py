"""Takes: recorded over the real websocket (real JPEG frames, real MediaPipe), kept when
the client vanishes or the server dies, replayed on other rigs, trimmed, renamed,
deleted, and exported by background jobs while live clients keep being served."""
from __future__ import annotations

import json
import queue
import shutil
import statistics
import time
import urllib.error
import urllib.request
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import socketio

from conftest import PA_RIGS, ROOT, ServerProcess, dance_jpegs
from server.pipeline import Performance, skinner_for
from server.posetrack import BODY_NAMES, PoseFrame, PoseTrack
from server.retarget import RetargetSettings
from server.takes import TakeError, TakeLimits, TakeStore

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
EVENTS = ("welcome", "topology", "pose", "problem", "recording", "take_saved", "rig_added", "rigs")


class Client:
    """A python-socketio client that queues every event it receives."""

    def __init__(self, url):
        self.events: "queue.Queue[tuple[str, object]]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in EVENTS:
            self.sio.on(name, lambda data=None, name=name: self.events.put((name, data)))
        self.sio.connect(url, transports=["websocket"])
        self.welcome = self.wait("welcome")

    def wait(self, name, timeout=30, seq=None):
        deadline = time.time() + timeout
        skipped = []
        try:
            while time.time() < deadline:
                try:
                    event, data = self.events.get(timeout=max(0.01, deadline - time.time()))
                except queue.Empty:
                    break
                if event == name and (seq is None or data.get("seq") == seq):
                    return data
                skipped.append((event, data))
        finally:
            for item in skipped:
                self.events.put(item)
        raise AssertionError(f"no {name!r} (seq={seq}) within {timeout}s; got {[e for e, _ in skipped]}")

    def choose(self, rig_id):
        self.sio.emit("choose_rig", {"id": rig_id})
        return self.wait("topology")

    def demo(self, seq, t, **settings):
        self.sio.emit("demo", {"seq": seq, "t": t, **settings})
        return self.wait("pose", seq=seq)

    def close(self):
        self.sio.disconnect()


def api(server, method, path, body=None, raw=False):
    """(status, JSON or bytes) of an HTTP request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            return response.status, payload if raw else json.loads(payload)
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload)
        except ValueError:                       # e.g. Flask's own page for a URL no route matches
            return exc.code, {"page": payload.decode(errors="replace")}


def wait_for(check, timeout=30, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def finish_job(server, job, timeout=120):
    seen = [job]
    deadline = time.time() + timeout
    while job["state"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.1)
        job = api(server, "GET", f"/api/exports/{job['id']}")[1]
        seen.append(job)
    assert job["state"] not in ("queued", "running"), job
    return job, seen


def record_demo(client, frames, start_seq=1, **settings):
    """Record `frames` demo frames at about 30 fps; returns the take_saved message."""
    client.sio.emit("record_start", {"source": "demo", **settings})
    client.wait("recording")
    started = time.monotonic()
    for i in range(frames):                                  # paced like the page: 30 frames/s
        time.sleep(max(0.0, started + i / 30 - time.monotonic()))
        client.demo(start_seq + i, i / 30.0, **settings)
    client.sio.emit("record_stop", {})
    return client.wait("take_saved")


@pytest.fixture(scope="module")
def robin_client(server):
    client = Client(server.url)
    client.choose(client.welcome["rig"])
    yield client
    client.close()


@pytest.fixture(scope="module")
def demo_take(server, robin_client):
    """Three seconds of the demo dance recorded on Robin."""
    saved = record_demo(robin_client, 90, smoothing=0.0)
    assert saved["reason"] == "stopped"
    return saved["take"]


# --------------------------------------------------------------------------- recording

def test_a_client_that_disconnects_mid_take_leaves_a_take_of_its_frames(server, dance_track):
    jpegs = dance_jpegs(limit=40)
    client = Client(server.url)
    client.choose(client.welcome["rig"])
    client.sio.emit("record_start", {"source": "camera", "name": "Vanishing act"})
    recording = client.wait("recording")
    for seq, jpeg in enumerate(jpegs, start=1):
        client.sio.emit("frame", {"seq": seq, "jpeg": jpeg, "mirror": True, "smoothing": 0.5})
        client.wait("pose", seq=seq)
    client.sio.disconnect()                                   # the tab closes: no record_stop

    take = wait_for(lambda: _ready(server, recording["id"]))
    assert take["name"] == "Vanishing act" and take["source"] == "camera" and take["frames"] == 40
    assert (take["width"], take["height"]) == (480, 480) and take["with_person"] >= 38
    assert take["settings"] == {"mirror": True, "follow": False, "smoothing": 0.5}
    status, data = api(server, "GET", f"/api/takes/{take['id']}/track")
    track = PoseTrack.from_json(data)
    assert len(track.frames) == 40 and track.width == 480
    assert all(b.t > a.t for a, b in zip(track.frames, track.frames[1:]))        # arrival times
    # The stored landmarks are the person's: they match the clip tracked offline (at 576 px).
    wrist = BODY_NAMES.index("leftWrist")
    recorded = np.array([f.body[wrist, :2] for f in track.frames if f.body is not None]) * 576 / 480
    offline = np.array([f.body[wrist, :2] for f in dance_track.frames[:40] if f.body is not None])
    assert np.median(np.linalg.norm(recorded - offline[:len(recorded)], axis=1)) < 0.03 * 576


def _ready(server, take_id):
    status, take = api(server, "GET", f"/api/takes/{take_id}")
    return take if status == 200 and take["state"] == "ready" else None


def test_recording_in_demo_mode_gives_a_take(server, demo_take):
    assert demo_take["source"] == "demo" and demo_take["rig"] == "bundled:robin"
    assert demo_take["frames"] == 90 and demo_take["state"] == "ready"
    assert 1.5 < demo_take["duration"] < 6
    listed = api(server, "GET", "/api/takes")[1]
    assert demo_take["id"] in [t["id"] for t in listed["takes"]]
    assert listed["limits"]["max_seconds"] == 600


def test_a_take_replays_on_a_second_rig(server, demo_take):
    """Juno performs Robin's take: the poses streamed back are exactly those the engine
    computes offline from the stored track."""
    client = Client(server.url)
    topology = client.choose("bundled:juno")
    track = PoseTrack.from_json(api(server, "GET", f"/api/takes/{demo_take['id']}/track")[1])
    offline = Performance(skinner_for(ROOT / "rigs" / "juno.svg"), RetargetSettings(mirror=True, smoothing=0.0))
    for seq, index in enumerate((0, 20, 45, 80), start=1):
        t = track.frames[index].t + 0.001
        client.sio.emit("take", {"seq": seq, "id": demo_take["id"], "t": t, "mirror": True, "smoothing": 0.0})
        pose = client.wait("pose", seq=seq)
        assert pose["rig"] == "bundled:juno" and pose["person"]
        frame = track.frames[index]
        expected = offline.pose(PoseFrame(t, frame.body, frame.face, frame.face_conf), track.width, track.height)
        points = np.frombuffer(pose["points"], "<f4").reshape(-1, 2)
        assert points.shape[0] == topology["n_points"]
        assert np.abs(points - expected.points).max() < 0.01
    client.close()


def test_a_take_exports_on_an_uploaded_rig(server, demo_take, robin_client):
    robin_client.sio.emit("upload_rig", {"name": "boy.svg", "svg": (PA_RIGS / "boy.svg").read_text()})
    boy_id = robin_client.wait("rig_added")["id"]
    status, job = api(server, "POST", f"/api/takes/{demo_take['id']}/export", {"format": "svg", "rig": boy_id})
    assert status == 202 and job["state"] in ("queued", "running")
    job, _ = finish_job(server, job)
    assert job["state"] == "done" and job["filename"] == demo_take["name"].replace(" ", "-") + ".svg"
    status, svg = api(server, "GET", job["download"], raw=True)
    assert status == 200 and svg.count(b"<path ") == len(skinner_for(PA_RIGS / "boy.svg").rig.drawing.paths)
    assert b'repeatCount="indefinite"' in svg


# --------------------------------------------------------------------------- exports

def test_export_runs_in_the_background_while_live_clients_are_served(server, demo_take, tmp_path):
    status, job = api(server, "POST", f"/api/takes/{demo_take['id']}/export", {"format": "mp4", "width": 720})
    assert status == 202
    live = Client(server.url)
    live.choose("bundled:robin")
    round_trips, progress = [], []
    seq = 0
    while job["state"] in ("queued", "running"):
        for _ in range(5):                                   # a live client, 5 frames per status poll
            seq += 1
            started = time.perf_counter()
            live.demo(seq, seq / 30)
            round_trips.append(time.perf_counter() - started)
            time.sleep(1 / 30)
        job = api(server, "GET", f"/api/exports/{job['id']}")[1]
        progress.append(job["progress"])
    live.close()
    assert job["state"] == "done", job
    assert any(0 < p < 1 for p in progress) and progress == sorted(progress)
    print(f"\nlive round trip during an MP4 export: median {1000 * statistics.median(round_trips):.0f} ms, "
          f"max {1000 * max(round_trips):.0f} ms over {len(round_trips)} frames; export {job['result']}")
    assert len(round_trips) >= 20 and statistics.median(round_trips) < 0.08
    status, mp4 = api(server, "GET", job["download"], raw=True)
    (tmp_path / "take.mp4").write_bytes(mp4)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / "take.mp4"))
    assert frames == job["result"]["frames"] == round(demo_take["duration"] * 30)
    assert seconds == pytest.approx(demo_take["duration"], abs=0.05)


def test_an_export_can_be_cancelled(server, demo_take):
    status, job = api(server, "POST", f"/api/takes/{demo_take['id']}/export", {"format": "gif", "width": 1200})
    job = wait_for(lambda: (lambda j: j if j["state"] == "running" and j["done"] > 0 else None)(
        api(server, "GET", f"/api/exports/{job['id']}")[1]))
    status, cancelled = api(server, "POST", f"/api/exports/{job['id']}/cancel", {})
    assert status == 200
    job, _ = finish_job(server, cancelled, timeout=15)
    assert job["state"] == "cancelled" and job["done"] < job["total"]
    status, error = api(server, "GET", f"/api/exports/{job['id']}/download")
    assert status == 409 and "not ready (cancelled)" in error["error"]
    exports = server_data(server) / "exports"
    assert not any(job["id"] in p.name for p in exports.iterdir())        # no partial file left


def server_data(server) -> Path:
    """The server's data folder (ServerProcess keeps its log there)."""
    return Path(server.log.name).parent


# --------------------------------------------------------------------------- editing

def test_trim_rename_delete(server, robin_client):
    take = record_demo(robin_client, 30, start_seq=1000)["take"]
    path = f"/api/takes/{take['id']}"
    whole_track = PoseTrack.from_json(api(server, "GET", path + "/track")[1])
    status, trimmed = api(server, "PATCH", path, {"trim": [0.2, 0.6]})
    assert status == 200 and trimmed["trim"] == [0.2, 0.6] and trimmed["trimmed_duration"] == pytest.approx(0.4)
    track = PoseTrack.from_json(api(server, "GET", path + "/track")[1])
    kept = [f for f in whole_track.frames if 0.2 - 1 / 60 <= f.t <= 0.6 + 1 / 60]
    assert 10 <= len(track.frames) == len(kept) and track.frames[0].t == 0.0
    assert trimmed["trimmed_frames"] == len(kept)           # what the take card shows
    assert np.allclose(track.frames[0].body, kept[0].body)
    status, job = api(server, "POST", path + "/export", {"format": "json"})
    job, _ = finish_job(server, job)
    assert job["result"]["frames"] == len(track.frames)
    status, renamed = api(server, "PATCH", path, {"name": "  Best bit  "})
    assert renamed["name"] == "Best bit" and renamed["trim"] == [0.2, 0.6]
    status, whole = api(server, "PATCH", path, {"trim": None})
    assert whole["trim"] is None and whole["trimmed_duration"] == whole["duration"]
    assert api(server, "DELETE", path) == (200, {"deleted": take["id"]})
    assert api(server, "GET", path)[0] == 404
    assert not (server_data(server) / "takes" / take["id"]).exists()


@pytest.mark.parametrize("method,path,body,status,message", [
    ("GET", "/api/takes/20990101-000000-abcdef", None, 404, "there is no take"),
    ("GET", "/api/takes/..%2F..%2Fetc", None, 404, ""),
    ("PATCH", "/api/takes/{take}", {"name": "../../etc/passwd"}, 400, "cannot contain /"),
    ("PATCH", "/api/takes/{take}", {"name": ""}, 400, "cannot be empty"),
    ("PATCH", "/api/takes/{take}", {"trim": [1.0, 99]}, 400, "trim out of range"),
    ("PATCH", "/api/takes/{take}", {"trim": [2.0, 1.0]}, 400, "trim out of range"),
    ("PATCH", "/api/takes/{take}", {"trim": "all"}, 400, "trim must be [start, end]"),
    ("PATCH", "/api/takes/{take}", {"colour": "red"}, 400, "unknown field(s): colour"),
    ("POST", "/api/takes/{take}/export", {"format": "avi"}, 400, "unknown export format 'avi'"),
    ("POST", "/api/takes/{take}/export", {"format": "gif", "width": 5}, 400, "width must be"),
    ("POST", "/api/takes/{take}/export", {"format": "svg", "precision": 9}, 400, "precision must be"),
    ("POST", "/api/takes/{take}/export", {"format": "svg", "rig": "bundled:../x"}, 400, "there is no rig"),
    ("POST", "/api/takes/nope/export", {"format": "svg"}, 404, "there is no take 'nope'"),
    ("GET", "/api/exports/0123456789abcdef", None, 404, "there is no export"),
    ("POST", "/api/exports/zzz/cancel", {}, 404, "there is no export"),
])
def test_bad_requests_get_clear_errors(server, demo_take, method, path, body, status, message):
    got_status, data = api(server, method, path.format(take=demo_take["id"]), body)
    assert got_status == status
    assert message in data.get("error", "")
    assert api(server, "GET", f"/api/takes/{demo_take['id']}")[1]["name"] == demo_take["name"]   # unchanged


def test_changes_must_be_json(server, demo_take):
    request = urllib.request.Request(f"{server.url}/api/takes/{demo_take['id']}", method="PATCH",
                                     data=b"name=evil", headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 400 and "as JSON" in json.loads(error.value.read())["error"]


def test_socket_misuse_is_a_problem_not_a_crash(server, robin_client):
    robin_client.sio.emit("record_stop", {})
    assert robin_client.wait("problem")["message"] == "not recording"
    robin_client.sio.emit("take", {"seq": 5000, "id": "../../etc", "t": 0.0})
    assert "there is no take" in robin_client.wait("problem")["message"]
    robin_client.sio.emit("record_start", {"source": "demo", "name": "../../escape"})
    assert "cannot contain /" in robin_client.wait("problem")["message"]
    robin_client.sio.emit("record_start", {"source": "demo"})
    robin_client.wait("recording")
    robin_client.sio.emit("record_start", {"source": "demo"})
    assert "already recording" in robin_client.wait("problem")["message"]
    robin_client.sio.emit("record_stop", {})
    assert robin_client.wait("take_saved") == {"take": None, "reason": "nothing was recorded"}
    assert server.alive()
    takes_folder = server_data(server) / "takes"
    listed = {t["id"] for t in api(server, "GET", "/api/takes")[1]["takes"]}
    assert {p.name for p in takes_folder.iterdir()} == listed               # no stray folders


# --------------------------------------------------------------------------- durability, limits

def test_a_take_survives_the_server_being_killed(tmp_path):
    first = ServerProcess(tmp_path)
    try:
        client = Client(first.url)
        client.choose("bundled:robin")
        client.sio.emit("record_start", {"source": "demo"})
        take_id = client.wait("recording")["id"]
        for seq in range(1, 46):
            client.demo(seq, seq / 30)
        first.proc.kill()                                     # no clean shutdown at all
        first.proc.wait(timeout=10)
    finally:
        first.log.close()
    second = ServerProcess(tmp_path)
    try:
        take = api(second, "GET", f"/api/takes/{take_id}")[1]
        assert take["state"] == "ready" and take["frames"] == 45           # every frame answered was kept
        assert len(PoseTrack.from_json(api(second, "GET", f"/api/takes/{take_id}/track")[1]).frames) == 45
        assert not (tmp_path / "takes" / take_id / "frames.jsonl").exists()
    finally:
        second.stop()


def test_takes_are_bounded(tmp_path):
    store = TakeStore(tmp_path, TakeLimits(max_frames=5, max_takes=2))
    body = np.zeros((17, 3))
    first = store.start_recording("demo", "bundled:robin")
    assert [first.add(PoseFrame(0.0, body), 640, 480) for _ in range(6)] == [True] * 4 + [False, False]
    assert first.full and first.finish()["frames"] == 5
    empty = store.start_recording("camera", None)
    assert empty.finish() is None and len(store.list()) == 1                 # nothing recorded: no take
    second = store.start_recording("demo", None)
    second.add(PoseFrame(0.0, body), 640, 480)
    assert second.finish()["frames"] == 1
    with pytest.raises(TakeError, match="already 2 takes"):
        store.start_recording("demo", None)
    store.delete(first.id)                                                  # room again
    third = store.start_recording("demo", None)
    with pytest.raises(TakeError, match="already 2 takes"):                # a take being recorded counts
        store.start_recording("demo", None)
    third.finish()


def test_a_full_take_stops_itself_and_is_saved(tmp_path):
    """Over Flask-SocketIO's in-process client, with a 5-frame limit."""
    from server.app import create_app
    app, socketio_server, live = create_app(data_dir=tmp_path)
    live.takes.limits.max_frames = 5
    client = socketio_server.test_client(app)
    client.emit("choose_rig", {"id": "bundled:robin"})
    client.emit("record_start", {"source": "demo"})
    for seq in range(1, 9):
        client.emit("demo", {"seq": seq, "t": seq / 30})
    events = client.get_received()
    saved = [e["args"][0] for e in events if e["name"] == "take_saved"]
    assert len(saved) == 1 and saved[0]["take"]["frames"] == 5
    assert "reached the limit" in saved[0]["reason"]
    assert sum(e["name"] == "pose" for e in events) == 8                # the live poses never stopped
    client.emit("record_stop", {})
    assert client.get_received()[-1]["args"][0]["message"] == "not recording"
    client.disconnect()


def test_a_disk_error_ends_the_take_with_what_was_written(tmp_path):
    store = TakeStore(tmp_path)
    recorder = store.start_recording("camera", None)
    body = np.tile([[100.0, 50.0, 0.9]], (17, 1))
    assert recorder.add(PoseFrame(0.0, body), 640, 480)
    good = recorder._fh
    good.close()
    recorder._fh = open("/dev/full", "w")                  # a real "No space left on device"
    assert not recorder.add(PoseFrame(0.0, body), 640, 480)
    assert "No space left on device" in recorder.stop_reason
    assert recorder.finish()["frames"] == 1


def test_frames_of_another_size_are_scaled_into_the_take(tmp_path):
    store = TakeStore(tmp_path)
    recorder = store.start_recording("camera", None)
    body = np.tile([[100.0, 50.0, 0.9]], (17, 1))
    recorder.add(PoseFrame(0.0, body), 640, 480)
    recorder.add(PoseFrame(0.0, body), 320, 240)                            # the camera changed
    take = recorder.finish()
    track = store.track(take["id"])
    assert (track.width, track.height) == (640, 480)
    assert track.frames[1].body[0].tolist() == [200.0, 100.0, 0.9]


# --------------------------------------------------------------------------- the page

def test_the_page_records_plays_back_and_exports(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(bypass_csp=True, viewport={"width": 1280, "height": 900}, accept_downloads=True)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(server.url)
        page.wait_for_function("window.poseAnimator.mode === 'demo' && window.poseAnimator.posesDrawn > 5",
                               timeout=60000)
        before = len(page.evaluate("window.poseAnimator.takes.takes"))
        page.click("#record-button")
        page.wait_for_function("window.poseAnimator.takes.recording")
        page.wait_for_timeout(1500)
        assert page.locator("#take-badge").inner_text().startswith("● REC 0:01")
        assert page.locator("#record-label").inner_text() == "Stop"
        page.click("#record-button")
        page.wait_for_function(f"window.poseAnimator.takes.takes.length === {before + 1}")
        card = page.locator(".take").first
        assert "frames · demo" in card.locator(".take-summary").inner_text()

        # Play it back: the stage shows the take, not the demo.
        card.locator(".take-play").click()
        page.wait_for_function("window.poseAnimator.takes.playing !== null")
        drawn = page.evaluate("window.poseAnimator.posesDrawn")
        page.wait_for_function(f"window.poseAnimator.posesDrawn > {drawn + 10}")
        assert page.locator("#take-badge").inner_text().startswith("▶ Take")
        card.locator(".take-play").click()

        # Export as SVG: a progress bar, then a link that downloads the animation.
        card.scroll_into_view_if_needed()
        card.locator(".take-export[data-format=svg]").click()
        page.wait_for_selector(".take .take-download:not([hidden])", timeout=60000)
        page.screenshot(path=str(ROOT / "artifacts" / "takes-panel.png"))
        with page.expect_download() as download:
            card.locator(".take-download").click()
        svg = open(download.value.path(), encoding="utf-8").read()
        assert download.value.suggested_filename.endswith(".svg") and "<animate" in svg

        # Rename, then delete it.
        card.locator(".take-edit summary").click()
        card.locator(".take-input").first.fill("Dance floor")
        card.locator("button", has_text="Rename").click()
        page.wait_for_function("window.poseAnimator.takes.takes.some((t) => t.name === 'Dance floor')")
        card.locator(".take-delete").click()
        page.wait_for_function(f"window.poseAnimator.takes.takes.length === {before}")
        browser.close()
    assert not errors, errors


def test_a_slow_camera_gives_a_take_with_its_real_frame_rate(server, robin_client):
    robin_client.sio.emit("record_start", {"source": "demo"})
    robin_client.wait("recording")
    started = time.monotonic()
    for i in range(20):                                      # frames arrive 0.1 s apart: 10 fps
        time.sleep(max(0.0, started + i / 10 - time.monotonic()))
        robin_client.demo(5000 + i, i / 10.0)
    robin_client.sio.emit("record_stop", {})
    take = robin_client.wait("take_saved")["take"]
    assert take["frames"] == 20 and take["fps"] == pytest.approx(10.0, rel=0.01)
    assert take["duration"] == pytest.approx(2.0, abs=0.01)
    status, trimmed = api(server, "PATCH", f"/api/takes/{take['id']}", {"trim": [0.5, 1.0]})
    assert status == 200 and trimmed["trimmed_frames"] == 6
    api(server, "DELETE", f"/api/takes/{take['id']}")
