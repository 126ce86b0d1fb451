"""Deleting a client: the warning with counts, the one-time code (e-mail or TOTP), what
happens at once on confirmation, cancelling before the purge, the purge itself (all
rows and files, in batches, idempotent, resumable) and the tombstone that remains."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from auth import permissions as perm
from auth.models import Account, AuthSession, Login
from billing.models import StripeEvent, Subscription
from core.config import ConfigError, load_settings
from core.extensions import db
from core.jobs import get_redis
from core.models import AuditEvent, Reseller
from core.timeutil import utcnow
from reseller import deletion as service
from reseller import purge, tasks
from reseller.models import ClientDeletion, ClientDeletionCode
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.domain_models import ClientDomain
from tenant.inbox_models import Message
from tenant.models import Client
from tests.conftest import PASSWORD
from tests.test_client_export import download
from tests.test_workspace import channel, deliver


def base(client_id: int) -> str:
    return f"/reseller/clients/{client_id}"


def populate(app, client_id: int, make_browser) -> tuple[str, str]:
    """Three messages from two contacts through the client's real inbound endpoint."""
    key, secret = channel(app, client_id)
    http = make_browser()
    for n, (phone, text) in enumerate(
        [("11987650001", "Oi"), ("11987650001", "Tudo?"), ("11987650002", "Olá")]
    ):
        assert deliver(http, key, secret, {"from": phone, "text": text, "id": f"m{n}"}).status_code == 201
    return key, secret


def mailed_code(mailbox, email: str) -> str:
    text = mailbox.to(email)[-1]["text"]
    return re.search(r"^\s+(\d{6})\s*$", text, re.M).group(1)


def client_rows(app, client_id: int) -> dict[str, int]:
    """Rows left of the client in every table that has a client_id (audit log aside)."""
    with app.app_context():
        left = {}
        for table in db.metadata.sorted_tables:
            if "client_id" in table.c and table.name not in ("audit_events", "client_deletions"):
                n = db.session.scalar(
                    select(func.count()).select_from(table).where(table.c.client_id == client_id)
                )
                if n:
                    left[table.name] = n
        if db.session.get(Client, client_id) is not None:
            left["clients"] = 1
        return left


@pytest.fixture
def rich(app, factory, tenants, make_browser):
    """Client A with two users (one of them also a user of another client), three
    messages, a photo, and a Stripe subscription."""
    client_id = tenants.a.client.id
    other = factory.client(tenants.a.id, trade_name="Vizinha")
    factory.user(client_id, email="so-aqui@alpha.test", name="Só Aqui")
    factory.user(client_id, email="dupla@alpha.test", name="Dupla")
    factory.user(other.id, email="dupla@alpha.test", name="Dupla")
    populate(app, client_id, make_browser)
    with app.app_context():
        uploads = Path(app.config["UPLOAD_DIR"]) / "deletion-test"
        uploads.mkdir(parents=True, exist_ok=True)
        (uploads / f"{client_id}.png").write_bytes(b"\x89PNG fake")
        client = db.session.get(Client, client_id)
        client.photo_path = f"deletion-test/{client_id}.png"
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client_id))
        sub.stripe_subscription_id = "sub_alpha"
        sub.payment_method = "stripe"
        db.session.add(ClientDomain(reseller_id=client.reseller_id, client_id=client_id, domain="rica.test"))
        db.session.commit()
    return client_id, other.id


def confirm(browser, mailbox, run_jobs, client_id: int, email: str = "owner@a.test"):
    assert browser.get(f"{base(client_id)}/delete").status_code == 200
    sent = browser.post(f"{base(client_id)}/delete/code")
    assert sent.status_code == 303
    run_jobs()
    return browser.post(f"{base(client_id)}/delete/confirm", {"code": mailed_code(mailbox, email)})


# --- step 1: the warning ------------------------------------------------------------


