"""The shape every package keeps (docs/architecture.md): room names, module size, one place
for statuses, no URL literals, no hand-written tenant predicates in views, no imports
hidden inside functions, and an import drawing that matches the code."""

from __future__ import annotations

import ast
import enum
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "core",
    "auth",
    "tenant",
    "whatsapp",
    "billing",
    "desk",
    "intake",
    "portal",
    "reseller",
    "api",
    "seeds",
)
DOMAIN_PACKAGES = ("auth", "tenant", "billing", "reseller")
# Demo and bench data spell their statuses as the database stores them.
RULE_PACKAGES = tuple(p for p in PACKAGES if p != "seeds")
MAX_LINES = 400


def package_files(*packages: str) -> list[Path]:
    files: list[Path] = []
    for package in packages:
        if (ROOT / package).is_dir():
            files += sorted((ROOT / package).rglob("*.py"))
    return files


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def string_constants(path: Path):
    """(line, value, parent) of every string literal that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = docstring_nodes(tree)
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value, parents.get(id(node)), parents


def test_no_module_over_the_size_limit():
    too_long = {
        rel(path): count
        for path in package_files(*PACKAGES)
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these modules (limit {MAX_LINES} lines): {too_long}"


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_every_domain_package_has_the_same_rooms(package):
    base = ROOT / package
    assert (base / "models.py").is_file(), f"{package}/models.py"
    assert (base / "states.py").is_file(), f"{package}/states.py holds its statuses"
    assert (base / "views" / "__init__.py").is_file(), f"{package}/views/ is a package"
    assert not (base / "services.py").exists(), f"{package}/services.py: name rule modules by subject"
    assert not (base / "views.py").exists(), f"{package}/views.py: views live in {package}/views/"


def status_values() -> dict[str, str]:
    """Every status value (a ``*Status`` StrEnum in a package's states.py) -> where."""
    values: dict[str, str] = {}
    for path in package_files(*PACKAGES):
        if path.name != "states.py":
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and issubclass(obj, enum.StrEnum)
                and obj.__module__ == module.__name__
                and name.endswith("Status")
            ):
                for member in obj:
                    values.setdefault(member.value, f"{module.__name__}.{name}")
    return values


GETTEXT_CALLS = frozenset({"_", "_l", "gettext", "lazy_gettext", "ngettext"})


def _is_message(parent) -> bool:
    """Whether a literal is the message of a gettext call (text to translate, such as
    the badge "pending", not a status value compared or stored)."""
    return (
        isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in GETTEXT_CALLS
    )


def test_status_literals_live_only_in_states_modules():
    statuses = status_values()
    assert statuses, "no StrEnum found in any states.py"
    offenders = []
    for path in package_files(*RULE_PACKAGES):
        if path.name == "states.py":
            continue
        for line, value, parent, _parents in string_constants(path):
            if value in statuses and not _is_message(parent):
                offenders.append(f"{rel(path)}:{line} {value!r} (use {statuses[value]})")
    assert offenders == [], "\n".join(offenders)


def url_prefixes(app) -> set[str]:
    prefixes = set()
    for rule in app.url_map.iter_rules():
        first = rule.rule.strip("/").split("/", 1)[0]
        if first and "<" not in first and first != "static":
            prefixes.add(f"/{first}")
    return prefixes


def is_route_declaration(node: ast.AST | None, parents: dict) -> bool:
    """A literal that declares a route (decorator, add_url_rule, url_prefix) is where URLs belong."""
    if isinstance(node, ast.keyword) and node.arg in {"url_prefix", "static_url_path"}:
        return True
    call = node if isinstance(node, ast.Call) else None
    if call is None and isinstance(node, ast.keyword):
        call = parents.get(id(node))
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        return call.func.attr in {"route", "get", "post", "put", "patch", "delete", "add_url_rule"}
    return False


def test_no_url_literal_outside_route_declarations(app):
    prefixes = url_prefixes(app)
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes))
    pattern = re.compile(rf"^({alternatives})(/|\?|$)")
    offenders = []
    for path in package_files(*PACKAGES):
        for line, value, parent, parents in string_constants(path):
            if pattern.match(value) and not is_route_declaration(parent, parents):
                offenders.append(f"{rel(path)}:{line} {value!r} (use url_for)")
    assert offenders == [], "\n".join(offenders)


def view_modules() -> list[Path]:
    return [
        path
        for path in package_files(*DOMAIN_PACKAGES)
        if "views" in path.relative_to(ROOT).parts[1:-1] or path.stem.endswith("views")
    ]


def test_views_never_write_tenant_predicates():
    predicate = re.compile(r"\b(reseller_id|client_id)\s*==")
    offenders = [
        f"{rel(path)}:{number}: {text.strip()}"
        for path in view_modules()
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if predicate.search(text)
    ]
    assert view_modules(), "no view module found"
    assert offenders == [], "scope through core.tenancy, not by hand:\n" + "\n".join(offenders)


def test_no_import_hidden_inside_a_function():
    ruff = Path(sys.executable).with_name("ruff")
    present = [p for p in PACKAGES if (ROOT / p).is_dir()]
    result = subprocess.run(
        [str(ruff), "check", "--select", "PLC0415", "--output-format", "concise", *present],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_drawing_matches_the_code():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import_graph = importlib.import_module("import_graph")
    finally:
        sys.path.remove(str(ROOT / "docs"))
    drawn = import_graph.OUTPUT.read_text(encoding="utf-8")
    assert drawn == import_graph.render(import_graph.build()), "run `make architecture` and commit"
