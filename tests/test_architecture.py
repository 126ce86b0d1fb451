"""The shape of the code: dependency direction, nothing done at import time."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_domain_packages_depend_one_way():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "23 kept, 0 broken" in result.stdout


def test_every_package_has_its_layers_contract():
    # A new package takes its place in the package order and lists its modules in a
    # layers contract of its own (exhaustive: every module has a layer).
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    packages = set(config["root_packages"])
    contracts = [c for c in config["contracts"] if c["type"] == "layers"]
    package_order = [c for c in contracts if not c.get("containers")]
    assert [set(c["layers"]) for c in package_order] == [packages]
    inside = {
        container: contract.get("exhaustive", False)
        for contract in contracts
        for container in contract.get("containers", [])
    }
    assert inside == dict.fromkeys(packages, True)


def test_importing_the_packages_connects_to_nothing():
    # A closed database port and Redis URL: importing must still succeed, silently.
    code = (
        "import core, auth, auth.views, tenant.views, billing.summary, billing.suspension, "
        "billing.invoices, billing.views, portal.views, reseller.views, "
        "reseller.tasks, core.jobs, core.mail, desk.sla, whatsapp.views, whatsapp.tasks; print('ok')"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "APP_ENV": "demo",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert result.stderr == ""