def test_the_warning_counts_exactly_what_will_be_removed(app, rich, browser):
    client_id, _other = rich
    browser.login("owner@a.test")
    page = browser.get(f"{base(client_id)}/delete").get_data(as_text=True)
    counts = dict(re.findall(r'data-count="(\w+)"><td>[^<]*</td><td class="num fw-semibold">([\d.]+)<', page))
    # Three users (the client's e-mail, "só aqui", "dupla"); two logins have no other
    # account ("dupla" is also a user of Vizinha and keeps its login).
    assert counts["users"] == "3" and counts["logins"] == "2"
    assert (counts["contacts"], counts["conversations"], counts["messages"]) == ("2", "2", "3")
    assert counts["session_windows"] == "2" and counts["subscriptions"] == "1"
    assert counts["files"] == "1" and int(counts["payments"]) >= 1
    assert counts["domains"] == "1"
    assert "não pode ser desfeita" in page.lower() or "não pode ser desfeito" in page.lower()
    assert "48 horas" in page


def test_only_staff_with_the_delete_permission_reach_any_step(app, factory, tenants, make_browser):
    client_id = tenants.a.client.id
    clerk = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="clerk@a.test")
    browser = make_browser()
    browser.login(clerk.email)
    assert browser.get(f"{base(client_id)}/delete").status_code == 403
    assert browser.post(f"{base(client_id)}/delete/code").status_code == 403
    assert browser.post(f"{base(client_id)}/delete/confirm", {"code": "123456"}).status_code == 403
    assert "data-delete-link" not in browser.get("/reseller/clients").get_data(as_text=True)
    owner = make_browser()
    owner.login("owner@a.test")
    assert "data-delete-link" in owner.get("/reseller/clients").get_data(as_text=True)
    # Another reseller's client is not there at all.
    assert owner.get(f"{base(tenants.b.client.id)}/delete").status_code == 404
    assert owner.post(f"{base(tenants.b.client.id)}/delete/code").status_code == 404
    # CSRF on the form that sends the code.
    assert owner.post(f"{base(client_id)}/delete/code", csrf=False).status_code == 400


# --- steps 2 and 3: the code and the confirmation ----------------------------------


