"""図上訓練: ``/api/v1/…`` routes (issue 12)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["exercises"])
