"""The workspace's live stream (``GET /app/stream``, server-sent events) and the user's
choice of what announces a new message.

The stream authenticates like every workspace page (the workspace guard ran), reads what
it needs, releases the database session and then waits on the live bus
(:mod:`core.live`) holding no connection. Each event is checked against the session's
last reading and filtered for the account (:mod:`tenant.live_filter`) before it is sent;
the session is read again every ``LIVE_HEARTBEAT_SECONDS``, as soon as it ends (its
``session:<id>`` channel), when the account's visibility changes (``account:<id>``) and
when it would expire or idle out. It lasts
``LIVE_STREAM_SECONDS``, then the browser reconnects with ``Last-Event-ID`` and gets
what it missed (or a ``reset`` when too much was missed: it reloads the list).
"""

from __future__ import annotations

import json
import time

from flask import Response, abort, current_app, flash, g, redirect, request, stream_with_context, url_for
from flask_babel import gettext as _

from auth.access import current_account, is_impersonating
from auth.sessions import session_channel
from core.extensions import db
from core.live import get_bus
from core.tenancy import current_client
from core.timeutil import utcnow
from core.validation import parse_int
from tenant import live, live_filter, reads
from tenant.states import LiveKind
from tenant.views.blueprints import bp

RETRY_MS = 1000  # how soon the browser reconnects after a stream ends


def _frame(data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


def next_check_at(reader: live_filter.Reader, heartbeat: float) -> float:
    """When the stream reads its session again without being woken: the next heartbeat,
    or sooner the moment the session would expire or idle out (a "log in as" reaching
    its time closes its stream then, not at the heartbeat after)."""
    wait = heartbeat
    if reader.valid_until is not None:
        wait = min(wait, max(0.0, (reader.valid_until - utcnow()).total_seconds()) + 0.05)
    return time.monotonic() + wait


@bp.get("/stream")
def stream():
    chosen = reads.preference_of(current_account)
    hello = {"kind": LiveKind.HELLO, "sound": chosen.sound, "title_badge": chosen.title_badge}
    session_id, reseller_id, client_id = g.auth_session.id, g.reseller.id, current_client.id
    account_id = current_account.id
    after = parse_int(request.headers.get("Last-Event-ID") or request.args.get("after"), min=0)
    config = current_app.config
    lifetime, heartbeat = config["LIVE_STREAM_SECONDS"], config["LIVE_HEARTBEAT_SECONDS"]
    bus = get_bus(current_app._get_current_object())
    # Read, then release the connection: nothing is held while the stream waits.
    reader = live_filter.current_reader(session_id, reseller_id, client_id)
    if reader is None:
        abort(404)
    channel = live.channel(client_id)
    wakers = (session_channel(session_id), live.account_channel(account_id))

    def events():
        now_reader = reader
        deadline = time.monotonic() + lifetime
        # A new reader starts at the channel's newest event: its first frame carries that
        # id, so even a reconnection after a stream that sent nothing resumes from there.
        start = after if after is not None else bus.last_id(channel)
        subscription, missed = bus.subscribe(channel, after=start, also=wakers)
        with subscription:
            yield f"retry: {RETRY_MS}\n\n" + _frame(hello, start)
            last_id = start
            if missed is None:
                # Missed more than is kept (or the bus restarted): the page reloads its
                # list and goes on from the channel's newest event.
                last_id, missed = bus.last_id(channel), []
                yield _frame({"kind": LiveKind.RESET}, last_id)
            for event in missed:
                last_id = event.id
                out = live_filter.shown(now_reader, event.data)
                if out is not None:
                    yield _frame(out, event.id)
            next_check = next_check_at(now_reader, heartbeat)
            while (now := time.monotonic()) < deadline:
                event = subscription.get(timeout=max(0.0, min(next_check, deadline) - now))
                if event is not None and event.channel == channel and event.id <= last_id:
                    continue  # already sent from the backlog
                if event is None or event.channel != channel or now_reader.lapsed():
                    # A heartbeat, the session ended or the account changed: read it again.
                    now_reader = live_filter.current_reader(session_id, reseller_id, client_id)
                    if now_reader is None:
                        yield _frame({"kind": LiveKind.END})
                        return
                    next_check = next_check_at(now_reader, heartbeat)
                if event is None:
                    yield ": heartbeat\n\n"
                if event is None or event.channel != channel:
                    continue
                last_id = event.id
                out = live_filter.shown(now_reader, event.data)
                if out is not None:
                    yield _frame(out, event.id)

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@bp.post("/inbox/notifications")
def notifications():
    """The user's choice of a sound and/or a count in the title on new messages."""
    if is_impersonating():
        # The user's own setting, like its password: not for staff acting as it.
        flash(_("Staff acting as a user cannot change the user's notifications."), "error")
        return redirect(url_for("tenant.home")), 303
    reads.set_preference(
        current_account,
        sound=request.form.get("sound") == "1",
        title_badge=request.form.get("title_badge") == "1",
    )
    db.session.commit()
    flash(_("Notifications saved."), "success")
    return redirect(url_for("tenant.home")), 303
