"""Every file of the conformance and crash corpus loads or is refused clearly, quickly."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED
from server.rig import drawing_from_bytes
from server.safesvg import SvgError

SUITE = SHARED / "svgsuite"
FILES = sorted(p for p in SUITE.rglob("*") if p.suffix in (".svg", ".svgz"))
PER_FILE_SECONDS = 5.0


@pytest.fixture(scope="module")
def results():
    assert len(FILES) > 300
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "svgsuite_worker.py"), *map(str, FILES)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    done = {r["file"]: r for r in lines if "file" in r}
    started = [r["start"] for r in lines if "start" in r]
    assert proc.returncode == 0, f"worker died on {started[-1] if started else '?'}: {proc.stderr[-2000:]}"
    return done


def test_every_file_loads_or_is_refused_with_a_message(results):
    assert len(results) == len(FILES)
    for name, r in results.items():
        if not r["ok"]:
            assert len(r["error"]) > 10 and "\n" not in r["error"], name


def test_no_file_takes_more_than_a_few_seconds(results):
    slow = {n: r["seconds"] for n, r in results.items() if r["seconds"] > PER_FILE_SECONDS}
    assert not slow


def test_most_conformance_files_draw_something(results):
    resvg = [r for n, r in results.items() if "/resvg/" in n]
    drawn = [r for r in resvg if r["ok"] and r["paths"] > 0]
    assert len(drawn) > 0.8 * len(resvg)


@pytest.mark.parametrize("relative,message", [
    ("librsvg/errors/bug323-nested-use.svg", "<use>"),
    ("librsvg/errors/bug515-too-many-elements.svgz", "inflates beyond"),
    ("librsvg/render-crash/bug342-use-references-ancestor.svg", "cycle"),
    ("librsvg/render-crash/bug1100-fuzz-layer-nesting-depth.svg", "cycle"),
    ("librsvg/render-crash/layer-nesting-depth.svg", "nested more than"),
    ("librsvg/crash/bug785276-empty.svg", "empty"),
    ("librsvg/crash/bug352-feConvolveMatrix-large-allocation.svg", "not <svg>"),
    ("librsvg/crash/bug335-non-svg-toplevel.svg", "not well-formed"),
    ("resvg/tests/structure/svg/elements-via-ENTITY-reference-1.svg", "entities"),
])
def test_hostile_files_are_refused_for_the_right_reason(results, relative, message):
    r = results[str(SUITE / relative)]
    assert not r["ok"] and message in r["error"], r


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&d;</text></svg>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_entity_tricks_are_refused(data):
    with pytest.raises(SvgError, match="entities"):
        drawing_from_bytes(data)


def test_exponential_use_is_refused():
    uses = ['<g id="l0"><rect width="1" height="1"/></g>']
    for i in range(1, 30):
        uses.append(f'<g id="l{i}"><use href="#l{i-1}"/><use href="#l{i-1}"/></g>')
    svg = '<svg xmlns="http://www.w3.org/2000/svg">' + "".join(uses) + "</svg>"
    with pytest.raises(SvgError, match="expand"):
        drawing_from_bytes(svg.encode())


def test_oversized_file_is_refused():
    with pytest.raises(SvgError, match="too large"):
        drawing_from_bytes(b"<svg>" + b" " * (6 * 1024 * 1024) + b"</svg>")


def test_a_long_chain_of_uses_is_refused():
    chain = ['<g id="u0"><rect width="1" height="1"/></g>']
    chain += [f'<g id="u{i}"><use href="#u{i-1}"/></g>' for i in range(1, 200)]
    svg = '<svg xmlns="http://www.w3.org/2000/svg">' + "".join(chain) + "</svg>"
    with pytest.raises(SvgError, match="chained more than 64 deep"):
        drawing_from_bytes(svg.encode())


@pytest.mark.parametrize("root", ['viewBox="0 0 1e30 1e30"', 'viewBox="0 0 1e-9 1e-9"', 'width="1e12" height="5"',
                                  'viewBox="1e9 0 10 10"'])
def test_a_view_box_out_of_range_is_refused(root):
    with pytest.raises(SvgError, match="viewBox .* out of range"):
        drawing_from_bytes(f'<svg xmlns="http://www.w3.org/2000/svg" {root}><rect width="1" height="1"/></svg>'.encode())


def test_shapes_impossibly_far_away_are_not_drawn():
    drawing = drawing_from_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                                 b'<rect width="1" height="1"/><rect x="1e12" width="1" height="1"/></svg>')
    assert len(drawing.paths) == 1 and drawing.paths[0].points.max() <= 1.0
