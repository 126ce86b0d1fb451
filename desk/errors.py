"""The one refusal of the desk rules."""

from __future__ import annotations


class DeskRejected(ValueError):
    """Nothing was saved; ``errors`` maps a form field to the reason (safe to show)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(e) for e in errors.values()))
        self.errors = errors
