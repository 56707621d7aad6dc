"""What every page route depends on: a live session (else the login page), and for a form that
changes something, the session's CSRF token in the form's ``csrf_token`` field (or, from the
pages' own script, the ``X-CSRF-Token`` header)."""

from __future__ import annotations

import hmac

from fastapi import Request

from disaster import errors
from disaster.web.deps import CSRF_HEADER, CSRF_MESSAGE, SAFE_METHODS, CurrentLogin

CSRF_FIELD = "csrf_token"


async def page_csrf(request: Request, login: CurrentLogin) -> None:
    if request.method in SAFE_METHODS:
        return
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        given = field if isinstance(field, str) else ""
    if not hmac.compare_digest(given.encode("utf-8", "replace"), login.csrf_token.encode("ascii")):
        raise errors.Forbidden(CSRF_MESSAGE)


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
