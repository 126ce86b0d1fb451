"""``flask --app wsgi billing ...``: the Stripe inbox from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import AppGroup

billing_cli = AppGroup("billing", help="Billing: the Stripe webhook inbox.")


@billing_cli.command("replay")
def replay_command():
    """Apply every inbox event not applied yet (after an outage)."""
    from billing.stripe.inbox import sweep

    click.echo(f"Applied {sweep(older_than=timedelta(0), max_attempts=None)} pending Stripe event(s).")


@billing_cli.command("sweep-deadlines")
def sweep_deadlines_command():
    """Roll periods over, mark overdue invoices and suspend late payers now."""
    from billing.tasks import sweep_deadlines

    click.echo(sweep_deadlines())


@billing_cli.command("reconcile")
@click.option("--days", default=3, show_default=True, type=int, help="How far back to ask Stripe.")
def reconcile_command(days: int):
    """Fetch Stripe's list of events, store the ones the inbox lacks, then apply them."""
    import json

    from billing.stripe.gateway import stripe_client
    from billing.stripe.handlers import HANDLERS
    from billing.stripe.inbox import sweep
    from billing.stripe.intake import store, well_formed

    since = int((datetime.now(UTC) - timedelta(days=days)).timestamp())
    client = stripe_client()
    added = 0
    for event in client.v1.events.list(params={"created": {"gte": since}, "limit": 100}).auto_paging_iter():
        data = event.to_dict()
        if event.type not in HANDLERS or not well_formed(data):
            continue
        payload = json.dumps(data)
        before = _known(event.id)
        store(data, payload)
        added += not before
    click.echo(f"{added} event(s) were missing from the inbox; applied {sweep(older_than=timedelta(0))}.")


def _known(event_id: str) -> bool:
    from sqlalchemy import select

    from billing.models import StripeEvent
    from core.extensions import db

    return db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event_id)) is not None


def init_app(app) -> None:
    app.cli.add_command(billing_cli)
