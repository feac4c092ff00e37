"""Benchmarks (`make bench`): skinning throughput, pipeline cost against MediaPipe alone,
the live server under 1, 2 and 4 streaming clients, and its memory over many visits.
Prints numbers; asserts nothing.

    python bench/run.py [skinning] [pipeline] [live] [sessions]      (default: all)
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
SHARED = Path(os.environ.get("POSE_ANIMATOR_SHARED", ROOT.parent / "shared")).resolve()

import numpy as np  # noqa: E402


def large_rig_svg(n_paths: int = 2500, segments_per_path: int = 5, seed: int = 7) -> bytes:
    """Robin's skeleton with thousands of small closed blobs scattered over the body."""
    rng = np.random.default_rng(seed)
    text = (ROOT / "rigs" / "robin.svg").read_text()
    skeleton = text[text.index('<g id="skeleton"'):text.rindex("</svg>")]
    blobs = []
    for _ in range(n_paths):
        cx, cy = rng.uniform(280, 720), rng.uniform(60, 950)
        r = rng.uniform(4, 15)
        angles = np.linspace(0, 2 * np.pi, segments_per_path + 1)
        pts = np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)])
        d = f"M{pts[0, 0]:.2f} {pts[0, 1]:.2f}" + "".join(
            f"C{a[0] + 2:.2f} {a[1] - 2:.2f} {b[0] - 2:.2f} {b[1] + 2:.2f} {b[0]:.2f} {b[1]:.2f}"
            for a, b in zip(pts[:-1], pts[1:])) + "Z"
        blobs.append(f'<path d="{d}" fill="#{rng.integers(0, 0xffffff):06x}"/>')
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 1000">'
            f'<g id="illustration">{"".join(blobs)}</g>{skeleton}</svg>').encode()


