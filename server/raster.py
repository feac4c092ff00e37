"""SVG text -> pixels, with resvg (a Rust renderer shipped inside the resvg-py wheel)."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def rasterize_svg(svg_text: str, width: int | None = None, height: int | None = None,
                  background: str | None = None) -> np.ndarray:
    """Render to an (H, W, 4) uint8 RGBA array; a transparent background unless given.

    Only our own sanitised SVG should come here (no external references are resolved)."""
    import resvg_py
    kwargs = {"svg_string": svg_text, "skip_system_fonts": True}
    if width:
        kwargs["width"] = int(width)
    if height:
        kwargs["height"] = int(height)
    if background:
        kwargs["background"] = background
    png = resvg_py.svg_to_bytes(**kwargs)
    with Image.open(io.BytesIO(bytes(png))) as im:
        return np.asarray(im.convert("RGBA"))
