"""Pages of a 校区 leader / 民生委員 (and a 福祉専門職): the residents in their view, one resident's plan, bulk print, the 校区 map."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from disaster import access
from disaster.web.deps import CurrentCaller
from disaster.web.pages.render import page

router = APIRouter()


@router.get("/leader", response_class=HTMLResponse)
def home(request: Request, caller: CurrentCaller) -> HTMLResponse:
    access.require(caller.principal, access.Action.READ_RESIDENTS)
    return page(request, "leader/home.html.j2", caller=caller, title="わたしの名簿")
