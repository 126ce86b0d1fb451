"""The benchmark data set of QUALITY.md, made fast: ``flask --app wsgi seed bench``.

One reseller (host ``bench.localhost``, owner ``owner@bench.test``) with the given
number of clients, two other resellers with a few thousand each, five users per
client (a login and an account each) and twenty payments per client. On PostgreSQL
the rows go in with COPY inside one transaction; on SQLite with executemany.
Deterministic (seeded), so two runs give the same data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select, text

from auth.models import Account, Login
from auth.services import hash_password
from billing.models import Payment, Plan
from core.extensions import db
from core.models import Reseller, ResellerHost
from reseller.demo import make_cnpj, make_cpf
from reseller.services import create_reseller
from tenant.inbox_models import Contact, SessionWindow
from tenant.models import Client, fold

BENCH_HOST = "bench.localhost"
BENCH_OWNER = "owner@bench.test"
BENCH_PASSWORD = "bench-pass-2026"  # noqa: S105 - published, like the demo password
OTHER_RESELLERS = (("Revenda Norte", "norte.bench.localhost"), ("Revenda Sul", "sul.bench.localhost"))
OTHER_CLIENTS = 3000

KINDS = ("Padaria", "Mercado", "Clínica", "Oficina", "Farmácia", "Loja", "Escritório", "Academia", "Pet Shop")
NAMES = (
    "São João",
    "Boa Vista",
    "Central",
    "Ipê",
    "Aurora",
    "Paraná",
    "Horizonte",
    "Estrela",
    "Jardim",
    "Atlântico",
)
SUFFIXES = ("Ltda", "ME", "EIRELI", "S.A.")
PLANS = (("Básico", 9900, 300), ("Profissional", 19900, 1000), ("Empresarial", 49900, 5000))
PAYMENT_TYPES = ("card", "boleto", "pix", "transfer", "cash")
PAYMENT_STATUSES = ("paid", "pending", "overdue", "failed", "refunded")


def _bulk(table, columns: list[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` into ``table``: COPY on PostgreSQL, executemany elsewhere."""
    count = 0
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch: list[dict] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == 5000:
            connection.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(insert(table), batch)
        count += len(batch)
    return count


def _client_rows(
    reseller_id: int, count: int, plans: list[Plan], rng: random.Random, offset: int
) -> Iterator:
    today = date.today()
    start = datetime(2022, 1, 1)
    span = (datetime.now() - start).total_seconds()
    for i in range(count):
        n = offset + i
        trade = f"{rng.choice(KINDS)} {rng.choice(NAMES)} {n}"
        legal = f"{trade} {rng.choice(SUFFIXES)}"
        is_cnpj = rng.random() < 0.8
        plan = rng.choice(plans) if rng.random() < 0.85 else None
        status = "active" if plan is not None else "without_plan"
        quota = plan.sessions_per_period if plan is not None else 0
        consumed = rng.randint(0, quota) if quota else 0
        extras = rng.choice((0, 0, 0, 50, 100))
        suspended = plan is not None and rng.random() < 0.08
        due = today + timedelta(days=rng.randint(-60, 60)) if plan is not None else None
        paid = (
            today - timedelta(days=rng.randint(0, 120)) if plan is not None and rng.random() < 0.9 else None
        )
        created = start + timedelta(seconds=rng.random() * span)
        yield (
            reseller_id,
            trade,
            legal,
            fold(trade),
            fold(legal),
            f"contato{n}@cliente{n}.com.br",
            f"55{rng.randint(11, 99)}9{rng.randint(10000000, 99999999)}" if rng.random() < 0.7 else None,
            "cnpj" if is_cnpj else "cpf",
            make_cnpj(n + 1) if is_cnpj else make_cpf(n + 1),
            rng.choice(("basic", "standard", "premium")),
            plan.id if plan is not None else None,
            plan.name if plan is not None else None,
            status,
            quota,
            consumed,
            extras,
            suspended,
            ("overdue" if rng.random() < 0.7 else "Solicitação do cliente") if suspended else None,
            due,
            paid,
            rng.choice(PAYMENT_TYPES) if plan is not None else None,
            rng.choice(PAYMENT_STATUSES) if plan is not None else None,
            created,
            created,
            created + timedelta(days=1) if rng.random() < 0.05 else None,
        )


CLIENT_COLUMNS = [
    "reseller_id",
    "trade_name",
    "legal_name",
    "trade_name_search",
    "legal_name_search",
    "email",
    "phone",
    "document_type",
    "document",
    "sla_level",
    "plan_id",
    "plan_name",
    "status",
    "sessions_quota",
    "sessions_consumed",
    "extra_balance",
    "suspended",
    "suspension_reason",
    "due_date",
    "last_payment_date",
    "payment_type",
    "payment_status",
    "created_at",
    "updated_at",
    "inactivated_at",
]


def _make_reseller(name: str, host: str, owner: str, password_hash: str) -> tuple[Reseller, list[Plan]]:
    reseller, login = create_reseller(name=name, host=host, owner_email=owner, require_staff_2fa=False)
    login.password_hash = password_hash
    login.verified_at = datetime.now()
    plans = [
        Plan(reseller_id=reseller.id, name=p, price_cents=c, period="monthly", sessions_per_period=s)
        for p, c, s in PLANS
    ]
    db.session.add_all(plans)
    db.session.flush()
    return reseller, plans


