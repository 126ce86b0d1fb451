"""The live bus: events (JSON objects) fanned out on named channels to the open pages.

An event is published with :func:`publish` inside a transaction and sent only once that
transaction commits (a rollback drops it, as :mod:`core.jobs` does with jobs). With
``REDIS_URL`` it goes through Redis pub/sub, so every web process hears it; without
Redis (the demo) it stays in the process. Either way each process has one
:class:`Bus`: a reader subscribes to channels and waits on its own queue with a timeout,
and never holds anything else while it waits.

Every event gets an id, increasing per channel; the last ``BACKLOG`` events of each
channel are kept, so a reader that reconnects with the last id it saw gets what it
missed (:meth:`Bus.subscribe`), or learns that it missed too much and must reload.

Domain-free: channels and payloads are the caller's (``tenant.live`` names them).
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from redis import BlockingConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from core.extensions import db

log = logging.getLogger(__name__)

BACKLOG = 200  # events kept per channel for a reader that reconnects
BACKLOG_TTL = 3600  # seconds a quiet channel's backlog stays in Redis
PREFIX = "live:"
_PENDING_KEY = "pending_live_events"
_EXTENSION = "live_bus"


@dataclass(frozen=True)
class Event:
    id: int
    channel: str
    data: dict

    def encode(self) -> str:
        return json.dumps({"id": self.id, "channel": self.channel, "data": self.data}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str) -> Event:
        value = json.loads(raw)
        return cls(int(value["id"]), value["channel"], value["data"])


# --- publishing ---------------------------------------------------------------------------


def publish(channel: str, data: dict) -> None:
    """Send ``data`` on ``channel`` once the current transaction commits (never on rollback)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so its rollback, not only its commit, is seen
    session.info.setdefault(_PENDING_KEY, []).append((channel, data))


def pending(session: Session) -> list[tuple[str, dict]]:
    """The events waiting for the commit (tests)."""
    return list(session.info.get(_PENDING_KEY, ()))


def _after_commit(session: Session) -> None:
    events = session.info.pop(_PENDING_KEY, None)
    if not events or not has_app_context():
        return
    bus = get_bus(current_app._get_current_object())
    for channel, data in events:
        try:
            bus.send(channel, data)
        except (RedisConnectionError, RedisTimeoutError):
            # Committed already: the pages catch up on their next load or reconnection.
            log.warning("Redis unreachable: live event on %s not sent", channel, exc_info=True)


def _after_rollback(session: Session, _previous) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


# --- reading ------------------------------------------------------------------------------


