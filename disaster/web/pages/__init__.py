"""The web pages (server-rendered Japanese HTML, tablet-first) on the same access policy as the
API: every page reads through the use-cases with the logged-in principal, and every form that
changes something carries the session's CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from disaster.web.pages import auth, city, jobs, leader, public, safety, static, trainer
from disaster.web.pages.deps import page_csrf


def pages_router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    pages.include_router(static.router)
    pages.include_router(auth.public)
    pages.include_router(public.router)
    protected = APIRouter(dependencies=[Depends(page_csrf)])
    protected.include_router(auth.router)
    for area in (jobs, leader, trainer, city, safety):
        protected.include_router(area.router)
    pages.include_router(protected)
    return pages
