"""A WeasyPrint URL fetcher that serves only named assets: no file://, no network.

Templates refer to assets as ``asset:NAME``; the only other thing served is an inline base64
PNG/JPEG image (a map's tile basemap, made by the program). Anything else (``file:``, ``http:``, a
``url(file:///etc/passwd)`` smuggled in through user text) is refused and never opened.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from weasyprint.urls import URLFetcher, URLFetcherResponse

SCHEME = "asset:"
IMAGE_DATA_URI = ("data:image/jpeg;base64,", "data:image/png;base64,")


def decode_image_data_uri(url: str) -> tuple[bytes, str] | None:
    """(bytes, mime) of a base64 JPEG/PNG data URI; None for anything else."""
    for prefix in IMAGE_DATA_URI:
        if url.startswith(prefix):
            try:
                return base64.b64decode(url[len(prefix):], validate=True), prefix[5:].split(";")[0]
            except binascii.Error:
                return None
    return None


class AssetRefused(ValueError):
    """A document asked for something that is not an allowed asset."""


class AssetFetcher(URLFetcher):
    """Serves a fixed name -> file mapping; records every request it was asked for."""

    def __init__(self, assets: Mapping[str, Path]):
        super().__init__(allowed_protocols=["asset"], fail_on_errors=False)
        self.assets = dict(assets)
        self.requests: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        self.requests.append(url)
        if (image := decode_image_data_uri(url)) is not None:
            return URLFetcherResponse(url, image[0], {"Content-Type": image[1]})
        name = url[len(SCHEME):] if url.startswith(SCHEME) else None
        if name is None or name not in self.assets:
            raise AssetRefused(f"refused to fetch {url!r}")
        path = self.assets[name]
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
