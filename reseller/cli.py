"""Operator commands: ``flask --app wsgi resellers create`` and ``clients purge-due``
(the ``seed`` commands are in ``seeds.cli``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.extensions import db

resellers_cli = AppGroup("resellers", help="Manage resellers (platform operator).")
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
    from reseller.resellers import ResellerRejected, create_reseller

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
        from auth.passwords import password_link_token
        from core.links import reseller_url

        link = reseller_url(reseller, "auth.set_password", token=password_link_token(login))
        click.echo(f"Invitation link (valid 7 days): {link}")


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
    app.cli.add_command(clients_cli)