def test_the_emailed_code_deletes_the_client_and_everything_stops_at_once(
    app, rich, browser, make_browser, mailbox, run_jobs, fake_stripe, tenants
):
    client_id, other_id = rich
    key, secret = channel(app, client_id)
    user = make_browser()
    user.login("so-aqui@alpha.test")
    assert user.get("/app/").status_code == 200
    browser.login("owner@a.test")
    browser.get(f"{base(client_id)}/delete")
    browser.post(f"{base(client_id)}/delete/code")
    run_jobs()
    [mail] = mailbox.to("owner@a.test")
    assert "Alpha A" in mail["subject"] and "48 horas" in mail["text"]
    page = browser.get(f"{base(client_id)}/delete/confirm").get_data(as_text=True)
    assert 'id="code-why"' in page and "owner@a.test" in page
    # A wrong code changes nothing and says so.
    wrong = browser.post(f"{base(client_id)}/delete/confirm", {"code": "000000"})
    right = mailed_code(mailbox, "owner@a.test")
    if right == "000000":
        pytest.skip("the random code happened to be 000000")
    assert wrong.status_code == 422 and "incorreto" in wrong.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Client, client_id).deleted_at is None
    done = browser.post(f"{base(client_id)}/delete/confirm", {"code": right})
    assert done.status_code == 302 and "/reseller/clients/deletions" in done.headers["Location"]

    # Gone from the list, from search and from the export.
    listing = browser.get("/reseller/clients?status=all").get_data(as_text=True)
    assert f'data-client-id="{client_id}"' not in listing and f'data-client-id="{other_id}"' in listing
    assert "Alpha A" not in browser.get("/reseller/clients?trade_name=Alpha").get_data(as_text=True)
    data, _disposition = download(browser, "status=all")
    names = {row[1] for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)}
    assert "Vizinha" in names and "Alpha A" not in names
    # Its pages and the impersonation of its users answer 404.
    assert browser.get(f"{base(client_id)}/edit").status_code == 404
    assert browser.get(f"{base(client_id)}/billing").status_code == 404
    with app.app_context():
        account_id = db.session.scalar(
            select(Account.id).where(Account.client_id == client_id, Account.active.is_(True))
        )
    assert browser.post(f"{base(client_id)}/users/{account_id}/login-as").status_code == 404
    # Its users' sessions ended and they cannot log in again.
    assert user.get("/app/").status_code == 302
    again = make_browser().post("/login", {"email": "so-aqui@alpha.test", "password": factory_password()})
    assert again.status_code != 302 or "/app" not in again.headers.get("Location", "")
    with app.app_context():
        live = db.session.scalar(
            select(func.count())
            .select_from(AuthSession)
            .join(Account, Account.id == AuthSession.account_id)
            .where(Account.client_id == client_id, AuthSession.revoked_at.is_(None))
        )
        assert live == 0
    # Its inbound endpoint refuses messages.
    refused = deliver(make_browser(), key, secret, {"from": "11987650009", "text": "Oi", "id": "late"})
    assert refused.status_code in (401, 403, 404, 410)
    with app.app_context():
        late = select(func.count()).select_from(Message).where(Message.external_id == "late")
        assert db.session.scalar(late) == 0
    # Its Stripe subscription is cancelled, in Stripe and here.
    assert fake_stripe.calls("DELETE", "/v1/subscriptions/sub_alpha")
    with app.app_context():
        sub = db.session.scalar(select(Subscription).where(Subscription.client_id == client_id))
        assert sub.status == "cancelled"
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client_id))
        assert deletion.status == "pending" and deletion.requested_by_account_id is not None
        assert utcnow() < deletion.purge_due_at <= utcnow() + timedelta(hours=48)
        assert deletion.counts["messages"] == 3
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.client_id == client_id)))
    assert {"client.deletion_requested", "client.deletion_code_sent", "client.deletion_code_wrong"} <= actions
    assert "client.deletion_confirmed" in actions
    # The code worked once: the client is gone, so there is nothing left to confirm.
    assert browser.post(f"{base(client_id)}/delete/confirm", {"code": right}).status_code == 404


def factory_password() -> str:
    return PASSWORD


def test_five_wrong_codes_spend_the_code(app, tenants, browser, mailbox, run_jobs):
    client_id = tenants.a.client.id
    browser.login("owner@a.test")
    browser.post(f"{base(client_id)}/delete/code")
    run_jobs()
    right = mailed_code(mailbox, "owner@a.test")
    wrong = "111111" if right != "111111" else "222222"
    for _ in range(5):
        browser.post(f"{base(client_id)}/delete/confirm", {"code": wrong})
    late = browser.post(f"{base(client_id)}/delete/confirm", {"code": right})
    assert late.status_code in (302, 422)
    with app.app_context():
        assert db.session.get(Client, client_id).deleted_at is None


def test_a_code_is_bound_to_its_client_and_its_staff_member(
    app, factory, tenants, make_browser, mailbox, run_jobs
):
    first = tenants.a.client.id
    second = factory.client(tenants.a.id, trade_name="Segunda").id
    factory.staff(tenants.a.id, permissions=[perm.CLIENTS, perm.DELETE_CLIENTS], email="del@a.test")
    owner = make_browser()
    owner.login("owner@a.test")
    owner.post(f"{base(first)}/delete/code")
    run_jobs()
    code = mailed_code(mailbox, "owner@a.test")
    # Another client: no code was asked for it, so its step 3 sends back to step 1.
    assert owner.post(f"{base(second)}/delete/confirm", {"code": code}).status_code == 302
    # Another staff member cannot use the owner's code.
    other = make_browser()
    other.login("del@a.test")
    other.post(f"{base(first)}/delete/code")
    assert other.post(f"{base(first)}/delete/confirm", {"code": code}).status_code in (302, 422)
    with app.app_context():
        assert db.session.get(Client, first).deleted_at is None
        assert db.session.get(Client, second).deleted_at is None


