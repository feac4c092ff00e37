"""The ``pose-animator`` command: render, track, serve.

User errors (a missing file, a bad rig, an unreadable clip) print one line and exit
with status 2; only bugs show a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .media import MediaError
from .posetrack import PoseTrack, write_atomically
from .safesvg import SvgError


class UserError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except (UserError, SvgError, MediaError, ValueError, OSError) as exc:
        print(f"pose-animator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pose-animator: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pose-animator", description="Make a vector character move like you.")
    sub = p.add_subparsers(dest="command")

    r = sub.add_parser("render", help="animate a rig from a clip, a photo or a pose track")
    r.add_argument("--rig", help="rig SVG (default: the bundled character)")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--input", help="video clip or photo of a person")
    src.add_argument("--pose", help="pose track JSON from 'pose-animator track'")
    r.add_argument("--out", help="output SVG (default: next to the input, .svg)")
    r.add_argument("--mirror", action="store_true", help="mirror left and right, like a mirror")
    r.add_argument("--follow", action="store_true", help="move the character where the person is")
    r.add_argument("--fps", type=float, help="frames per second of the animation (default: the clip's)")
    r.add_argument("--smoothing", type=float, default=0.5, help="0 = raw landmarks .. 1 = very smooth")
    r.add_argument("--precision", type=int, default=1, help="decimals kept in coordinates")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(run=_render)

    t = sub.add_parser("track", help="write the pose track of a clip or photo as JSON")
    t.add_argument("--input", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--fps", type=float)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(run=_track)

    s = sub.add_parser("serve", help="start the web app")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--max-clients", type=int, default=4, help="people animating at once (default 4)")
    s.add_argument("--allow-origin", action="append", metavar="URL",
                   help="also accept Socket.IO connections from this origin (default: same origin only)")
    s.set_defaults(run=_serve)
    return p


def _progress(quiet: bool, label: str):
    if quiet:
        return None, lambda: None
    from tqdm import tqdm
    bar = tqdm(total=0, unit="frame", desc=label, file=sys.stderr, leave=False)

    def update(done: int, total: int):
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()
    return update, bar.close


def _load_track(args) -> tuple[PoseTrack, float]:
    """The motion to render and the seconds spent tracking it."""
    from .pipeline import track_media
    if args.pose:
        return PoseTrack.load(args.pose), 0.0
    if args.input:
        update, close = _progress(args.quiet, "tracking")
        start = time.perf_counter()
        try:
            track = track_media(args.input, args.fps, update)
        finally:
            close()
        return track, time.perf_counter() - start
    from .demo_motion import demo_track
    return demo_track(), 0.0


def _render(args) -> int:
    from .export import smil_svg, static_svg
    from .pipeline import animate_track, default_rig_path, skinner_for
    from .retarget import RetargetSettings

    rig_path = Path(args.rig) if args.rig else default_rig_path()
    if not rig_path.is_file():
        raise UserError(f"{rig_path}: no such rig file")
    if args.input and not Path(args.input).is_file():
        raise UserError(f"{args.input}: no such file")
    start = time.perf_counter()
    skinner = skinner_for(rig_path)
    track, _ = _load_track(args)
    is_photo = len(track.frames) == 1
    settings = RetargetSettings(mirror=args.mirror, follow=args.follow,
                                smoothing=args.smoothing, static=is_photo)
    posed = list(animate_track(track, skinner, settings))
    drawing = skinner.rig.drawing
    if is_photo:
        svg = static_svg(drawing, posed[0].points, posed[0].visible, args.precision)
    else:
        svg = smil_svg(drawing, [(p.points, p.visible) for p in posed], track.fps, args.precision)
    out = Path(args.out) if args.out else _default_out(args)
    write_atomically(out, svg.encode())
    seconds = time.perf_counter() - start
    with_person = sum(p.person for p in posed)
    if is_photo and not with_person:
        print(f"{out}: no person found in {args.input}; wrote the character at rest, hidden")
    print(f"{out}: {len(posed)} frame(s), {100.0 * with_person / len(posed):.0f}% with a person, "
          f"{seconds:.1f} s, {len(posed) / seconds:.1f} frames/s")
    return 0


def _default_out(args) -> Path:
    if args.input:
        return Path(Path(args.input).stem + ".svg")
    if args.pose:
        return Path(Path(args.pose).stem + ".svg")
    return Path("demo.svg")


def _track(args) -> int:
    from .pipeline import track_media
    if not Path(args.input).is_file():
        raise UserError(f"{args.input}: no such file")
    update, close = _progress(args.quiet, "tracking")
    start = time.perf_counter()
    try:
        track = track_media(args.input, args.fps, update)
    finally:
        close()
    track.save(args.out)
    seconds = time.perf_counter() - start
    with_person = sum(f.has_person for f in track.frames)
    print(f"{args.out}: {len(track.frames)} frame(s), {100.0 * with_person / len(track.frames):.0f}% with a "
          f"person, {seconds:.1f} s, {len(track.frames) / seconds:.1f} frames/s")
    return 0


def _serve(args) -> int:
    from .app import run
    run(host=args.host, port=args.port, max_clients=args.max_clients, allowed_origins=args.allow_origin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
