"""How a form's change ends for the person who sent it: committed and told so, or
refused, rolled back (nothing of it kept) and told why, its typed values put back on the
page the refusal redirects to (``resubmit.keep_typed``: a reply's text is not lost)."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from core.extensions import db
from core.resubmit import keep_typed


def commit_or_refuse(change: Callable[[], object], refused: type[Exception], success: str | None = None):
    """Run ``change()``. If it raises ``refused`` (an error with a ``message``), roll back
    and flash the message; else commit and flash ``success`` (when given). Returns what
    ``change`` returned, or the refusal."""
    try:
        outcome = change()
    except refused as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
        keep_typed()
        return refusal
    db.session.commit()
    if success:
        flash(success, "success")
    return outcome
