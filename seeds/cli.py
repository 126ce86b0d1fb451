"""``flask --app wsgi seed demo|bench``: load the demo or the benchmark data."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from core.models import ResellerHost

seed_cli = AppGroup("seed", help="Load demo or benchmark data.")


@seed_cli.command("demo")
def seed_demo_command():
    """Load the demo reseller (idempotent)."""
    from seeds.demo import DEMO_HOST, seed_demo

    if db.session.scalar(select(ResellerHost).where(ResellerHost.host == DEMO_HOST)):
        click.echo("Demo data already present; nothing to do.")
        return
    summary = seed_demo()
    db.session.commit()
    click.echo(summary)


@seed_cli.command("bench")
@click.option("--clients", default=100_000, show_default=True, type=int)
@click.option("--users-per-client", default=5, show_default=True, type=int)
@click.option("--payments-per-client", default=20, show_default=True, type=int)
@click.option("--windows-per-client", default=50, show_default=True, type=int)
@click.option(
    "--tickets", default=1_000_000, show_default=True, type=int, help="0: no tickets (desks still made)"
)
def seed_bench_command(
    clients: int, users_per_client: int, payments_per_client: int, windows_per_client: int, tickets: int
):
    """Load the benchmark data set (QUALITY.md) as fast as the database allows."""
    from seeds.bench_data import seed_bench

    click.echo(
        seed_bench(
            clients=clients,
            users_per_client=users_per_client,
            payments_per_client=payments_per_client,
            windows_per_client=windows_per_client,
            tickets=tickets,
        )
    )


@seed_cli.command("bench-tickets")
@click.option("--tickets", default=1_000_000, show_default=True, type=int)
def seed_bench_tickets_command(tickets: int):
    """Add the desks and tickets to bench data made without them."""
    from seeds.bench_data import add_bench_tickets

    click.echo(add_bench_tickets(tickets))


def init_app(app) -> None:
    app.cli.add_command(seed_cli)
