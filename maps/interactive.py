"""Interactive maps (folium + vendored Leaflet): a district map and the city overview.

Pure functions from frames to HTML. What each principal may see is decided by ``disaster.access``
(the use-case loads only the residents it allows; counts are labelled by it).

Data never becomes HTML: the page embeds it as JSON (``disaster.csp.script_json``) and
``disaster-map.js`` puts every name and text into the page as text; the page carries its Content
Security Policy (``html``), so an inline handler could not run even if one got in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen
from folium.template import Template

from disaster import access, errors, suppression
from disaster.access import Principal
from disaster.analysis.decision import DECISION_LABELS, Decision
from disaster.codes import (
    DEPTH_COLOURS,
    DEPTH_RANKS,
    DURATION_RANKS,
    HAZARD_LABELS,
    LANDSLIDE_CLASSES,
    LANDSLIDE_COLOURS,
    LANDSLIDE_KINDS,
    LANDSLIDE_RED_CLASSES,
    Hazard,
    HazardLayer,
)
from disaster.csp import MAP_TILES, script_json, with_meta_policy
from disaster.geocode import LEVEL_TOWN, TOWN_POINT_NOTE
from maps.assets import APP_CSS, APP_JS, CLUSTER_CSS, CLUSTER_JS, FULLSCREEN_CSS, FULLSCREEN_JS, LEAFLET_CSS, LEAFLET_JS

GSI_ATTRIBUTION = '<a href="https://maps.gsi.go.jp/development/ichiran.html" target="_blank">地理院タイル</a>'
GSI_TILES = {
    "地理院地図（淡色）": f"{MAP_TILES}/xyz/pale/{{z}}/{{x}}/{{y}}.png",
    "地理院地図（標準）": f"{MAP_TILES}/xyz/std/{{z}}/{{x}}/{{y}}.png",
}
DECISION_COLOURS = {Decision.LEAVE.value: "#D7263D", Decision.STAY_UPSTAIRS.value: "#F4A300", Decision.STAY.value: "#2E9E4F"}
DURATION_COLOURS = {1: "#DCEEF7", 2: "#B3D7EC", 3: "#7FB6DB", 4: "#4B8CC4", 5: "#2A62A5", 6: "#173F7D", 7: "#0B2350"}
INLAND_COLOUR = "#7FB2E5"
COLLAPSE_COLOUR = "#C00000"
SHELTER_COLOURS = {"welfare": "#8E24AA", "both": "#1B7F3B", "shelter": "#43A047", "emergency": "#F57C00"}
NOT_FOR_RAIN_COLOUR = "#9E9E9E"
NOT_FOR_RAIN_LABEL = "大雨のときは使えない場所（浸水・土砂災害の想定区域の中、または大雨の災害に指定なし）"
RAIN_HAZARDS = (Hazard.FLOOD, Hazard.INLAND_FLOOD, Hazard.LANDSLIDE)
SHELTER_LABELS = {"welfare": "福祉避難所", "both": "指定避難所・指定緊急避難場所", "shelter": "指定避難所",
                  "emergency": "指定緊急避難場所"}
CHORO_COLOURS = ["#FFF5EB", "#FDD0A2", "#FD8D3C", "#D94801", "#7F2704"]
MARGIN_DEG = 0.01
SIMPLIFY_DEG = 0.00003  # ~3 m
COUNT_COLUMNS = ("district", "residents", "at_risk", "planned", "unsupported")


@dataclass
class MapInputs:
    """Everything the maps draw, as loaded by the use-case."""

    districts: gpd.GeoDataFrame  # name, area, geometry
    zones: gpd.GeoDataFrame  # layer, rank, landslide_kind, landslide_class, river_name, geometry
    shelters: pd.DataFrame  # Shelter columns + welfare_assigned
    residents: pd.DataFrame  # the residents the principal may see; see usecases.maps.load_map_inputs
    supporters: pd.DataFrame  # of those residents: id, name (None: not to be shown), relation, lon, lat, consent, resident_ids
    counts: pd.DataFrame  # assessed residents per 校区 (index district): COUNT_COLUMNS[1:]
    centres: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)
    is_demo: bool = False
    exercise_participants: dict[str, int] | None = None  # per 校区, recent 年度 (None: no records)
    exercise_label: str = ""
    map_title: str = "防災マップ"  # from the city profile: "<市の名前> 防災マップ" unless set


class DataLayers(JSCSSMixin, MacroElement):
    """Our data layers, legend and search, built in the browser by ``disaster-map.js``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        DisasterMap.build({{ this._parent.get_name() }}, {{ this.data_json }}, {
        {%- for label, layer in this.bases %}{{ label|tojson }}: {{ layer.get_name() }}{{ "," if not loop.last }}{% endfor -%}
        });
        {% endmacro %}
        """
    )
    default_js = CLUSTER_JS + APP_JS
    default_css = CLUSTER_CSS + APP_CSS

    def __init__(self, data: dict[str, Any], bases: list[tuple[str, folium.TileLayer]]):
        super().__init__()
        self._name = "DisasterData"
        self.data_json = script_json(data)
        self.bases = bases


class DemoBanner(MacroElement):
    _template = Template(
        """
        {% macro html(this, kwargs) %}<div class="km-demo">デモデータ（架空の人物・区域を含みます）</div>{% endmacro %}
        """
    )


def _base_map(bounds: tuple[float, float, float, float], is_demo: bool) -> tuple[folium.Map, list[tuple[str, folium.TileLayer]]]:
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=14, tiles=None, control_scale=True)
    m.default_js, m.default_css = LEAFLET_JS, LEAFLET_CSS
    bases = []
    for i, (label, url) in enumerate(GSI_TILES.items()):
        layer = folium.TileLayer(tiles=url, attr=GSI_ATTRIBUTION, name=label, max_zoom=18, show=i == 0, control=False)
        layer.add_to(m)
        bases.append((label, layer))
    fullscreen = Fullscreen(position="topright", title="全画面", title_cancel="全画面を終了")
    fullscreen.default_js, fullscreen.default_css = FULLSCREEN_JS, FULLSCREEN_CSS
    fullscreen.add_to(m)
    if is_demo:
        DemoBanner().add_to(m)
    return m, bases


def _rounded(geometry: shapely.Geometry) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.set_precision(geometry, 1e-5))


def _collection(features: list[tuple[shapely.Geometry, dict[str, Any]]]) -> dict[str, Any]:
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": _rounded(g), "properties": p} for g, p in features if not g.is_empty]}


def hazard_layers(zones: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """Hazard layers clipped to ``bounds`` (+margin), simplified, in the official palettes."""
    minx, miny, maxx, maxy = bounds
    box = (minx - MARGIN_DEG, miny - MARGIN_DEG, maxx + MARGIN_DEG, maxy + MARGIN_DEG)
    if len(zones):
        zones = zones.iloc[shapely.STRtree(zones.geometry.values).query(shapely.box(*box))]
    def items(layer: HazardLayer) -> list[tuple[shapely.Geometry, Any]]:
        chosen = zones[zones["layer"] == layer.value] if len(zones) else zones
        return [(shapely.simplify(shapely.clip_by_rect(g, *box), SIMPLIFY_DEG), row) for g, (_, row) in
                zip(chosen.geometry, chosen.iterrows(), strict=True)]
    def depth(layer: HazardLayer) -> dict[str, Any]:
        return _collection([(g, {"color": DEPTH_COLOURS[int(r["rank"])], "weight": 0, "opacity": 0.6,
                                  "label": f"浸水深 {DEPTH_RANKS[int(r['rank'])][0]}（{r['river_name'] or ''}）"})
                            for g, r in items(layer)])
    layers: list[dict[str, Any]] = [
        {"label": "洪水：想定最大規模の浸水深", "show": True, "geojson": depth(HazardLayer.FLOOD_L2_DEPTH)},
        {"label": "洪水：計画規模の浸水深", "show": False, "geojson": depth(HazardLayer.FLOOD_L1_DEPTH)},
        {"label": "洪水：浸水継続時間", "show": False, "geojson": _collection([
            (g, {"color": DURATION_COLOURS[int(r["rank"])], "weight": 0, "opacity": 0.6,
                 "label": f"浸水継続時間 {DURATION_RANKS[int(r['rank'])]}"}) for g, r in items(HazardLayer.FLOOD_DURATION)])},
        {"label": "家屋倒壊等氾濫想定区域", "show": True, "geojson": _collection(
            [(g, {"color": COLLAPSE_COLOUR, "stroke": COLLAPSE_COLOUR, "weight": 1.5, "opacity": 0.25, "dash": "4 3",
                  "label": "家屋倒壊等氾濫想定区域（氾濫流）"}) for g, r in items(HazardLayer.COLLAPSE_FLOW)]
            + [(g, {"color": COLLAPSE_COLOUR, "stroke": COLLAPSE_COLOUR, "weight": 1.5, "opacity": 0.25, "dash": "2 2",
                    "label": "家屋倒壊等氾濫想定区域（河岸侵食）"}) for g, r in items(HazardLayer.COLLAPSE_EROSION)])},
        {"label": "内水による浸水", "show": True, "geojson": _collection([
            (g, {"color": INLAND_COLOUR, "weight": 0, "opacity": 0.6, "label": f"内水 {DEPTH_RANKS[int(r['rank'])][0]}"})
            for g, r in items(HazardLayer.INLAND_FLOOD)])},
        {"label": "土砂災害警戒区域（黄）・特別警戒区域（赤）", "show": True, "geojson": _collection([
            (g, {"color": LANDSLIDE_COLOURS["red" if int(r["landslide_class"]) in LANDSLIDE_RED_CLASSES else "yellow"],
                 "weight": 1, "opacity": 0.7,
                 "label": f"{LANDSLIDE_CLASSES[int(r['landslide_class'])]}（{LANDSLIDE_KINDS[int(r['landslide_kind'])]}）"})
            for g, r in items(HazardLayer.LANDSLIDE)])},
    ]
    return [layer for layer in layers if layer["geojson"]["features"]]


def _flag(value: Any) -> str:
    """Yes/no/unknown for a nullable boolean (unknown is not "no")."""
    if isinstance(value, bool | np.bool_):
        return "あり" if value else "なし"
    return "不明"


def shelter_features(shelters: pd.DataFrame, principal: Principal, district: str | None = None) -> dict[str, Any]:
    features = []
    for s in shelters.itertuples():
        kind = ("welfare" if s.is_welfare_shelter else "both" if s.is_designated_shelter and s.is_emergency_site
                else "shelter" if s.is_designated_shelter else "emergency")
        hazards = [HAZARD_LABELS[h] for h in Hazard if getattr(s, f"hazard_{h.value}")]
        rain, for_rain = _in_heavy_rain(s)
        rows: list[list[Any]] = [
            ["種別", SHELTER_LABELS[kind]], ["住所", s.address],
            ["対応する災害", "、".join(hazards) if hazards else "災害種別の指定なし（指定避難所）"],
            ["大雨のとき", rain],
            ["収容人数", None if pd.isna(s.capacity) else int(s.capacity)],
            ["バリアフリー", _flag(s.barrier_free)], ["非常用電源", _flag(s.backup_power)],
        ]
        if s.is_welfare_shelter:
            capacity = 0 if pd.isna(s.capacity) else int(s.capacity)
            assigned = int(s.welfare_assigned)
            used, left = access.capacity_labels(principal, capacity, assigned, district)
            rows += [["受入対象者", s.accepted_groups], ["直接避難", _flag(s.accepts_direct)],
                     ["割り当て済み", used], ["残り", left]]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]},
                         "properties": {"name": s.name, "colour": SHELTER_COLOURS[kind] if for_rain else NOT_FOR_RAIN_COLOUR,
                                        "kind": "shelter",
                                        "welfare": bool(s.is_welfare_shelter), "rows": rows}})
    return {"type": "FeatureCollection", "features": features}


def _in_heavy_rain(s: Any) -> tuple[str, bool]:
    """What the popup says about heavy rain, and whether the place is usable then (as the plans
    decide: safe at its own location, and a host or designated for a rain hazard)."""
    if not s.rain_safe:
        return f"使えません（{s.rain_problem}の中にあります）", False
    if not (s.is_designated_shelter or s.is_welfare_shelter or any(getattr(s, f"hazard_{h.value}") for h in RAIN_HAZARDS)):
        return "使えません（大雨の災害には指定されていません）", False
    if s.rain_floor:
        return f"{int(s.rain_floor)}階以上を使います（浸水の想定区域の中）", True
    return "使えます（浸水・土砂災害の想定区域の外）", True


RESIDENT_LABELS = {"resident_no": "名簿番号", "decision_label": "判定", "priority": "優先度", "needs": "必要な配慮",
                   "supporter_names": "支援者", "plan": "マイプラン", "destination": "避難先", "location": "位置"}


def supporter_label(name: str | None, relation: str | None) -> str:
    """How a supporter appears (``name`` is None where the principal may not see it)."""
    if name:
        return f"{name}（{relation or '支援者'}）"
    return f"{relation or '支援者'}（氏名は同意確認後に表示）"


def resident_rows(residents: pd.DataFrame, principal: Principal) -> dict[str, Any]:
    names = "name" in access.allowed_fields(principal)
    columns = ["lat", "lon", "decision", "priority", "supporters", "resident_no", "name", *RESIDENT_LABELS.keys()]
    columns = list(dict.fromkeys(columns))
    rows = []
    for r in residents.itertuples():
        supporters = "、".join(supporter_label(n, rel) for n, rel in r.supporter_list) or "未定"
        values = {
            "lat": round(r.lat, 6), "lon": round(r.lon, 6), "decision": r.decision, "priority": int(r.priority_score),
            "supporters": int(r.supporter_count), "resident_no": r.resident_no, "name": r.name if names else None,
            "decision_label": DECISION_LABELS[Decision(r.decision)], "needs": r.needs or "—",
            "supporter_names": supporters, "plan": "作成の同意あり" if r.consent_plan else "未作成",
            "destination": r.destination,
            "location": TOWN_POINT_NOTE if r.location_level == LEVEL_TOWN else None,  # the popup skips None
        }
        rows.append([values[c] for c in columns])
    return {"columns": columns, "rows": rows, "labels": RESIDENT_LABELS, "colours": DECISION_COLOURS,
            "popupColumns": list(RESIDENT_LABELS)}


def supporter_features(supporters: pd.DataFrame, resident_ids: set[int]) -> dict[str, Any]:
    """Supporters of ``resident_ids`` whose names may be shown (no name: no marker either)."""
    features = []
    for s in supporters.itertuples():
        helped = [rid for rid in s.resident_ids if rid in resident_ids]
        if not helped or pd.isna(s.lon) or not s.name:
            continue
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]},
                         "properties": {"title": supporter_label(s.name, s.relation),
                                        "rows": [["支援する人数", len(s.resident_ids)]]}})
    return {"type": "FeatureCollection", "features": features}


def _legend(hazards: list[dict[str, Any]], with_residents: bool) -> list[dict[str, str]]:
    items = []
    if with_residents:
        items += [{"colour": DECISION_COLOURS[d.value], "label": f"要支援者：{DECISION_LABELS[d]}", "shape": "circle"}
                  for d in Decision]
        items.append({"colour": "transparent", "label": "支援者が決まっていない人", "shape": "ring"})
    items += [{"colour": SHELTER_COLOURS[k], "label": label, "shape": "circle"} for k, label in SHELTER_LABELS.items()]
    items.append({"colour": NOT_FOR_RAIN_COLOUR, "label": NOT_FOR_RAIN_LABEL, "shape": "circle"})
    labels = {h["label"] for h in hazards}
    if "洪水：想定最大規模の浸水深" in labels:
        items += [{"colour": DEPTH_COLOURS[r], "label": f"浸水深 {DEPTH_RANKS[r][0]}"} for r in range(1, 7)]
    if "内水による浸水" in labels:
        items.append({"colour": INLAND_COLOUR, "label": "内水による浸水"})
    if "家屋倒壊等氾濫想定区域" in labels:
        items.append({"colour": COLLAPSE_COLOUR, "label": "家屋倒壊等氾濫想定区域"})
    if "土砂災害警戒区域（黄）・特別警戒区域（赤）" in labels:
        items += [{"colour": LANDSLIDE_COLOURS["yellow"], "label": "土砂災害警戒区域"},
                  {"colour": LANDSLIDE_COLOURS["red"], "label": "土砂災害特別警戒区域"}]
    return items


PRIVATE_MARK = "取扱注意（個人情報）"  # on every map that shows residents


def district_map(inputs: MapInputs, district: str, principal: Principal, label: str | None = None) -> folium.Map:
    """The map of one 校区 for ``principal`` (the residents in ``inputs`` are those it may see);
    ``label`` instead of ``access.view_label`` (a closed exercise's map is not 公開用)."""
    row = inputs.districts[inputs.districts["name"] == district]
    if row.empty:
        raise errors.NotFound(f"校区「{district}」は登録されていません。")
    geometry = row.geometry.iloc[0]
    bounds = geometry.bounds
    m, bases = _base_map(bounds, inputs.is_demo)
    hazards = hazard_layers(inputs.zones, bounds)
    box = shapely.box(*(b + d for b, d in zip(bounds, (-MARGIN_DEG, -MARGIN_DEG, MARGIN_DEG, MARGIN_DEG), strict=True)))
    shelters = inputs.shelters[shapely.contains_xy(box, inputs.shelters["lon"], inputs.shelters["lat"])]
    named = access.shows_residents(principal, district)
    visible = inputs.residents[inputs.residents["district"] == district]
    data: dict[str, Any] = {
        "area": _collection([(geometry, {"color": "#333333", "stroke": "#333333", "weight": 2.5, "opacity": 0.0,
                                         "dash": "8 5", "label": f"{district}校区"})]),
        "areaLabel": f"{district}校区の境界",
        "hazards": hazards,
        "shelters": shelter_features(shelters, principal, district),
        "legend": _legend(hazards, named),
        "legendTitle": "凡例",
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
        "info": _district_info(inputs, district, principal, len(visible), row["area"].iloc[0], label),
    }
    if named:
        data["residents"] = resident_rows(visible, principal)
        data["supporters"] = supporter_features(inputs.supporters, set(visible["id"]))
    DataLayers(data, bases).add_to(m)
    return m


def _district_info(inputs: MapInputs, district: str, principal: Principal, shown: int, area: str | None,
                   label: str | None = None) -> list[str]:
    counts = inputs.counts.loc[district] if district in inputs.counts.index else None
    total, at_risk = (0, 0) if counts is None else (int(counts["residents"]), int(counts["at_risk"]))
    private = access.shows_residents(principal, district)
    lines = [f"{district}校区（{area or '圏域不明'}）　{label or access.view_label(principal, district)}"
             + (f"　{PRIVATE_MARK}" if private else ""),
             f"要支援者 {access.count_label(principal, total, district)} 人"
             f"（危険な区域に住む人 {access.count_label(principal, at_risk, district, whole=total)} 人）"]
    if principal.role == access.Role.LEADER and access.shows_residents(principal, district):
        lines.append(f"地図に表示：{shown} 人（災害時モード：同意のない人を含む）" if principal.in_emergency(district)
                     else f"地図に表示：情報提供に同意した {shown} 人")
    elif principal.role == access.Role.CARE_PROFESSIONAL:
        lines.append(f"地図に表示：担当する {shown} 人")
    lines += [f"{name}　{tel or ''}" for _, name, tel in inputs.centres.get(district, [])]
    return lines


PARTS = ("at_risk", "unsupported")  # metrics counting some of the 校区's residents
CITY_METRICS = (
    ("at_risk", "危険な区域に住む要支援者（人）"),
    ("plan_rate", "マイプラン作成の同意率（%）"),
    ("unsupported", "支援者が決まっていない人（人）"),
)
HIDDEN_COLOUR = "#BDBDBD"


@dataclass(frozen=True)
class Shown:
    """A district's figure on the city map: its ``label`` as the viewer may see it and the value
    its colour is classed by (None: not shown, grey)."""

    label: str
    value: float | None


def _shown(principal: Principal, key: str, value: float, residents: int, planned: int) -> Shown:
    """Where small numbers are hidden, the colour comes from what the label says and nothing
    more: a count by the lower end of what it tells (「5未満」 as 1, 「26〜29」 as 26), a share only
    when it is shown; otherwise colours would tell 1 from 4 under the same 「5未満」."""
    if key == "plan_rate":
        if not access.suppresses_counts(principal):
            return Shown(f"{int(value)}%", value)
        label = suppression.share(planned, residents)
        return Shown(label, float(label[:-1]) if label.endswith("%") else None)
    cell = access.count_cell(principal, int(value), whole=residents if key in PARTS else None)
    return Shown(cell.label, float(cell.lo))


def _classes(values: list[float | None]) -> np.ndarray:
    """Class edges: quantiles of the shown values that are values themselves (a legend then
    names no number the map does not show)."""
    known = np.array([v for v in values if v is not None], dtype=float)
    if not len(known):
        return np.zeros(1)
    return np.unique(np.quantile(known, np.linspace(0, 1, len(CHORO_COLOURS) + 1), method="inverted_cdf"))


def _class(edges: np.ndarray, value: float) -> int:
    """Class i holds the values from ``edges[i]`` up to the next edge (the last class: to the end)."""
    return min(max(int(np.searchsorted(edges, value, side="right")) - 1, 0), max(len(edges) - 2, 0))


def _colour(edges: np.ndarray, value: float | None) -> str:
    return HIDDEN_COLOUR if value is None else CHORO_COLOURS[_class(edges, value)]


def _choropleth_legend(edges: np.ndarray, hidden: bool) -> list[dict[str, str]]:
    """The classes as whole numbers (counts and rounded percentages): 「5〜11」, the last to the
    highest value."""
    items = []
    for i in range(max(len(edges) - 1, 1)):
        lo = edges[i]
        hi = edges[i + 1] - 1 if i + 2 < len(edges) else edges[-1]
        items.append({"colour": CHORO_COLOURS[i], "label": f"{lo:.0f}" if hi <= lo else f"{lo:.0f}〜{hi:.0f}"})
    return items + ([{"colour": HIDDEN_COLOUR, "label": suppression.HIDDEN_SHARE}] if hidden else [])


def city_map(inputs: MapInputs, principal: Principal, link: Callable[[str], str] | None = None) -> folium.Map:
    """The city overview: one choropleth layer per metric (one shown at a time, with its own
    legend), with links to the district maps. Counts only; small numbers are hidden unless
    ``principal`` may see the whole city, and so are the colours that would tell them (``_shown``)."""
    suppress = access.suppresses_counts(principal)
    label_of_view = access.PUBLIC_LABEL if suppress else access.view_label(principal)
    bounds = tuple(inputs.districts.total_bounds)
    m, bases = _base_map(bounds, inputs.is_demo)  # type: ignore[arg-type]
    stats = inputs.counts.copy()
    stats["plan_rate"] = (100 * stats["planned"] / stats["residents"]).round(0)
    metrics = list(CITY_METRICS)
    if inputs.exercise_participants is not None:
        stats["exercise"] = stats.index.map(inputs.exercise_participants).fillna(0)
        metrics.append(("exercise", f"図上訓練の参加者（人、{inputs.exercise_label}）"))
    names = inputs.districts["name"].tolist()
    residents = stats["residents"].reindex(names).fillna(0).astype(int)
    planned = stats["planned"].reindex(names).fillna(0).astype(int)
    choropleths = []
    for key, label in metrics:
        values = stats[key].reindex(names).fillna(0)
        shown = {name: _shown(principal, key, float(values[name]), int(residents[name]), int(planned[name]))
                 for name in names}
        edges = _classes([figure.value for figure in shown.values()])
        features = []
        for name, area, geometry in zip(names, inputs.districts["area"], inputs.districts.geometry, strict=True):
            figure = shown[name]
            rows = [["圏域", area], [label, figure.label], ["要支援者", access.count_label(principal, int(residents[name]))]]
            features.append((geometry, {"color": _colour(edges, figure.value), "stroke": "#555555", "weight": 1,
                                        "opacity": 0.75, "label": f"{name}：{figure.label}",
                                        "popup": {"title": f"{name}校区", "rows": rows,
                                                  "link": {"href": link(name), "label": "校区の地図を開く"}
                                                  if link else None}}))
        choropleths.append({"label": label, "geojson": _collection(features), "legendTitle": f"凡例（{label}）",
                            "legend": _choropleth_legend(edges, any(f.value is None for f in shown.values()))})
    data = {
        "choropleths": choropleths,
        "shelters": shelter_features(inputs.shelters, principal),
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
        "info": [f"{inputs.map_title}　全{len(inputs.districts)}校区　{label_of_view}",
                 "図上訓練の参加者数：" + (inputs.exercise_label if inputs.exercise_participants is not None else "記録なし"),
                 "校区をクリックすると、校区の地図へのリンクが出ます。"],
    }
    DataLayers(data, bases).add_to(m)
    return m


class InjectPlayer(MacroElement):
    """Shows the scenario's injects one by one on the exercise map, highlighting the grid cell."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map, injects, grid) {
          var i = -1, cell = null;
          function el(tag, cls, text) { var e = document.createElement(tag); if (cls) { e.className = cls; }
            if (text !== undefined) { e.textContent = String(text); } return e; }
          function cellBounds(ref) { return grid.cells[ref] || null; }
          grid.lines.forEach(function (line) {
            L.polyline(line, {color: "#666", weight: 1, interactive: false}).addTo(map);
          });
          var control = L.control({position: "topleft"});
          control.onAdd = function () {
            var box = el("div", "km-info km-injects");
            var head = el("div", "km-info-title", "状況付与（" + injects.length + "枚）");
            var body = el("div", "km-inject-body", "「次へ」で1枚目を表示します。");
            var prev = el("button", null, "前へ"), next = el("button", null, "次へ");
            function show() {
              var inj = injects[i];
              head.textContent = "カード " + inj.number + "／" + injects.length + "　" + inj.time +
                (inj.level ? "　警戒レベル" + inj.level : "");
              body.textContent = "";
              body.appendChild(el("div", "km-title", inj.synopsis));
              body.appendChild(el("div", null, inj.message));
              body.appendChild(el("div", "km-key", "宛先：" + inj.to + "　地図：" + inj.map_ref));
              if (cell) { map.removeLayer(cell); }
              var b = cellBounds(inj.map_ref);
              if (b) { cell = L.rectangle(b, {color: "#B35C00", weight: 3, fillOpacity: 0.15}).addTo(map); }
            }
            prev.addEventListener("click", function () { if (i > 0) { i--; show(); } });
            next.addEventListener("click", function () { if (i < injects.length - 1) { i++; show(); } });
            box.appendChild(head); box.appendChild(body); box.appendChild(prev); box.appendChild(next);
            L.DomEvent.disableClickPropagation(box);
            return box;
          };
          control.addTo(map);
          window.disasterInjects = {count: injects.length, next: function () { if (i < injects.length - 1) { i++; } }};
        })({{ this._parent.get_name() }}, {{ this.injects_json }}, {{ this.grid_json }});
        {% endmacro %}
        """
    )

    def __init__(self, injects: list[dict[str, Any]], grid: dict[str, Any]):
        super().__init__()
        self._name = "InjectPlayer"
        self.injects_json = script_json(injects)
        self.grid_json = script_json(grid)


def exercise_map(inputs: MapInputs, district: str, scenario: Any, city_code: str, closed: bool = False) -> folium.Map:
    """The public district map with the scenario's injects, shown step by step (no names); a
    ``closed`` session's map says so (``maps.dig.CLOSED_LABEL``), not 公開用."""
    from maps.dig import CLOSED_LABEL, exercise_grid

    m = district_map(inputs, district, Principal.public(city_code), CLOSED_LABEL if closed else None)
    geometry = inputs.districts.set_index("name").geometry[district]
    injects = [{k: getattr(i, k) for k in ("number", "time", "level", "synopsis", "message", "to", "map_ref")}
               for i in scenario.injects]
    grid = exercise_grid(geometry)  # the same grid as the DIG map and the cards' map references
    cells = {}
    for ref in grid.labels():
        west, south, east, north = grid.cell_bounds(ref)
        cells[ref] = [[south, west], [north, east]]
    InjectPlayer(injects, {"cells": cells, "lines": grid.lines_wgs84()}).add_to(m)
    return m


def html(m: folium.Map) -> str:
    """The page, with its Content Security Policy in a ``<meta>`` element (a file opened from disk
    has no headers; the service sends the same policy as a header too)."""
    return with_meta_policy(m.get_root().render())
