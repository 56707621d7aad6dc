"""The pages' own stylesheet, script and images (``templates/static/``), served from the service:
no CDN, so the pages work on a LAN without internet."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from disaster import errors
from disaster.resources import templates_dir

router = APIRouter()
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png"}


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    folder = (templates_dir() / "static").resolve()
    candidate = (folder / name).resolve()
    if candidate.parent == folder and candidate.is_file() and candidate.suffix in TYPES:
        return FileResponse(candidate, media_type=TYPES[candidate.suffix], headers={"Cache-Control": "private, max-age=3600"})
    raise errors.NotFound("お探しのファイルはありません。")
