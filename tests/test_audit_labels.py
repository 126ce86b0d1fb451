"""Every action the code audits has its label on the audit page (core.audit_labels):
a literal ``audit.record("...")`` anywhere in the packages, and the families written
with a variable part (a ticket's events, a password link's purpose)."""

from __future__ import annotations

import ast
from pathlib import Path

from auth.states import LinkPurpose
from core.audit_labels import ACTION_LABELS
from desk.states import EventType

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "auth", "tenant", "whatsapp", "billing", "desk", "intake", "portal", "reseller", "api")


def audited_actions() -> dict[str, str]:
    """Each literal action given to a ``record(...)`` call, with where it is written."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                first = node.args[0]
                if name == "record" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_literal_action_has_a_label():
    found = audited_actions()
    assert len(found) > 100  # the scan sees the code
    missing = {action: where for action, where in found.items() if action not in ACTION_LABELS}
    assert not missing


def test_every_ticket_event_and_password_link_has_a_label():
    missing = [f"ticket.{kind}" for kind in EventType if f"ticket.{kind}" not in ACTION_LABELS]
    missing += [
        f"auth.password_link_sent.{purpose}"
        for purpose in LinkPurpose
        if f"auth.password_link_sent.{purpose}" not in ACTION_LABELS
    ]
    assert not missing