def test_staff_with_an_authenticator_app_confirm_with_it_and_nothing_is_mailed(
    app, tenants, browser, mailbox, run_jobs
):
    client_id = tenants.a.client.id
    with app.app_context():
        login = db.session.scalar(select(Login).where(Login.email == "owner@a.test"))
        login.totp_secret = pyotp.random_base32()
        login.totp_enabled_at = utcnow()
        secret = login.totp_secret
        db.session.commit()
    totp = pyotp.TOTP(secret)
    asked = browser.post("/login", {"email": "owner@a.test", "password": factory_password()})
    if asked.headers["Location"] == "/login/2fa":
        assert browser.post("/login/2fa", {"code": totp.now()}).status_code == 302
    page = browser.get(f"{base(client_id)}/delete").get_data(as_text=True)
    assert "aplicativo autenticador" in page
    browser.post(f"{base(client_id)}/delete/code")
    run_jobs()
    assert not [m for m in mailbox.to("owner@a.test") if "excluir" in m["subject"]]
    code_page = browser.get(f"{base(client_id)}/delete/confirm").get_data(as_text=True)
    assert "autenticador" in code_page
    # The login step may have used the current code: confirm with the next one.
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        done = browser.post(f"{base(client_id)}/delete/confirm", {"code": totp.now()})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.get(Client, client_id).deleted_at is not None


