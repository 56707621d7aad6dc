"""Evacuation assessment use-cases: compute and store every resident's assessment; summarise."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, sessionmaker

from disaster import errors, repo
from disaster.ahead import in_child, in_thread
from disaster.analysis.assignment import Candidates, assign
from disaster.analysis.decision import Decision
from disaster.analysis.engine import AssessmentInputs, AssessmentParameters, assess
from disaster.analysis.reason_rows import groups
from disaster.analysis.reasons import Said, stored
from disaster.analysis.transport import StartTrigger, TravelMode
from disaster.analysis.travel import RoadNetwork
from disaster.db import gather_statistics, large_write, meanwhile
from disaster.gc_pause import cycle_collection_paused
from disaster.models import (
    DIGESTS,
    Assessment,
    AssessmentRun,
    City,
    Dataset,
    District,
    HazardZone,
    Resident,
    Shelter,
    StoredReasons,
    Supporter,
    WelfareAgreement,
    assessment_pending,
    resident_supporter,
)
from disaster.profile import load_profile
from disaster.usecases.plan_records import review_issued

RESIDENT_COLUMNS = (
    "id", "lon", "lat", "care_level", "disability_types", "disability_grade", "medical_devices", "mobility",
    "communication_needs", "lives_alone", "building_floors", "bedroom_floor", "home_floor", "can_use_stairs", "consent_share",
    "preferred_shelter_code", "preferred_destination",
)
SHELTER_COLUMNS = tuple(c.name for c in Shelter.__table__.columns)
IN_LIMIT = 900  # ids per IN (...): within the bound-parameter limit of every SQLite build
MISSING = np.uint64(0x9E3779B97F4A7C15)  # the hash of something missing (a value, a linked supporter)


def _frame(session: Session | Connection, query: Select[Any], columns: list[str], order: list[str] | None = None
           ) -> pd.DataFrame:
    """Rows of a Core select as a frame, fetched from the driver's cursor in one call (no
    per-row SQLAlchemy objects); the columns' result conversions (e.g. SQLite's 0/1 to booleans)
    are applied once per distinct value. Rows are put in ``order`` (unique keys) here rather than
    by the database: SQLite reads a city's rows by its index and would sort the whole rows in a
    temporary B-tree."""
    connection = session.connection() if isinstance(session, Session) else session
    dialect = connection.dialect
    result = connection.execute(query)
    try:
        processors = [c.type.dialect_impl(dialect).result_processor(dialect, described[1])
                      for c, described in zip(query.selected_columns, result.cursor.description, strict=True)]
        frame = pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns)
    finally:
        result.close()
    for name, processor in zip(columns, processors, strict=True):
        if processor is not None:
            frame[name] = _converted(frame[name].tolist(), processor)
    return frame.sort_values(order, ignore_index=True) if order else frame


def _converted(values: list[Any], processor: Any) -> list[Any]:
    memo: dict[Any, Any] = {}
    converted = []
    for value in values:
        try:
            if value not in memo:
                memo[value] = processor(value)
            converted.append(memo[value])
        except TypeError:  # unhashable (a decoded JSON value)
            converted.append(processor(value))
    return converted


def load_inputs(session: Session, city_code: str, only: Sequence[int] | None = None) -> AssessmentInputs:
    """Read what the engine needs into frames, with plain SQL (Core selects on the tables): the
    city's shelters and zones, and its residents (those of ``only``, ids, when given) with their
    supporters (each with ``load``: how many residents they help in all), links and agreements.
    For a whole city the supporters, links and agreements are read meanwhile (``db.meanwhile``):
    the session must not have written them itself (a caller's transaction it joined is read in)."""
    def support(connection: Session | Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return _support_frames(connection, city_code, only)

    with meanwhile(session, support) if only is None else nullcontext(lambda: support(session)) as supported:
        residents, (shelters, zones) = _residents(session, city_code, only), _city_frames(session, city_code)
        return AssessmentInputs(residents, shelters, zones, *supported())


def _residents(session: Session | Connection, city_code: str, only: Sequence[int] | None) -> pd.DataFrame:
    r, d = Resident.__table__.c, District.__table__.c
    # JSON lists read as text and decoded once per distinct value (most residents share a few),
    # not per row by the driver
    lists = [c for c in RESIDENT_COLUMNS if isinstance(r[c].type, JSON)]
    residents = _frames(session, select(*(cast(r[c], Text) if c in lists else r[c] for c in RESIDENT_COLUMNS),
                                        d.name.label("district"))
                        .join(District.__table__, r.district_id == d.id)
                        .where(r.city_code == city_code), [*RESIDENT_COLUMNS, "district"], ["id"], r.id, only)
    decoded: dict[str, Any] = {}

    def decode(value: str | None) -> Any:
        if value is None:
            return None
        if value not in decoded:
            decoded[value] = json.loads(value)
        return decoded[value]

    for column in lists:
        residents[column] = [decode(v) for v in residents[column].tolist()]
    return residents


def _city_frames(session: Session | Connection, city_code: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The city's shelters and hazard zones (geometry WGS84)."""
    s = Shelter.__table__.c
    shelters = _frame(session, select(*s).where(s.city_code == city_code), list(SHELTER_COLUMNS), ["id"])
    z = HazardZone.__table__.c
    zone_rows = session.execute(repo.city_zones(city_code, z.layer, z.rank, z.landslide_kind, z.landslide_class, z.geom)
                                .order_by(z.id)).all()
    zones = pd.DataFrame.from_records([row[:4] for row in zone_rows], columns=["layer", "rank", "landslide_kind", "landslide_class"])
    zones["geometry"] = shapely.from_wkb([row.geom for row in zone_rows])
    return shelters, zones


def _support_frames(session: Session | Connection, city_code: str, only: Sequence[int] | None
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(supporters with their load, links, agreements) of the city's residents (of ``only``), in
    ``AssessmentInputs``' order."""
    r, rs = Resident.__table__.c, resident_supporter.c
    links = _frames(session, select(rs.resident_id, rs.supporter_id).join(Resident.__table__, rs.resident_id == r.id)
                    .where(r.city_code == city_code), ["resident_id", "supporter_id"], ["resident_id", "supporter_id"],
                    rs.resident_id, only)
    p = Supporter.__table__.c
    load = (select(func.count()).select_from(resident_supporter).where(rs.supporter_id == p.id)
            .correlate(Supporter.__table__).scalar_subquery())
    supporters = _frames(session, select(p.id, p.lon, p.lat, p.relation, p.consent, load).where(p.city_code == city_code),
                         ["id", "lon", "lat", "relation", "consent", "load"], ["id"], p.id,
                         None if only is None else sorted(set(links["supporter_id"].tolist())))
    w = WelfareAgreement.__table__.c
    agreements = _frames(session, select(w.resident_id, w.shelter_id, w.agreed_on).join(Resident.__table__, w.resident_id == r.id)
                         .where(r.city_code == city_code), ["resident_id", "shelter_id", "agreed_on"],
                         ["resident_id", "shelter_id"], w.resident_id, only)
    return supporters, links, agreements


def _frames(session: Session | Connection, query: Select[Any], columns: list[str], order: list[str], key: Any,
            only: Sequence[int] | None) -> pd.DataFrame:
    """``_frame`` of ``query`` in ``order``, restricted to rows whose ``key`` is in ``only`` when
    given (read ``IN_LIMIT`` ids at a time)."""
    if only is None:
        return _frame(session, query, columns, order)
    chunks = [_frame(session, query.where(key.in_(only[start:start + IN_LIMIT])), columns)
              for start in range(0, max(len(only), 1), IN_LIMIT)]
    return pd.concat(chunks, ignore_index=True).sort_values(order, ignore_index=True)


def _data_versions(session: Session, city_code: str) -> dict[str, str]:
    return {f"{kind}:{source}": sha256 for kind, source, sha256 in session.execute(
        select(Dataset.kind, Dataset.source, Dataset.sha256).where(Dataset.city_code == city_code).order_by(Dataset.id))}


def latest_run(session: Session, city_code: str) -> AssessmentRun:
    """The city's latest assessment run (NotReady when the city has none)."""
    run = _latest(session, city_code)
    if run is None:
        raise errors.NotReady("判定結果がありません。`disaster assess` を実行してください。")
    return run


def _latest(session: Session, city_code: str) -> AssessmentRun | None:
    return session.scalar(select(AssessmentRun).where(AssessmentRun.city_code == city_code)
                          .order_by(AssessmentRun.id.desc()).limit(1))


NUMERIC = frozenset({"load", *(c.name for table in (Resident, Supporter, WelfareAgreement, Shelter)
                             for c in table.__table__.columns if c.type.python_type in (int, float, bool))})


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row of ``frame`` (pandas' keyed SipHash of each value: stable across
    processes), the same whatever other rows the frame holds: numeric columns (``NUMERIC``) are
    hashed as float64 (an integer column with a missing value reads as float), others as Python
    objects with missing values as one null (values pandas cannot hash, JSON lists, by their repr)."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        if name in NUMERIC:
            values = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            values = values.astype(object).where(values.notna(), None)
        try:
            columns.append(pd.util.hash_pandas_object(values, index=False).to_numpy())
        except TypeError:
            columns.append(_repr_hashes(values.tolist()))
    return _combine(columns, len(frame))


def _repr_hashes(values: list[Any]) -> np.ndarray:
    """The hash of each value's ``repr`` (None: one null). Values are often shared
    (``load_inputs`` decodes each distinct JSON list once): each object is written once."""
    codes, first = _by_identity(values)
    texts = pd.Series([None if values[k] is None else repr(values[k]) for k in first.tolist()], dtype=object)
    return pd.util.hash_pandas_object(texts, index=False).to_numpy()[codes]


def _by_identity(objects: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(group of each object, where each group first appears): objects are grouped by identity
    (``reason_rows.groups`` of their ids), so equal but distinct objects are apart."""
    return groups(np.fromiter(map(id, objects), dtype=np.int64, count=len(objects)))


def _combine(columns: list[np.ndarray], n: int) -> np.ndarray:
    """One hash per row from several per-row hashes (order-dependent)."""
    if not columns:
        return np.zeros(n, dtype=np.uint64)
    return pd.util.hash_pandas_object(pd.DataFrame({str(k): c for k, c in enumerate(columns)}), index=False).to_numpy()


def _sum_per(owners: np.ndarray, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Per id of ``ids``: the sum (mod 2**64, so independent of order) of the ``values`` whose
    owner is that id."""
    total = np.zeros(len(ids), dtype=np.uint64)
    at = pd.Index(ids).get_indexer(owners)
    known = at >= 0
    np.add.at(total, at[known], values[known])
    return total


def input_digests(inputs: AssessmentInputs) -> list[str]:
    """Per resident (in ``inputs.residents`` order): a digest of everything of their own that the
    result depends on — their row, each linked supporter (with ``load``, how many people that
    supporter helps) and their 福祉避難所 agreements. Shared inputs (shelters, zones, parameters) are in
    ``shared_digest``; the 福祉避難所 places are re-planned on every run. Computed on
    whole columns (pandas' hashing), no per-row Python."""
    residents, links, supporters = inputs.residents, inputs.links, inputs.supporters
    supporter_ids = supporters["id"].to_numpy()
    link_rids, link_sids = links["resident_id"].to_numpy(), links["supporter_id"].to_numpy()
    helper = _row_hashes(supporters)  # with their load
    at = pd.Index(supporter_ids).get_indexer(link_sids)
    per_link = np.where(at >= 0, helper[np.maximum(at, 0)], MISSING) if len(at) else np.zeros(0, dtype=np.uint64)
    ids = residents["id"].to_numpy()
    agreements = inputs.agreements
    agreed = np.zeros(len(ids), dtype=np.uint64)
    if agreements is not None and len(agreements):
        agreed = _sum_per(agreements["resident_id"].to_numpy(), _row_hashes(agreements), ids)
    counts = np.bincount(pd.Index(ids).get_indexer(link_rids) + 1, minlength=len(ids) + 1)[1:].astype(np.uint64)
    digests = _combine([_row_hashes(residents), _sum_per(link_rids, per_link, ids), counts, agreed], len(ids))
    return [f"{h:016x}" for h in digests.tolist()]


def shared_digest(inputs: AssessmentInputs, parameters: dict[str, Any]) -> str:
    """A digest of what every resident's result depends on: shelters, hazard zones, parameters."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(_row_hashes(inputs.shelters).tobytes())
    digest.update(_row_hashes(pd.DataFrame(inputs.zones.drop(columns="geometry"))).tobytes())
    for geometry in shapely.to_wkb(inputs.zones.geometry.to_numpy()):
        digest.update(geometry)
    return digest.hexdigest()[:32]


def run_assessment(
    sessions: sessionmaker[Session],
    city_code: str,
    params: AssessmentParameters | None = None,
    road_graph: Path | None = None,
    night: bool = False,
    full: bool = False,
) -> int:
    """Assess the city's residents and store the results in one transaction; returns the run id.
    Unless ``full`` or shelters, hazard zones or parameters changed, only the residents whose
    inputs changed are recomputed, and those whose 福祉避難所 place the re-planning moved
    (``_replanned``). The parameters come from the city profile's ``[evacuation]`` section
    unless given."""
    profile = load_profile(city_code)
    params = params or AssessmentParameters(evacuation=profile.evacuation, metric_crs=profile.crs, night=night)
    network = RoadNetwork.from_graphml(road_graph, params.metric_crs) if road_graph else None
    parameters = params.as_dict() | {"road_graph": road_graph.name if road_graph else None,
                                     "result_format": RESULT_FORMAT}
    if road_graph is not None:
        parameters["road_graph_sha256"] = hashlib.sha256(road_graph.read_bytes()).hexdigest()
    review: set[int] | None = None  # whose issued plans to check again (None: everyone's)
    with sessions() as session, session.begin(), cycle_collection_paused():
        repo.get_city(session, city_code)
        _one_run_at_a_time(session, city_code)
        pending = _take_pending(session, city_code)
        previous = _latest(session, city_code)
        before = previous.data_versions if previous is not None else {}
        count = session.scalar(select(func.count()).select_from(Resident).where(Resident.city_code == city_code)) or 0
        incremental = previous is not None and not full
        few = incremental and 2 * len(pending) <= count  # read only the listed residents
        inputs = load_inputs(session, city_code, only=sorted(pending) if few else None)
        fingerprints = {SHARED: shared_digest(inputs, parameters)}
        if incremental and before.get(SHARED) != fingerprints[SHARED]:  # shelters, zones or parameters changed
            incremental = False
            if few:
                inputs = load_inputs(session, city_code)
        todo = _changed(session, inputs) if incremental else None
        deleted = pending - set(inputs.residents["id"].tolist())  # their places may go to others
        if todo is not None and not todo.any() and not deleted \
                and before == _data_versions(session, city_code) | fingerprints:
            run_id = previous.id  # type: ignore[union-attr]  # nothing changed since
            review = pending
        else:  # (files imported again with no change for the assessment: recorded, nothing recomputed)
            whole = todo is None or 2 * int(todo.sum()) > count  # (then inputs hold everyone)
            if todo is not None and not whole:
                result = _replanned(session, city_code, inputs, todo, deleted, params, network)
                stored = _stored_digests(session, city_code, [] if result is None else result["resident_id"].tolist())
            else:  # the stored results' digests are read while the engine computes (it uses no session)
                with ThreadPoolExecutor(max_workers=1) as pool:
                    reading = pool.submit(_stored_digests, session, city_code, None)
                    result = _assessed(inputs, params, network) if count else None
                    stored = reading.result()
            run_id = _store(session, city_code, result, count, parameters, fingerprints, stored)
            if whole:  # (a first run inserts everyone: the summary's plan)
                gather_statistics(session, ("assessment",))
            else:  # only the plans of residents written to or recomputed can have changed
                review = pending | set(() if result is None else result["resident_id"].tolist())
    review_issued(sessions, city_code, residents=review)  # issued plans whose data changed turn 要見直し
    return run_id


RESULT_FORMAT = 14  # the schema revision whose columns a result fills: results of another are recomputed
SHARED = f"{DIGESTS}:shared"  # key of AssessmentRun.data_versions


def _one_run_at_a_time(session: Session, city_code: str) -> None:
    """Wait until no other run of the city is in progress: a run compares its results with the
    stored ones, which another run in progress would change under it. On PostgreSQL the city's
    row is locked until this transaction ends (other cities' runs go on); SQLite has one writer
    at a time, and a run's transaction starts with its first write (``_take_pending``)."""
    session.execute(select(City.code).where(City.code == city_code).with_for_update())


def _take_pending(session: Session, city_code: str) -> set[int]:
    """The city's residents whose inputs changed since its last run (listed by the database's
    triggers, ``models.assessment_pending``), taken off the list: a run that fails gives them
    back with its transaction; a write committed meanwhile stays listed for the next run."""
    q = assessment_pending.c
    return set(session.scalars(delete(assessment_pending).where(q.city_code == city_code).returning(q.resident_id)))


def _assessed(inputs: AssessmentInputs, params: AssessmentParameters, network: RoadNetwork | None,
              places: dict[int, int] | None = None) -> pd.DataFrame:
    """The engine's results for ``inputs``' residents, with the digest of each one's inputs."""
    result = assess(inputs, params, network, places=places)
    result["inputs_digest"] = pd.Series(input_digests(inputs), index=inputs.residents["id"].to_numpy()) \
        .loc[result["resident_id"].to_numpy()].to_numpy()
    return result


def _changed(session: Session, inputs: AssessmentInputs) -> np.ndarray:
    """Which of ``inputs``' residents changed: their digest differs from the stored one (or none is stored)."""
    a = Assessment.__table__.c
    ids = inputs.residents["id"].tolist()
    stored: dict[int, str | None] = {}
    for start in range(0, len(ids), IN_LIMIT):
        stored |= dict(session.execute(select(a.resident_id, a.inputs_digest)
                                       .where(a.resident_id.in_(ids[start:start + IN_LIMIT]))).all())
    return np.array([stored.get(rid) != digest for rid, digest in zip(ids, input_digests(inputs), strict=True)],
                    dtype=bool)


def _store(session: Session, city_code: str, result: pd.DataFrame | None, count: int,
           parameters: dict[str, Any], fingerprints: dict[str, str], stored: tuple[np.ndarray, np.ndarray]) -> int:
    """Record a new run and store the rows of ``result`` that differ from the stored results of
    the same residents (``stored``: ``_stored_digests`` of at least those), in their place. A
    stored result the run left as it was keeps the run that wrote it; "reassessed" counts the
    residents computed, "rewritten" the results stored."""
    computed = 0 if result is None else len(result)
    run = AssessmentRun(
        city_code=city_code, computed_at=dt.datetime.now(dt.UTC),
        data_versions=_data_versions(session, city_code) | fingerprints,
        parameters=parameters | {"reassessed": computed}, resident_count=count,
    )
    session.add(run)
    session.flush()
    rewritten = 0
    if result is not None and computed:
        ids, digests = stored
        rewritten = _write(session, _to_rewrite(result, pd.Index(ids), digests, run.id), apart=computed > BATCH)
    run.parameters = run.parameters | {"rewritten": rewritten}
    return run.id


def _to_rewrite(result: pd.DataFrame, ids: pd.Index, digests: np.ndarray, run_id: int) -> Iterator[pd.DataFrame]:
    """``result``'s rows in their stored form (``stored_form``) with their digests and the run, a
    batch at a time, but those whose digest equals that of the stored result of the same
    resident (``digests`` of residents ``ids``). A batch is made only when it is asked for: the
    writer overlaps that work with the database's (``_write``). The first batch is an eighth of
    the others: the writer waits for it with nothing to do."""
    starts = [0, *range(BATCH // 8, len(result), BATCH)]
    for start, end in zip(starts, [*starts[1:], len(result)], strict=True):
        part = stored_form(result.iloc[start:end])
        part["result_digest"] = new = result_digests(part)
        at = ids.get_indexer(part["resident_id"].to_numpy())
        same = (at >= 0) & (digests[np.maximum(at, 0)] == new) if len(ids) else np.zeros(len(part), dtype=bool)
        yield part[~same].assign(run_id=run_id)


def stored_form(result: pd.DataFrame) -> pd.DataFrame:
    """The engine's ``result`` as it is stored: each list of reasons as its JSON text. The engine
    shares its lists between rows with the same reasons (and its reason objects between lists):
    each list is serialised once, and its text is one object for every row that has it."""
    memo: dict[Any, str] = {}
    texts = {}
    for column in REASON_COLUMNS:
        lists = result[column].to_numpy()
        same, first = _by_identity(lists)
        distinct = [_reasons_json(lists[k], memo) for k in first.tolist()]
        texts[column] = np.fromiter(distinct, dtype=object, count=len(distinct))[same]
    return result.drop(columns=["district"]).assign(**texts)


def result_digests(result: pd.DataFrame) -> np.ndarray:
    """Per row of ``result`` (``stored_form``): a 64-bit digest (signed, as the database stores it)
    of what is stored of it (``DIGESTED`` and ``RESULT_FORMAT``), so that a run rewrites only the
    results that changed. Computed on whole columns (pandas' keyed hashing, stable across
    processes), each distinct text hashed once."""
    columns = [_hashes(result[column]) for column in DIGESTED]
    columns.append(np.full(len(result), RESULT_FORMAT, dtype=np.uint64))
    return _combine(columns, len(result)).view(np.int64)


def _hashes(values: pd.Series) -> np.ndarray:
    """A 64-bit hash per value (a missing value hashes as one null); Python objects (text, bytes)
    are hashed once per distinct value."""
    if values.dtype != object:
        return pd.util.hash_pandas_object(values, index=False).to_numpy()
    codes, distinct = pd.factorize(values)
    return np.append(pd.util.hash_array(np.asarray(distinct, dtype=object)), MISSING)[codes]


def _stored_digests(session: Session, city_code: str, only: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Resident ids and the digests of their stored results (``result_digests``; rows stored
    before digests are left out): the city's, or those of ``only`` (ids) when given."""
    a, r = Assessment.__table__.c, Resident.__table__.c
    query = (select(a.resident_id, a.result_digest).join(Resident.__table__, a.resident_id == r.id)
             .where(r.city_code == city_code, a.result_digest.is_not(None)))
    stored = _frames(session, query, ["resident_id", "result_digest"], ["resident_id"], a.resident_id, only)
    return stored["resident_id"].to_numpy(dtype=np.int64), stored["result_digest"].to_numpy(dtype=np.int64)


def _replanned(session: Session, city_code: str, inputs: AssessmentInputs, todo: np.ndarray, deleted: set[int],
               params: AssessmentParameters, network: RoadNetwork | None) -> pd.DataFrame | None:
    """The results to store after an edit (None: nothing to store): ``inputs``' residents whose
    digest changed (``todo``) are recomputed, and so is everyone
    whose 福祉避難所 place changes when the city's places are planned again — from the unchanged
    residents' stored requests and the changed ones' new requests, exactly as a whole-city run
    plans them (same arcs, priorities and capacities, ``analysis.assignment.assign``). When no
    one in the edit seeks or takes a place, before or after (and no one left the 名簿, whose
    stored part is gone with them), the planning has the same requests and the same result:
    it is not read again."""
    changed = inputs.residents[todo].reset_index(drop=True)
    fresh = _assessed(replace(inputs, residents=changed), params, network, places={}) if len(changed) else None
    asked = None if fresh is None else fresh.rename(columns={
        "resident_id": "id", "priority_score": "score", "welfare_candidates": "candidates",
        "claimed_shelter_id": "claimed"})[["id", "score", "candidates", "claimed"]]
    if asked is not None and not deleted and not _in_pool(asked) \
            and not _in_pool(_requests(session, city_code, only=changed["id"].tolist())):
        return fresh  # (without a place to seek or take, a result does not depend on the places)
    stored = _requests(session, city_code)
    stored = stored[~stored["id"].isin(changed["id"])]
    requests = stored if asked is None else pd.concat([stored, asked], ignore_index=True)
    places = plan_places(requests, inputs.shelters)
    seekers = stored[stored["candidates"].notna()]
    moved = [rid for rid, placed in zip(seekers["id"].tolist(), seekers["placed"].tolist(), strict=True)
             if places.get(rid, -1) != (-1 if placed is None or placed != placed else int(placed))]
    redo = sorted({*changed["id"].tolist(), *moved})
    if not redo:
        return None
    return _assessed(load_inputs(session, city_code, only=redo), params, network, places=places)


def _in_pool(requests: pd.DataFrame) -> bool:
    """Whether any of ``requests``' residents (``_requests``' columns) seeks a 福祉避難所 place or
    takes one by their own choice."""
    return bool(requests["candidates"].notna().any() or (requests["claimed"].fillna(-1).to_numpy() >= 0).any())


def _requests(session: Session, city_code: str, only: Sequence[int] | None = None) -> pd.DataFrame:
    """The stored part of each resident (of ``only``, ids, when given) in the 福祉避難所 planning:
    id, score (priority), candidates (JSON, None: not seeking), claimed (shelter id their own
    choice takes) and placed (the 福祉避難所 planned for them)."""
    a, r = Assessment.__table__.c, Resident.__table__.c
    query = (select(a.resident_id, a.priority_score, a.welfare_candidates, a.claimed_shelter_id, a.welfare_shelter_id)
             .join(Resident.__table__, a.resident_id == r.id)
             .where(r.city_code == city_code, or_(a.welfare_candidates.is_not(None), a.claimed_shelter_id.is_not(None))))
    return _frames(session, query, ["id", "score", "candidates", "claimed", "placed"], ["id"], a.resident_id, only)


def plan_places(requests: pd.DataFrame, shelters: pd.DataFrame) -> dict[int, int]:
    """福祉避難所 shelter id per placed resident id, planned over the city's requests (``_requests``'
    columns id, score, candidates, claimed), as ``analysis.engine.assess`` plans them."""
    shelters = shelters.sort_values("id", kind="stable")
    site = pd.Index(shelters["id"].to_numpy())
    capacity = shelters["capacity"].fillna(0).to_numpy(dtype=int).copy()
    claimed = site.get_indexer(requests["claimed"].dropna().astype(int).to_numpy())
    np.subtract.at(capacity, claimed[claimed >= 0], 1)
    seekers = requests[requests["candidates"].notna()].sort_values("id", kind="stable")
    person, shelter, cost = [], [], []
    for k, text in enumerate(seekers["candidates"].tolist()):
        for sid, c in json.loads(text):
            person.append(k)
            shelter.append(sid)
            cost.append(c)
    target = site.get_indexer(np.array(shelter, dtype=int))
    known = target >= 0
    arcs = Candidates(np.array(person, dtype=int)[known], target[known], np.array(cost, dtype=np.int64)[known])
    placed = assign(len(seekers), capacity, arcs, seekers["score"].to_numpy(dtype=np.int64))
    ids = shelters["id"].to_numpy()
    return {int(rid): int(ids[p]) for rid, p in zip(seekers["id"].tolist(), placed.tolist(), strict=True) if p >= 0}


COLUMNS = tuple(c.name for c in Assessment.__table__.columns)
DIGESTED = tuple(c for c in COLUMNS if c not in ("run_id", "result_digest"))  # what a result's digest covers
REASON_COLUMNS = frozenset(c.name for c in Assessment.__table__.columns if isinstance(c.type, StoredReasons))
NONE_BELOW = {  # engine values meaning "none": shelter index -1, rank 0
    **dict.fromkeys(("destination_shelter_id", "second_shelter_id", "welfare_shelter_id", "claimed_shelter_id"), 0),
    **dict.fromkeys(("flood_l1_rank", "flood_l2_rank", "duration_rank", "inland_rank", "landslide_kind",
                     "landslide_class"), 1),
}
BATCH = 10_000


def _present(result: pd.DataFrame, column: str) -> np.ndarray:
    """Per row of ``result``: whether ``column`` holds a value (``_values`` gives None where not)."""
    values = result[column].to_numpy()
    if column in NONE_BELOW:
        return values >= NONE_BELOW[column]
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    if values.dtype.kind in "biu":
        return np.ones(len(values), dtype=bool)
    return result[column].notna().to_numpy()


def _values(result: pd.DataFrame, column: str, booleans: type = bool) -> list[Any]:
    """One column of the engine's result (``stored_form``) as plain Python values for the database
    driver (``booleans``: ``int`` to send them as 0/1)."""
    values = result[column].to_numpy()
    if column in NONE_BELOW or values.dtype.kind == "f":
        present = _present(result, column)
        numbers = np.where(present, values, 0).astype(np.int64 if column in NONE_BELOW else values.dtype).tolist()
        return numbers if present.all() else [n if p else None for n, p in zip(numbers, present.tolist(), strict=True)]
    if values.dtype.kind == "b":
        return values.astype(booleans).tolist()
    if values.dtype.kind in "iu":
        return values.tolist()
    out = values.tolist()
    for missing in np.flatnonzero(pd.isna(values)).tolist():  # None or NaN
        out[missing] = None
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "bytes", "empty"):
        return out
    return [v.item() if isinstance(v, np.generic) else v for v in out]  # numbers: as Python's


def _reasons_json(reasons: list[Any], memo: dict[Any, str]) -> str:
    """The stored JSON of a list of reasons; equal reasons are serialised once."""
    parts = []
    for said in reasons:
        part = memo.get(id(said))
        if part is None:
            key = (said.key, *said.params.items()) if isinstance(said, Said) else id(said)
            part = memo.get(key)
            if part is None:
                part = memo[key] = json.dumps((stored([said]) or [])[0], ensure_ascii=False, separators=(",", ":"))
            memo[id(said)] = part
        parts.append(part)
    return "[" + ",".join(parts) + "]"


def _write(session: Session, batches: Iterator[pd.DataFrame], apart: bool) -> int:
    """Store the rows of each batch (``_to_rewrite``) in place of the stored results of the same
    residents (an upsert: on PostgreSQL an update checks only the foreign keys whose value
    changed; the run has none, migration 0018); returns how many. The database work stays on the caller's
    connection, in its transaction, while the next batch is made and converted to the driver's
    values ahead (``disaster.ahead``):

    - PostgreSQL: a binary COPY into a temporary table and an upsert from it; the next batch is
      made and encoded as COPY data in a worker thread while the server stores this one (the
      caller's thread only passes the data on: ~0.1 s less at 100,000 rows than encoding there).
    - SQLite: executemany, which holds the interpreter while it binds each row's values. With
      ``apart`` (more than one batch), the next batch is made in a child process meanwhile,
      a quarter less time at 100,000 rows (1.2–1.3 s instead of 1.6–1.7 s, in turns); a worker
      thread gained nothing. The transaction's page cache holds the pages written, and the
      commit leaves the write-ahead log's checkpoint to a thread (``db.large_write``).
    """
    connection = session.connection()
    written = 0
    if connection.dialect.name == "postgresql":
        names = ", ".join(COLUMNS)
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, raw.cursor() as encoder:  # type: ignore[union-attr]
            encoded = functools.partial(_copy_data, encoder, _copy_types(connection))
            cursor.execute("CREATE TEMPORARY TABLE assessment_new (LIKE assessment) ON COMMIT DROP")
            for count, data in in_thread((len(part), encoded(part)) for part in batches):
                if not count:
                    continue
                with cursor.copy(f"COPY assessment_new ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(data)
                cursor.execute(f"INSERT INTO assessment ({names}) SELECT {names} FROM assessment_new "
                               f"ON CONFLICT (resident_id) DO UPDATE SET {_updates(COLUMNS)}")
                cursor.execute("TRUNCATE assessment_new")
                written += count
            cursor.execute("DROP TABLE assessment_new")
        return written
    made = ((len(part), list(_filled(part))) for part in batches)
    if apart:
        large_write(session)
    for count, filled in in_child(made) if apart else made:
        for columns, values in filled:
            connection.exec_driver_sql(
                f"INSERT INTO assessment ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT (resident_id) DO UPDATE SET {_updates(columns)}", list(zip(*values, strict=True)))
        written += count
    return written


def _updates(columns: Sequence[str]) -> str:
    """The SET clause of the upsert of a row that names ``columns``: every other column to NULL."""
    return ", ".join(f"{c} = excluded.{c}" if c in columns else f"{c} = NULL" for c in COLUMNS if c != "resident_id")


def _filled(part: pd.DataFrame) -> Iterator[tuple[list[str], list[list[Any]]]]:
    """``part``'s rows for executemany, grouped by which columns hold a value: each group's
    INSERT names only those columns (the others are NULL by default) and booleans go as 0/1.
    Python's sqlite3 binds exact ints, floats and strings directly but looks up an adapter for
    every other value (None, bool): at 100,000 rows this halves the time to bind them. A group
    comes as its columns' values, one list per column: the child process that makes them
    (``_write``) pickles them a third faster than rows, and the caller zips them into rows."""
    if part.empty:
        return
    present = {column: _present(part, column) for column in COLUMNS}
    sparse = [column for column in COLUMNS if not present[column].all()]
    pattern = np.zeros(len(part), dtype=np.int64)
    for k, column in enumerate(sparse):
        pattern |= present[column].astype(np.int64) << k
    bit = {column: k for k, column in enumerate(sparse)}
    order = np.argsort(pattern, kind="stable")  # each group's rows together
    kinds, starts = np.unique(pattern[order], return_index=True)
    ordered = part.iloc[order]
    values = {column: _values(ordered, column, booleans=int) for column in COLUMNS}
    ends = [*starts[1:].tolist(), len(part)]
    for kind, start, end in zip(kinds.tolist(), starts.tolist(), ends, strict=True):
        columns = [c for c in COLUMNS if c not in bit or kind >> bit[c] & 1]
        yield columns, [values[c][start:end] for c in columns]


def _copy_data(encoder: Any, types: list[int], part: pd.DataFrame) -> bytes:
    """``part``'s rows as the data of a binary COPY of ``COLUMNS`` (``types``: ``_copy_types``),
    encoded by psycopg with ``encoder``, a cursor that runs nothing: no server is asked."""
    from psycopg import Copy
    from psycopg.copy import FileWriter

    data = io.BytesIO()
    with Copy(encoder, binary=True, writer=FileWriter(data)) as copy:
        copy.set_types(types)
        for row in zip(*(_values(part, c) for c in COLUMNS), strict=True):
            copy.write_row(row)
    return data.getvalue()


def _copy_types(connection: Connection) -> list[int]:
    """The PostgreSQL type of each of ``COLUMNS``, as a binary COPY needs them (the server casts
    nothing): from the catalog."""
    oids = {name: oid for name, oid in connection.exec_driver_sql(
        "SELECT attname, atttypid::oid FROM pg_attribute "
        "WHERE attrelid = 'assessment'::regclass AND attnum > 0 AND NOT attisdropped")}
    return [oids[column] for column in COLUMNS]


def refresh_if_residents(sessions: sessionmaker[Session], city_code: str) -> int | None:
    """Re-assess after an import changed the inputs (nothing to do without residents)."""
    with sessions() as session:
        if session.scalar(select(Resident.id).where(Resident.city_code == city_code).limit(1)) is None:
            return None
    return run_assessment(sessions, city_code)


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows of the group meet ``condition`` (an aggregate FILTER: on SQLite a fifth faster
    than summing a CASE)."""
    return func.count().filter(condition)


def _summary_columns() -> dict[str, ColumnElement[int]]:
    """Per-district figures as SQL aggregates; the names are ``_empty``'s keys (``group.key``)."""
    a = Assessment.__table__.c

    def rank(column: Any) -> ColumnElement[int]:
        return func.coalesce(column, 0)

    return {
        "residents": func.count(),
        **{f"by_decision.{d.value}": _counted(a.decision == d.value) for d in Decision},
        "by_hazard.flood": _counted(or_(rank(a.flood_l2_rank) != 0, rank(a.flood_l1_rank) != 0)),
        "by_hazard.flood_deep": _counted(rank(a.flood_l2_rank) >= 2),
        "by_hazard.collapse": _counted(or_(a.collapse_flow.is_(True), a.collapse_erosion.is_(True))),
        "by_hazard.inland": _counted(rank(a.inland_rank) != 0),
        "by_hazard.landslide": _counted(rank(a.landslide_class) != 0),
        "by_hazard.landslide_red": _counted(a.landslide_class.in_((2, 4))),
        "welfare_needed": _counted(a.welfare_needed.is_(True)),
        "welfare_placed": _counted(a.welfare_shelter_id.is_not(None)),
        "welfare_direct": _counted(a.welfare_direct.is_(True)),
        "welfare_unplaced": _counted(a.welfare_unplaced.is_(True)),
        "without_destination": _counted(and_(a.destination_shelter_id.is_(None),
                                             func.coalesce(a.destination_kind, "") != "own_choice")),
        **{f"by_travel_mode.{m.value}": _counted(a.travel_mode == m.value) for m in TravelMode},
        **{f"by_start_trigger.{t.value}": _counted(a.start_trigger == t.value) for t in StartTrigger},
        "crosses_deep_water": _counted(a.crosses_deep_water.is_(True)),
        "unsupported": _counted(a.supporter_count == 0),
    }


def summary(sessions: sessionmaker[Session], city_code: str, district: str | None = None) -> dict[str, Any]:
    """Per-district counts of the stored results (computed by the database, GROUP BY 校区): by
    decision, by hazard, 福祉避難所, travel, start, supporters."""
    columns = _summary_columns()
    a, r, d, rs = Assessment.__table__.c, Resident.__table__.c, District.__table__.c, resident_supporter.c
    with sessions() as session:
        run = latest_run(session, city_code)
        # counted per district id and named afterwards: the city's residents are read in the
        # order of their district (index ix_resident_city_code_district_id), with no sort
        counted = (select(r.district_id, *(column.label(f"c{k}") for k, column in enumerate(columns.values())))
                   .select_from(Assessment.__table__).join(Resident.__table__, a.resident_id == r.id)
                   .where(r.city_code == city_code).group_by(r.district_id))
        supporters = (select(r.district_id, func.count(func.distinct(rs.supporter_id)))
                      .join_from(Resident.__table__, resident_supporter, rs.resident_id == r.id)
                      .where(r.city_code == city_code).group_by(r.district_id))
        if district is not None:
            district_id = session.scalar(select(d.id).where(d.city_code == city_code, d.name == district))
            if district_id is None:
                raise errors.NotFound(f"校区「{district}」は登録されていません。")
            counted, supporters = counted.where(r.district_id == district_id), supporters.where(r.district_id == district_id)
        figures = counted.subquery()
        query = select(d.id, d.name, d.area, *(figures.c[f"c{k}"] for k in range(len(columns)))) \
            .join_from(figures, District.__table__, figures.c.district_id == d.id)

        def helpers(connection: Session | Connection) -> dict[int, int]:
            return {district_id: count for district_id, count in connection.execute(supporters).all()}

        with meanwhile(session, helpers) as per_district:
            rows = session.execute(query).all()
            supporters_per_district = per_district()
    districts: dict[str, dict[str, Any]] = {}
    for district_id, name, area, *values in rows:
        entry = districts[name] = _empty(name, area)
        for key, value in zip(columns, values, strict=True):
            group, _, sub = key.partition(".")
            if sub:
                entry[group][sub] += int(value or 0)
            else:
                entry[group] += int(value or 0)
        entry["supporters"] = supporters_per_district.get(district_id, 0)
        entry["supporter_ratio"] = round(entry["supporters"] / entry["residents"], 3) if entry["residents"] else None
    ordered = [districts[k] for k in sorted(districts)]
    totals = _empty("合計", None)
    for entry in ordered:
        for key, value in entry.items():
            if isinstance(value, dict):
                for sub, n in value.items():
                    totals[key][sub] += n
            elif isinstance(value, int) and key not in {"name", "area"}:
                totals[key] += value
    totals["supporter_ratio"] = round(totals["supporters"] / totals["residents"], 3) if totals["residents"] else None
    return {
        "run_id": run.id,
        "computed_at": run.computed_at.isoformat(),
        "data_versions": run.data_versions,
        "totals": totals,
        "districts": ordered,
    }


def _empty(name: str, area: str | None) -> dict[str, Any]:
    return {
        "name": name, "area": area, "residents": 0,
        "by_decision": {d.value: 0 for d in Decision},
        "by_hazard": {"flood": 0, "flood_deep": 0, "collapse": 0, "inland": 0, "landslide": 0, "landslide_red": 0},
        "welfare_needed": 0, "welfare_placed": 0, "welfare_direct": 0, "welfare_unplaced": 0, "without_destination": 0,
        "by_travel_mode": {"walk": 0, "car": 0, "welfare_transport": 0},
        "by_start_trigger": {"level3": 0, "early": 0, "previous_day": 0, "not_workable": 0},
        "crosses_deep_water": 0, "unsupported": 0, "supporters": 0,
    }
