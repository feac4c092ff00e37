"""Shared fixtures. Real data comes from ../shared beside the project (never copied in)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POSE_ANIMATOR_SHARED", ROOT.parent / "shared")).resolve()
RIGS = ROOT / "rigs"
PA_RIGS = SHARED / "svg" / "pose-animator"
IMAGES = SHARED / "media" / "images"
VIDEOS = SHARED / "media" / "videos"
DANCE = VIDEOS / "dance_fullbody_576x576.mp4"

if not SHARED.is_dir():
    raise RuntimeError(f"the shared test data folder is missing: {SHARED} "
                       "(set POSE_ANIMATOR_SHARED to its location)")


@pytest.fixture(scope="session")
def dance_track():
    """The dance clip tracked once for the whole session (real MediaPipe inference)."""
    from server.pipeline import track_media
    return track_media(DANCE)


@pytest.fixture(scope="session")
def bundled_rigs():
    return sorted(RIGS.glob("*.svg"))


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """The real app (`python -m server serve`) in a child process on a free port."""

    def __init__(self, tmp_path, max_clients=4):
        import subprocess
        import sys
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "POSE_ANIMATOR_DATA": str(tmp_path)}
        self.log = open(tmp_path / "server.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "server", "serve", "--port", str(self.port),
                                      "--max-clients", str(max_clients)],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self):
        import time
        import urllib.request
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited at start-up")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def alive(self) -> bool:
        import json
        import urllib.request
        if self.proc.poll() is not None:
            return False
        return json.loads(urllib.request.urlopen(self.url + "/healthz", timeout=5).read())["ok"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("server"), max_clients=3)
    yield srv
    srv.stop()


def dance_jpegs(width: int = 480, limit: int | None = None) -> list[bytes]:
    """The dance clip's frames as the browser would send them: JPEG, 480 px wide."""
    import cv2
    cap = cv2.VideoCapture(str(DANCE))
    frames = []
    while limit is None or len(frames) < limit:
        ok, image = cap.read()
        if not ok:
            break
        h = round(image.shape[0] * width / image.shape[1])
        small = cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)
        frames.append(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes())
    cap.release()
    return frames


class TerminalProcess:
    """A command whose stderr is a pseudo-terminal, as in a shell (progress bars show)."""

    def __init__(self, args, cwd):
        import pty
        import subprocess
        self._master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, cwd=cwd)
        os.close(slave)
        self.terminal = ""

    def read_until(self, text: str | None = None, timeout: float = 300) -> str:
        """What the terminal shows until ``text`` appears (or the command closes it)."""
        import select
        import time
        deadline = time.time() + timeout
        while time.time() < deadline and (text is None or text not in self.terminal):
            ready, _, _ = select.select([self._master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:                      # the command closed the terminal
                break
            if not chunk:
                break
            self.terminal += chunk.decode(errors="replace")
        return self.terminal

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        """(status, stdout, everything the terminal showed)."""
        self.read_until(None, timeout)
        os.close(self._master)
        out = self.proc.stdout.read().decode()
        return self.proc.wait(timeout=timeout), out, self.terminal
