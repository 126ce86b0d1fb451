"""E-mail intake (issue 14), two figures against their targets:

1. Parsing, one core: messages/s of what processing does before the database for an
   80 KB message with an attachment (parse with ``email``/``policy.default``, machine
   check, history trimmed, HTML sanitised and cut) against the floor, the standard
   library's parse and decode alone. Target: ≥ 300 messages/s.
2. End to end, 2 cores: messages stored at a steady rate (as the SMTP listener or the
   webhook stores them) while two RQ workers (``flask --app wsgi worker``) process them
   into tickets on the demo's desk; throughput and the p95 from storing to the ticket
   being visible (``processed_at``). Targets: ≥ 50 messages/s, p95 ≤ 5 s.

PostgreSQL ``revenda_bench_mail`` (made and seeded with the demo when missing) and Redis
db 11; run from the project root: ``.venv/bin/python bench/bench_mail.py``.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import psycopg
from common import ROOT, machine, save, sqlalchemy_url
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import func, select

from auth.identity import add_client_user, find_login
from core import create_app
from core.extensions import db
from core.scope import bypass
from desk.models import Desk
from intake import inbox
from intake.headers import is_automatic
from intake.models import InboundMessage
from intake.parsing import parse
from intake.processing import _bodies
from intake.states import ReceivedVia
from seeds.demo import seed_demo
from tenant.models import Client

DATABASE_URL = os.environ.get(
    "BENCH_MAIL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/revenda_bench_mail"
)
REDIS_URL = os.environ.get("BENCH_MAIL_REDIS_URL", "redis://127.0.0.1:6379/11")
PARSE_MESSAGES = int(os.environ.get("BENCH_MAIL_PARSE", "1500"))
RATE = float(os.environ.get("BENCH_MAIL_RATE", "60"))  # messages stored per second
SECONDS = float(os.environ.get("BENCH_MAIL_SECONDS", "20"))
SENDERS = 200  # under the limit of 50 a minute each
DESK_ADDRESS = "suporte@demo.test"
TARGET_PARSE = 300.0
TARGET_RATE = 50.0
TARGET_P95 = 5.0

PARAGRAPH = (
    "Bom dia, a impressora fiscal do caixa 3 parou de emitir cupons depois da atualização de ontem. "
    "Já reiniciamos o equipamento e o computador, mas o erro continua aparecendo na tela. "
)


def message(n: int, sender: str) -> bytes:
    """About 80 KB: a text and an HTML body with a quoted history, and a 48 KB PDF."""
    mail = EmailMessage()
    mail["From"] = f"Cliente {n} <{sender}>"
    mail["To"] = f"Suporte <{DESK_ADDRESS}>"
    mail["Subject"] = f"Impressora parada no caixa {n}"
    mail["Message-ID"] = f"<bench-{n}-{time.time_ns()}@cliente.bench>"
    history = "\n".join(f"> {PARAGRAPH}" for _ in range(20))
    text = (
        f"{PARAGRAPH * 4}\n\nAtenciosamente,\nCliente\n\nEm seg., 30 de nov., Suporte escreveu:\n{history}\n"
    )
    mail.set_content(text)
    quoted = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(20))
    html = (
        f"<div dir='ltr'><p>{PARAGRAPH * 4}</p><p>Atenciosamente,<br>Cliente</p></div>"
        "<div class='gmail_quote'><div>Em seg., 30 de nov., Suporte escreveu:</div>"
        f"<blockquote>{quoted}</blockquote></div>"
    )
    mail.add_alternative(html, subtype="html")
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + os.urandom(48 * 1024)
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename="erro.pdf")
    return mail.as_bytes()


def floor(raw: bytes) -> None:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    for part in (parsed.get_body(("plain",)), parsed.get_body(("html",))):
        part.get_content()
    for part in parsed.iter_attachments():
        part.get_payload(decode=True)


def ours(raw: bytes) -> None:
    parsed = parse(raw)
    is_automatic(parsed.email, ("mail.bench",))
    _bodies(parsed)


def parse_rates(app) -> dict:
    raws = [message(n, "cliente@cliente.bench") for n in range(50)]
    size = statistics.mean(len(r) for r in raws)
    rates = {}
    with app.app_context():
        for name, fn in (("floor", floor), ("ours", ours), ("floor_again", floor), ("ours_again", ours)):
            started = time.perf_counter()
            for n in range(PARSE_MESSAGES):
                fn(raws[n % len(raws)])
            rates[name] = PARSE_MESSAGES / (time.perf_counter() - started)
    ours_rate = statistics.mean([rates["ours"], rates["ours_again"]])
    floor_rate = statistics.mean([rates["floor"], rates["floor_again"]])
    return {
        "message_kb": round(size / 1024, 1),
        "ours_per_s": round(ours_rate, 1),
        "floor_per_s": round(floor_rate, 1),
        "ratio_to_floor": round(floor_rate / ours_rate, 2),
        "target_per_s": TARGET_PARSE,
        "ok": ours_rate >= TARGET_PARSE,
    }


def ensure_database() -> None:
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def prepared_app(storage: str):
    os.environ["APP_ENV"] = "demo"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(DATABASE_URL),
            "REDIS_URL": REDIS_URL,
            "STORAGE_DIR": storage,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        with bypass("script"):
            desk = db.session.scalar(select(Desk).where(Desk.intake_email == DESK_ADDRESS))
            if desk is None:
                print(seed_demo(), flush=True)
                desk = db.session.scalar(select(Desk).where(Desk.intake_email == DESK_ADDRESS))
            client = db.session.scalar(
                select(Client).where(Client.reseller_id == desk.reseller_id).order_by(Client.id).limit(1)
            )
            for n in range(SENDERS):  # the senders: users of a client the desk serves
                email = f"pessoa{n}@cliente.bench"
                if find_login(desk.reseller_id, email) is None:
                    add_client_user(
                        reseller_id=desk.reseller_id, client_id=client.id, email=email, name=f"P{n}"
                    )
            db.session.commit()
    return app


WORKER_ARGS = os.environ.get("BENCH_MAIL_WORKER_ARGS", "--no-fork").split()


def workers(storage: str, count: int = 2) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "APP_ENV": "demo",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "STORAGE_DIR": storage,
        "OUTBOX_DIR": str(Path(storage) / "outbox"),
    }
    flask = str(Path(sys.executable).parent / "flask")
    return [
        subprocess.Popen(
            [flask, "--app", "wsgi", "worker", *WORKER_ARGS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def end_to_end(app) -> dict:
    total = int(RATE * SECONDS)
    raws = [message(n, f"pessoa{n % SENDERS}@cliente.bench") for n in range(total)]
    with app.app_context(), bypass("script"):
        first_id = (db.session.scalar(select(func.max(InboundMessage.id))) or 0) + 1
    started = time.perf_counter()
    for n, raw in enumerate(raws):  # a steady arrival rate, as from the outside
        wait = started + n / RATE - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        with app.app_context():
            inbox.store(io.BytesIO(raw), via=ReceivedVia.SMTP, envelope_recipients=[DESK_ADDRESS])
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        with app.app_context(), bypass("script"):
            pending = db.session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.id >= first_id, InboundMessage.processed_at.is_(None))
            )
        if not pending:
            break
        time.sleep(0.2)
    with app.app_context(), bypass("script"):
        rows = db.session.execute(
            select(InboundMessage.received_at, InboundMessage.processed_at, InboundMessage.outcome).where(
                InboundMessage.id >= first_id
            )
        ).all()
    done = [r for r in rows if r.processed_at is not None]
    latencies = sorted((r.processed_at - r.received_at).total_seconds() for r in done)
    span = (max(r.processed_at for r in done) - min(r.received_at for r in done)).total_seconds()
    outcomes: dict[str, int] = {}
    for r in rows:
        outcomes[r.outcome or "pending"] = outcomes.get(r.outcome or "pending", 0) + 1
    rate = len(done) / span if span else 0.0
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else None
    return {
        "stored": len(rows),
        "arrival_per_s": RATE,
        "outcomes": outcomes,
        "processed_per_s": round(rate, 1),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(p95, 3) if p95 is not None else None,
        "targets": {"per_s": TARGET_RATE, "p95_s": TARGET_P95},
        "ok": rate >= TARGET_RATE and p95 is not None and p95 <= TARGET_P95 and len(done) == total,
    }


def main() -> int:
    ensure_database()
    Redis.from_url(REDIS_URL).flushdb()
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as storage:
        app = prepared_app(storage)
        parsing = parse_rates(app)
        print("parsing:", parsing, flush=True)
        running = workers(storage)
        try:
            time.sleep(3)  # the workers load the app
            e2e = end_to_end(app)
        finally:
            for worker in running:
                worker.terminate()
            for worker in running:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        print("end to end:", e2e, flush=True)
    result = {"machine": machine(), "parsing": parsing, "end_to_end": e2e}
    print("saved", save("mail", result))
    return 0 if parsing["ok"] and e2e["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