class Subscription:
    """One reader's queue of events on its channels."""

    def __init__(self, bus: Bus, channels: tuple[str, ...]):
        self.bus = bus
        self.channels = channels
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def put(self, event: Event) -> None:
        self._queue.put(event)

    def get(self, timeout: float) -> Event | None:
        """The next event, or ``None`` after ``timeout`` seconds without one."""
        try:
            return self._queue.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self.bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class Bus:
    """The process's fan-out: in-process delivery and backlog (the demo, and the local
    half of :class:`RedisBus`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers: dict[str, set[Subscription]] = {}
        self._backlog: dict[str, deque[Event]] = {}
        self._ids: dict[str, itertools.count] = {}

    # what a publisher calls
    def send(self, channel: str, data: dict) -> Event:
        with self._lock:
            event = Event(next(self._ids.setdefault(channel, itertools.count(1))), channel, data)
            self._backlog.setdefault(channel, deque(maxlen=BACKLOG)).append(event)
        self.deliver(event)
        return event

    def deliver(self, event: Event) -> None:
        with self._lock:
            readers = tuple(self._readers.get(event.channel, ()))
        for reader in readers:
            reader.put(event)

    def backlog(self, channel: str) -> list[Event]:
        with self._lock:
            return list(self._backlog.get(channel, ()))

    def last_id(self, channel: str) -> int:
        """The id of the newest event sent on ``channel`` (0: none yet): where a new
        reader starts, so that it can resume from there."""
        kept = self.backlog(channel)
        return kept[-1].id if kept else 0

    # what a reader calls
    def subscribe(
        self, channel: str, *, after: int | None = None, also: tuple[str, ...] = ()
    ) -> tuple[Subscription, list[Event] | None]:
        """Start listening on ``channel`` (and on ``also``, channels whose events only
        wake the reader: no backlog is read for them). With ``after`` (the last id the
        reader saw on ``channel``), also the events it missed, oldest first, or ``None``
        when some of them are no longer kept."""
        reader = Subscription(self, (channel, *also))
        with self._lock:
            for name in reader.channels:
                self._readers.setdefault(name, set()).add(reader)
        self.listening()
        if after is None:
            return reader, []
        kept = self.backlog(channel)
        if not _continues(kept, after):
            return reader, None
        return reader, [e for e in kept if e.id > after]

    def unsubscribe(self, reader: Subscription) -> None:
        with self._lock:
            for channel in reader.channels:
                readers = self._readers.get(channel)
                if readers is not None:
                    readers.discard(reader)
                    if not readers:
                        del self._readers[channel]

    def forget(self) -> None:
        """Drop what was published in process (the suite: each test starts afresh, as
        it empties Redis; ids restart with the rolled-back rows they named)."""
        with self._lock:
            self._backlog.clear()
            self._ids.clear()

    def readers(self) -> int:
        with self._lock:
            return sum(len(r) for r in self._readers.values())

    def listening(self) -> None:
        """Make sure events from elsewhere reach this process (nothing to do in process)."""


def _continues(kept: list[Event], after: int) -> bool:
    """Whether the events kept on a channel continue from id ``after``: none of the
    events after it was dropped from the backlog, and ``after`` belongs to this life of
    the channel's counter (a larger id, or none kept at all, means the bus restarted or
    the backlog expired: the reader reloads)."""
    if not kept:
        return after == 0
    return kept[0].id <= after + 1 and after <= kept[-1].id


class RedisBus(Bus):
    """Events published on Redis (``PUBLISH live:<channel>``, their ids from a counter per
    channel, the backlog a capped list), heard by one listener thread per process that
    hands them to the local readers."""

    def __init__(self, url: str) -> None:
        super().__init__()
        # Hundreds of stream threads share a few connections: they wait for one (a
        # plain pool refuses past its size) and each holds it for one command.
        pool = BlockingConnectionPool.from_url(url, max_connections=32, timeout=10)
        self.redis = Redis(connection_pool=pool)
        self._listener: threading.Thread | None = None
        self._started = threading.Event()

    def send(self, channel: str, data: dict) -> Event:
        event = Event(int(self.redis.incr(f"{PREFIX}seq:{channel}")), channel, data)
        raw = event.encode()
        pipe = self.redis.pipeline(transaction=False)
        pipe.rpush(f"{PREFIX}backlog:{channel}", raw)
        pipe.ltrim(f"{PREFIX}backlog:{channel}", -BACKLOG, -1)
        pipe.expire(f"{PREFIX}backlog:{channel}", BACKLOG_TTL)
        pipe.expire(f"{PREFIX}seq:{channel}", BACKLOG_TTL)
        pipe.publish(f"{PREFIX}{channel}", raw)
        pipe.execute()
        return event

    def backlog(self, channel: str) -> list[Event]:
        return [Event.decode(raw) for raw in self.redis.lrange(f"{PREFIX}backlog:{channel}", 0, -1)]

    def last_id(self, channel: str) -> int:
        return int(self.redis.get(f"{PREFIX}seq:{channel}") or 0)

    def listening(self) -> None:
        with self._lock:
            if self._listener is None or not self._listener.is_alive():
                self._started.clear()
                self._listener = threading.Thread(target=self._listen, name="live-bus", daemon=True)
                self._listener.start()
        self._started.wait(5)

    def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(f"{PREFIX}*")
                # The subscription is confirmed before any reader relies on it.
                pubsub.get_message(timeout=5)
                self._started.set()
                for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self.deliver(Event.decode(message["data"]))
            except (RedisConnectionError, RedisTimeoutError):
                log.warning("live bus: Redis connection lost, listening again in 1 s")
                time.sleep(1)
            finally:
                pubsub.close()


def get_bus(app: Flask) -> Bus:
    bus = app.extensions.get(_EXTENSION)
    if bus is None:
        url = app.config.get("REDIS_URL")
        bus = RedisBus(url) if url else Bus()
        app.extensions[_EXTENSION] = bus
    return bus


def init_app(app: Flask) -> None:
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_rollback)
