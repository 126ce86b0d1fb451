"""The kinds core stores. Bare status strings belong here and nowhere else."""

from __future__ import annotations

from enum import StrEnum


class ActorKind(StrEnum):
    """``audit_events.actor_kind``: who really acted (staff acting as a user: staff)."""

    STAFF = "staff"
    CLIENT_USER = "client_user"
    API_CLIENT = "api_client"
    SYSTEM = "system"
    # Nobody signed in yet: a failed login, a wrong code, a throttled attempt.
    ANONYMOUS = "anonymous"
