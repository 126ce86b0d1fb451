"""The WhatsApp benchmarks' own database (``BENCH_WA_DATABASE_URL``, never the shared
``revenda_bench``): created and migrated when missing, then one reseller, one client with
its WhatsApp channel (app secret sealed under ``KEY``), ten chat users (the first at
level 6, with a session) and two teams. ``add_conversations`` gives the client
``BENCH_WA_CONVERSATIONS`` (100,000) contacts, a conversation and a message each, written
by PostgreSQL itself (``INSERT ... SELECT`` over ``generate_series``), then ANALYZE."""

from __future__ import annotations

import os
from datetime import timedelta

import psycopg
from common import sqlalchemy_url
from flask_migrate import upgrade
from sqlalchemy import select

from auth.models import Account, AuthSession
from auth.sessions import SESSION_KEY, hash_token
from core import create_app
from core.extensions import db
from core.scope import bypass
from core.timeutil import utcnow
from reseller.resellers import create_reseller
from seeds.documents import make_cnpj
from tenant.inbox_models import Team, TeamMember
from tenant.models import Client
from tests.factories import Factory
from whatsapp import channels

DATABASE_URL = os.environ.get(
    "BENCH_WA_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench_wa"
)
REDIS_URL = os.environ.get("BENCH_WA_REDIS_URL", "redis://127.0.0.1:6379/10")
CONVERSATIONS = int(os.environ.get("BENCH_WA_CONVERSATIONS", "100000"))
HOST = "wa.bench.test"
SECRET_KEY = "bench-wa-secret-key"
KEY = "YmVuY2gtd2hhdHNhcHAta2V5LTMyLWJ5dGVzLW9rIT0="  # a Fernet key (32 bytes, base64)
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "bench-wa-app-secret"
AGENTS = 10
SESSION_TOKEN = "bench-wa-session-0"  # noqa: S105 - the bench user's session, bench database only

ENV = {
    "APP_ENV": "testing",
    "DATABASE_URL": DATABASE_URL,
    "SECRET_KEY": SECRET_KEY,
    "WHATSAPP_ENCRYPTION_KEY": KEY,
    "DEFAULT_RESELLER_HOST": HOST,
}


def ensure_database() -> None:
    admin, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    admin, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app():
    """The app on the WhatsApp bench database, migrated and seeded (minimal)."""
    ensure_database()
    os.environ.update(ENV)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(DATABASE_URL),
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
            "WHATSAPP_ENCRYPTION_KEY": KEY,
        }
    )
    with app.app_context():
        upgrade()
        with bypass("script"):
            present = db.session.scalar(select(Client.id).where(Client.trade_name == "Zap Bench"))
    if present is None:
        seed(app)
    return app


def seed(app) -> None:
    with app.test_request_context("/", base_url=f"http://{HOST}"), bypass("script"):
        reseller, _login = create_reseller(
            name="WA Bench", host=HOST, owner_email="owner@wa.bench.test", require_staff_2fa=False
        )
        client = Client(
            reseller_id=reseller.id,
            trade_name="Zap Bench",
            legal_name="Zap Bench Ltda",
            email="contato@zap.bench.test",
            document_type="cnpj",
            document=make_cnpj(17),
            status="active",
            sessions_quota=1_000_000,
        )
        db.session.add(client)
        db.session.flush()
        channels.save(
            client,
            channels.ChannelInput(
                phone_number_id=PHONE_NUMBER_ID,
                business_account_id="102290129340398",
                verify_token="bench-wa-verify-token",  # noqa: S106 - bench database only
                access_token="bench-wa-access-token",  # noqa: S106
                app_secret=APP_SECRET,
            ),
        )
        db.session.commit()
        reseller_id, client_id = reseller.id, client.id
    factory = Factory(app, password="bench-pass-2026")
    agents = [factory.user(client_id, email=f"agent{n}@zap.bench.test").id for n in range(AGENTS)]
    with app.app_context(), bypass("script"):
        accounts = db.session.scalars(select(Account).where(Account.id.in_(agents))).all()
        for account in accounts:
            account.chat_level = 6 if account.id == agents[0] else 1 + account.id % 6
        teams = [Team(reseller_id=reseller_id, client_id=client_id, name=f"Time {n}") for n in (1, 2)]
        db.session.add_all(teams)
        db.session.flush()
        for n, agent in enumerate(agents):
            team = teams[n % 2]
            db.session.add(
                TeamMember(reseller_id=reseller_id, client_id=client_id, team_id=team.id, account_id=agent)
            )
        login_id = next(a.login_id for a in accounts if a.id == agents[0])
        db.session.add(
            AuthSession(
                token_hash=hash_token(SESSION_TOKEN),
                reseller_id=reseller_id,
                login_id=login_id,
                account_id=agents[0],
                expires_at=utcnow() + timedelta(days=30),
                last_seen_at=utcnow(),
            )
        )
        db.session.commit()


