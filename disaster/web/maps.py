"""Interactive maps: ``/api/v1/maps/districts/{district}``, ``/api/v1/maps/city`` and their
assets ``/api/v1/maps/assets/{name}``.

A map shows what the caller's view allows (``disaster.usecases.maps``: public counts with
small-number suppression; a leader's own 校区: the consenting residents; the city: everyone); a
map showing residents is an audited read naming them. The page runs under its own Content
Security Policy without ``'unsafe-inline'``: Leaflet and the map's script come from the service
(the vendored assets, never a CDN), and the page's own inline scripts and styles are allowed by
their SHA-256 hashes only, so nothing injected into the page could run. Tiles come from 地理院タイル.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from disaster import access, auditlog, errors
from disaster.csp import map_policy
from disaster.resources import map_assets_dirs
from disaster.web.deps import Caller, CurrentCaller, Store
from disaster.web.schemas import ErrorOut

router = APIRouter(prefix="/maps", tags=["maps"])
# a page answers HTML, its errors JSON (a ``model`` here would be documented as HTML)
ERRORS: dict[int | str, dict[str, object]] = {
    status: {"description": "エラー", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ErrorOut.__name__}"}}}}
    for status in (401, 403, 404, 409)}
HTML: dict[int | str, dict[str, object]] = {200: {"content": {"text/html": {}}, "description": "地図（HTML）"}}
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}
ASSET_LINK = re.compile(r'(src|href)="assets/')


def _page(html: str, assets: str) -> HTMLResponse:
    page = ASSET_LINK.sub(rf'\1="{assets}', html)
    return HTMLResponse(page, headers={"Content-Security-Policy": map_policy(page)})


def _audit_map(store: Store, caller: Caller, district: str | None, residents: list[str]) -> None:
    with store.sessions() as session, session.begin():
        caller.audit(session, auditlog.Action.MAP, residents=residents, target_kind="district" if district else "city",
                     details={"district": district, "view": access.view_label(caller.principal, district)})


@router.get("/districts/{district}", response_class=HTMLResponse, responses=ERRORS | HTML)
def district_map(district: str, store: Store, caller: CurrentCaller) -> HTMLResponse:
    """校区の地図（見られる範囲で。担当の校区なら同意者、市職員は全員、ほかは少数を伏せた人数だけ）。"""
    from disaster.usecases.maps import district_map_page  # optional extra "maps"

    page = district_map_page(store.sessions, caller.principal, district)
    if access.shows_residents(caller.principal, district):
        _audit_map(store, caller, district, page.residents)
    return _page(page.html, "../assets/")


@router.get("/city", response_class=HTMLResponse, responses=ERRORS | HTML)
def city_map(store: Store, caller: CurrentCaller) -> HTMLResponse:
    """市全体の地図（校区ごとの人数。個人は含みません）。各校区から校区の地図を開けます。"""
    from disaster.usecases.maps import city_map_page  # optional extra "maps"

    page = city_map_page(store.sessions, caller.principal, link=lambda name: f"districts/{quote(name, safe='')}")
    return _page(page.html, "assets/")


@router.get("/assets/{name:path}", response_class=FileResponse, responses=ERRORS | {
    200: {"content": {media: {} for media in ASSET_TYPES.values()}, "description": "地図の部品（Leaflet など）"}})
def asset(name: str) -> FileResponse:
    """地図の部品（同梱の Leaflet・地図のスクリプトとスタイル・画像）。"""
    for root in map_assets_dirs():
        base = root.resolve()
        candidate = (base / name).resolve()
        if candidate.is_relative_to(base) and candidate.is_file() and candidate.suffix in ASSET_TYPES:
            return FileResponse(candidate, media_type=ASSET_TYPES[candidate.suffix],
                                headers={"Cache-Control": "private, max-age=86400"})
    raise errors.NotFound(f"地図の部品「{name[:80]}」はありません。")
