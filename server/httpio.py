"""The HTTP APIs' shared manners: JSON bodies read carefully, downloads named safely."""
from __future__ import annotations

import json
import unicodedata
from urllib.parse import quote

from flask import request

MAX_JSON_BYTES = 6 * 1024 * 1024


class JsonBodyError(ValueError):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def json_object() -> dict:
    """The body as a JSON object, or JsonBodyError with a readable reason.

    It must be sent as application/json: a page on another site can post a plain form
    or text without asking, but not JSON, so changes cannot be forged that way."""
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise JsonBodyError("the request is too large", 413)
    if not request.is_json:
        raise JsonBodyError("send the request body as JSON (Content-Type: application/json)")
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise JsonBodyError("the request is not valid JSON") from None
    except RecursionError:
        raise JsonBodyError("the request's JSON is nested too deeply") from None
    if not isinstance(body, dict):
        raise JsonBodyError("the request body must be a JSON object")
    return body


def content_disposition(filename: str, download: bool = True) -> str:
    """A Content-Disposition header for any file name: an ASCII fallback for old
    clients and the real (UTF-8) name for every current browser."""
    kind = "attachment" if download else "inline"
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = fallback.replace('"', "").replace("\\", "")
    if not fallback.rsplit(".", 1)[0]:
        fallback = "download" + fallback
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
