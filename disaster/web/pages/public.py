"""Public pages (issue 13 §5), no login: the public city and district maps (counts only, small
numbers withheld; the same maps as ``disaster maps --view public``) with the map assets they
need, and the aggregate figures per 校区. They show no one's identity: they are made for
``access.Principal.public``, whose queries select no resident's name, address or phone."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from disaster.access import Principal
from disaster.usecases.public import public_figures
from disaster.usecases.setup import choose_city
from disaster.web import maps as api_maps
from disaster.web.deps import Now, Store
from disaster.web.pages.render import page

router = APIRouter()


def _city(store: Store) -> str:
    """The city the public pages are about: the configured one, else the store's only city."""
    return choose_city(store.engine, store.sessions, store.settings.city)


@router.get("/public", response_class=HTMLResponse)
def home(request: Request, store: Store, at: Now) -> HTMLResponse:
    """Links to the public maps and the figures per 校区."""
    figures = public_figures(store.sessions, _city(store), at)
    return page(request, "public/home.html.j2", {"figures": figures, "when": _when}, title="公開の地図と集計")


def _when(moment: object) -> str:
    from disaster.usecases.safety_export import local

    shown = local(moment)  # type: ignore[arg-type]
    return f"{shown.month}/{shown.day} {shown:%H:%M}" if shown is not None else ""


@router.get("/public/maps/city", response_class=HTMLResponse)
def city_map(store: Store) -> HTMLResponse:
    """The city overview for the public (per 校区 counts, small numbers withheld)."""
    from disaster.usecases.maps import city_map_page  # optional extra "maps"

    found = city_map_page(store.sessions, Principal.public(_city(store)), link=lambda name: f"districts/{quote(name, safe='')}")
    return api_maps._page(found.html, "assets/")


@router.get("/public/maps/districts/{district}", response_class=HTMLResponse)
def district_map(district: str, store: Store) -> HTMLResponse:
    """A 校区's public map (hazards, shelters, counts; no residents)."""
    from disaster.usecases.maps import district_map_page  # optional extra "maps"

    found = district_map_page(store.sessions, Principal.public(_city(store)), district)
    return api_maps._page(found.html, "../assets/")


@router.get("/public/maps/assets/{name:path}", response_class=FileResponse)
def asset(name: str) -> FileResponse:
    """The maps' vendored Leaflet files, scripts and styles (no personal data)."""
    return api_maps.asset(name)
