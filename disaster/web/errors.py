"""One JSON shape for every error of the API: ``{"error": {"code": …, "message": "<Japanese>"}}``,
and for the pages (any path outside ``/api/``) an error page in Japanese with the same message;
a page asked for without a session leads to the login page.

``errors.DisasterError`` subclasses map to status codes here and nowhere else; anything else is a
bug: it is logged with its traceback and answered with a fixed message (never the traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from disaster import errors
from disaster.accounts import AuthFailed

log = logging.getLogger("disaster.web")


class Unauthenticated(errors.DisasterError):
    """No valid session: not logged in, logged out, or timed out."""


class Throttled(errors.DisasterError):
    """Too many failed logins from one address."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooLarge(errors.Rejected):
    """An upload over the size limit (413)."""


# most specific first: AuthFailed is a Forbidden, Rejected a ValueError
STATUS: list[tuple[type[errors.DisasterError], int, str]] = [
    (AuthFailed, 401, "unauthorized"),
    (Unauthenticated, 401, "unauthorized"),
    (Throttled, 429, "throttled"),
    (errors.NotFound, 404, "not_found"),
    (errors.NotReady, 409, "not_ready"),
    (TooLarge, 413, "rejected"),
    (errors.Rejected, 422, "rejected"),
    (errors.Forbidden, 403, "forbidden"),
    (errors.Conflict, 409, "conflict"),
]
HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 429: "throttled"}
HTTP_MESSAGES = {404: "お探しのページ・データはありません。", 405: "この操作はこのアドレスでは使えません。"}
PAGE_TITLES = {401: "ログインが必要です", 403: "見られません", 404: "見つかりません", 409: "できませんでした",
               413: "ファイルが大きすぎます", 422: "入力を確かめてください", 429: "しばらくお待ちください", 500: "サーバーの問題"}
HOST_MESSAGE = "このアドレス（Host）ではこのサービスを使えません。サービスの正しいアドレスを使ってください。"
INTERNAL_MESSAGE = "サーバーで問題が起きました。時間をおいてもう一度お試しください（続く場合は市の担当者に連絡してください）。"


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   current: dict[str, object] | None = None) -> JSONResponse:
    extra = {"current": current} if current is not None else {}
    return JSONResponse({"error": {"code": code, "message": message} | extra}, status_code=status, headers=headers)


def is_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def answer(request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None,
           current: dict[str, object] | None = None) -> Response:
    """The error as JSON for the API, as a page for the pages (without a session: to the login page)."""
    if not is_page(request):
        return error_response(status, code, message, headers, current)
    from disaster.web.pages.auth import login_url
    from disaster.web.pages.render import page

    if status == 401 and code == "unauthorized" and request.url.path != "/login":
        return RedirectResponse(login_url(request.url.path), status_code=303)
    response = page(request, "error.html.j2", {"status": status, "message": message}, status_code=status,
                    title=PAGE_TITLES.get(status, "エラー"))
    response.headers.update(headers or {})
    return response


def host_refused() -> JSONResponse:
    """A request whose Host is not allowed (``settings.allowed_hosts``)."""
    return error_response(400, "rejected", HOST_MESSAGE)


def status_of(exc: errors.DisasterError) -> tuple[int, str]:
    for kind, status, code in STATUS:
        if isinstance(exc, kind):
            return status, code
    return 400, "rejected"


async def disaster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DisasterError)
    status, code = status_of(exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
    current = exc.current if isinstance(exc, errors.Conflict) else None  # the stored state a save clashed with
    return answer(request, status, code, str(exc), headers, current)


UNREADABLE_BODY = "送られた内容を読み取れませんでした（JSON などの形式や文字コード（UTF-8）が正しくありません）。"


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(e["type"] == "json_invalid" for e in exc.errors()):  # its "field" is a character position
        return answer(request, 422, "rejected", UNREADABLE_BODY)
    problems = sorted({_field(e) + (f": {e['ctx']['error']}" if e["type"] == "value_error" else "") for e in exc.errors()})
    # the values given are not repeated (they may be a password); a value_error is one of our
    # validators' Japanese reasons, pydantic's own messages are English and left out
    return answer(request, 422, "rejected", f"入力が正しくありません（{'、'.join(problems)}）。")


def _field(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0])


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # FastAPI could not parse the body (e.g. not UTF-8): bad input like any other
        return answer(request, 422, "rejected", UNREADABLE_BODY)
    message = HTTP_MESSAGES.get(exc.status_code, "この要求には応えられません。")
    return answer(request, exc.status_code, HTTP_CODES.get(exc.status_code, "rejected"), message,
                  dict(exc.headers) if exc.headers else None)


async def _bug(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return answer(request, 500, "internal", INTERNAL_MESSAGE)


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DisasterError, disaster_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _bug)
