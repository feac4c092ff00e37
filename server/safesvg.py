"""Refuse hostile or oversized SVG before any full parser sees it.

Checks, in order: size, gzip (``.svgz``) with a bounded inflate, well-formed XML
without entity declarations or external references (defusedxml), element count,
nesting depth, and how far ``<use>`` references would multiply the document.
"""
from __future__ import annotations

import gzip
import io
import zlib
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MAX_BYTES = 5 * 1024 * 1024
MAX_ELEMENTS = 20_000
MAX_DEPTH = 256
MAX_EXPANDED_ELEMENTS = 50_000
MAX_USE_DEPTH = 64          # <use> of a <use> of ...: real files nest a few levels

XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


class SvgError(ValueError):
    """The SVG cannot be used; the message says why in one line."""


def check_svg_bytes(data: bytes, max_bytes: int = MAX_BYTES) -> bytes:
    """Return the plain SVG bytes if they are safe to parse, else raise SvgError."""
    if not isinstance(data, (bytes, bytearray)):
        raise SvgError("SVG must be given as bytes")
    if len(data) == 0:
        raise SvgError("the SVG file is empty")
    if len(data) > max_bytes:
        raise SvgError(f"the SVG file is too large ({len(data) // 1024} KiB; limit {max_bytes // 1024} KiB)")
    data = _inflate_if_gzipped(bytes(data), max_bytes)
    root = _parse_defused(data)
    _check_tree(root)
    return data


def _inflate_if_gzipped(data: bytes, max_bytes: int) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            inflated = fh.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise SvgError(f"the compressed SVG (svgz) is damaged: {exc}") from None
    if len(inflated) > max_bytes:
        raise SvgError(f"the compressed SVG inflates beyond {max_bytes // 1024} KiB")
    return inflated


def _parse_defused(data: bytes) -> Element:
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SvgError(f"the SVG declares entities or external references, which are refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise SvgError(f"the SVG is not well-formed XML: {exc}") from None
    except RecursionError:
        raise SvgError("the SVG is nested too deeply") from None
    if _local(root.tag) != "svg":
        raise SvgError(f"the root element is <{_local(root.tag)}>, not <svg>")
    return root


def _check_tree(root: Element) -> None:
    ids: dict[str, Element] = {}
    count = 0
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        count += 1
        if count > MAX_ELEMENTS:
            raise SvgError(f"the SVG has more than {MAX_ELEMENTS} elements")
        if depth > MAX_DEPTH:
            raise SvgError(f"the SVG is nested more than {MAX_DEPTH} levels deep")
        if el.get("id"):
            ids[el.get("id")] = el
        stack.extend((child, depth + 1) for child in el)
    _check_use_expansion(root, ids)


def _check_use_expansion(root: Element, ids: dict[str, Element]) -> None:
    """Size of the document once every <use> is expanded; refuse cycles and blow-ups."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def expanded_size(el: Element) -> int:
        key = id(el)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            raise SvgError("the SVG has a <use> that refers to itself (a reference cycle)")
        if len(in_progress) >= MAX_USE_DEPTH:
            raise SvgError(f"the SVG's <use> references are chained more than {MAX_USE_DEPTH} deep")
        in_progress.add(key)
        total = 1
        stack = list(el)
        while stack:
            child = stack.pop()
            total += 1
            stack.extend(child)
            if _local(child.tag) == "use":
                total += _use_target_size(child)
            if total > MAX_EXPANDED_ELEMENTS:
                raise SvgError(f"the SVG's <use> references expand to more than {MAX_EXPANDED_ELEMENTS} elements")
        if _local(el.tag) == "use":
            total += _use_target_size(el)
        in_progress.discard(key)
        sizes[key] = total
        return total

    def _use_target_size(use: Element) -> int:
        href = use.get("href") or use.get(XLINK_HREF) or ""
        if not href.startswith("#"):
            return 0
        target = ids.get(href[1:])
        return expanded_size(target) if target is not None else 0

    if expanded_size(root) > MAX_EXPANDED_ELEMENTS:
        raise SvgError(f"the SVG's <use> references expand to more than {MAX_EXPANDED_ELEMENTS} elements")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
