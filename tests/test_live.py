"""The live socket over real websockets: an honest client, a hostile one, limits."""
from __future__ import annotations

import io
import queue
import threading
import time

import numpy as np
import pytest
import socketio
from PIL import Image

from conftest import dance_jpegs
from server.pipeline import Performance, skinner_for, default_rig_path
from server.retarget import RetargetSettings
from server.tracking import Tracker, decode_image


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url):
        self.events: "queue.Queue[tuple[str, object]]" = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in ("welcome", "topology", "pose", "problem", "busy", "rigs", "rig_added"):
            self.sio.on(name, self._recorder(name))
        self.sio.connect(url, transports=["websocket"])

    def _recorder(self, name):
        return lambda data=None: self.events.put((name, data))

    def wait(self, name, timeout=30, seq=None):
        deadline = time.time() + timeout
        skipped = []
        while time.time() < deadline:
            try:
                event, data = self.events.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if event == name and (seq is None or (isinstance(data, dict) and data.get("seq") == seq)):
                for item in skipped:
                    self.events.put(item)
                return data
            skipped.append((event, data))
        for item in skipped:
            self.events.put(item)
        raise AssertionError(f"no {name!r} event (seq={seq}) within {timeout}s; got {[e for e, _ in skipped]}")

    def close(self):
        self.sio.disconnect()


@pytest.fixture
def honest(server):
    c = Client(server.url)
    welcome = c.wait("welcome")
    c.sio.emit("choose_rig", {"id": welcome["rig"]})
    c.topology = c.wait("topology")
    yield c
    c.close()


def test_welcome_lists_the_bundled_rigs_and_limits(honest):
    assert honest.topology["id"] == "bundled:robin"
    assert honest.topology["n_points"] == sum(1 + 3 * n for p in honest.topology["paths"] for n, _ in p["subpaths"])
    assert len(honest.topology["joint_names"]) == 85
    assert all(set(p["style"]) >= {"fill", "stroke", "fill_rule", "opacity"} for p in honest.topology["paths"])


def test_frames_give_poses_that_match_the_engine_offline(honest):
    jpegs = dance_jpegs(limit=40)
    received = []
    for seq, jpeg in enumerate(jpegs):
        honest.sio.emit("frame", {"seq": seq, "jpeg": jpeg, "mirror": True, "follow": False, "smoothing": 0})
        received.append(honest.wait("pose", seq=seq))
    n_points = honest.topology["n_points"]
    assert all(len(p["points"]) == 8 * n_points for p in received)
    assert sum(p["person"] for p in received) >= 38
    assert all(p["timings"]["total_ms"] > 0 for p in received)

    # The same frames through the engine offline, with the same settings.
    performance = Performance(skinner_for(default_rig_path()), RetargetSettings(mirror=True, smoothing=0))
    with Tracker() as tracker:
        for seq, jpeg in enumerate(jpegs):
            image = decode_image(jpeg)
            posed = performance.pose(tracker.process(image, seq / 30), image.shape[1], image.shape[0])
            live = np.frombuffer(received[seq]["joints"], "<f4").reshape(-1, 2)
            offline = np.column_stack([posed.joints.real, posed.joints.imag])
            assert np.abs(live - offline).max() < 0.5, seq          # rig units (a 1000-unit canvas)
    wrist_x = [np.frombuffer(p["joints"], "<f4").reshape(-1, 2)[4, 0] for p in received]
    assert np.ptp(wrist_x) > 50                                       # it really moves


def _png(width, height) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (width, height)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_hostile_client_gets_errors_while_an_honest_one_is_served(server, honest):
    hostile = Client(server.url)
    hostile.wait("welcome")
    good = dance_jpegs(limit=30)
    stop = threading.Event()
    served = []

    def honest_loop():
        seq = 1000
        while not stop.is_set():
            honest.sio.emit("frame", {"seq": seq, "jpeg": good[seq % len(good)], "mirror": True})
            served.append(honest.wait("pose", seq=seq, timeout=20))
            seq += 1
    worker = threading.Thread(target=honest_loop)
    worker.start()
    try:
        hostile.sio.emit("frame", {"seq": 1, "jpeg": good[0]})
        assert "choose a rig" in hostile.wait("problem", seq=1)["message"]
        hostile.sio.emit("choose_rig", {"id": "bundled:../../etc/passwd"})
        assert "no rig called" in hostile.wait("problem")["message"]
        hostile.sio.emit("choose_rig", {"id": 42})
        assert "wrong type" in hostile.wait("problem")["message"]
        hostile.sio.emit("choose_rig", {"id": "bundled:juno"})
        hostile.wait("topology")
        cases = [
            ({"seq": 2, "jpeg": b"definitely not a jpeg"}, "not a readable image"),
            ({"seq": 3, "jpeg": b""}, "empty"),
            ({"seq": 4, "jpeg": _png(20000, 20000)}, "too large"),
            ({"seq": 41, "jpeg": _png(4000, 4000)}, "too large"),     # a few kB claiming 16 Mpx
            ({"seq": 42, "jpeg": _png(32768, 8)}, "too large"),       # few pixels, one side too long
            ({"seq": 5, "jpeg": "a string"}, "wrong type"),
            ({"seq": "6", "jpeg": good[0]}, "wrong type"),
            ({"seq": 7}, "missing field"),
            ({"seq": 8, "jpeg": b"\xff" * 2_000_000}, "too big"),
        ]
        for payload, message in cases:
            hostile.sio.emit("frame", payload)
            got = hostile.wait("problem", timeout=20)
            assert message in got["message"], (payload.get("seq"), got)
        hostile.sio.emit("frame", "not even an object")
        assert "expected an object" in hostile.wait("problem")["message"]
        # Flood: hundreds of frames without waiting for answers.
        for seq in range(100, 400):
            hostile.sio.emit("frame", {"seq": seq, "jpeg": good[seq % len(good)]})
        refusals = []
        deadline = time.time() + 30
        while time.time() < deadline and len(refusals) < 50:
            try:
                event, data = hostile.events.get(timeout=5)
            except queue.Empty:
                break
            if event == "problem":
                refusals.append(data["message"])
        assert any("one frame at a time" in m or "frames per second" in m for m in refusals)
    finally:
        stop.set()
        worker.join(timeout=60)
        hostile.close()
    assert len(served) >= 5 and all(p["person"] for p in served[-3:])
    assert server.alive()


