"""Audit retention: each reseller keeps its log for its months (never under 6, Marco
Civil art. 15; 12 by default), a periodic sweep deletes older events from the start of
the chain (which still verifies), a purged client's events stay without personal data,
and expired audit exports lose their files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from auth.models import Account
from core import jobs
from core.extensions import db
from core.models import AuditEvent, Reseller
from reseller import audit_retention, purge
from reseller.models import ClientDeletion, ExportJob
from tests.test_audit_page import add_event
from tests.test_reseller_settings import owner, save_security

TODAY = date(2026, 12, 2)


def _set_months(app, reseller_id: int, months: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Reseller).where(Reseller.id == reseller_id).values(audit_retention_months=months)
        )
        db.session.commit()


def _kept(app, ids: list[int]) -> list[int]:
    with app.app_context():
        return sorted(db.session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(ids))))


def _dated(app, reseller_id: int, *moments: datetime) -> list[int]:
    # In chronological order, as a live log is written.
    return [add_event(app, reseller_id, "plan.updated", created_at=moment) for moment in moments]


def test_a_new_reseller_keeps_twelve_months(app, ctx, tenants):
    assert db.session.get(Reseller, tenants.a.id).audit_retention_months == 12
    assert audit_retention.cutoff(db.session.get(Reseller, tenants.a.id), TODAY) == datetime(
        2025, 12, 2, 3, 0
    )


def test_the_sweep_deletes_what_is_older_than_the_retention_and_the_chain_still_verifies(
    app, tenants, runner_app
):
    _set_months(app, tenants.a.id, 6)
    old, edge, recent = _dated(
        app,
        tenants.a.id,
        datetime(2026, 5, 1, 12, 0),  # 7 months ago
        datetime(2026, 6, 2, 3, 0),  # 6 months ago to the minute (local midnight): kept
        datetime(2026, 11, 1, 12, 0),
    )
    b_old = _dated(app, tenants.b.id, datetime(2026, 5, 1, 12, 0))[0]
    with app.app_context():
        report = audit_retention.sweep(today=TODAY)
    assert report.deleted[tenants.a.id] >= 1
    assert _kept(app, [old, edge, recent]) == [edge, recent]
    assert _kept(app, [b_old]) == [b_old]  # B keeps 12 months
    result = runner_app.invoke(args=["audit", "verify", "--reseller", str(tenants.a.id)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        purged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.purged"))
        assert (
            purged.reseller_id == tenants.a.id and purged.details["deleted"] == report.deleted[tenants.a.id]
        )


def test_a_retention_under_six_months_still_keeps_six(app, tenants):
    _set_months(app, tenants.a.id, 1)
    kept = _dated(app, tenants.a.id, datetime(2026, 7, 1, 12, 0))
    with app.app_context():
        audit_retention.sweep(today=TODAY)
    assert _kept(app, kept) == kept


def test_the_security_settings_edit_the_retention_within_its_limits(app, tenants, make_browser):
    staff = owner(make_browser)
    refused = save_security(staff, audit_retention_months="5")
    assert "Escolha um número de 6 a 120." in refused.get_data(as_text=True)
    assert save_security(staff, audit_retention_months="121").status_code != 302
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).audit_retention_months == 12
    assert save_security(staff, audit_retention_months="24").status_code == 302
    with app.app_context():
        assert db.session.get(Reseller, tenants.a.id).audit_retention_months == 24
    page = staff.get("/reseller/settings/security").get_data(as_text=True)
    assert "Meses de guarda do registro de auditoria" in page and "Marco Civil" in page


def test_a_purged_clients_events_stay_without_personal_data_and_the_chain_verifies(
    app, factory, tenants, runner_app
):
    deletion_id = factory.deletion(tenants.a.id)
    with app.app_context():
        deletion = db.session.get(ClientDeletion, deletion_id)
        deletion.purge_due_at = datetime(2020, 1, 1)  # due now
        client_id = deletion.client_id
        db.session.commit()
    event_id = add_event(
        app,
        tenants.a.id,
        "client.updated",
        client_id=client_id,
        details={
            "before": {"email": "pessoa@excluida.test", "sessions": 3},
            "after": {"email": "nova@x.test"},
        },
        ip="203.0.113.77",
        user_agent="Navegador da Pessoa",
        actor_label="pessoa@excluida.test",
    )
    with app.app_context():
        assert purge.purge_client(deletion_id).finished
        event = db.session.get(AuditEvent, event_id)
        assert event is not None and event.action == "client.updated" and event.client_id == client_id
        assert (event.ip, event.user_agent, event.actor_label) == (None, None, None)
        assert event.details == {"before": {"email": None, "sessions": 3}, "after": {"email": None}}
    result = runner_app.invoke(args=["audit", "verify", "--reseller", str(tenants.a.id)])
    assert result.exit_code == 0, result.output


def test_the_sweep_removes_audit_export_files_past_their_ten_minutes(app, tenants, tmp_path):
    files = [tmp_path / "old.csv", tmp_path / "fresh.csv"]
    for file in files:
        file.write_text("x")
    now = datetime(2026, 12, 2, 12, 0)
    with app.app_context():
        owner_id = db.session.scalar(select(Account.id).where(Account.reseller_id == tenants.a.id).limit(1))
        jobs_ = [
            ExportJob(
                reseller_id=tenants.a.id,
                requested_by_account_id=owner_id,
                kind="audit_csv",
                status="done",
                file_path=str(file),
                finished_at=now - age,
            )
            for file, age in zip(files, (timedelta(minutes=11), timedelta(minutes=2)), strict=True)
        ]
        db.session.add_all(jobs_)
        db.session.commit()
        assert audit_retention.remove_expired_exports(now) == 1
    assert not Path(files[0]).exists() and Path(files[1]).exists()


def test_the_sweep_is_a_periodic_job_under_its_named_bypass():
    assert "reseller.tasks.audit_retention_job" in jobs.PERIODIC
    assert jobs.PERIODIC_BYPASS["reseller.tasks.audit_retention_job"] == "bypass:audit-retention"