def test_a_code_used_twice_at_once_deletes_once(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrency is checked on PostgreSQL")
    pytest.importorskip("psycopg")
    made = concurrent_setup(app)
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def attempt() -> None:
        with app.test_request_context("/", base_url="http://conc-del.test"):
            try:
                staff = db.session.get(Account, made["staff_id"])
                client = db.session.get(Client, made["client_id"])
                barrier.wait()
                service.confirm_deletion(staff, client, made["code"])
                db.session.commit()
                outcome = "deleted"
            except Exception as exc:  # noqa: BLE001 - each loser says why
                db.session.rollback()
                outcome = type(exc).__name__
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    try:
        threads = [threading.Thread(target=attempt) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("deleted") == 1, outcomes
        assert set(outcomes) <= {"deleted", "CodeRefused", "DeletionRefused"}, outcomes
        with app.app_context():
            n = db.session.scalar(
                select(func.count())
                .select_from(ClientDeletion)
                .where(ClientDeletion.client_id == made["client_id"])
            )
            assert n == 1
    finally:
        with app.app_context():
            rid = made["reseller_id"]
            db.session.execute(delete(ClientDeletion).where(ClientDeletion.reseller_id == rid))
            db.session.execute(delete(AuditEvent).where(AuditEvent.reseller_id == rid))
            db.session.delete(db.session.get(Reseller, rid))
            db.session.commit()


test_a_code_used_twice_at_once_deletes_once = pytest.mark.real_commits(
    test_a_code_used_twice_at_once_deletes_once
)


def concurrent_setup(app) -> dict:
    with app.test_request_context("/", base_url="http://conc-del.test"):
        reseller, login = create_reseller(
            name="Concorrência Del",
            host="conc-del.test",
            owner_email="dono@conc-del.test",
            require_staff_2fa=False,
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Dupla Exclusão",
            legal_name="Dupla Exclusão Ltda",
            email="contato@dupla.test",
            document_type="cnpj",
            document=make_cnpj(7),
        )
        db.session.add(client)
        db.session.flush()
        staff = db.session.scalar(select(Account).where(Account.login_id == login.id))
        row = ClientDeletionCode(
            reseller_id=reseller.id,
            client_id=client.id,
            account_id=staff.id,
            method=ClientDeletionCode.EMAIL,
            expires_at=utcnow() + timedelta(minutes=10),
        )
        db.session.add(row)
        db.session.flush()
        row.code_hash = service._digest(row, "424242")
        db.session.commit()
        return {"reseller_id": reseller.id, "client_id": client.id, "staff_id": staff.id, "code": "424242"}


# --- cancelling ---------------------------------------------------------------------


def test_a_deletion_is_cancelled_until_the_purge_starts(
    app, tenants, browser, mailbox, run_jobs, factory, make_browser
):
    client_id = tenants.a.client.id
    browser.login("owner@a.test")
    confirm(browser, mailbox, run_jobs, client_id)
    listing = browser.get("/reseller/clients/deletions").get_data(as_text=True)
    with app.app_context():
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client_id))
        deletion_id = deletion.id
    assert f'id="deletion-{deletion_id}"' in listing and "Cancelar exclusão" in listing
    # Staff without the permission cannot; nor can another reseller (404).
    clerk = factory.staff(tenants.a.id, permissions=[perm.CLIENTS], email="c2@a.test")
    other = make_browser()
    other.login(clerk.email)
    assert other.post(f"/reseller/clients/deletions/{deletion_id}/cancel").status_code == 403
    stranger = make_browser("b.test")
    stranger.login("owner@b.test")
    assert stranger.post(f"/reseller/clients/deletions/{deletion_id}/cancel").status_code == 404
    back = browser.post(f"/reseller/clients/deletions/{deletion_id}/cancel", follow_redirects=True)
    assert "Alpha A" in back.get_data(as_text=True)
    assert f'data-client-id="{client_id}"' in browser.get("/reseller/clients").get_data(as_text=True)
    # The history shows the deletion and its cancellation.
    history = browser.get(f"{base(client_id)}/history").get_data(as_text=True)
    assert 'data-action="client.deletion_confirmed"' in history
    assert 'data-action="client.deletion_cancelled"' in history
    # Once the purge has started it is too late.
    confirm(browser, mailbox, run_jobs, client_id)
    with app.app_context():
        live = db.session.scalar(
            select(ClientDeletion).where(
                ClientDeletion.client_id == client_id, ClientDeletion.cancelled_at.is_(None)
            )
        )
        live.started_at = utcnow()
        live.status = "purging"
        live_id = live.id
        db.session.commit()
    late = browser.post(f"/reseller/clients/deletions/{live_id}/cancel", follow_redirects=True)
    assert "já começou" in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Client, client_id).deleted_at is not None


def test_the_history_shows_inactivation_and_reactivation(app, factory, tenants, browser):
    client = factory.client(tenants.a.id, trade_name="Vai e Volta")
    browser.login("owner@a.test")
    browser.post(f"{base(client.id)}/inactivate")
    browser.post(f"{base(client.id)}/reactivate")
    history = browser.get(f"{base(client.id)}/history").get_data(as_text=True)
    assert history.index('data-action="client.reactivated"') < history.index(
        'data-action="client.inactivated"'
    )
    assert browser.get(f"{base(tenants.b.client.id)}/history").status_code == 404


# --- the purge ----------------------------------------------------------------------


def deleted(app, browser, mailbox, run_jobs, client_id: int) -> int:
    browser.login("owner@a.test")
    assert confirm(browser, mailbox, run_jobs, client_id).status_code == 302
    with app.app_context():
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client_id))
        deletion.purge_due_at = utcnow() - timedelta(seconds=1)  # the deadline passed
        db.session.commit()
        return deletion.id