def _wait_until_no_clients(server, timeout=15):
    """Clients of earlier tests may still be leaving; the limit counts them until they go."""
    import json
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        if json.loads(urllib.request.urlopen(server.url + "/healthz", timeout=5).read())["clients"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError("earlier clients never left the server")


def test_the_client_over_the_limit_is_told_the_server_is_busy(server):
    _wait_until_no_clients(server)
    clients = [Client(server.url) for _ in range(3)]
    try:
        for c in clients:
            c.wait("welcome")
        extra = Client(server.url)
        assert "busy" in extra.wait("busy")["message"]
        time.sleep(1.0)
        assert not extra.sio.connected
    finally:
        for c in clients:
            c.close()
    _wait_until_no_clients(server)
    again = Client(server.url)          # a place is free again once they leave
    again.wait("welcome")
    again.close()


def test_a_client_that_vanishes_mid_frame_leaves_the_server_fine(server):
    c = Client(server.url)
    welcome = c.wait("welcome")
    c.sio.emit("choose_rig", {"id": welcome["rig"]})
    c.wait("topology")
    c.sio.emit("frame", {"seq": 1, "jpeg": dance_jpegs(limit=1)[0]})
    c.sio.disconnect()                     # gone before the answer
    time.sleep(2)
    assert server.alive()
    follow = Client(server.url)
    follow.wait("welcome")
    follow.close()


def test_demo_poses_and_svg_upload(honest):
    honest.sio.emit("demo", {"seq": 7, "t": 1.25, "mirror": False})
    pose = honest.wait("pose", seq=7)
    assert pose["person"] and len(pose["joints"]) == 85 * 8
    from conftest import PA_RIGS
    honest.sio.emit("upload_rig", {"name": "../../boy.svg", "svg": (PA_RIGS / "boy.svg").read_text()})
    added = honest.wait("rig_added")
    assert added["id"].startswith("upload:") and added["name"] == "boy"
    assert any(r["id"] == added["id"] for r in honest.wait("rigs")["rigs"])
    honest.sio.emit("choose_rig", {"id": added["id"]})
    assert len(honest.wait("topology")["paths"]) == 32
    honest.sio.emit("upload_rig", {"name": "x.svg", "svg": "<svg><script>alert(1)</script></svg>"})
    message = honest.wait("problem")["message"]
    assert "skeleton" in message and "/editor" in message            # points to the rig editor
    honest.sio.emit("upload_rig", {"name": "bomb.svg", "svg": '<!DOCTYPE svg [<!ENTITY a "aa">]><svg>&a;</svg>'})
    assert "entities" in honest.wait("problem")["message"]


def test_connections_from_other_origins_are_refused(server):
    stranger = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(server.url, transports=["websocket"], headers={"Origin": "http://evil.example"})
    assert server.alive()        # the same-origin clients of the other tests connect as usual


def test_requests_for_other_host_names_are_refused(server):
    # DNS rebinding: a page on rebind.example, its name pointed at 127.0.0.1, is "same
    # origin" with itself; only the Host header tells that it is not this server.
    import http.client
    for path in ("/", "/api/takes", "/socket.io/?EIO=4&transport=polling"):
        for host, status in ((f"rebind.example:{server.port}", 421), (f"127.0.0.1:{server.port}", 200),
                             (f"localhost:{server.port}", 200)):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", path, headers={"Host": host, "Origin": f"http://{host}"})
            reply = conn.getresponse()
            reply.read()
            conn.close()
            assert reply.status == status, (path, host, reply.status)
    stranger = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect(server.url, transports=["websocket"],
                         headers={"Host": "rebind.example", "Origin": "http://rebind.example"})
    assert server.alive()


def test_host_names_answered_follow_the_address_bound():
    from server.app import allowed_hosts_for, host_name
    assert allowed_hosts_for("127.0.0.1") == {"localhost", "127.0.0.1", "[::1]"}
    assert "192.168.1.20" in allowed_hosts_for("192.168.1.20")
    assert allowed_hosts_for("0.0.0.0") is None                        # every interface: any name
    assert "studio.lan" in allowed_hosts_for("0.0.0.0", ["Studio.lan"])
    assert [host_name(h) for h in ("[::1]:5000", "LocalHost:80", "example.org")] == ["[::1]", "localhost", "example.org"]


def test_pages_cannot_be_framed_and_load_only_our_own_scripts(server):
    import urllib.request
    for path in ("/", "/editor"):
        with urllib.request.urlopen(server.url + path, timeout=10) as reply:
            policy = reply.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
            assert reply.headers["X-Frame-Options"] == "DENY"
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
