"""Building the template context of a plan from stored records (plain, picklable dicts)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from disaster.analysis.transport import TravelMode, car_minutes, walk_minutes
from disaster.analysis.travel import straight_routes
from disaster.codes import CENTRE_KINDS
from disaster.geocode import LEVEL_TOWN, TOWN_POINT_NOTE
from disaster.models import (
    Assessment,
    District,
    ExerciseFinding,
    ExerciseSession,
    Resident,
    Shelter,
    WelfareAgreement,
)
from disaster.plans.content import (
    Exposure,
    care_notes,
    checklist,
    decision_text,
    hazard_sentences,
    home_hazard_keys,
    medical_contacts,
    supporter_warnings,
)
from disaster.plans.record import RECIPIENTS, walking_problem
from disaster.plans.timeline import (
    TimelineInput,
    build_rows,
    mode_phrase,
    start_advice,
    warning_edition,
    warnings_for,
)
from disaster.profile import CityProfile, EvacuationProfile, load_profile
from disaster.wareki import to_wareki

if TYPE_CHECKING:
    from disaster.usecases.plan_records import PrintedRecord

PLAN_VERSION = "2"  # the layout of the printed form (様式), not a version of the person's plan
KIND_LABELS = {"shelter": "避難所", "welfare": "福祉避難所", "own_choice": "本人の希望する避難先"}
# Destination reasons printed as "why this place" (the rest is written from structured columns,
# so an engine text can never contradict the transport, start or welfare wording).
WHY_CODES = ("NEAREST_SUITABLE", "OWN_CHOICE", "ACCESS_UNCONFIRMED")
WARNING_CODES = ("OWN_CHOICE_UNSAFE", "OWN_CHOICE_IN_HAZARD", "NO_SHELTER", "DEEP_WATER_ROUTE", "WELFARE_UNPLACED")
INFO_CHOICES = ("防災行政無線", "テレビ・ラジオ", "防災メール・アプリ", "電話（支援者から）", "FAX", "戸別訪問")
WHEELED = ("車いす", "寝たきり")
NEGATIVE_NUMBER = re.compile(r"(?<!\d)[-−－]\s*\d")


def load_residents(session: Session, resident_ids: list[int]) -> list[Resident]:
    """Residents with everything a plan prints, in one round of queries."""
    return list(session.scalars(
        select(Resident)
        .where(Resident.id.in_(resident_ids))
        .options(
            selectinload(Resident.supporters), selectinload(Resident.emergency_contacts),
            selectinload(Resident.care_professionals), selectinload(Resident.district).selectinload(District.centres),
            selectinload(Resident.welfare_agreements),
        )
        .order_by(Resident.resident_no)
    ))


def plan_contexts(session: Session, residents: list[Resident], today: dt.date,
                  records: dict[int, PrintedRecord] | None = None) -> list[dict[str, Any]]:
    """The contexts of ``residents``' plans; ``records``: plan records by resident id (applied)."""
    ids = [r.id for r in residents]
    assessments = {a.resident_id: a for a in session.scalars(select(Assessment).where(Assessment.resident_id.in_(ids)))}
    shelter_ids = {s for a in assessments.values()
                   for s in (a.destination_shelter_id, a.second_shelter_id, a.welfare_shelter_id) if s}
    shelters = {s.id: s for s in session.scalars(select(Shelter).where(Shelter.id.in_(shelter_ids)))} if shelter_ids else {}
    open_items: dict[int, list[dict[str, Any]]] = {}
    for finding, held_on in session.execute(
        select(ExerciseFinding, ExerciseSession.held_on).join(ExerciseSession)
        .where(ExerciseFinding.resident_id.in_(ids), ExerciseFinding.status != "完了")
        .order_by(ExerciseSession.held_on)
    ).all():
        open_items.setdefault(finding.resident_id or 0, []).append({
            "issue": finding.issue, "action": finding.action, "owner": finding.owner,
            "due": to_wareki(finding.due) if finding.due else None, "status": finding.status,
            "found": to_wareki(held_on)})
    contexts = [resident_context(r, assessments.get(r.id), shelters, today, load_profile(r.city_code),
                                 (records or {}).get(r.id)) for r in residents]
    for context, resident in zip(contexts, residents, strict=True):
        context["open_items"] = open_items.get(resident.id, [])
    return contexts


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _age(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _shelter(shelter: Shelter | None) -> dict[str, Any] | None:
    if shelter is None:
        return None
    kinds = [label for flag, label in ((shelter.is_welfare_shelter, "福祉避難所"), (shelter.is_designated_shelter, "指定避難所"),
                                       (shelter.is_emergency_site, "指定緊急避難場所")) if flag]
    return {"name": shelter.name, "address": shelter.address, "kinds": "・".join(kinds), "lon": shelter.lon, "lat": shelter.lat}


def _abilities(resident: Resident, assessment: Assessment | None) -> dict[str, Any]:
    """Where the person can be inside the home: flat (own unit only) or house, stairs, floors."""
    in_flat = resident.home_floor is not None
    floors = resident.building_floors
    stairs = resident.can_use_stairs is True and resident.mobility not in WHEELED
    reach = assessment.reachable_floor if assessment is not None else None
    if in_flat:
        stay_floor: int | None = resident.home_floor
    else:
        stay_floor = reach or resident.bedroom_floor or 1
        if floors:
            stay_floor = min(stay_floor, floors)
    can_go_up = not in_flat and stairs and (floors or 0) >= 2
    upper = min(reach or floors or 1, floors or 1) if can_go_up else None
    depth = max(assessment.flood_l2_rank or 0, assessment.inland_rank or 0) if assessment is not None else 0
    required = assessment.required_floor if assessment is not None else 1
    under_water = depth > 0 and (required is None or (reach or stay_floor or 1) < required)
    return {"in_flat": in_flat, "stay_floor": stay_floor, "can_go_up": can_go_up and (upper or 0) >= 2,
            "upper_floor": upper, "under_water": under_water}


def _trigger(assessment: Assessment, has_destination: bool) -> str | None:
    """The engine's start trigger; for an assessment stored before it existed, a safe fallback."""
    if assessment.start_trigger == "not_workable" and assessment.decision != "leave":
        return None  # the person may stay: only the optional trip is out of reach, the plan itself works
    if assessment.start_trigger:
        return assessment.start_trigger
    if not has_destination:
        return "not_workable" if assessment.decision == "leave" else None
    margin = assessment.start_margin_min
    if margin is not None and margin >= 0:
        return "level3"
    return "not_workable" if assessment.decision == "leave" else None


def _transport(mode: str | None, supporters: list[dict[str, Any]]) -> dict[str, Any]:
    """How the person travels and who must arrange it (never "歩いて" unless walking)."""
    names = "・".join(s["name"] for s in supporters)
    if mode == "walk":
        return {"mode": "walk", "label": "歩いて", "arrange": None}
    if mode == "car":
        who = (f"運転する人を前もって決めてください（支援者の{names}さんまたは家族）。" if names
               else "運転する人を、家族や民生委員と前もって決めてください（支援者はまだ決まっていません）。")
        return {"mode": "car", "label": "車で", "arrange": f"移動手段の確保が必要です：{who}"}
    if mode == "welfare_transport":
        return {"mode": "welfare_transport", "label": "福祉タクシー等で",
                "arrange": "移動手段の確保が必要です：福祉タクシー・介護タクシーの予約を、ケアマネジャー・家族と"
                           "前もって決めてください。"}
    return {"mode": None, "label": None, "arrange": "移動の方法が決まっていません（歩く・車・福祉タクシー等）。"}


def resident_context(resident: Resident, assessment: Assessment | None, shelters: dict[int, Shelter],
                     today: dt.date, profile: CityProfile | None = None, record: PrintedRecord | None = None
                     ) -> dict[str, Any]:
    """Everything the template prints for one resident; None where data is missing. With the
    resident's plan ``record``, what the person decided replaces the assessment's suggestion,
    except a destination that fails today's safety rules (then the assessed one and a warning)."""
    profile = profile or load_profile(resident.city_code)
    age = _age(resident.birth_date, today)
    district = resident.district
    supporters = [{"name": s.name, "relation": s.relation, "phone": s.phone, "address": s.address}
                  for s in resident.supporters]
    abilities = _abilities(resident, assessment)
    destination: dict[str, Any] | None = None
    second: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    welfare: dict[str, Any] | None = None
    not_workable: dict[str, Any] | None = None
    route: dict[str, Any] | None = None
    hazards: list[dict[str, str]] = []
    hazard_keys: tuple[str, ...] = ()
    trigger: str | None = None
    mode: str | None = None
    issues: list[dict[str, str | None]] = []
    if assessment is not None:
        exposure = Exposure(assessment.flood_l1_rank, assessment.flood_l2_rank, assessment.duration_rank,
                            assessment.collapse_flow, assessment.collapse_erosion, assessment.inland_rank,
                            assessment.landslide_kind, assessment.landslide_class)
        hazards = hazard_sentences(exposure)
        hazard_keys = home_hazard_keys(exposure)
        decision = {"code": assessment.decision,
                    **decision_text(assessment.decision, abilities["stay_floor"], abilities["in_flat"],
                                    abilities["can_go_up"]),
                    "reasons": [r["text"] for r in assessment.decision_reasons]}
        target = _shelter(shelters.get(assessment.destination_shelter_id or 0))
        has_destination = target is not None or bool(assessment.destination_text)
        trigger = _trigger(assessment, has_destination)
        mode = assessment.travel_mode if has_destination else None
        reasons = assessment.destination_reasons or []
        direct = _welfare_direct(resident, assessment)
        if has_destination:
            transport = _transport(mode, supporters)
            why = [r["text"] for r in reasons if r["code"] in WHY_CODES]
            if mode != "walk":
                why = [text for text in why if "歩いて" not in text]
            destination = {
                "kind": KIND_LABELS.get(assessment.destination_kind or "", "避難先"),
                "name": target["name"] if target else assessment.destination_text,
                "address": target["address"] if target else None,
                "kinds": target["kinds"] if target else None,
                "floor": assessment.destination_floor,
                "reasons": why,
                "warnings": [r["text"] for r in reasons if r["code"] in WARNING_CODES],
                "distance_km": round(assessment.distance_m / 1000, 1) if assessment.distance_m is not None else None,
                "minutes": round(assessment.travel_min) if assessment.travel_min is not None else None,
                "transport": transport,
                "lon": target["lon"] if target else None,
                "lat": target["lat"] if target else None,
            }
        welfare = _welfare(resident, assessment, shelters, direct, profile)
        second = _shelter(shelters.get(assessment.second_shelter_id or 0))
        if trigger == "not_workable":
            not_workable = _not_workable(assessment, destination, mode)
        if assessment.route:
            line = shapely.from_wkb(assessment.route)
            if line is not None and not line.is_empty:
                route = _route(line, bool(assessment.route_is_road))
        issues = supporter_warnings(assessment.supporter_issues or [])
    unsafe: str | None = None
    assessed, assessed_mode = destination, mode
    if record is not None:
        trip = _Trip((resident.lon, resident.lat), assessment.walk_speed_mps if assessment else None,
                     assessment.distance_m if assessment else None, profile.evacuation)
        destination, second, mode, route, unsafe = _record_destination(record, destination, second, mode, route,
                                                                       supporters, trip)
    # the start trigger and preparation time are the assessed trip's: only that trip's time goes with them
    assessed_trip = (destination is not None and assessed is not None and destination["name"] == assessed["name"]
                     and mode == assessed_mode)
    timeline_input = TimelineInput(
        decision=assessment.decision if assessment else "leave",
        hazards=hazard_keys, start_trigger=trigger, travel_mode=mode,
        destination=destination["name"] if destination else None,
        stay_floor=abilities["stay_floor"], can_go_up=abilities["can_go_up"], upper_floor=abilities["upper_floor"],
        in_flat=abilities["in_flat"], under_water=abilities["under_water"],
        prepare_min=assessment.prepare_min if assessment else None,
        travel_min=assessment.travel_min if assessment and assessed_trip else None,
        has_supporter=bool(supporters),
        confirm_opening=bool(welfare and welfare["direct"]),
    )
    edition = warning_edition(today)
    level2: dict[str, Any] = next((lv for lv in edition["level"] if lv["level"] == 2), {})
    centres = sorted(district.centres, key=lambda c: list(CENTRE_KINDS).index(c.kind)) if district else []
    professionals = [{"role": p.role, "name": p.name, "organisation": p.organisation, "phone": p.phone}
                     for p in resident.care_professionals]
    context = {
        "is_demo": resident.is_demo,
        "blank": False,
        "draft": not resident.consent_plan,
        "created": to_wareki(today),
        "review": to_wareki(add_months(today, profile.evacuation.review_months)),
        "review_months": profile.evacuation.review_months,
        "version": PLAN_VERSION,
        "edition": {"id": edition["id"], "effective": to_wareki(edition["effective"])},
        "resident_no": resident.resident_no,
        "person": {
            "name": resident.name, "kana": resident.kana,
            "birth": to_wareki(resident.birth_date) if resident.birth_date else None, "age": age,
            "sex": resident.sex, "address": resident.address, "phone": resident.phone,
            "district": district.name if district else None,
            "location_note": TOWN_POINT_NOTE if resident.location_level == LEVEL_TOWN else None,
        },
        "needs": {
            "care_level": resident.care_level,
            "disability": "、".join(resident.disability_types) + (f"（{resident.disability_grade}）" if resident.disability_grade else "")
            if resident.disability_types else None,
            "disease": resident.intractable_disease,
            "devices": "、".join(resident.medical_devices) or None,
            "mobility": resident.mobility,
            "communication": "、".join(resident.communication_needs) or None,
        },
        "household": {
            "alone": {True: "ひとり暮らし", False: "同居者あり"}.get(resident.lives_alone) if resident.lives_alone is not None else None,
            "floors": resident.building_floors, "bedroom": resident.bedroom_floor,
            "home_floor": resident.home_floor,
            "stairs": {True: "使える", False: "使えない"}.get(resident.can_use_stairs) if resident.can_use_stairs is not None else None,
        },
        "situation": {
            "info": "、".join(resident.info_reception) or None,
            "info_choices": INFO_CHOICES,
            "daytime": resident.daytime_situation, "night": resident.night_situation,
            "day_service": resident.day_service,
        },
        "hazards": hazards,
        "decision": decision,
        "destination": destination,
        "second": second,
        "welfare": welfare,
        "not_workable": not_workable,
        "start_text": start_advice(timeline_input, warnings_for(level2, hazard_keys)) if assessment else None,
        "home": {"lon": resident.lon, "lat": resident.lat},
        "route": route,
        "timeline": build_rows(timeline_input, today),
        "supporters": supporters,
        "supporter_warnings": issues,
        "contacts": [{"name": c.name, "relation": c.relation, "phone": c.phone} for c in resident.emergency_contacts],
        "professionals": [p for p in professionals if not any(w in (p["role"] or "") for w in ("主治医", "医師", "看護", "機器", "業者"))],
        "medical": medical_contacts(resident.medical_devices, professionals),
        "care_notes": care_notes(resident.medical_devices, resident.communication_needs, resident.care_level,
                                 resident.mobility, resident.other_needs, resident.info_reception),
        "checklist": checklist(resident.medical_devices, resident.communication_needs, resident.care_level,
                               resident.mobility, resident.disability_types, age),
        "centres": [{"kind": CENTRE_KINDS[c.kind], "name": c.name, "tel": c.tel, "fax": c.fax} for c in centres]
        + _city_contacts(profile),
        "recipients": RECIPIENTS,
        "author": None,
        "consent_share": resident.consent_share,
        "consent_share_date": to_wareki(resident.consent_share_date) if resident.consent_share_date else None,
        "consent_plan": resident.consent_plan,
        "consent_plan_date": to_wareki(resident.consent_plan_date) if resident.consent_plan_date else None,
        "record": None,
        "chosen_recipients": [],
    }
    if record is not None:
        _record_fields(context, record, unsafe)
    return context


@dataclass(frozen=True)
class _Trip:
    """What the time and route of a trip the plan record chose are worked out from: the home, the
    person's walking speed and the distance of the assessed trip (both as the engine took them),
    and the city's evacuation profile."""

    home: tuple[float, float]
    walk_speed_mps: float | None
    assessed_distance_m: float | None
    evacuation: EvacuationProfile

    def minutes(self, mode: str | None, distance_m: float | None) -> int | None:
        """The travel time printed for a trip of ``distance_m`` by ``mode``, worked out as the
        engine works out its own (None: the mode or the distance is unknown, or a walk's speed)."""
        if mode is None or distance_m is None:
            return None
        if mode != TravelMode.WALK:
            return round(float(car_minutes(distance_m, self.evacuation)))
        return None if self.walk_speed_mps is None else round(float(walk_minutes(distance_m, self.walk_speed_mps)))

    def route(self, to: tuple[float, float] | None) -> dict[str, Any] | None:
        """The way to a place the assessment did not route to: the straight line the engine keeps
        where no road graph connects home and place (printing has no road graph at hand)."""
        if to is None:
            return None
        (line,) = straight_routes(np.array([self.home]), np.array([to]))
        return _route(line, False)


def _route(line: shapely.LineString, is_road: bool) -> dict[str, Any]:
    return {"coords": [(float(x), float(y)) for x, y in line.coords], "is_road": is_road}


def _record_destination(record: PrintedRecord, destination: dict[str, Any] | None, second: dict[str, Any] | None,
                        mode: str | None, route: dict[str, Any] | None, supporters: list[dict[str, Any]], trip: _Trip
                        ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None, dict[str, Any] | None,
                                   str | None]:
    """The destination, second option and travel mode the person decided; a recorded destination
    that fails today's rules is never printed as the place to go: the assessed one stays, with a
    warning. When the person chose another place, the assessed one becomes the second option.
    A place or mode other than the assessed one gets its own travel time and route (``trip``)."""
    content = record.content
    code = content.get("destination_code")
    verdict = record.destination
    if code and (verdict is None or not verdict.allowed):
        name = verdict.name if verdict else code
        problem = verdict.problem if verdict else "登録のない施設です。"
        then = ("見直しが済むまでは、下の表の避難先（避難判定で安全と確かめた場所）へ避難してください。" if destination is not None
                else "見直しが済むまでは、下の表のとおりにし、民生委員・市に相談してください。")
        warning = f"計画で決めた避難先（{name}）は、いまのデータでは安全と判断できないため、ここには書いていません。{problem}{then}"
        if second is not None and second["name"] == name:
            second = None
        return destination, second, mode, route, warning
    assessed_mode, mode = mode, content.get("transport_mode") or mode
    if code and verdict is not None and (destination is None or destination["name"] != verdict.name):
        lon, lat = record.destination_lonlat or (None, None)
        why = [f"本人と決めた避難先です（理由：{content.get('destination_reason')}）。", *verdict.why]
        if destination is not None:
            second = {key: destination[key] for key in ("name", "address", "kinds", "lon", "lat")}
        destination = {"kind": "避難先", "name": verdict.name, "address": record.destination_address, "kinds": verdict.kinds,
                       "floor": verdict.floor, "reasons": why, "warnings": [],
                       "minutes": trip.minutes(mode, verdict.distance_m),
                       "distance_km": round(verdict.distance_m / 1000, 1) if verdict.distance_m is not None else None,
                       "transport": _transport(mode, supporters), "lon": lon, "lat": lat}
        route = trip.route(record.destination_lonlat)  # the assessed route leads elsewhere
    elif destination is not None and mode != assessed_mode:
        destination = destination | {"transport": _transport(mode, supporters),
                                     "minutes": trip.minutes(mode, trip.assessed_distance_m)}
    if destination is not None and content.get("transport_note"):
        destination["transport"] = destination["transport"] | {"arrange": f"移動の手配：{content['transport_note']}"}
    distance = destination.get("distance_km") if destination is not None else None
    walking = walking_problem(mode, None if distance is None else distance * 1000, record.walk_limit_m)
    if walking is not None and destination is not None:  # saved before the rule, or the person changed since
        destination = destination | {"transport": {"mode": None, "label": None, "arrange": f"移動の方法を見直してください：{walking}"},
                                     "minutes": None}
        return destination, second, None, None, f"計画の「歩いて」は、この方には無理があります。{walking}"
    return destination, second, mode, route, None


def _record_fields(context: dict[str, Any], record: PrintedRecord, unsafe: str | None) -> None:
    """The rest of what the person decided: supporters, contacts, 避難情報, 配慮事項, 持ち出し品,
    提供先, dates, status and version."""
    content = record.content
    chosen = [(content.get("supporter_primary"), "主"), (content.get("supporter_backup"), "予備")]
    named = {no: label for no, label in chosen if no}
    if named:
        by_name = {record.supporter_names.get(no): label for no, label in named.items()}
        supporters = [s | {"role": by_name.get(s["name"])} for s in context["supporters"]]
        context["supporters"] = sorted(supporters, key=lambda s: {"主": 0, "予備": 1}.get(s["role"] or "", 2))
    if content.get("contacts"):
        context["contacts"] = [{"name": c["name"], "relation": c.get("relation"), "phone": c.get("phone")}
                               for c in content["contacts"]]
    if content.get("info_reception"):
        context["situation"] = context["situation"] | {"info": "、".join(content["info_reception"])}
    if content.get("care_notes"):
        context["care_notes"] = list(content["care_notes"])
    if content.get("carry_items"):
        context["checklist"] = list(content["carry_items"])
    if content.get("next_review_on"):
        context["review"] = to_wareki(dt.date.fromisoformat(content["next_review_on"]))
    if content.get("consent_on"):
        context["consent_plan_date"] = to_wareki(dt.date.fromisoformat(content["consent_on"]))
    made_with = "・".join(content.get("made_with") or [])
    context["author"] = f"{record.author}（{made_with}と作成）" if made_with else record.author
    context["chosen_recipients"] = list(content.get("recipients") or [])
    context["record"] = {
        "version": record.version, "status": record.status, "updated": to_wareki(record.updated_at.date()),
        "confirmed": to_wareki(record.confirmed_on) if record.confirmed_on else None,
        "review_reasons": record.review_reasons, "unsafe": unsafe, "notes": content.get("notes"),
    }


def _city_contacts(profile: CityProfile) -> list[dict[str, Any]]:
    return [{"kind": c.role, "name": c.name, "tel": c.tel, "fax": c.fax} for c in profile.contacts]


def _welfare_direct(resident: Resident, assessment: Assessment) -> WelfareAgreement | None:
    """The agreement that allows direct evacuation: only with the engine's flag, a 福祉避難所
    destination and a stored agreement for exactly that place."""
    if not (assessment.welfare_direct and assessment.destination_kind == "welfare" and assessment.welfare_shelter_id):
        return None
    return next((a for a in resident.welfare_agreements if a.shelter_id == assessment.welfare_shelter_id), None)


def _welfare(resident: Resident, assessment: Assessment, shelters: dict[int, Shelter],
             direct: WelfareAgreement | None, profile: CityProfile) -> dict[str, Any] | None:
    """福祉避難所 advice per the guideline: direct only with an agreement and once the opening is
    confirmed; otherwise the 指定避難所's 福祉スペース first, then transfer."""
    place = shelters.get(assessment.welfare_shelter_id or 0)
    confirmation = profile.welfare.opening_confirmation
    contact = profile.welfare.confirmation_contact
    if direct is not None and place is not None:
        return {"direct": True, "name": place.name, "agreed_on": to_wareki(direct.agreed_on),
                "confirmation": confirmation, "contact": contact}
    if assessment.destination_kind == "welfare":
        # a 福祉避難所 destination without an agreement (an assessment from before agreements
        # were stored): never "direct"; confirm first, 指定避難所 until then
        target = place or shelters.get(assessment.destination_shelter_id or 0)
        name = target.name if target is not None else assessment.destination_text
        return {"direct": False, "name": name, "confirmation": confirmation, "contact": contact, "unplaced": False,
                "unconfirmed_destination": True}
    if place is not None:
        return {"direct": False, "name": place.name, "confirmation": confirmation, "contact": contact, "unplaced": False}
    if assessment.welfare_needed or assessment.welfare_unplaced:
        return {"direct": False, "name": None, "confirmation": confirmation, "contact": contact, "unplaced": True}
    return None


NOT_WORKABLE_ACTIONS = (
    "近くの安全な親戚・知人宅など、早く着ける避難先を探す",
    "前の日の明るいうちに送る人と車（福祉タクシー等）を決める",
    "決まるまでは、市の福祉の窓口と民生委員が一緒に対応を考える",
)


def _not_workable(assessment: Assessment, destination: dict[str, Any] | None, mode: str | None) -> dict[str, Any]:
    """A clear box for the leader: why the plan cannot be carried out yet, and what to do.
    Never prints a negative margin."""
    texts = [r["text"] for r in (assessment.destination_reasons or []) if r["code"] == "NOT_WORKABLE"]
    if not texts:
        if destination is None:
            texts = ["大雨のときに安全で、間に合う避難先が見つかっていません。"]
        else:
            how = mode_phrase(mode) or "今の方法で"
            texts = [f"{destination['name']}へ{how}移動すると、前の日に出ても間に合わないおそれがあります。"]
    return {"reasons": [t for t in texts if not NEGATIVE_NUMBER.search(t)] or ["避難に必要な時間が足りません。"],
            "actions": list(NOT_WORKABLE_ACTIONS)}


def blank_context(today: dt.date, profile: CityProfile) -> dict[str, Any]:
    """A fill-in form for paper use: every personal field blank, the common parts printed."""
    edition = warning_edition(today)
    timeline_input = TimelineInput(decision="leave", hazards=(), start_trigger=None, travel_mode=None, destination=None,
                                   stay_floor=None, can_go_up=False, upper_floor=None, in_flat=False, under_water=False,
                                   blank=True)
    return {
        "is_demo": False, "blank": True, "draft": False, "created": None, "review": None,
        "review_months": profile.evacuation.review_months, "version": PLAN_VERSION,
        "edition": {"id": edition["id"], "effective": to_wareki(edition["effective"])}, "resident_no": None,
        "person": dict.fromkeys(("name", "kana", "birth", "age", "sex", "address", "phone", "district", "location_note")),
        "needs": dict.fromkeys(("care_level", "disability", "disease", "devices", "mobility", "communication")),
        "household": dict.fromkeys(("alone", "floors", "bedroom", "home_floor", "stairs")),
        "situation": {"info": None, "info_choices": INFO_CHOICES, "daytime": None, "night": None, "day_service": None},
        "hazards": [], "decision": None, "destination": None, "second": None, "welfare": None, "not_workable": None,
        "start_text": None, "home": None, "route": None,
        "timeline": build_rows(timeline_input, today),
        "supporters": [], "supporter_warnings": [], "contacts": [], "professionals": [],
        "medical": [{"role": role, "person": None, "missing": False} for role in ("主治医", "訪問看護", "医療機器の業者")],
        "care_notes": [],
        "checklist": checklist([], [], None, None, [], None),
        "centres": _city_contacts(profile), "recipients": RECIPIENTS, "author": None,
        "consent_share": False, "consent_share_date": None, "consent_plan": False, "consent_plan_date": None,
        "open_items": [], "record": None, "chosen_recipients": [],
    }