def _fill(
    reseller: Reseller,
    plans: list[Plan],
    clients: int,
    users: int,
    payments: int,
    offset: int,
    rng,
    windows: int = 0,
):
    counts = {}
    counts["clients"] = _bulk(
        Client.__table__, CLIENT_COLUMNS, _client_rows(reseller.id, clients, plans, rng, offset)
    )
    ids = db.session.scalars(
        select(Client.id).where(Client.reseller_id == reseller.id).order_by(Client.id)
    ).all()
    user_hash = "scrypt:32768:8:1$benchbenchbench0$" + "0" * 128  # never matches: bench users do not log in
    now = datetime.now()

    def logins() -> Iterator[tuple]:
        for cid in ids:
            for k in range(users):
                yield (reseller.id, f"user{cid}.{k}@cliente{cid}.com.br", user_hash, 0, 0, now, now)

    counts["logins"] = _bulk(
        Login.__table__,
        [
            "reseller_id",
            "email",
            "password_hash",
            "totp_last_step",
            "failed_logins",
            "created_at",
            "verified_at",
        ],
        logins(),
    )
    login_ids = db.session.scalars(
        select(Login.id).where(Login.reseller_id == reseller.id, Login.email.like("user%")).order_by(Login.id)
    ).all()

    def accounts() -> Iterator[tuple]:
        position = 0
        for cid in ids:
            for k in range(users):
                yield (
                    reseller.id,
                    login_ids[position],
                    cid,
                    "client_user",
                    f"Usuário {k + 1}",
                    True,
                    6,
                    True,
                    "[]",
                    now,
                )
                position += 1

    counts["accounts"] = _bulk(
        Account.__table__,
        [
            "reseller_id",
            "login_id",
            "client_id",
            "kind",
            "name",
            "active",
            "chat_level",
            "view_phones",
            "permissions",
            "created_at",
        ],
        accounts(),
    )
    today = date.today()

    def payment_rows() -> Iterator[tuple]:
        for cid in ids:
            for k in range(payments):
                due = today - timedelta(days=30 * (payments - k))
                status = rng.choice(PAYMENT_STATUSES)
                paid_at = datetime.combine(due, datetime.min.time()) if status == "paid" else None
                yield (
                    reseller.id,
                    cid,
                    f"Mensalidade {due:%m/%Y}",
                    rng.choice((9900, 19900, 49900)),
                    rng.choice(PAYMENT_TYPES),
                    status,
                    due,
                    paid_at,
                    now,
                )

    counts["payments"] = _bulk(
        Payment.__table__,
        [
            "reseller_id",
            "client_id",
            "description",
            "amount_cents",
            "payment_type",
            "status",
            "due_date",
            "paid_at",
            "created_at",
        ],
        payment_rows(),
    )
    if windows:
        counts.update(_windows(reseller, ids, windows, rng))
    return counts


def _windows(reseller: Reseller, ids: list[int], per_client: int, rng) -> dict[str, int]:
    """Contacts (one per ten windows) and their past 24-hour windows."""
    now = datetime.now()
    contacts_per_client = max(1, per_client // 10)

    def contact_rows() -> Iterator[tuple]:
        for cid in ids:
            for k in range(contacts_per_client):
                yield (reseller.id, cid, f"Contato {k + 1}", f"55119{cid % 10**4:04d}{k:04d}", now)

    contacts = _bulk(
        Contact.__table__, ["reseller_id", "client_id", "name", "phone", "created_at"], contact_rows()
    )
    contact_ids = db.session.scalars(
        select(Contact.id).where(Contact.reseller_id == reseller.id).order_by(Contact.id)
    ).all()

    def window_rows() -> Iterator[tuple]:
        position = 0
        for cid in ids:
            mine = contact_ids[position : position + contacts_per_client]
            position += contacts_per_client
            for k in range(per_client):
                opened = now - timedelta(hours=rng.randint(25, 24 * 365))
                yield (
                    reseller.id,
                    cid,
                    mine[k % len(mine)],
                    "plan" if rng.random() < 0.9 else "extra",
                    opened,
                    opened + timedelta(hours=24),
                )

    windows = _bulk(
        SessionWindow.__table__,
        ["reseller_id", "client_id", "contact_id", "source", "opened_at", "expires_at"],
        window_rows(),
    )
    return {"contacts": contacts, "session windows": windows}


def seed_bench(
    *,
    clients: int = 100_000,
    users_per_client: int = 5,
    payments_per_client: int = 20,
    windows_per_client: int = 50,
) -> str:
    """Create the bench resellers and their data; refuses when they already exist."""
    if db.session.scalar(select(ResellerHost).where(ResellerHost.host == BENCH_HOST)):
        return f"Bench data already present at {BENCH_HOST}: drop the database to make it again."
    started = time.perf_counter()
    rng = random.Random(2026)
    password_hash = hash_password(BENCH_PASSWORD)
    totals: dict[str, int] = {}
    reseller, plans = _make_reseller("Revenda Bench", BENCH_HOST, BENCH_OWNER, password_hash)
    main = _fill(reseller, plans, clients, users_per_client, payments_per_client, 0, rng, windows_per_client)
    for key, value in main.items():
        totals[key] = totals.get(key, 0) + value
    for n, (name, host) in enumerate(OTHER_RESELLERS, start=1):
        other, other_plans = _make_reseller(name, host, f"owner@{host}", password_hash)
        offset = clients + n * OTHER_CLIENTS
        for key, value in _fill(
            other, other_plans, OTHER_CLIENTS, users_per_client, payments_per_client, offset, rng
        ).items():
            totals[key] = totals.get(key, 0) + value
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    elapsed = time.perf_counter() - started
    parts = ", ".join(f"{v:,} {k}" for k, v in totals.items())
    return (
        f"Bench data in {elapsed:.0f} s: {parts}. "
        f"Log in at http://{BENCH_HOST}:5000 as {BENCH_OWNER} / {BENCH_PASSWORD}."
    )
