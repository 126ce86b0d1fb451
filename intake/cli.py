"""``flask --app wsgi mail-intake``: the SMTP listener (``intake.smtp``), until stopped."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("mail-intake")
@click.option("--host", default=None, help="Address to listen on (default: MAIL_INTAKE_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: MAIL_INTAKE_PORT).")
@with_appcontext
def mail_intake_command(host: str | None, port: int | None):
    """Receive e-mail by SMTP and store each message for processing (up to 30 MB)."""
    from intake.smtp import listener

    app = current_app._get_current_object()
    host = host or app.config["MAIL_INTAKE_HOST"]
    port = port or app.config["MAIL_INTAKE_PORT"]
    controller = listener(app, host, port)
    stop = threading.Event()
    for name in (signal.SIGTERM, signal.SIGINT):
        signal.signal(name, lambda *_: stop.set())
    controller.start()
    click.echo(f"Receiving mail on {host}:{port} (Ctrl+C to stop)")
    try:
        stop.wait()
    finally:
        controller.stop()


def init_app(app) -> None:
    app.cli.add_command(mail_intake_command)
