"""Migrations: one head, upgrade from empty on this suite's database, models match."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _scripts() -> ScriptDirectory:
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def test_migrations_have_a_single_head():
    assert len(_scripts().get_heads()) == 1


def test_every_revision_id_fits_the_version_table():
    """``alembic_version.version_num`` is VARCHAR(32): a longer id fails only on
    PostgreSQL, at the end of the upgrade (SQLite does not check lengths)."""
    too_long = [r.revision for r in _scripts().walk_revisions() if len(r.revision) > 32]
    assert too_long == []


def _fresh_database_url(app, tmp_path) -> str:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        # Named after this run's database, so two checkouts may run their suites side by side.
        check = f"{parsed.database}_migration_check"
        conn.execute(f'DROP DATABASE IF EXISTS "{check}"')
        conn.execute(f'CREATE DATABASE "{check}"')
    return parsed.set(database=check).render_as_string(hide_password=False)


def test_upgrade_from_empty_then_models_match_and_downgrade_works(app, tmp_path):
    """Runs the real CLI in a subprocess so this suite's transaction is not involved."""
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": _fresh_database_url(app, tmp_path),
        "REDIS_URL": "",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]

    def run(*args):
        return subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    upgrade = run("upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = run("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    downgrade = run("downgrade", "base")
    assert downgrade.returncode == 0, downgrade.stderr
    again = run("upgrade")
    assert again.returncode == 0, again.stderr
