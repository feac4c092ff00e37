"""The ``pose-animator`` command: render, track, serve.

User errors (a missing file, a bad rig, an unreadable clip) print one line and exit
with status 2; only bugs show a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .media import MediaError
from .posetrack import PoseTrack
from .safesvg import SvgError


class UserError(Exception):
    pass


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so unfinished files are cleaned up as
    they are on Ctrl+C."""


def _raise_terminated(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    previous = _on_sigterm(_raise_terminated)
    try:
        return args.run(args) or 0
    except (UserError, SvgError, MediaError, ValueError, OSError) as exc:
        print(f"pose-animator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pose-animator: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("pose-animator: terminated", file=sys.stderr)
        return 143
    finally:
        _on_sigterm(previous)


def _on_sigterm(handler):
    """Install a SIGTERM handler (main thread only); returns the one it replaces."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    return signal.signal(signal.SIGTERM, handler)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pose-animator", description="Make a vector character move like you.")
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("render", help="animate a rig from a clip, a photo or a pose track")
    r.add_argument("--rig", help="rig SVG (default: the bundled character)")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--input", help="video clip or photo of a person")
    src.add_argument("--pose", help="pose track JSON from 'pose-animator track'")
    r.add_argument("--out", help="output file (default: named after the input; the format's extension)")
    r.add_argument("--format", choices=["svg", "frames", "gif", "mp4", "json"],
                   help="svg (SMIL-animated), frames (ZIP of per-frame SVGs), gif, mp4, or json "
                        "(the pose track); default: from --out's extension, else svg")
    r.add_argument("--size", type=int, help="pixel width of a GIF (default 480) or MP4 (default 720)")
    r.add_argument("--mirror", action="store_true", help="mirror left and right, like a mirror")
    r.add_argument("--follow", action="store_true", help="move the character where the person is")
    r.add_argument("--fps", type=float, help="frames per second of the animation, at most the clip's (default: the clip's)")
    r.add_argument("--smoothing", type=float, default=0.5, help="0 = raw landmarks .. 1 = very smooth")
    r.add_argument("--precision", type=int, help="decimals kept in SVG coordinates, 0-4 "
                   "(default: enough for 1/1000 of the picture)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(run=_render)

    t = sub.add_parser("track", help="write the pose track of a clip or photo as JSON")
    t.add_argument("--input", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--fps", type=float)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=_track)

    g = sub.add_parser("rig", help="auto-rig any SVG drawing: place the skeleton's 85 joints")
    g.add_argument("svg", metavar="IN.svg", help="the drawing (any SVG; an existing skeleton is replaced)")
    g.add_argument("--out", required=True, metavar="RIGGED.svg", help="the rig file to write")
    g.add_argument("--report", metavar="REPORT.json", help="also write which joints were detected or guessed")
    g.set_defaults(run=_rig)

    s = sub.add_parser("serve", help="start the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--max-clients", type=int, default=4, help="people animating at once (default 4)")
    s.add_argument("--allow-origin", action="append", metavar="URL",
                   help="also accept Socket.IO connections from this origin (default: same origin only)")
    s.add_argument("--allow-host", action="append", metavar="NAME",
                   help="also answer requests for this host name (e.g. behind a proxy); by default "
                        "only loopback names and the --host address")
    s.set_defaults(run=_serve)
    return p


def _progress(quiet: bool, label: str):
    if quiet or not _is_terminal(sys.stderr):        # a log file gets the summary line only
        return None, lambda: None
    from tqdm import tqdm
    # The bar writes to its own copy of stderr, so it still shows while tracking
    # points the real one at /dev/null (see _tracked).
    try:
        stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (AttributeError, OSError, ValueError):     # stderr is not a real file
        stream = None
    bar = tqdm(total=0, unit="frame", desc=label, file=stream or sys.stderr, leave=False)

    def update(done: int, total: int):
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close():
        bar.close()
        if stream is not None:
            stream.close()
    return update, close


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _tracked(args) -> PoseTrack:
    """Track --input with a progress bar, without MediaPipe's native start-up chatter."""
    from .media import native_stderr_silenced
    from .pipeline import track_media
    update, close = _progress(args.quiet, "tracking")
    try:
        with native_stderr_silenced():
            return track_media(args.input, args.fps, update)
    finally:
        close()


def _load_track(args) -> PoseTrack:
    """The motion to render: a saved pose track, a tracked clip or photo, or the demo."""
    if args.pose:
        return PoseTrack.load(args.pose)
    if args.input:
        return _tracked(args)
    from .demo_motion import demo_track
    return demo_track()


def _summary(out, frames: int, with_person: int, seconds: float) -> str:
    return (f"{out}: {frames} frame(s), {100.0 * with_person / frames:.0f}% with a person, "
            f"{seconds:.1f} s, {frames / seconds:.1f} frames/s")


def _render(args) -> int:
    from .export import ExportOptions, export_track
    from .pipeline import default_rig_path, skinner_for
    from .retarget import RetargetSettings

    rig_path = Path(args.rig) if args.rig else default_rig_path()
    _check_input(str(rig_path))
    _check_input(args.input)
    _check_input(args.pose)
    fmt, out = _format_and_out(args)
    # Refuse bad numbers now, not after minutes of tracking.
    ExportOptions(fps=args.fps, precision=args.precision, width=args.size).validated(fmt)
    if not 0.0 <= args.smoothing <= 1.0:
        raise UserError(f"--smoothing must be from 0 to 1 (got {args.smoothing:g})")
    start = time.perf_counter()
    skinner = skinner_for(rig_path)
    if not skinner.rig.drawing.paths:
        raise UserError(f"{rig_path} has a skeleton but no artwork to draw")
    for warning in skinner.rig.drawing.warnings:
        print(f"{rig_path}: note: {warning}", file=sys.stderr)
    track = _load_track(args)
    is_photo = len(track.frames) == 1
    settings = RetargetSettings(mirror=args.mirror, follow=args.follow,
                                smoothing=args.smoothing, static=is_photo)
    # A clip was already tracked at --fps; a pose track or the demo is resampled now.
    options = ExportOptions(fps=None if args.input else args.fps, precision=args.precision, width=args.size)
    update, close = _progress(args.quiet, f"exporting {fmt}")
    try:
        result = export_track(track, skinner, fmt, out, settings, options, progress=update)
    finally:
        close()
    seconds = time.perf_counter() - start
    frames, with_person = result.frames, result.with_person
    if not with_person:
        source = args.input or args.pose
        where = f"in {source}" if is_photo else f"in any frame of {source}"
        print(f"{out}: no person found {where}; the character is hidden throughout")
    print(f"{_summary(out, frames, with_person, seconds)}, {_size(result.bytes)}")
    return 0


def _format_and_out(args) -> tuple[str, Path]:
    """--format, else the --out extension, else svg; and the output path to go with it."""
    from .export import FORMATS, format_for_path
    implied = format_for_path(args.out) if args.out else None
    if args.out and not implied and not args.format and Path(args.out).suffix:
        raise UserError(f"cannot tell the format from {Path(args.out).suffix!r}; use --format "
                        + "|".join(FORMATS) + " or an extension: " + " ".join(sorted(set(FORMATS.values()))))
    fmt = args.format or implied or "svg"
    if args.format and implied and implied != args.format:
        raise UserError(f"--out {args.out} does not end in {FORMATS[fmt]} (the --format {fmt} extension)")
    out = Path(args.out) if args.out else _default_out(args).with_suffix(FORMATS[fmt])
    from .pipeline import default_rig_path
    return fmt, _checked_output(out, args.input, args.pose, args.rig or default_rig_path())


def _checked_output(out: str | os.PathLike, *inputs: str | None) -> Path:
    """Where to write ``out``, refused before any work is done if it cannot be written or
    would destroy something: a folder, a device, a read-only file, one of the inputs.
    A symbolic link is written through (the file it points to is replaced)."""
    path = Path(out)
    if path.is_dir():
        raise UserError(f"{out} is a folder; give a file name")
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        raise UserError(f"{out} is not a regular file; give a file name")
    if not path.parent.is_dir():
        raise UserError(f"{out}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise UserError(f"{out}: cannot write in the folder {path.parent}")
    if path.exists():
        for source in inputs:
            if source and Path(source).exists() and os.path.samefile(path, source):
                raise UserError(f"{out} is also the input; writing it would destroy the input")
        # The mode bits, not os.access: to root every file is writable.
        if not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK):
            raise UserError(f"{out} is read-only; not replacing it")
    return path


def _check_input(path: str | None) -> None:
    if path is None:
        return
    if Path(path).is_dir():
        raise UserError(f"{path} is a folder; give a file")
    if Path(path).exists() and not Path(path).is_file():
        raise UserError(f"{path} is not a regular file")
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file")


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.2f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:.1f} kB"


def _default_out(args) -> Path:
    if args.input:
        return Path(Path(args.input).stem + ".svg")
    if args.pose:
        return Path(Path(args.pose).stem + ".svg")
    return Path("demo.svg")


def _track(args) -> int:
    from .export import ExportOptions
    _check_input(args.input)
    out = _checked_output(args.out, args.input)
    ExportOptions(fps=args.fps).validated("json")
    start = time.perf_counter()
    track = _tracked(args)
    track.save(out)
    with_person = sum(f.has_person for f in track.frames)
    print(_summary(args.out, len(track.frames), with_person, time.perf_counter() - start))
    return 0


def _rig(args) -> int:
    import json

    from .autorig import autorig
    from .atomic import write_atomically
    from .media import native_stderr_silenced
    from .rig import drawing_from_bytes
    from .rigwriter import rig_svg
    source = Path(args.svg)
    _check_input(args.svg)
    out = _checked_output(args.out, args.svg)
    report = _checked_output(args.report, args.svg) if args.report else None
    if report is not None and report.resolve() == out.resolve():
        raise UserError("--out and --report name the same file")
    drawing = drawing_from_bytes(source.read_bytes())
    for warning in drawing.warnings:
        print(f"{source}: note: {warning}", file=sys.stderr)
    with native_stderr_silenced():          # MediaPipe's start-up chatter
        result = autorig(drawing)
    write_atomically(out, rig_svg(drawing, result.joints).encode("utf-8"))
    if report is not None:
        write_atomically(report, json.dumps(result.report(), indent=1).encode("utf-8"))
    print(f"{out}: rigged {len(drawing.paths)} shapes in {result.seconds:.1f} s")
    print("\n".join(result.summary()))
    return 0


def _serve(args) -> int:
    from .app import run
    run(host=args.host, port=args.port, max_clients=args.max_clients, allowed_origins=args.allow_origin,
        allowed_hosts=args.allow_host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