def bench_skinning() -> None:
    from server.rig import load_rig, rig_from_bytes
    from server.skinning import Skinner
    rigs = [(p.stem, load_rig(p)) for p in sorted((SHARED / "svg" / "pose-animator").glob("*.svg"))
            if p.stem != "skeleton"]
    rigs += [(p.stem + " (ours)", load_rig(p)) for p in sorted((ROOT / "rigs").glob("*.svg"))]
    rigs.append(("generated 12,500 segments", rig_from_bytes(large_rig_svg(), "large")))
    print("\n== Skinning throughput (one core; a frame = derive joints, bone frames, one sparse product)")
    print("   live: one frame per call; batch: 64 frames per call, as exports skin a take")
    print(f"{'rig':28s} {'paths':>6s} {'segments':>9s} {'points':>7s} {'bind ms':>8s} {'us/frame':>9s} "
          f"{'M points/s':>11s} {'batch us/frame':>15s} {'batch M points/s':>17s}")
    rng = np.random.default_rng(0)
    for name, rig in rigs:
        t0 = time.perf_counter()
        skinner = Skinner(rig)
        bind_ms = 1000 * (time.perf_counter() - t0)
        poses = [skinner.rest_joints + rng.normal(0, 20, len(skinner.rest_joints))
                 + 1j * rng.normal(0, 20, len(skinner.rest_joints)) for _ in range(64)]
        conf = np.ones(len(skinner.rest_joints))
        n = max(200, int(2e7 / max(skinner.n_points, 1)) // 64 * 64)
        start = time.perf_counter()
        for i in range(n):
            skinner.deform(poses[i % 64], conf)
        per_frame = (time.perf_counter() - start) / n
        batch, batch_conf = np.array(poses), np.tile(conf, (64, 1))
        start = time.perf_counter()
        for _ in range(n // 64):
            skinner.deform_many(batch, batch_conf)
        per_frame_batched = (time.perf_counter() - start) / (n // 64 * 64)
        segments = sum(n for p in rig.drawing.paths for n, _ in p.subpaths)
        print(f"{name:28s} {len(rig.drawing.paths):6d} {segments:9d} {skinner.n_points:7d} {bind_ms:8.1f} "
              f"{1e6 * per_frame:9.1f} {skinner.n_points / per_frame / 1e6:11.1f} "
              f"{1e6 * per_frame_batched:15.1f} {skinner.n_points / per_frame_batched / 1e6:17.1f}")


def bench_pipeline() -> None:
    import cv2
    from server.live import pose_message
    from server.pipeline import Performance, default_rig_path, skinner_for
    from server.retarget import RetargetSettings
    from server.tracking import Tracker
    cap = cv2.VideoCapture(str(SHARED / "media" / "videos" / "dance_fullbody_576x576.mp4"))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    skinner = skinner_for(default_rig_path())
    print(f"\n== Whole pipeline vs MediaPipe alone ({len(frames)} frames of the dance clip, 576x576, 3 runs)")
    inference, whole = [], []
    for _ in range(3):
        with Tracker() as tracker:       # MediaPipe's own calls only: pose, then face mesh on the crop
            start = time.perf_counter()
            for image in frames:
                result = tracker._pose.process(image)
                if result.pose_landmarks is not None:
                    tracker._face.process(np.ascontiguousarray(image[:256, :256]))
            inference.append((time.perf_counter() - start) / len(frames))
        with Tracker() as tracker:
            performance = Performance(skinner, RetargetSettings(mirror=True))
            start = time.perf_counter()
            for i, image in enumerate(frames):
                posed = performance.pose(tracker.process(image, i / 30), image.shape[1], image.shape[0])
                pose_message(i, "bundled:robin", posed, {})
            whole.append((time.perf_counter() - start) / len(frames))
    mp_ms, all_ms = 1000 * min(inference), 1000 * min(whole)
    print(f"MediaPipe inference alone: {mp_ms:.1f} ms/frame")
    print(f"whole pipeline (track + crop + retarget + filter + skin + serialise): {all_ms:.1f} ms/frame")
    print(f"ratio: {all_ms / mp_ms:.3f}")


def bench_live(seconds: float = 20.0, fps: float = 30.0) -> None:
    import threading

    from conftest import ServerProcess, dance_jpegs
    import tempfile
    jpegs = dance_jpegs(width=480)
    print(f"\n== Live server: clients stream the dance clip as 480-px JPEGs at {fps:g} fps for {seconds:g} s")
    print(f"{'clients':>7s} {'fps/client':>10s} {'p50 rtt ms':>10s} {'p95 rtt ms':>10s} {'server ms':>9s} "
          f"{'bytes/frame':>11s} {'dropped':>7s} {'first frame ms':>14s}")
    for n_clients in (1, 2, 4):
        with tempfile.TemporaryDirectory() as tmp:
            srv = ServerProcess(Path(tmp), max_clients=8)
            try:
                results = [dict() for _ in range(n_clients)]
                threads = [threading.Thread(target=_stream, args=(srv.url, jpegs, seconds, fps, results[i]))
                           for i in range(n_clients)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            finally:
                srv.stop()
        rtts = np.concatenate([r["rtt"] for r in results])
        server_ms = np.concatenate([r["server"] for r in results])
        print(f"{n_clients:7d} {np.mean([r['count'] / seconds for r in results]):10.1f} "
              f"{np.percentile(rtts, 50):10.1f} {np.percentile(rtts, 95):10.1f} {np.median(server_ms):9.1f} "
              f"{np.mean([r['bytes'] for r in results]):11.0f} {sum(r['problems'] for r in results):7d} "
              f"{np.mean([r['first_ms'] for r in results]):14.0f}")


def _stream(url, jpegs, seconds, fps, out):
    """One client: at most one frame in flight, never faster than ``fps``."""
    import queue

    import socketio
    answers: queue.Queue = queue.Queue()
    sio = socketio.Client(reconnection=False)
    sio.on("welcome", lambda d: answers.put(("welcome", d)))
    sio.on("topology", lambda d: answers.put(("topology", d)))
    sio.on("pose", lambda d: answers.put(("pose", d)))
    sio.on("problem", lambda d: answers.put(("problem", d)))
    sio.connect(url, transports=["websocket"])
    welcome = answers.get(timeout=30)[1]
    sio.emit("choose_rig", {"id": welcome["rig"]})
    answers.get(timeout=30)
    rtt, server, sizes, problems = [], [], [], 0
    # The first frame builds this client's MediaPipe graphs (about a second): time it on
    # its own, then measure the steady stream.
    first = time.perf_counter()
    sio.emit("frame", {"seq": -1, "jpeg": jpegs[0], "mirror": True})
    answers.get(timeout=60)
    first_ms = 1000 * (time.perf_counter() - first)
    start = time.perf_counter()
    next_send = start
    seq = 0
    while time.perf_counter() - start < seconds:
        now = time.perf_counter()
        if now < next_send:
            time.sleep(next_send - now)
        sent = time.perf_counter()
        sio.emit("frame", {"seq": seq, "jpeg": jpegs[seq % len(jpegs)], "mirror": True})
        kind, data = answers.get(timeout=30)
        if kind == "pose":
            rtt.append(1000 * (time.perf_counter() - sent))
            server.append(data["timings"]["total_ms"])
            sizes.append(len(data["points"]) + len(data["visible"]) + len(data["joints"]) + len(data["joint_conf"]))
        else:
            problems += 1
        next_send = max(next_send + 1.0 / fps, sent)
        seq += 1
    sio.disconnect()
    out.update(rtt=np.array(rtt), server=np.array(server), count=len(rtt), first_ms=first_ms,
               bytes=float(np.mean(sizes)) if sizes else 0.0, problems=problems)


def bench_sessions(visits: int = 50) -> None:
    """Server memory over many short visits: connect, a few frames, leave."""
    import queue
    import tempfile

    import socketio
    from conftest import ServerProcess, dance_jpegs
    jpegs = dance_jpegs(width=480, limit=5)

    def rss_mb(pid: int) -> float:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    print(f"\n== Server memory over {visits} visits (connect, 5 frames, disconnect)")
    with tempfile.TemporaryDirectory() as tmp:
        srv = ServerProcess(Path(tmp), max_clients=4)
        try:
            print(f"{'visits':>6s} {'server MB':>9s} {'first frame ms':>14s}")
            print(f"{0:6d} {rss_mb(srv.proc.pid):9.0f} {'':>14s}")
            for visit in range(1, visits + 1):
                answers: queue.Queue = queue.Queue()
                sio = socketio.Client(reconnection=False)
                for event in ("welcome", "topology", "pose", "problem"):
                    sio.on(event, answers.put)
                sio.connect(srv.url, transports=["websocket"])
                sio.emit("choose_rig", {"id": answers.get(timeout=30)["rig"]})
                answers.get(timeout=30)
                for seq, jpeg in enumerate(jpegs):
                    started = time.perf_counter()
                    sio.emit("frame", {"seq": seq, "jpeg": jpeg})
                    answers.get(timeout=60)
                    if seq == 0:
                        first_ms = 1000 * (time.perf_counter() - started)
                sio.disconnect()
                if visit in (1, 10, 25, visits):
                    print(f"{visit:6d} {rss_mb(srv.proc.pid):9.0f} {first_ms:14.0f}")
        finally:
            srv.stop()


if __name__ == "__main__":
    wanted = set(sys.argv[1:]) or {"skinning", "pipeline", "live", "sessions"}
    if "skinning" in wanted:
        bench_skinning()
    if "pipeline" in wanted:
        bench_pipeline()
    if "live" in wanted:
        bench_live()
    if "sessions" in wanted:
        bench_sessions()
