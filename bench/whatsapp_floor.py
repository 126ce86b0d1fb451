"""The floor for WhatsApp intake: a bare Flask handler that only checks the
``X-Hub-Signature-256`` HMAC of the raw body (the secret from the environment, not a
channel's) and inserts the raw body into ``whatsapp_events`` (no JSON, no channel lookup,
no unsealing, no tenancy, no session, no queue)."""

import hashlib
import hmac
import os

import psycopg
from flask import Flask, request

app = Flask(__name__)
SECRET = os.environ["FLOOR_WA_SECRET"].encode()
DSN = os.environ["FLOOR_DATABASE_URL"]
RESELLER_ID, CLIENT_ID = int(os.environ["FLOOR_RESELLER_ID"]), int(os.environ["FLOOR_CLIENT_ID"])
_conn = None


def conn():
    global _conn
    if _conn is None:
        _conn = psycopg.connect(DSN, autocommit=True)
    return _conn


@app.post("/webhooks/whatsapp")
def receive():
    raw = request.get_data()
    expected = "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return "bad", 401
    conn().execute(
        "INSERT INTO whatsapp_events "
        "(reseller_id, client_id, phone_number_id, payload, received_at, attempts) "
        "VALUES (%s, %s, 'floor', %s, now(), 0)",
        (RESELLER_ID, CLIENT_ID, raw.decode()),
    )
    return {"received": True}
