"""Public pages (no login): the public district and city maps and aggregate figures only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from disaster.web.pages.render import page

router = APIRouter()


@router.get("/public", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "public/home.html.j2", title="公開の地図と集計")
