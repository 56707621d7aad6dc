"""The Content Security Policies of the HTML the toolkit serves and writes, and data inside it.

One shape for every page: nothing is allowed by default; scripts and styles come from the service
(or, for a map written as a file, from the ``assets/`` folder beside it: ``'self'``), inline ones
only by their SHA-256 hash, so an inline event handler or a script injected into the page never
runs; no plugins (``object-src 'none'``), no ``<base>``. The service sends the policy as a header;
a written file carries it in a ``<meta http-equiv>`` at the top of its ``<head>`` (where
``frame-ancestors`` is left out: browsers ignore it there).

Data reaches a page as text (``textContent``, never HTML); data embedded in an inline script is
JSON from ``script_json``, which no value can break out of.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

MAP_TILES = "https://cyberjapandata.gsi.go.jp"  # 地理院タイル, the interactive maps' background
INLINE = re.compile(r"<(script|style)((?:\s[^>]*)?)>(.*?)</\1>", re.DOTALL)
HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
                   "{": "\\u007b"}
# a "{" opening a Jinja delimiter ({{ {% {#) is always inside a string: JSON's own braces never precede those
_SCRIPT_SPECIAL = re.compile("[<>&\u2028\u2029]|\\{(?=[{%#])")


def script_json(value: Any) -> str:
    """``value`` as JSON to embed in an inline ``<script>``: ``<``, ``>`` and ``&`` are escaped so no
    value can close the element (``</script>``) or open a comment, U+2028/U+2029 so none ends a
    line inside a string, and the ``{`` of ``{{``, ``{%`` and ``{#`` because folium (branca) parses
    a map element's script as a Jinja template once more: a 校区 named ``{{7*7}}`` would be
    evaluated on the server."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _SCRIPT_SPECIAL.sub(lambda m: _SCRIPT_ESCAPES[m.group()], text)


def policy(script: Sequence[str] = ("'self'",), style: Sequence[str] = ("'self'",),
           img: Sequence[str] = ("'self'", "data:"), connect: Sequence[str] = (), form_action: str = "'none'",
           meta: bool = False) -> str:
    """A policy in the toolkit's shape (``meta``: for a ``<meta http-equiv>`` element)."""
    directives = ["default-src 'none'", f"script-src {' '.join(script)}", f"style-src {' '.join(style)}",
                  f"img-src {' '.join(img)}"]
    if connect:
        directives.append(f"connect-src {' '.join(connect)}")
    directives += ["object-src 'none'", "base-uri 'none'", f"form-action {form_action}"]
    if not meta:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def map_policy(page: str, meta: bool = False) -> str:
    """The policy of a map page: the service's (or the folder's) scripts and styles, the page's
    inline ones by hash, images from the tiles."""
    hashes: dict[str, set[str]] = {"script": set(), "style": set()}
    for element, attributes, body in INLINE.findall(page):
        if "src=" not in attributes:
            hashes[element].add(_hash(body))
    return policy(("'self'", *sorted(hashes["script"])), ("'self'", *sorted(hashes["style"])),
                  ("'self'", "data:", MAP_TILES), meta=meta)


def with_meta_policy(page: str) -> str:
    """``page`` (a map or a page of maps, to be written as a file) with its policy first in ``<head>``."""
    head = HEAD.search(page)
    if head is None:
        raise ValueError("the page has no <head>")
    tag = f'<meta http-equiv="Content-Security-Policy" content="{map_policy(page, meta=True)}">'
    return page[:head.end()] + tag + page[head.end():]
