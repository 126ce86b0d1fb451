"""Every job target named in the code resolves to a callable, and so do the paths of jobs
that may already sit in Redis from the previous release."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from core import jobs, scope

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "auth", "tenant", "whatsapp", "billing", "desk", "intake", "portal", "reseller", "seeds")
ENQUEUERS = {"enqueue", "enqueue_committed", "enqueue_in", "periodic"}

# Job paths as the previous release enqueued them: a job queued before an upgrade must
# still find its function afterwards (moved functions keep a one-line alias).
PREVIOUS_RELEASE_PATHS = (
    "core.jobs.execute",
    "core.jobs.run_periodic",
    "core.mail.deliver",
    "billing.webhooks.drain",
    "billing.webhooks.sweep_job",
    "billing.deadlines.sweep_deadlines",
    "billing.consistency.check_summaries",
    "reseller.deletion.sweep_job",
    "reseller.deletion.purge_job",
    "reseller.tasks.run_client_export",
    "desk.sla_sweep.sweep_job",
)


def resolve(path: str):
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def named_job_targets() -> dict[str, str]:
    """Every string handed to an enqueuing call (first argument or ``func=``), or given as
    ``func=`` to a job spec, with where it was found."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                candidates = [kw.value for kw in node.keywords if kw.arg == "func"]
                if name in ENQUEUERS and node.args:
                    candidates.append(node.args[0])
                for candidate in candidates:
                    value = _string(candidate)
                    if value and value.split(".")[0] in PACKAGES:
                        found[value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_the_scan_finds_the_jobs_we_know_of():
    targets = named_job_targets()
    assert "core.mail.deliver" in targets
    assert len(targets) >= 6


@pytest.mark.parametrize("path", sorted(named_job_targets()))
def test_every_enqueued_job_target_is_a_callable(path):
    assert callable(resolve(path)), f"{path} (named at {named_job_targets()[path]})"


def test_every_periodic_job_target_is_a_callable(app):
    assert jobs.PERIODIC, "the app registers its sweeps"
    for path in jobs.PERIODIC:
        assert callable(resolve(path)), path


@pytest.mark.parametrize("path", PREVIOUS_RELEASE_PATHS)
def test_jobs_queued_by_the_previous_release_still_run(path):
    assert callable(resolve(path))


SEEN_SCOPES: list = []


@jobs.runs_under("stripe-inbox")
def record_scope_under_a_bypass() -> None:
    SEEN_SCOPES.append(scope.current_scope())


def record_scope() -> None:
    SEEN_SCOPES.append(scope.current_scope())


def test_a_target_declaring_a_bypass_runs_under_it_whoever_queued_it():
    SEEN_SCOPES.clear()
    with scope.scoped(reseller_id=7):
        jobs.call(f"{__name__}.record_scope_under_a_bypass")
        jobs.call(f"{__name__}.record_scope")
    declared, undeclared = SEEN_SCOPES
    assert (declared.bypass, declared.reseller_id) == ("stripe-inbox", None)
    assert (undeclared.bypass, undeclared.reseller_id) == (None, 7)


@pytest.mark.parametrize("path", ["billing.tasks.drain_stripe_inbox", "billing.webhooks.drain"])
def test_the_stripe_inbox_drain_declares_its_bypass_under_both_paths(path):
    assert resolve(path).tenancy_bypass == "stripe-inbox"


def test_a_bypass_name_outside_the_list_is_refused():
    with pytest.raises(ValueError):
        jobs.runs_under("anything-goes")
