"""Test data builders. Each call commits (a savepoint in the test's transaction) and
returns a plain snapshot of the row, safe to use outside an application context."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from functools import cache
from types import SimpleNamespace

from sqlalchemy import inspect

from auth import identity, passwords
from auth import permissions as perm
from auth.models import STAFF, Account, Role
from billing.models import Payment, Plan, Subscription
from billing.summary import refresh_client_summary
from billing.suspension import suspend
from core.extensions import db
from core.timeutil import utcnow
from desk.models import BusinessCalendar, CalendarDate, Desk, DeskClient, DeskField, SlaPolicy
from desk.review_models import TicketApproval, TicketApprovalVote
from desk.states import ApprovalRule, StatusKind
from desk.statuses import default_status
from portal import knowledge
from portal.models import TermsAcceptance, TermsVersion
from portal.states import ArticleStatus, Visibility
from reseller.models import ClientDeletion
from reseller.resellers import create_reseller
from seeds.demo_desks import add_ticket
from seeds.documents import make_cnpj, make_cpf
from tenant.domain_models import ClientDomain, WebmailOverride
from tenant.models import Client

_seq = itertools.count(1)
# Logins made by the factory have passed their first-login code already; tests of the
# first login itself make a login with ``verified=False``.
VERIFIED_AT = datetime(2026, 1, 1)


def snapshot(obj) -> SimpleNamespace:
    db.session.flush()
    db.session.refresh(obj)
    values = {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}
    return SimpleNamespace(**values)


@cache
def _hash_of(password: str) -> str:
    """One hash of the suite's password for the whole run (each is salted the same way
    a real one is; sharing it only saves the hashing)."""
    return passwords.hash_password(password)


class Factory:
    def __init__(self, app, password: str):
        self.app = app
        self.password = password
        self._hash = None

    def _password_hash(self) -> str:
        if self._hash is None:
            self._hash = _hash_of(self.password)
        return self._hash

    def reseller(self, host: str | None = None, name: str | None = None, owner_email: str | None = None):
        n = next(_seq)
        host = host or f"r{n}.test"
        with self.app.app_context():
            reseller, login = create_reseller(
                name=name or f"Reseller {n}",
                host=host,
                owner_email=owner_email or f"owner{n}@{host}",
                require_staff_2fa=False,
            )
            login.password_hash = self._password_hash()
            login.verified_at = VERIFIED_AT
            db.session.commit()
            return SimpleNamespace(id=reseller.id, host=host, owner_email=login.email)

    def staff(self, reseller_id: int, permissions: list[str] | None = None, email: str | None = None):
        n = next(_seq)
        with self.app.app_context():
            role = Role(reseller_id=reseller_id, name=f"Role {n}", permissions=list(permissions or []))
            db.session.add(role)
            db.session.flush()
            login, _ = identity.ensure_login(reseller_id, email or f"staff{n}@example.test")
            login.password_hash = self._password_hash()
            login.verified_at = login.verified_at or VERIFIED_AT
            account = Account(
                reseller_id=reseller_id, login_id=login.id, kind=STAFF, name=f"Staff {n}", role_id=role.id
            )
            db.session.add(account)
            db.session.commit()
            return SimpleNamespace(id=account.id, email=login.email, role_id=role.id)

    def plan(
        self,
        reseller_id: int,
        name: str | None = None,
        sessions: int = 100,
        price_cents: int = 9990,
        period: str = "monthly",
    ):
        with self.app.app_context():
            plan = Plan(
                reseller_id=reseller_id,
                name=name or f"Plan {next(_seq)}",
                price_cents=price_cents,
                period=period,
                sessions_per_period=sessions,
            )
            db.session.add(plan)
            db.session.commit()
            return snapshot(plan)

    def client(
        self,
        reseller_id: int,
        *,
        plan_id: int | None = None,
        plan_status: str = "active",
        payment_type: str | None = None,
        payment_status: str | None = None,
        paid_on: date | None = None,
        due_date: date | None = None,
        suspended: str | None = None,
        inactivated: bool = False,
        open_tickets: int = 0,
        created_at: datetime | None = None,
        consumed: int = 0,
        extras: int = 0,
        **fields,
    ):
        n = next(_seq)
        with self.app.app_context():
            values = dict(
                trade_name=f"Client {n}",
                legal_name=f"Client {n} Ltda",
                email=f"contact{n}@client{n}.test",
                document_type="cnpj",
                document=make_cnpj(n * 7919),
                phone=None,
            )
            if fields.get("document_type") == "cpf" and "document" not in fields:
                values["document"] = make_cpf(n * 7919)
            values.update(fields)
            client = Client(reseller_id=reseller_id, **values)
            if created_at is not None:
                client.created_at = created_at
            db.session.add(client)
            db.session.flush()
            if plan_id is not None:
                plan = db.session.get(Plan, plan_id)
                sub = Subscription(
                    reseller_id=reseller_id,
                    client_id=client.id,
                    plan_id=plan_id,
                    status=plan_status,
                    payment_method="manual",
                    current_period_start=date(2026, 11, 1),
                    current_period_end=due_date or date(2026, 12, 1),
                )
                db.session.add(sub)
                db.session.flush()
                if payment_status:
                    db.session.add(
                        Payment(
                            reseller_id=reseller_id,
                            client_id=client.id,
                            subscription_id=sub.id,
                            amount_cents=plan.price_cents,
                            payment_type=payment_type or "pix",
                            status=payment_status,
                            due_date=date(2026, 11, 1),
                            paid_at=datetime.combine(paid_on or date(2026, 11, 1), datetime.min.time())
                            if payment_status == "paid"
                            else None,
                        )
                    )
            elif payment_status:
                db.session.add(
                    Payment(
                        reseller_id=reseller_id,
                        client_id=client.id,
                        amount_cents=4990,
                        payment_type=payment_type or "pix",
                        status=payment_status,
                        due_date=date(2026, 11, 1),
                        paid_at=datetime(2026, 11, 1, 15) if payment_status == "paid" else None,
                    )
                )
            db.session.flush()
            refresh_client_summary(client)
            client.sessions_consumed = consumed
            client.extra_balance = extras
            if suspended:
                suspend(client, suspended, overdue=suspended == "overdue")
            if inactivated:
                client.inactivated_at = datetime(2026, 10, 1)
            if open_tickets:
                desk = self._default_desk(reseller_id)
                for i in range(open_tickets):
                    add_ticket(desk, client, f"Ticket {i}", StatusKind.OPEN, utcnow())
            account = identity.add_client_user(
                reseller_id=reseller_id, client_id=client.id, email=client.email, name=f"User {n}"
            )
            account.login.password_hash = self._password_hash()
            account.login.verified_at = account.login.verified_at or VERIFIED_AT
            client.responsible_account_id = account.id
            db.session.commit()
            return snapshot(client)

    def _default_desk(self, reseller_id: int) -> Desk:
        desk = db.session.query(Desk).filter_by(reseller_id=reseller_id, name="Support").one_or_none()
        if desk is None:
            desk = Desk(reseller_id=reseller_id, name="Support")
            db.session.add(desk)
            db.session.flush()
        return desk

    def desk(self, reseller_id: int, name: str | None = None, client_ids=(), **fields):
        """A desk (linked to ``client_ids``)."""
        with self.app.app_context():
            desk = Desk(reseller_id=reseller_id, name=name or f"Desk {next(_seq)}", **fields)
            db.session.add(desk)
            db.session.flush()
            db.session.add_all(
                DeskClient(reseller_id=reseller_id, desk_id=desk.id, client_id=client_id)
                for client_id in client_ids
            )
            db.session.commit()
            return snapshot(desk)

    def ticket(
        self, client_id: int, desk_id: int | None = None, kind: str = StatusKind.OPEN, subject: str = "Help"
    ):
        """A ticket of the client on ``desk_id`` (else the reseller's "Support" desk), in
        the default status of ``kind``."""
        with self.app.app_context():
            client = db.session.get(Client, client_id)
            desk = db.session.get(Desk, desk_id) if desk_id else self._default_desk(client.reseller_id)
            ticket = add_ticket(desk, client, subject, StatusKind(kind), utcnow())
            db.session.commit()
            return snapshot(ticket)

    def desk_objects(self, reseller_id: int, client_id: int) -> dict:
        """One of each desk object of a reseller, by the route argument that names it
        (for the route sweep and the CSRF test)."""
        desk = self.desk(reseller_id, name="Mesa", client_ids=[client_id])
        with self.app.app_context():
            policy = SlaPolicy(reseller_id=reseller_id, name="Política")
            calendar = BusinessCalendar(reseller_id=reseller_id, name="Calendário", hours={})
            field = DeskField(reseller_id=reseller_id, desk_id=desk.id, key="campo", label="Campo")
            db.session.add_all([policy, calendar, field])
            db.session.flush()
            day = CalendarDate(
                reseller_id=reseller_id, calendar_id=calendar.id, day=date(2026, 12, 24), name="Véspera"
            )
            db.session.add(day)
            db.session.commit()
            return {
                "approval_id": self.approval(client_id, desk.id),
                "desk_id": desk.id,
                "desk_field_id": field.id,
                "status_id": default_status(reseller_id, StatusKind.OPEN).id,
                "policy_id": policy.id,
                "calendar_id": calendar.id,
                "date_id": day.id,
            }

    def approval(self, client_id: int, desk_id: int, approver_ids=()) -> int:
        """A pending approval of a new ticket of the client asked of ``approver_ids`` (else
        the client's responsible user); returns its id."""
        with self.app.app_context():
            client = db.session.get(Client, client_id)
            ticket = add_ticket(
                db.session.get(Desk, desk_id), client, "Aprovar", StatusKind.WAITING_ON_CLIENT, utcnow()
            )
            db.session.flush()
            approval = TicketApproval(
                reseller_id=client.reseller_id,
                client_id=client.id,
                ticket_id=ticket.id,
                rule=ApprovalRule.ALL,
                needed=1,
            )
            approval.votes = [
                TicketApprovalVote(reseller_id=client.reseller_id, client_id=client.id, account_id=account_id)
                for account_id in (approver_ids or [client.responsible_account_id])
            ]
            db.session.add(approval)
            db.session.commit()
            return approval.id

    def domain_objects(self, reseller_id: int, client_id: int) -> dict:
        """A domain of the client and a webmail override of the reseller, by the route
        argument that names each (for the route sweep and the CSRF test)."""
        with self.app.app_context():
            seq = next(_seq)
            domain = ClientDomain(reseller_id=reseller_id, client_id=client_id, domain=f"dominio{seq}.com.br")
            override = WebmailOverride(
                reseller_id=reseller_id, domain=f"correio{seq}.com.br", is_webmail=True
            )
            db.session.add_all([domain, override])
            db.session.commit()
            return {"domain_id": domain.id, "override_id": override.id}

    def terms(self, reseller_id: int, body: str = "# Termos\n\n- Regra", accepted_by=()) -> int:
        """A published version of the reseller's terms (the next number), accepted by the
        accounts ``accepted_by``; returns its id. Without it a reseller has no terms."""
        with self.app.app_context():
            number = db.session.query(TermsVersion).filter_by(reseller_id=reseller_id).count() + 1
            version = TermsVersion(reseller_id=reseller_id, number=number, body=body)
            db.session.add(version)
            db.session.flush()
            for account_id in accepted_by:
                account = db.session.get(Account, account_id)
                db.session.add(
                    TermsAcceptance(
                        reseller_id=reseller_id,
                        client_id=account.client_id,
                        account_id=account.id,
                        login_id=account.login_id,
                        version_id=version.id,
                        ip="127.0.0.1",
                    )
                )
            db.session.commit()
            return version.id

    def article(
        self,
        reseller_id: int,
        title: str = "Artigo",
        body: str = "Texto do artigo.",
        visibility: str = Visibility.CLIENTS,
        status: str = ArticleStatus.PUBLISHED,
        **fields,
    ) -> int:
        """A knowledge base article (published unless told); returns its id."""
        with self.app.app_context():
            data = knowledge.ArticleInput(title=title, body=body, visibility=visibility, **fields)
            article = knowledge.create(reseller_id, data, None)
            if status == ArticleStatus.PUBLISHED:
                knowledge.publish(article)
            db.session.commit()
            return article.id

    def user(self, client_id: int, email: str | None = None, name: str | None = None):
        with self.app.app_context():
            client = db.session.get(Client, client_id)
            account = identity.add_client_user(
                reseller_id=client.reseller_id,
                client_id=client_id,
                email=email or f"user{next(_seq)}@example.test",
                name=name or "A user",
            )
            if account.login.password_hash is None:
                account.login.password_hash = self._password_hash()
                account.login.verified_at = VERIFIED_AT
            db.session.commit()
            return SimpleNamespace(id=account.id, login_id=account.login_id, email=account.login.email)

    def deletion(self, reseller_id: int) -> int:
        """A client of ``reseller_id`` deleted and waiting for its purge; returns the
        deletion's id."""

        client = self.client(reseller_id, trade_name="Excluída", deleted_at=utcnow())
        with self.app.app_context():
            deletion = ClientDeletion(
                reseller_id=reseller_id,
                client_id=client.id,
                purge_due_at=utcnow() + timedelta(hours=24),
                counts={},
                purged_rows={},
            )
            db.session.add(deletion)
            db.session.commit()
            return deletion.id

    def two_tenants(self):
        a = self.reseller(host="a.test", name="Reseller A", owner_email="owner@a.test")
        b = self.reseller(host="b.test", name="Reseller B", owner_email="owner@b.test")
        plan_a = self.plan(a.id, name="Plano A")
        plan_b = self.plan(b.id, name="Plano B")
        a.client = self.client(a.id, plan_id=plan_a.id, payment_status="paid", trade_name="Alpha A")
        b.client = self.client(b.id, plan_id=plan_b.id, payment_status="paid", trade_name="Beta B")
        a.plan, b.plan = plan_a, plan_b
        return SimpleNamespace(a=a, b=b)


ALL_STAFF_PERMISSIONS = sorted(perm.STAFF_PERMISSIONS)
