"""The floor for webhook intake: a bare Flask handler that only verifies the Stripe
signature and inserts the inbox row (no tenancy, no session, no queue)."""

import os

import psycopg
import stripe
from flask import Flask, request

app = Flask(__name__)
SECRET = os.environ["STRIPE_WEBHOOK_SECRET"]
DSN = os.environ["FLOOR_DATABASE_URL"]
_conn = None


def conn():
    global _conn
    if _conn is None:
        _conn = psycopg.connect(DSN, autocommit=True)
    return _conn


@app.post("/webhooks/stripe")
def receive():
    raw = request.get_data()
    try:
        event = stripe.Webhook.construct_event(raw, request.headers.get("Stripe-Signature", ""), SECRET, 300)
    except (ValueError, stripe.SignatureVerificationError):
        return "bad", 400
    conn().execute(
        "INSERT INTO stripe_events (event_id, type, object_id, created, payload, received_at, attempts) "
        "VALUES (%s, %s, %s, %s, %s, now(), 0) ON CONFLICT (event_id) DO NOTHING",
        (event["id"], event["type"], event["data"]["object"]["id"], event["created"], raw.decode()),
    )
    return {"received": True}
