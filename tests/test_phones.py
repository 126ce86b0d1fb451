"""tenant.phones: one normaliser, one stored format (E.164 with its "+"), for clients
and contacts alike, and the 0010 migration that converted the contacts' older format."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

from core.extensions import db
from tenant.inbox_models import Contact
from tenant.phones import format_phone, mask_phone, normalise_phone

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("11 3456-7890", "+551134567890"),
        ("+55 11 98765-4321", "+5511987654321"),
        ("5511987654321", "+5511987654321"),  # as the channel sends it, and as contacts were stored
        ("+5511987654321", "+5511987654321"),
        ("+1 415 555 2671", "+14155552671"),
        ("447911123456", "+447911123456"),  # a foreign number as a channel sends it
    ],
)
def test_one_normaliser_gives_one_format(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["", None, "123", "(01) 98765-4321", "+12", "abc", "+1234567890123456"])
def test_what_is_no_phone_number_is_none(typed):
    assert normalise_phone(typed) is None


def test_formatting_and_masking_read_the_stored_format():
    assert format_phone("+5511987654321") == "+55 11 98765-4321"
    assert format_phone("+14155552671") == "+14155552671"
    assert format_phone(None) == "" and format_phone(None, blank="—") == "—"
    assert mask_phone("+5511987654321") == "+55 11 ****-**21"
    assert mask_phone("+14155552671") == "+14 ****-**71"


def test_a_contact_is_stored_in_the_one_format_whoever_writes_it(app, tenants):
    with app.app_context():
        contact = Contact(
            reseller_id=tenants.a.id, client_id=tenants.a.client.id, name="X", phone="5511912345678"
        )
        assert contact.phone == "+5511912345678"


def _migration():
    path = ROOT / "migrations" / "versions" / "0010_one_phone_format.py"
    spec = importlib.util.spec_from_file_location("one_phone_format", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_0010_migration_converts_contact_phones_and_back(app):
    """Runs the revision's own upgrade and downgrade on this suite's database (SQLite
    or PostgreSQL), on a temporary ``contacts`` table that hides the real one."""
    migration = _migration()
    assert (migration.revision, migration.down_revision) == ("0010_one_phone_format", "0009")
    with app.app_context():
        connection = db.session.connection()
        connection.execute(text("CREATE TEMPORARY TABLE contacts (id INTEGER, phone VARCHAR(20))"))
        old = ("5511987654321", "447911123456", "+5521998877665")
        for number, phone in enumerate(old, start=1):
            insert = text("INSERT INTO contacts (id, phone) VALUES (:id, :phone)")
            connection.execute(insert, {"id": number, "phone": phone})

        def phones():
            return [row[0] for row in connection.execute(text("SELECT phone FROM contacts ORDER BY id"))]

        with Operations.context(MigrationContext.configure(connection)):
            migration.upgrade()
            assert phones() == ["+5511987654321", "+447911123456", "+5521998877665"]
            assert all(normalise_phone(p) == p for p in phones())
            migration.downgrade()
            assert phones() == ["5511987654321", "447911123456", "5521998877665"]
        connection.execute(text("DROP TABLE contacts"))
