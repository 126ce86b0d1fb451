"""Operator commands: ``flask --app wsgi resellers create``, ``seed demo|bench`` and
``clients purge-due``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.extensions import db
from core.models import ResellerHost

resellers_cli = AppGroup("resellers", help="Manage resellers (platform operator).")
seed_cli = AppGroup("seed", help="Load demo or benchmark data.")
clients_cli = AppGroup("clients", help="Deleted clients' purges (platform operator).")


@resellers_cli.command("create")
@click.option("--name", required=True, help="The reseller's brand name.")
@click.option("--host", required=True, help="Host name that serves it (custom domain or subdomain).")
@click.option("--owner-email", required=True, help="E-mail of the first staff owner.")
@click.option("--owner-password", default=None, help="Initial password; omit to print an invitation link.")
@click.option(
    "--canonical-url",
    default=None,
    help="Where e-mailed links point (https://host[:port]); default: the host over HTTPS in production.",
)
def create_reseller_command(
    name: str, host: str, owner_email: str, owner_password: str | None, canonical_url: str | None
):
    """Create a reseller and its first owner."""
    from reseller.services import ResellerRejected, create_reseller

    try:
        reseller, login = create_reseller(
            name=name,
            host=host,
            owner_email=owner_email,
            owner_password=owner_password,
            canonical_url=canonical_url,
        )
    except ResellerRejected as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created reseller {reseller.id} ({reseller.name}) at {host}; owner {login.email}.")
    if not owner_password:
        from auth.services import password_link_token
        from core.links import reseller_url

        link = reseller_url(reseller, "auth.set_password", token=password_link_token(login))
        click.echo(f"Invitation link (valid 7 days): {link}")


@seed_cli.command("demo")
def seed_demo_command():
    """Load the demo reseller (idempotent)."""
    from reseller.demo import DEMO_HOST, seed_demo

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
def seed_bench_command(
    clients: int, users_per_client: int, payments_per_client: int, windows_per_client: int
):
    """Load the benchmark data set (QUALITY.md) as fast as the database allows."""
    from reseller.bench_data import seed_bench

    click.echo(
        seed_bench(
            clients=clients,
            users_per_client=users_per_client,
            payments_per_client=payments_per_client,
            windows_per_client=windows_per_client,
        )
    )


@clients_cli.command("purge-due")
@click.option("--here", is_flag=True, help="Purge in this process instead of queueing the jobs.")
def purge_due(here: bool) -> None:
    """Start the purge of every deleted client whose deadline passed and that no live run
    holds (what the periodic sweep does), e.g. after an outage."""
    from reseller import purge, tasks

    if not here:
        click.echo(f"{tasks.sweep_job()} purge(s) queued")
        return
    for due in purge.due_deletions():
        report = purge.purge_client(due.id)
        if report is None:
            click.echo(f"deletion {due.id}: taken by another run")
        else:
            click.echo(
                f"deletion {due.id}: {report.rows} rows in {report.batches} batches, {report.seconds:.1f} s"
            )


def init_app(app) -> None:
    app.cli.add_command(resellers_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(clients_cli)
