"""What the city staff's pages share: Japan time for people, the page in the layout with the
city's own stylesheet, the problems of a form (field → Japanese message) and the admin check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from disaster import access
from disaster.web.deps import Caller
from disaster.web.pages.render import page

JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")
WEEKDAYS = "月火水木金土日"
Problems = dict[str, str]  # form field → what to fix, in Japanese


def jst(moment: dt.datetime | None) -> str:
    """A time as people in Japan read it: 2026年11月26日 9:05."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(JAPAN)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local.minute:02d}"


def day(value: dt.date | None) -> str:
    """2026年11月26日（木）."""
    if value is None:
        return ""
    return f"{value.year}年{value.month}月{value.day}日（{WEEKDAYS[value.weekday()]}）"


def number(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def city_page(request: Request, template: str, context: dict[str, Any], caller: Caller, title: str,
              status_code: int = 200) -> HTMLResponse:
    """``templates/pages/city/<template>`` in the layout (with ``city.css``)."""
    helpers = {"jst": jst, "day": day, "number": number, "problems": {}}
    return page(request, f"city/{template}", helpers | context, caller=caller, title=title, status_code=status_code)


def require(caller: Caller, action: access.Action) -> None:
    """``action`` or Forbidden (the app records the refusal)."""
    access.require(caller.principal, action)
