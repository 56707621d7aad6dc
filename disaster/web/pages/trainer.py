"""Pages of a trainer (社協, 防災士) and city staff: exercise packs, session records, findings."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from disaster import access
from disaster.web.deps import CurrentCaller
from disaster.web.pages.render import page

router = APIRouter()


@router.get("/trainer", response_class=HTMLResponse)
def home(request: Request, caller: CurrentCaller) -> HTMLResponse:
    access.require(caller.principal, access.Action.EXERCISE_RECORDS)
    return page(request, "trainer/home.html.j2", caller=caller, title="図上訓練")
