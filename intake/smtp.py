"""The SMTP listener for self-hosting (``flask --app wsgi mail-intake``, aiosmtpd): each
message received is stored through :func:`intake.inbox.store`, the webhook's function,
before the client hears ``250``. A recipient the intake cannot route (no desk's address,
no valid reply address, no reseller's domain with a default desk) is refused at RCPT with
``550``, so the listener is no open sink for strangers' mail. A message over 30 MB is
refused with ``552`` and a sentence its sender's bounce will show them.

aiosmtpd runs one event loop in a thread; storing (storage and database) blocks, so it
runs in a worker thread of that loop, inside an application context of its own.
"""

from __future__ import annotations

import asyncio
import io
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from core.scope import bypass
from intake import inbox, routing
from intake.inbox import BYPASS
from intake.states import ReceivedVia

log = logging.getLogger(__name__)

TOO_BIG = (
    "552 5.3.4 Message too big: this support address accepts messages up to 30 MB. "
    "Send large files as a download link, or split them over several messages."
)
# aiosmtpd's own wording for the two ways a message is found too big (a SIZE declared
# in MAIL FROM, or data that goes past the limit).
_AIOSMTPD_TOO_BIG = ("552 Error: message size exceeds", "552 Error: Too much mail data")
TEMPORARY_FAILURE = "451 4.3.0 The message could not be stored now; please try again later."
NO_SUCH_RECIPIENT = "550 5.1.1 No such recipient here: check the support address you wrote to."


class IntakeSMTP(SMTP):
    """aiosmtpd's server, with its size refusals in words a sender understands."""

    async def push(self, status: str) -> None:
        if status.startswith(_AIOSMTPD_TOO_BIG):
            status = TOO_BIG
        await super().push(status)


class IntakeHandler:
    """Stores each message (``handle_DATA``), in ``app``'s context."""

    def __init__(self, app) -> None:
        self.app = app

    def _store(self, raw: bytes, sender: str, recipients: list[str]) -> int:
        with self.app.app_context():
            return inbox.store(
                io.BytesIO(raw), via=ReceivedVia.SMTP, envelope_sender=sender, envelope_recipients=recipients
            )

    def _receives(self, address: str) -> bool:
        with self.app.app_context(), bypass(BYPASS):
            return routing.receives(address)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        """Only a recipient the intake can route is accepted (550 for any other)."""
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(None, self._receives, address)
        except Exception:
            log.exception("a recipient could not be checked")
            return TEMPORARY_FAILURE
        if not known:
            return NO_SUCH_RECIPIENT
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            row_id = await loop.run_in_executor(
                None, self._store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except inbox.TooLarge:
            return TOO_BIG
        except Exception:
            log.exception("an inbound message could not be stored")
            return TEMPORARY_FAILURE
        return f"250 2.0.0 Message accepted (#{row_id})"


class IntakeController(Controller):
    def factory(self):
        return IntakeSMTP(self.handler, **self.SMTP_kwargs)


def listener(app, host: str, port: int) -> IntakeController:
    """A listener on ``host:port`` (not started: ``.start()`` / ``.stop()``)."""
    return IntakeController(
        IntakeHandler(app),
        hostname=host,
        port=port,
        data_size_limit=inbox.MAX_MESSAGE_BYTES,
    )