def test_the_purge_removes_every_row_and_file_and_leaves_a_tombstone_without_personal_data(
    app, rich, browser, mailbox, run_jobs, fake_stripe
):
    client_id, other_id = rich
    before_other = client_rows(app, other_id)
    with app.app_context():
        db.session.get(Client, client_id).stripe_customer_id = "cus_alpha"
        for n, customer in enumerate(("cus_alpha", "cus_other")):
            db.session.add(
                StripeEvent(
                    event_id=f"evt_purge_{n}",
                    type="invoice.paid",
                    created=1,
                    payload=json.dumps(
                        {"data": {"object": {"customer": customer, "customer_email": "x@alpha.test"}}}
                    ),
                    processed_at=utcnow(),
                )
            )
        db.session.commit()
    deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
    with app.app_context():
        photo = Path(app.config["UPLOAD_DIR"]) / f"deletion-test/{client_id}.png"
        report = purge.purge_client(deletion_id, batch_size=2)
        assert report.finished and report.peak_batch_rows <= 2 * 6  # batches stay small
    assert client_rows(app, client_id) == {}
    assert not photo.exists()
    assert client_rows(app, other_id) == before_other
    with app.app_context():
        emails = set(
            db.session.scalars(select(Login.email).where(Login.reseller_id == rich_reseller(app, other_id)))
        )
        # The logins only this client used are gone; the shared one stays with its other account.
        assert "so-aqui@alpha.test" not in emails and "dupla@alpha.test" in emails
        # Stripe's copies of the client's events go; another customer's stay.
        assert set(
            db.session.scalars(select(StripeEvent.event_id).where(StripeEvent.event_id.like("evt_purge_%")))
        ) == {"evt_purge_1"}
        deletion = db.session.get(ClientDeletion, deletion_id)
        assert deletion.status == "purged" and deletion.finished_at is not None
        assert deletion.purged_rows["messages"] == 3 and deletion.purged_rows["files"] == 1
        tombstone = json.dumps({"counts": deletion.counts, "purged": deletion.purged_rows})
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.client_id == client_id)).all()
        kept = json.dumps([[e.details, e.ip, e.user_agent, e.actor_label] for e in events], default=str)
    for personal in ("Alpha A", "so-aqui@alpha.test", "alpha.test", "11987650001"):
        assert personal not in tombstone and personal not in kept
    assert {"client.deletion_confirmed", "client.purged"} <= {e.action for e in events}
    listing = browser.get("/reseller/clients/deletions").get_data(as_text=True)
    assert f'id="deletion-{deletion_id}"' in listing and 'data-status="purged"' in listing


def rich_reseller(app, client_id: int) -> int:
    with app.app_context():
        return db.session.get(Client, client_id).reseller_id


def test_a_purge_stopped_midway_finishes_on_the_next_run_and_a_third_run_does_nothing(
    app, tenants, make_browser, browser, mailbox, run_jobs
):
    client_id = tenants.a.client.id
    populate(app, client_id, make_browser)
    deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
    with app.app_context():
        first = purge.purge_client(deletion_id, batch_size=1, max_batches=3)
        assert first is not None and not first.finished and first.batches == 3
        deletion = db.session.get(ClientDeletion, deletion_id)
        assert deletion.status == "purging" and deletion.started_at is not None
    # Cancelling is refused once the purge has started.
    with app.app_context():
        staff = db.session.scalar(select(Account).join(Login).where(Login.email == "owner@a.test"))
        with pytest.raises(service.DeletionRefused):
            service.cancel_deletion(db.session.get(ClientDeletion, deletion_id), staff)
        db.session.rollback()
        second = purge.purge_client(deletion_id, batch_size=1)
        assert second.finished
        assert purge.purge_client(deletion_id) is None  # finished: nothing to do
    assert client_rows(app, client_id) == {}


def test_a_purge_held_by_a_dead_worker_is_taken_over_after_its_lease(
    app, tenants, browser, mailbox, run_jobs
):
    client_id = tenants.a.client.id
    deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
    with app.app_context():
        # A worker claimed it and died (kill -9): its heartbeat stays where it was.
        db.session.execute(
            update(ClientDeletion)
            .where(ClientDeletion.id == deletion_id)
            .values(started_at=utcnow(), heartbeat_at=utcnow(), status="purging")
        )
        db.session.commit()
        assert purge.purge_client(deletion_id) is None  # still within its lease
        assert purge.due_deletions() == []
        db.session.execute(
            update(ClientDeletion)
            .where(ClientDeletion.id == deletion_id)
            .values(heartbeat_at=utcnow() - purge.PURGE_LEASE - timedelta(seconds=1))
        )
        db.session.commit()
        assert [d.id for d in purge.due_deletions()] == [deletion_id]
        assert purge.purge_client(deletion_id).finished
    assert client_rows(app, client_id) == {}


