"""利用者: ``/api/v1/…`` routes (issue 12)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["users"])
