"""Every whatsapp job target (RQ paths ``whatsapp.tasks.*``)."""

from __future__ import annotations

import logging

from core import jobs
from core.extensions import db
from core.scope import scoped
from whatsapp import channels, inbox, media, message_templates, sending
from whatsapp.channels import BYPASS

SYNC_BYPASS = "whatsapp-templates"

log = logging.getLogger(__name__)


@jobs.runs_under(BYPASS)
def drain_events() -> int:
    """Queued by the webhook once its events are stored (coalesced): apply every stored
    event not applied yet, each in its client's scope."""
    return inbox.drain()


@jobs.runs_under(BYPASS)
def sweep_events() -> int:
    """Periodic: apply the events a lost job left behind."""
    return inbox.sweep()


@jobs.runs_under(BYPASS)
def sweep_media() -> int:
    """Periodic: download the received files whose job failed or was lost (last day)."""
    done = 0
    for message_id in media.pending():
        try:
            media.download(message_id)
            done += 1
        except Exception:  # noqa: BLE001 - one file must not stop the others
            log.warning("WhatsApp file of message %s could not be downloaded", message_id, exc_info=True)
    return done


def download_media(message_id: int) -> str:
    """Queued when a message with a file is received (in its client's scope): download
    and keep the file. Meta busy or unreachable: the periodic ``sweep_media`` tries again."""
    return media.download(message_id)


def send_message(message_id: int) -> str:
    """Queued when our message is stored for a client with a channel, and again after a
    try met a rate limit or a server error: one try at sending it."""
    return sending.send(message_id)


@jobs.runs_under("whatsapp-sends")
def sweep_sends() -> int:
    """Periodic: the tries that are due and whose job was lost (or never kept, without
    Redis)."""
    done = 0
    for message_id in sending.due():
        try:
            sending.send(message_id)
            done += 1
        except Exception:  # noqa: BLE001 - one bad message must not stop the others
            log.exception("WhatsApp message %s could not be tried", message_id)
    return done


@jobs.runs_under(SYNC_BYPASS)
def sync_templates() -> int:
    """Periodic: every connected channel's templates synced from its account (as the
    settings page's button does), each channel in its own transaction and its client's
    scope; one Meta refuses or cannot answer for is left as it was, the others go on.
    How many were synced."""
    synced = 0
    for reseller_id, client_id in channels.every_channel():
        with scoped(reseller_id, client_id):
            try:
                channel = channels.channel_of_client(client_id)
                if channel is not None:  # not disconnected since
                    message_templates.sync(channel, audit_unchanged=False)
                    db.session.commit()
                    synced += 1
            except Exception:  # noqa: BLE001 - one channel must not stop the others
                db.session.rollback()
                log.warning("WhatsApp templates of client %s could not be synced", client_id, exc_info=True)
    return synced
