"""The audit log: a hash chain that `disaster audit verify` checks; triggers refuse UPDATE and
DELETE on both databases; a row changed or deleted behind the triggers' back is found."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from disaster import auditlog
from disaster.access import Role
from disaster.cli import app
from disaster.db import alembic_config, make_engine, session_factory
from disaster.models import AuditEntry
from tests.conftest import KURUME

runner = CliRunner()
ADMIN = auditlog.Actor("somu", Role.CITY_ADMIN, KURUME)
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _fill(store, count: int = 4) -> list[AuditEntry]:
    written = []
    for i in range(count):
        with store.sessions() as session, session.begin():
            written.append(auditlog.record(
                session, ADMIN, auditlog.Action.PLAN_PDF, residents=[f"R{i:03d}", f"R{i:03d}", "R999"],
                target_kind="resident", details={"file": f"plan{i}.pdf", "draft": i % 2 == 0},
                at=T0 + dt.timedelta(minutes=i, microseconds=123457)))
    return written


def _verify(store) -> auditlog.VerifyResult:
    with store.sessions() as session:
        return auditlog.verify(session)


def _cli_verify(store):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["audit", "verify"], env={"DISASTER_DB": store.url})


def _without_trigger(store, name: str, statement: str, **params: object) -> None:
    """Run ``statement`` as an intruder would: with the trigger dropped (SQLite) or disabled (PostgreSQL)."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ALTER TABLE audit_entry DISABLE TRIGGER {name}"))
        else:
            conn.execute(text(f"DROP TRIGGER {name}"))
        conn.execute(text(statement), params)


def test_entries_are_chained_and_verify(store) -> None:
    written = _fill(store)
    assert [e.id for e in written] == [1, 2, 3, 4]
    assert written[0].prev_hash == auditlog.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(written, written[1:], strict=False))
    assert written[0].resident_ids == ["R000", "R999"]  # each resident once, in order
    result = _verify(store)
    assert result == auditlog.VerifyResult(True, 4, None, None, written[-1].hash)
    cli = _cli_verify(store)
    assert cli.exit_code == 0 and "4 件のつながりは保たれています" in cli.output and written[-1].hash in cli.output


def test_an_empty_log_verifies(store) -> None:
    assert _verify(store) == auditlog.VerifyResult(True, 0, None, None, None)
    assert _cli_verify(store).exit_code == 0