def ids() -> dict:
    """The bench's reseller, client, measured user (level 6), agents and teams."""
    with psycopg.connect(DATABASE_URL) as conn:
        reseller_id, client_id = conn.execute(
            "SELECT reseller_id, id FROM clients WHERE trade_name = 'Zap Bench'"
        ).fetchone()
        agents = [
            r[0]
            for r in conn.execute("SELECT id FROM accounts WHERE client_id = %s ORDER BY id", (client_id,))
        ]
        teams = [
            r[0] for r in conn.execute("SELECT id FROM teams WHERE client_id = %s ORDER BY id", (client_id,))
        ]
        user = conn.execute(
            "SELECT account_id FROM auth_sessions WHERE token_hash = %s", (hash_token(SESSION_TOKEN),)
        ).fetchone()[0]
    return {
        "reseller_id": reseller_id,
        "client_id": client_id,
        "user": user,
        "agents": agents,
        "teams": teams,
    }


def session_cookie(app) -> str:
    return app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: SESSION_TOKEN})


# Every conversation has a contact and one inbound message; 30 % are open; 30 % wait in
# the queue (no assignee), the rest are spread over the ten agents (the measured user has
# about 7 %); half belong to a team; the user has read every other one of its own.
_LOAD = """
INSERT INTO contacts (reseller_id, client_id, name, phone, created_at)
SELECT %(r)s, %(c)s, 'Contato ' || g, '+55218' || lpad(g::text, 8, '0'), now() - g * interval '40 seconds'
FROM generate_series(1, %(n)s) AS g;

INSERT INTO conversations (reseller_id, client_id, contact_id, assigned_account_id, team_id, status,
                           created_at, last_message_at)
SELECT %(r)s, %(c)s, k.id,
       CASE WHEN k.id %% 10 < 3 THEN NULL ELSE (%(agents)s::int[])[1 + (k.id / 10) %% %(a)s] END,
       CASE WHEN k.id %% 2 = 0 THEN (%(teams)s::int[])[1 + k.id %% 4 / 2] END,
       CASE WHEN k.id %% 10 IN (1, 4, 7) THEN 'open' ELSE 'closed' END,
       k.created_at, k.created_at + interval '1 minute'
FROM contacts AS k WHERE k.client_id = %(c)s;

INSERT INTO messages (reseller_id, client_id, conversation_id, direction, body, external_id,
                      is_template, created_at, kind)
SELECT %(r)s, %(c)s, v.id, 'in', 'Olá, preciso de ajuda com o pedido ' || v.id,
       'wamid.bench.' || v.id, false, v.last_message_at, 'text'
FROM conversations AS v WHERE v.client_id = %(c)s;

UPDATE conversations AS v SET last_message_id = m.id, last_inbound_message_id = m.id
FROM messages AS m WHERE m.conversation_id = v.id AND v.client_id = %(c)s;

INSERT INTO conversation_reads (reseller_id, client_id, account_id, conversation_id,
                                last_read_message_id, read_at)
SELECT %(r)s, %(c)s, %(u)s, v.id, v.last_message_id, now()
FROM conversations AS v WHERE v.client_id = %(c)s AND v.assigned_account_id = %(u)s AND v.id %% 2 = 0;
"""


def add_conversations() -> int:
    """The client's conversations, made once (``CONVERSATIONS`` of them); their count."""
    known = ids()
    with psycopg.connect(DATABASE_URL) as conn:
        count = conn.execute(
            "SELECT count(*) FROM contacts WHERE client_id = %s AND name LIKE 'Contato %%'",
            (known["client_id"],),
        )
        count = count.fetchone()[0]
        if count:
            return count
        params = {
            "r": known["reseller_id"],
            "c": known["client_id"],
            "u": known["user"],
            "n": CONVERSATIONS,
            "a": len(known["agents"]),
            "agents": known["agents"],
            "teams": known["teams"],
        }
        for statement in _LOAD.split(";\n"):
            if statement.strip():
                conn.execute(statement, params)
        conn.commit()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE contacts, conversations, messages, conversation_reads")
    return CONVERSATIONS
