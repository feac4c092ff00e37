"""Load every SVG given on the command line; print one JSON line per file (run by a test)."""
import json
import sys
import time
from pathlib import Path

from server.rig import drawing_from_bytes
from server.safesvg import SvgError

for name in sys.argv[1:]:
    print(json.dumps({"start": name}), flush=True)
    t0 = time.perf_counter()
    try:
        drawing = drawing_from_bytes(Path(name).read_bytes())
        result = {"file": name, "ok": True, "paths": len(drawing.paths)}
    except SvgError as exc:
        result = {"file": name, "ok": False, "error": str(exc)}
    result["seconds"] = time.perf_counter() - t0
    print(json.dumps(result), flush=True)
