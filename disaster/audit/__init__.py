"""Plan-safety audit: pure checks of stored assessments and plan contexts against the
invariants every issued plan must keep (safe destinations, honest transport and timing,
consistent timelines, consent, statutory fields)."""

from disaster.audit.checks import AuditInputs, audit, check_assessments, check_plans, check_records
from disaster.audit.rules import KIND_LABELS, RULE_LABELS, Kind, Rule, Violation

__all__ = ["KIND_LABELS", "RULE_LABELS", "AuditInputs", "Kind", "Rule", "Violation", "audit", "check_assessments",
           "check_plans", "check_records"]
