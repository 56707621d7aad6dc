"""Building the template context of a plan from stored records (plain, picklable dicts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from disaster.codes import CENTRE_KINDS
from disaster.models import Assessment, District, ExerciseFinding, ExerciseSession, Resident, Shelter
from disaster.plans.content import (
    Exposure,
    care_notes,
    checklist,
    city_contacts,
    decision_label,
    hazard_sentences,
    timeline,
)
from disaster.wareki import to_wareki

PLAN_VERSION = "1"
KIND_LABELS = {"shelter": "避難所", "welfare": "福祉避難所", "own_choice": "本人の希望する避難先"}


def load_residents(session: Session, resident_ids: list[int]) -> list[Resident]:
    """Residents with everything a plan prints, in one round of queries."""
    return list(session.scalars(
        select(Resident)
        .where(Resident.id.in_(resident_ids))
        .options(
            selectinload(Resident.supporters), selectinload(Resident.emergency_contacts),
            selectinload(Resident.care_professionals), selectinload(Resident.district).selectinload(District.centres),
        )
        .order_by(Resident.resident_no)
    ))


def plan_contexts(session: Session, residents: list[Resident], today: dt.date) -> list[dict[str, Any]]:
    ids = [r.id for r in residents]
    assessments = {a.resident_id: a for a in session.scalars(select(Assessment).where(Assessment.resident_id.in_(ids)))}
    shelter_ids = {s for a in assessments.values() for s in (a.destination_shelter_id, a.second_shelter_id) if s}
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
    contexts = [resident_context(r, assessments.get(r.id), shelters, today) for r in residents]
    for context, resident in zip(contexts, residents, strict=True):
        context["open_items"] = open_items.get(resident.id, [])
    return contexts


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


def resident_context(resident: Resident, assessment: Assessment | None, shelters: dict[int, Shelter],
                     today: dt.date) -> dict[str, Any]:
    """Everything the template prints for one resident; None where data is missing."""
    age = _age(resident.birth_date, today)
    district = resident.district
    destination: dict[str, Any] | None = None
    second: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    hazards: list[str] = []
    exposure = None
    if assessment is not None:
        exposure = Exposure(assessment.flood_l1_rank, assessment.flood_l2_rank, assessment.duration_rank,
                            assessment.collapse_flow, assessment.collapse_erosion, assessment.inland_rank,
                            assessment.landslide_kind, assessment.landslide_class)
        hazards = hazard_sentences(exposure)
        decision = {"code": assessment.decision, "label": decision_label(assessment.decision),
                    "reasons": [r["text"] for r in assessment.decision_reasons]}
        target = _shelter(shelters.get(assessment.destination_shelter_id or 0))
        destination = {
            "kind": KIND_LABELS.get(assessment.destination_kind or "", "避難先"),
            "name": target["name"] if target else assessment.destination_text,
            "address": target["address"] if target else None,
            "kinds": target["kinds"] if target else None,
            "reasons": [r["text"] for r in assessment.destination_reasons],
            "distance_m": assessment.distance_m,
            "minutes": round(assessment.travel_min) if assessment.travel_min is not None else None,
            "lon": target["lon"] if target else None,
            "lat": target["lat"] if target else None,
        }
        second = _shelter(shelters.get(assessment.second_shelter_id or 0))
    centres = sorted(district.centres, key=lambda c: list(CENTRE_KINDS).index(c.kind)) if district else []
    return {
        "is_demo": resident.is_demo,
        "blank": False,
        "created": to_wareki(today),
        "version": PLAN_VERSION,
        "resident_no": resident.resident_no,
        "person": {
            "name": resident.name, "kana": resident.kana,
            "birth": to_wareki(resident.birth_date) if resident.birth_date else None, "age": age,
            "sex": resident.sex, "address": resident.address, "phone": resident.phone,
            "district": district.name if district else None,
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
            "stairs": {True: "使える", False: "使えない"}.get(resident.can_use_stairs) if resident.can_use_stairs is not None else None,
        },
        "hazards": hazards,
        "decision": decision,
        "destination": destination,
        "second": second,
        "start_text": next((r["text"] for r in (assessment.destination_reasons if assessment else []) if r["code"] == "START"), None),
        "home": {"lon": resident.lon, "lat": resident.lat},
        "timeline": timeline(assessment.decision if assessment else "leave", destination["name"] if destination else None,
                             assessment.reachable_floor if assessment else None,
                             assessment.prepare_min if assessment else None, assessment.travel_min if assessment else None),
        "supporters": [{"name": s.name, "relation": s.relation, "phone": s.phone} for s in resident.supporters],
        "contacts": [{"name": c.name, "relation": c.relation, "phone": c.phone} for c in resident.emergency_contacts],
        "professionals": [{"role": p.role, "name": p.name, "organisation": p.organisation, "phone": p.phone}
                          for p in resident.care_professionals],
        "care_notes": care_notes(resident.medical_devices, resident.communication_needs, resident.care_level,
                                 resident.mobility, resident.other_needs),
        "checklist": checklist(resident.medical_devices, resident.communication_needs, resident.care_level,
                               resident.mobility, resident.disability_types, age),
        "centres": [{"kind": CENTRE_KINDS[c.kind], "name": c.name, "tel": c.tel, "fax": c.fax} for c in centres]
        + [{"kind": c["role"], "name": c["name"], "tel": c["tel"], "fax": c.get("fax")} for c in city_contacts()],
        "consent_share": resident.consent_share,
        "consent_share_date": to_wareki(resident.consent_share_date) if resident.consent_share_date else None,
        "consent_plan": resident.consent_plan,
        "consent_plan_date": to_wareki(resident.consent_plan_date) if resident.consent_plan_date else None,
    }


def blank_context(today: dt.date) -> dict[str, Any]:
    """A fill-in form for paper use: every personal field blank, the common parts printed."""
    return {
        "is_demo": False, "blank": True, "created": None, "version": PLAN_VERSION, "resident_no": None,
        "person": dict.fromkeys(("name", "kana", "birth", "age", "sex", "address", "phone", "district")),
        "needs": dict.fromkeys(("care_level", "disability", "disease", "devices", "mobility", "communication")),
        "household": dict.fromkeys(("alone", "floors", "bedroom", "stairs")),
        "hazards": [], "decision": None, "destination": None, "second": None, "start_text": None, "home": None,
        "timeline": timeline("leave", None, None, None, None),
        "supporters": [], "contacts": [], "professionals": [], "care_notes": [],
        "checklist": checklist([], [], None, None, [], None),
        "centres": [{"kind": c["role"], "name": c["name"], "tel": c["tel"], "fax": c.get("fax")} for c in city_contacts()],
        "consent_share": False, "consent_share_date": None, "consent_plan": False, "consent_plan_date": None,
        "open_items": [],
    }
