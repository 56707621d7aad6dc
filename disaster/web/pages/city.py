"""Pages of city staff: the dashboard, imports, users, the audit log, 災害時モード."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from disaster import access
from disaster.web.deps import CurrentCaller
from disaster.web.pages.render import page

router = APIRouter()


@router.get("/city", response_class=HTMLResponse)
def home(request: Request, caller: CurrentCaller) -> HTMLResponse:
    access.require(caller.principal, access.Action.STATS)
    return page(request, "city/home.html.j2", caller=caller, title="ダッシュボード")
