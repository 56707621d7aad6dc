"""安否確認 pages: residents' status during 災害時モード (or training), shelter check-ins, exports."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from disaster import access
from disaster.web.deps import CurrentCaller
from disaster.web.pages.render import page

router = APIRouter()


@router.get("/safety", response_class=HTMLResponse)
def home(request: Request, caller: CurrentCaller) -> HTMLResponse:
    access.require(caller.principal, access.Action.READ_RESIDENTS)
    return page(request, "safety/home.html.j2", caller=caller, title="安否確認")
