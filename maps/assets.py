"""Vendored Leaflet assets, so maps work offline. Pages refer to them as ``assets/…`` and the
writer copies them next to the HTML."""

from __future__ import annotations

from pathlib import Path

from disaster.outputs import OutputFolder
from disaster.resources import map_assets_dirs

ASSET_DIR = "assets"

LEAFLET_JS = [("leaflet", f"{ASSET_DIR}/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{ASSET_DIR}/leaflet.css")]
CLUSTER_JS = [("markercluster", f"{ASSET_DIR}/leaflet.markercluster.js")]
CLUSTER_CSS = [("markercluster_css", f"{ASSET_DIR}/MarkerCluster.css"),
               ("markercluster_default_css", f"{ASSET_DIR}/MarkerCluster.Default.css")]
FULLSCREEN_JS = [("fullscreen", f"{ASSET_DIR}/Control.FullScreen.js")]
FULLSCREEN_CSS = [("fullscreen_css", f"{ASSET_DIR}/Control.FullScreen.css")]
APP_JS = [("disaster_map", f"{ASSET_DIR}/disaster-map.js")]
APP_CSS = [("disaster_map_css", f"{ASSET_DIR}/disaster-map.css")]


def copy_assets(directory: Path | OutputFolder) -> Path:
    """Copy the vendored and project assets into ``directory/assets`` (idempotent; static files,
    so earlier copies are replaced, through ``disaster.outputs``)."""
    folder = directory if isinstance(directory, OutputFolder) else OutputFolder(directory, private=False)
    for source in map_assets_dirs():
        target = folder.copy_tree(source, ASSET_DIR)
    return target