def test_times_are_kept_in_utc_to_the_microsecond(store) -> None:
    with store.sessions() as session, session.begin():
        auditlog.record(session, ADMIN, auditlog.Action.AUDIT_READ,
                        at=dt.datetime(2026, 6, 1, 18, 0, 0, 654321, tzinfo=dt.timezone(dt.timedelta(hours=9))))
    with store.sessions() as session:
        (entry,) = session.query(AuditEntry).all()
    assert entry.at == dt.datetime(2026, 6, 1, 9, 0, 0, 654321, tzinfo=dt.UTC) and entry.at.utcoffset() == dt.timedelta(0)
    assert _verify(store).ok


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entry SET allowed = NOT allowed WHERE id = 2",
    "UPDATE audit_entry SET hash = hash",
    "DELETE FROM audit_entry WHERE id = 4",
    "DELETE FROM audit_entry",
])
def test_the_triggers_refuse_update_and_delete(store, statement: str) -> None:
    _fill(store)
    with pytest.raises(DBAPIError, match="監査ログは追記のみです"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert _verify(store).checked == 4 and _verify(store).ok


def test_the_orm_cannot_change_or_delete_an_entry_either(store) -> None:
    _fill(store, 2)
    with pytest.raises(DBAPIError), store.sessions() as session, session.begin():
        session.get(AuditEntry, 1).origin = "elsewhere"  # type: ignore[union-attr]
    with pytest.raises(DBAPIError), store.sessions() as session, session.begin():
        session.delete(session.get(AuditEntry, 2))
    assert _verify(store).ok


def test_postgresql_refuses_truncate(store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL (SQLite's DELETE is refused above)")
    _fill(store, 1)
    with pytest.raises(DBAPIError, match="監査ログは追記のみです"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_entry"))


def test_verify_finds_an_edited_entry(store) -> None:
    _fill(store)
    _without_trigger(store, "audit_entry_no_update",
                     "UPDATE audit_entry SET resident_ids = :ids WHERE id = 3", ids=json.dumps(["R777"]))
    result = _verify(store)
    assert (result.ok, result.first_broken_id, result.checked) == (False, 3, 3)
    assert "書き換えられています" in (result.reason or "")
    cli = _cli_verify(store)
    assert cli.exit_code == 1 and "#3" in cli.output and "書き換えられています" in cli.output, cli.output


def test_verify_finds_an_edit_whose_hash_was_recomputed(store) -> None:
    written = _fill(store)
    forged = written[1]
    forged.allowed = False
    new_hash = auditlog.entry_hash(forged)
    _without_trigger(store, "audit_entry_no_update",
                     "UPDATE audit_entry SET allowed = :no, hash = :hash WHERE id = 2", no=False, hash=new_hash)
    result = _verify(store)
    assert (result.ok, result.first_broken_id) == (False, 3)  # entry 2 fits itself, not entry 3
    assert "#2" in (result.reason or "")


@pytest.mark.parametrize(("deleted", "broken", "named"), [(2, 3, "#2"), (1, 2, "#1")])
def test_verify_finds_a_deleted_entry(store, deleted: int, broken: int, named: str) -> None:
    _fill(store)
    _without_trigger(store, "audit_entry_no_delete", "DELETE FROM audit_entry WHERE id = :id", id=deleted)
    result = _verify(store)
    assert (result.ok, result.first_broken_id) == (False, broken)
    assert named in (result.reason or "") and "削除" in (result.reason or "")
    cli = _cli_verify(store)
    assert cli.exit_code == 1 and f"#{broken}" in cli.output and "削除" in cli.output, cli.output


def test_verify_reads_the_chain_in_batches(store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditlog, "VERIFY_BATCH", 2)
    _fill(store, 5)
    assert _verify(store).checked == 5 and _verify(store).ok
    _without_trigger(store, "audit_entry_no_delete", "DELETE FROM audit_entry WHERE id = 3")
    assert _verify(store).first_broken_id == 4


def test_the_chain_cannot_fork(store) -> None:
    """Two appends that saw the same last entry cannot both be kept (unique prev_hash)."""
    (first,) = _fill(store, 1)
    fork = AuditEntry(id=5, at=T0, actor="x", role="city_admin", city_code=KURUME, action="plan.pdf", target_kind=None,
                      resident_ids=[], allowed=True, origin="cli", details={}, prev_hash=first.prev_hash, hash="f" * 64)
    with pytest.raises(DBAPIError), store.sessions() as session, session.begin():
        session.add(fork)


def test_audit_log_lists_the_city_and_records_its_own_reading(store) -> None:
    _fill(store, 3)
    with store.sessions() as session, session.begin():
        auditlog.record(session, auditlog.Actor("other", Role.CITY_ADMIN, "401005"), auditlog.Action.PLAN_PDF,
                        residents=["X1"])
    env = {"DISASTER_DB": store.url}
    since = (T0 + dt.timedelta(minutes=1)).isoformat()
    listed = runner.invoke(app, ["audit", "log", "--json", "--since", since], env=env)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [2, 3]  # this city's, from the second minute on
    assert rows[0]["resident_ids"] == ["R001", "R999"] and rows[0]["hash"] and rows[0]["prev_hash"]
    table = runner.invoke(app, ["audit", "log"], env=env)
    assert table.exit_code == 0 and "R002" in table.output and "X1" not in table.output, table.output
    with store.sessions() as session:
        reads = session.query(AuditEntry).filter(AuditEntry.action == "audit.read").order_by(AuditEntry.id).all()
    assert [(r.target_kind, r.details["entries"]) for r in reads] == [("audit_log", 2), ("audit_log", 4)]
    assert _verify(store).ok
    bad = runner.invoke(app, ["audit", "log", "--since", "先週"], env=env)
    assert bad.exit_code == 2 and "--since" in bad.output


def test_audit_plans_still_works_beside_verify_and_log() -> None:
    result = runner.invoke(app, ["audit", "--help"])
    assert result.exit_code == 0
    assert all(command in result.output for command in ("plans", "verify", "log"))


def test_migration_0007_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "head")
    command.downgrade(config, "0006")
    assert not {"audit_entry", "user_account"} & set(inspect(engine).get_table_names())
    command.upgrade(config, "head")  # the triggers (and PostgreSQL's function) are created anew
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        auditlog.record(session, ADMIN, auditlog.Action.AUDIT_READ)
    with pytest.raises(DBAPIError, match="監査ログは追記のみです"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    engine.dispose()


def test_concurrent_appends_all_land_on_one_unbroken_chain(store) -> None:
    """The service's workers append from many connections at once: every append lands (none is
    refused as a duplicate entry), and the chain stays one line."""
    import threading

    failures: list[BaseException] = []
    start = threading.Barrier(6)

    def append(worker: int) -> None:
        try:
            start.wait()
            for i in range(10):
                with store.sessions() as session, session.begin():
                    auditlog.record(session, ADMIN, auditlog.Action.PLAN_PDF, residents=[f"W{worker}-{i}"])
        except BaseException as exc:  # noqa: BLE001  (collected for the assertion)
            failures.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:3]
    with store.sessions() as session:
        assert session.query(AuditEntry).count() == 60
    assert _verify(store).ok
