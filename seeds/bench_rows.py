"""One bench reseller's clients and everything hanging off them, generated pass by pass
and written with :class:`seeds.bench_writer.BulkWriter`."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Table, text

from auth.models import CLIENT_USER, Account, Login
from billing.models import Payment, Plan, Subscription, SuspensionEvent
from core.models import Reseller
from core.timeutil import today_local, utcnow
from seeds.bench_profile import (
    ACCOUNT_COLUMNS,
    ACTIVITIES,
    ALL_WORKSPACE_PERMISSIONS,
    CHAT_LEVELS,
    CITIES,
    CLIENT_COLUMNS,
    CODE_STATUS,
    CONTACT_COLUMNS,
    EXTRA_PACKS,
    FIRST_FOLDED,
    FIRST_NAMES,
    GRACE_DAYS,
    KINDS,
    LATEST_STATUSES,
    LEGAL_SUFFIXES,
    LOGIN_COLUMNS,
    MANUAL_REASONS,
    NAMES,
    PAYMENT_COLUMNS,
    PAYMENT_TYPES,
    PLANS,
    QUALIFIERS,
    SEED,
    SLA_LEVELS,
    STATUS_CODE,
    SUBSCRIPTION_COLUMNS,
    SURNAMES,
    SURNAMES_FOLDED,
    SUSPENSION_COLUMNS,
    WINDOW_COLUMNS,
)
from seeds.bench_writer import BulkWriter
from seeds.documents import make_cnpj, make_cpf
from tenant.inbox_models import Contact, SessionWindow
from tenant.models import Client, fold, sort_key

# --- one reseller's clients ---------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, min(day.day, 28))


def _due_dates(latest_due: date, count: int) -> list[date]:
    return [_add_months(latest_due, k - count + 1) if k < count - 1 else latest_due for k in range(count)]


def _paid_at(due: date, n: int, k: int) -> datetime:
    """When payment ``k`` of client ``n`` was paid: 1-4 days before it was due, in office hours."""
    return datetime(due.year, due.month, due.day, 12 + (n + k) % 9, (n * 7 + k) % 60) - timedelta(
        days=1 + (n + k) % 4
    )


class _Client(NamedTuple):
    """What every pass needs to know about one client, decided before any row is written."""

    id: int
    number: int  # across the three resellers: seeds its documents and e-mail
    created: datetime
    inactivated: bool
    plan: Plan
    subscription: str | None  # active, pending, cancelled, or None: never had a plan
    latest_due: date | None
    statuses: str  # its payments' statuses, oldest first, one letter each (STATUS_CODE)
    payment_type: str
    suspension: tuple[str, datetime] | None
    subscription_id: int | None = None

    @property
    def due_date(self) -> date | None:
        """End of the current paid period (the subscription's ``current_period_end``)."""
        if self.subscription == "active" and self.statuses[-1] in "PR":
            return self.latest_due + timedelta(days=30)
        if self.subscription in ("active", "pending"):
            return self.latest_due
        return None


class ResellerData:
    """Generates and writes one reseller's clients and everything hanging off them."""

    def __init__(self, writer: BulkWriter, reseller: Reseller, plans: list[Plan], password_hash: str) -> None:
        self.w = writer
        self.reseller_id = reseller.id
        self.plans = plans
        self.plan_weights = [p[3] for p in PLANS]
        self.password_hash = password_hash
        self.rng = random.Random(SEED + reseller.id)
        self.now = utcnow().replace(microsecond=0)
        self.today = today_local()
        self.counts: dict[str, int] = {}
        self.clients: list[_Client] = []

    def _write(self, label: str, table: Table, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        self.counts[label] = self.counts.get(label, 0) + self.w.write(table, columns, rows)

    def fill(self, clients: int, users: int, payments: int, windows: int, number_from: int) -> None:
        w = self.w
        first_client = w.reserve(Client.__table__, clients)
        # Invoices go back as far as the client has had a plan; creation dates spread
        # over a span that makes the average history about ``payments`` months.
        span_days = max(60, round(payments * 2.25 * 30.44))
        self.clients = [self._decide(first_client + i, number_from + i, span_days) for i in range(clients)]
        subscribed = [i for i, c in enumerate(self.clients) if c.subscription is not None]
        first_sub = w.reserve(Subscription.__table__, len(subscribed))
        for k, i in enumerate(subscribed):
            self.clients[i] = self.clients[i]._replace(subscription_id=first_sub + k)
        # Accountants: one login each, with an account in every 20th client (~20 clients each).
        accountants = max(1, clients // 400) if users else 0
        shared = [i for i in range(clients) if accountants and i % 20 == 7]
        first_login = w.reserve(Login.__table__, clients * users + accountants)
        first_account = w.reserve(Account.__table__, clients * users + len(shared))

        # Each client's first user is its responsible user. Unless foreign-key checks are
        # off, that reference is filled in by an UPDATE once the accounts exist.
        forward = w.forward_references and users > 0
        responsible = first_account if forward else None
        self._write(
            "clients", Client.__table__, CLIENT_COLUMNS, self._client_rows(first_client, responsible, users)
        )
        self._write(
            "logins", Login.__table__, LOGIN_COLUMNS, self._login_rows(first_login, users, accountants)
        )
        accounts = self._account_rows(first_account, first_login, users, accountants, shared)
        self._write("accounts", Account.__table__, ACCOUNT_COLUMNS, accounts)
        if users and not forward:
            w.connection.execute(
                text(
                    "UPDATE clients SET responsible_account_id = :account + (id - :client) * :users "
                    "WHERE id BETWEEN :client AND :last"
                ),
                {
                    "account": first_account,
                    "client": first_client,
                    "users": users,
                    "last": first_client + clients - 1,
                },
            )
        self._write("subscriptions", Subscription.__table__, SUBSCRIPTION_COLUMNS, self._subscription_rows())
        self._write("payments", Payment.__table__, PAYMENT_COLUMNS, self._payment_rows())
        self._write(
            "suspension events", SuspensionEvent.__table__, SUSPENSION_COLUMNS, self._suspension_rows()
        )
        if windows:
            per_client = max(1, windows // 10)
            first_contact = w.reserve(Contact.__table__, clients * per_client)
            self._write(
                "contacts", Contact.__table__, CONTACT_COLUMNS, self._contact_rows(first_contact, per_client)
            )
            rows = self._window_rows(first_contact, per_client, windows)
            self._write("session windows", SessionWindow.__table__, WINDOW_COLUMNS, rows)

    def _decide(self, cid: int, number: int, span_days: int) -> _Client:
        """Client ``cid``'s plan, subscription, payment history and suspension."""
        rng = self.rng
        today = self.today
        created = self.now - timedelta(seconds=int(rng.random() * span_days * 86400))
        inactivated = rng.random() < 0.05
        roll = rng.random()
        if inactivated:
            # inactivation is refused while a plan is active: these had one, or never did
            situation = "former" if roll < 0.6 else "never"
        else:
            situation = "current" if roll < 0.86 else "former" if roll < 0.93 else "never"
        age = (today - created.date()).days
        if situation == "former" and age < 75:
            situation = "never"
        plan = self.plans[rng.choices(range(len(self.plans)), self.plan_weights)[0]]
        payment_type = rng.choice(PAYMENT_TYPES)
        statuses = ""
        latest_due = subscription = suspension = None
        if situation == "current" and rng.random() < 0.025:
            # a new client whose first invoice, due today, is not paid yet: plan pending
            created = self.now - timedelta(seconds=int(rng.random() * 5 * 86400))
            latest_due, statuses, subscription = today, "N", "pending"
        elif situation == "current":
            latest = rng.choice(LATEST_STATUSES)
            if latest in ("paid", "refunded"):
                latest_due = today - timedelta(days=rng.randint(0, 29))
            elif latest == "pending":
                latest_due = today + timedelta(days=rng.randint(0, 10))
            else:
                latest_due = today - timedelta(days=rng.randint(1, 45))
            subscription, statuses = "active", STATUS_CODE[latest]
            if latest == "overdue" and (today - latest_due).days > GRACE_DAYS:
                due = latest_due + timedelta(days=GRACE_DAYS + 1)
                suspension = ("overdue", datetime(due.year, due.month, due.day, 9))
            elif rng.random() < 0.012:
                suspension = (rng.choice(MANUAL_REASONS), self.now - timedelta(days=rng.randint(0, 60)))
        elif situation == "former":
            latest_due = created.date() + timedelta(days=40 + int(rng.random() * (age - 71)))
            subscription, statuses = "cancelled", rng.choice("PPPPPPRFFO")
        if latest_due is not None:
            if created.date() > latest_due - timedelta(days=10):
                # invoices are issued 10 days before they are due, never before the client existed
                created -= timedelta(days=(created.date() - latest_due).days + 10 + rng.randint(0, 5))
            first = created.date() + timedelta(days=10)
            months = max(1, (latest_due.year - first.year) * 12 + latest_due.month - first.month + 1)
            older = "".join("P" if rng.random() < 0.96 else rng.choice("FR") for _ in range(months - 1))
            statuses = older + statuses
        return _Client(
            cid,
            number,
            created,
            inactivated,
            plan,
            subscription,
            latest_due,
            statuses,
            payment_type,
            suspension,
        )

    # -- rows, in each table's column order -------------------------------------------

    def _client_rows(self, first_client: int, first_account: int | None, users: int) -> Iterator[tuple]:
        rng = self.rng
        for c in self.clients:
            kind = rng.choice(KINDS)
            trade = f"{kind} {rng.choice(NAMES)}"
            qualifier = rng.choice(QUALIFIERS)
            if qualifier:
                trade = f"{trade} {qualifier}"
            is_cnpj = rng.random() < 0.8
            if not is_cnpj:  # a person (MEI): the legal name is theirs
                legal = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
            elif rng.random() < 0.5:
                legal = f"{trade} {rng.choice(ACTIVITIES)} {rng.choice(LEGAL_SUFFIXES)}"
            else:
                partners = f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)}"
                legal = f"{partners} {rng.choice(ACTIVITIES)} {rng.choice(LEGAL_SUFFIXES)}"
            city, state, ddd = rng.choice(CITIES)
            address = rng.random() < 0.7
            active = c.subscription == "active"
            on_plan = c.subscription in ("active", "pending")
            quota = c.plan.sessions_per_period if active else 0
            last_paid = None
            if "P" in c.statuses:
                k = c.statuses.rindex("P")
                last_paid = _paid_at(_due_dates(c.latest_due, len(c.statuses))[k], c.number, k).date()
            lifetime = (self.now - c.created).total_seconds()
            yield (
                c.id,
                self.reseller_id,
                trade,
                legal,
                fold(trade),
                fold(legal),
                sort_key(trade, 120),
                sort_key(legal, 160),
                f"contato@{fold(kind).replace(' ', '')}{c.number}.com.br",
                f"55{ddd}9{rng.randrange(10**7, 10**8)}" if rng.random() < 0.75 else None,
                "cnpj" if is_cnpj else "cpf",
                make_cnpj(c.number) if is_cnpj else make_cpf(c.number),
                rng.choice(SLA_LEVELS),
                f"{rng.randrange(10**7, 10**8)}" if address else None,
                f"Rua {rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}" if address else None,
                str(rng.randint(1, 3000)) if address else None,
                "Centro" if address else None,
                city if address else None,
                state if address else None,
                first_account + (c.id - first_client) * users if first_account is not None else None,
                c.plan.id if on_plan else None,
                c.plan.name if on_plan else None,
                "active" if active else "without_plan",
                quota,
                min(quota, int(quota * rng.random() ** 1.5 * 1.15)),  # some have used them all
                rng.choice(EXTRA_PACKS) if c.subscription is not None else 0,
                c.suspension is not None,
                c.suspension[0] if c.suspension else None,
                c.due_date,
                last_paid,
                c.payment_type if c.statuses else None,
                CODE_STATUS[c.statuses[-1]] if c.statuses else None,
                c.created,
                max(c.created, self.now - timedelta(days=rng.randint(0, 30))),
                c.created + timedelta(seconds=int(rng.random() * lifetime)) if c.inactivated else None,
            )

    def _login_rows(self, first_login: int, users: int, accountants: int) -> Iterator[tuple]:
        rng = self.rng
        login_id = first_login
        for c in self.clients:
            for k in range(users):
                name = f"{rng.choice(FIRST_FOLDED)}.{rng.choice(SURNAMES_FOLDED)}"
                at = c.created + timedelta(days=k)
                seen = self.now - timedelta(days=rng.randint(0, 90)) if rng.random() < 0.8 else None
                email = f"{name}.{c.number}.{k}@cliente{c.number}.com.br"
                yield (login_id, self.reseller_id, email, self.password_hash, 0, 0, at, at, seen)
                login_id += 1
        for j in range(accountants):
            email = f"contador{j}@contabil{j}.com.br"
            yield (login_id, self.reseller_id, email, self.password_hash, 0, 0, self.now, self.now, None)
            login_id += 1

    def _account_rows(self, first_account, first_login, users, accountants, shared) -> Iterator[tuple]:
        rng = self.rng
        account_id, login_id = first_account, first_login
        for c in self.clients:
            for k in range(users):
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
                if k == 0:  # the responsible user: everything
                    active, level, view_phones, permissions = True, 6, True, ALL_WORKSPACE_PERMISSIONS
                else:
                    active, level = rng.random() < 0.97, rng.choice(CHAT_LEVELS)
                    view_phones, permissions = rng.random() < 0.85, "[]"
                yield (account_id, self.reseller_id, login_id, c.id, CLIENT_USER, name, active, level,
                       view_phones, permissions, c.created + timedelta(days=k))  # fmt: skip
                account_id += 1
                login_id += 1
        accountant_login = first_login + len(self.clients) * users
        for i in shared:
            c = self.clients[i]
            j = (i // 20) % accountants
            yield (account_id, self.reseller_id, accountant_login + j, c.id, CLIENT_USER, f"Contador {j + 1}",
                   True, 3, True, '["reports"]', c.created)  # fmt: skip
            account_id += 1

    def _subscription_rows(self) -> Iterator[tuple]:
        for c in self.clients:
            if c.subscription is None:
                continue
            method = "manual" if c.payment_type in ("transfer", "cash") else "stripe"
            start, end, cancelled = None, c.due_date, None
            if c.subscription == "active":
                start = end - timedelta(days=30)
            elif c.subscription == "cancelled":
                start, end = c.latest_due, c.latest_due + timedelta(days=30)
                cancelled = datetime(end.year, end.month, end.day, 15)
            yield (c.subscription_id, self.reseller_id, c.id, c.plan.id, c.subscription, method, start, end,
                   c.created, cancelled)  # fmt: skip

    def _payment_rows(self) -> Iterator[tuple]:
        for c in self.clients:
            if not c.statuses:
                continue
            for k, due in enumerate(_due_dates(c.latest_due, len(c.statuses))):
                status = c.statuses[k]
                yield (
                    self.reseller_id,
                    c.id,
                    c.subscription_id,
                    f"Mensalidade {due:%m/%Y} - {c.plan.name}",
                    c.plan.price_cents,
                    c.payment_type,
                    CODE_STATUS[status],
                    due,
                    _paid_at(due, c.number, k) if status in "PR" else None,
                    datetime(due.year, due.month, due.day, 3) - timedelta(days=10),  # issued
                )

    def _suspension_rows(self) -> Iterator[tuple]:
        for c in self.clients:
            if c.suspension is not None:
                reason, at = c.suspension
                yield (self.reseller_id, c.id, "suspended", reason, at)

    def _contact_rows(self, first_contact: int, per_client: int) -> Iterator[tuple]:
        rng = self.rng
        contact_id = first_contact
        for c in self.clients:
            for _ in range(per_client):
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
                phone = f"55{rng.choice(CITIES)[2]}9{rng.randrange(10**7, 10**8)}"
                yield (contact_id, self.reseller_id, c.id, name, phone, c.created)
                contact_id += 1

    def _window_rows(self, first_contact: int, per_client: int, windows: int) -> Iterator[tuple]:
        """Past windows (all closed), spread over the client's life or its last year."""
        random_ = self.rng.random
        now, day, reseller_id = self.now, timedelta(hours=24), self.reseller_id
        contact_id = first_contact
        for c in self.clients:
            life = max(7 * 86400, min(365 * 86400, (now - c.created).total_seconds() - 86400))
            for k in range(windows):
                opened = now - timedelta(seconds=90000 + int(random_() * life))
                # messages inside the window pushed its end up to six hours further
                expires = opened + day + timedelta(seconds=int(random_() * 21600))
                source = "plan" if random_() < 0.9 else "extra"
                yield (reseller_id, c.id, contact_id + k % per_client, source, opened, expires)
            contact_id += per_client