def test_the_periodic_sweep_purges_a_due_deletion_whose_job_was_lost(
    app, tenants, browser, mailbox, run_jobs
):
    client_id = tenants.a.client.id
    deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
    if app.config.get("REDIS_URL"):
        get_redis(app).flushdb()  # the delayed job is lost
    with app.app_context():
        assert tasks.sweep_job() == 1
    run_jobs()
    with app.app_context():
        assert db.session.get(ClientDeletion, deletion_id).status == "purged"
    assert client_rows(app, client_id) == {}


def test_the_purge_never_runs_before_its_deadline_nor_on_a_client_not_deleted(
    app, tenants, browser, mailbox, run_jobs
):
    client_id = tenants.a.client.id
    browser.login("owner@a.test")
    confirm(browser, mailbox, run_jobs, client_id)
    with app.app_context():
        deletion = db.session.scalar(select(ClientDeletion).where(ClientDeletion.client_id == client_id))
        assert purge.purge_client(deletion.id) is None  # not due yet
        assert purge.due_deletions() == []
        deletion.purge_due_at = utcnow() - timedelta(seconds=1)
        db.session.get(Client, client_id).deleted_at = None  # inconsistent on purpose
        db.session.commit()
        assert purge.purge_client(deletion.id) is None
        assert db.session.get(Client, client_id) is not None


def test_purge_delay_setting_cannot_break_the_48_hour_promise(monkeypatch):
    monkeypatch.setenv("CLIENT_PURGE_DELAY_HOURS", "47")
    with pytest.raises(ConfigError):
        load_settings({"APP_ENV": "testing"})


def test_the_operator_command_purges_what_is_due(app, tenants, browser, mailbox, run_jobs, runner_app):
    client_id = tenants.a.client.id
    deletion_id = deleted(app, browser, mailbox, run_jobs, client_id)
    result = runner_app.invoke(args=["clients", "purge-due", "--here"])
    assert result.exit_code == 0, result.output
    assert f"deletion {deletion_id}:" in result.output
    with app.app_context():
        assert db.session.get(ClientDeletion, deletion_id).status == "purged"
    assert client_rows(app, client_id) == {}
    again = runner_app.invoke(args=["clients", "purge-due"])
    assert again.output.strip() == "0 purge(s) queued"


def test_a_new_code_is_throttled_and_replaces_the_old_one(app, tenants, browser, mailbox, run_jobs):
    client_id = tenants.a.client.id
    browser.login("owner@a.test")
    browser.post(f"{base(client_id)}/delete/code")
    run_jobs()
    first = mailed_code(mailbox, "owner@a.test")
    too_soon = browser.post(f"{base(client_id)}/delete/code", follow_redirects=True)
    assert "Aguarde" in too_soon.get_data(as_text=True)
    run_jobs()
    assert len(mailbox.to("owner@a.test")) == 1
    with time_machine.travel(utcnow() + timedelta(seconds=61), tick=False):
        browser.login("owner@a.test")  # staff sessions are time-bound
        browser.post(f"{base(client_id)}/delete/code")
        run_jobs()
        second = mailed_code(mailbox, "owner@a.test")
        if second == first:
            pytest.skip("the random codes happened to be equal")
        assert browser.post(f"{base(client_id)}/delete/confirm", {"code": first}).status_code == 422
        assert browser.post(f"{base(client_id)}/delete/confirm", {"code": second}).status_code == 302
    with app.app_context():
        assert db.session.get(Client, client_id).deleted_at is not None
