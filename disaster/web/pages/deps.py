"""What every page route depends on: a live session (else the login page), and for a form that
changes something, the session's CSRF token in the form's ``csrf_token`` field (or, from the
pages' own script, the ``X-CSRF-Token`` header)."""

from __future__ import annotations

import hmac

from fastapi import Request

from disaster import errors
from disaster.web.deps import CSRF_HEADER, CSRF_MESSAGE, SAFE_METHODS, CurrentLogin
from disaster.web.errors import TooLarge
from disaster.web.imports import MAX_UPLOAD_BYTES, too_large

CSRF_FIELD = "csrf_token"


FORM_BYTES = 1024 * 1024  # a form without files


async def page_csrf(request: Request, login: CurrentLogin) -> None:
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        _bounded(request)
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else ""
    if not hmac.compare_digest(given.encode("utf-8", "replace"), login.csrf_token.encode("ascii")):
        raise errors.Forbidden(CSRF_MESSAGE)


def _bounded(request: Request) -> None:
    """Refuse a body too large to read (before reading it: the token is in the body)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise TooLarge("送られた内容の大きさがわかりません（Content-Length がありません）。")
    uploads = request.headers.get("content-type", "").startswith("multipart/form-data")
    if int(length) > (MAX_UPLOAD_BYTES if uploads else FORM_BYTES):
        raise TooLarge(too_large() if uploads else "送られた内容が大きすぎます。")


def same_origin(request: Request) -> bool:
    """A form posted from this service's own pages (the login form has no session, hence no CSRF
    token). Browsers say where a request comes from in ``Sec-Fetch-Site``; older ones send
    ``Origin`` with a POST (``null`` under the pages' no-referrer policy, which says nothing)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True  # not a browser's cross-site form
    return origin.split("://", 1)[-1] == request.headers.get("host", "")
