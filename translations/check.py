#!/usr/bin/env python3
"""Fail when a translation catalog lags behind the source strings.

    .venv/bin/python translations/check.py            # every translations/<locale>/
    .venv/bin/python translations/check.py pt_BR       # only these locales

Exit status 1, with the list of problems, when a catalog
``translations/<locale>/LC_MESSAGES/messages.po``

* has an untranslated entry, a fuzzy entry or a fuzzy / incomplete header,
* defines a msgid twice (Babel keeps the first without a word; msgfmt refuses the file),
* has a translation whose %(name)s / %(n)d placeholders differ from its msgid,
* misses a msgid that a fresh extraction (babel.cfg, same keywords as below) finds,
* misses a msgid passed to gettext inside an f-string: pybabel on Python < 3.12
  cannot see those, so ``pybabel update`` would silently drop their translation.

Only warnings (exit status unaffected): catalog entries the source no longer uses
(``pybabel update`` turns them into obsolete ``#~`` entries), gettext calls whose
msgid is not a literal (never extracted), and translated gettext calls inside f-strings.

When strings change, from the project root:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
    .venv/bin/pybabel update -i translations/messages.pot -d translations -l pt_BR
    (translate the new / fuzzy entries in translations/pt_BR/LC_MESSAGES/messages.po)
    .venv/bin/python translations/check.py
    .venv/bin/pybabel compile -d translations -f
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import pathmatch
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import PoFileParser, read_po
from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
MAPPING = ROOT / "babel.cfg"
# Keep in step with the extract command in the docstring.
EXTRA_KEYWORDS = ("_l", "lazy_gettext")
EXTRACT_ARGS = ["-q", "extract", "-F", str(MAPPING), *(a for k in EXTRA_KEYWORDS for a in ("-k", k))]
GETTEXT_NAMES = {
    "_",
    "gettext",
    "ngettext",
    "pgettext",
    "npgettext",
    "lazy_gettext",
    "lazy_ngettext",
    "lazy_pgettext",
    *EXTRA_KEYWORDS,
}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _key(message) -> tuple:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return (msgid, message.context)


def _locations(message, limit: int = 3) -> str:
    locs = [f"{f}:{n}" for f, n in message.locations[:limit]]
    more = len(message.locations) - limit
    return ", ".join(locs) + (f" (+{more} more)" if more > 0 else "")


def _label(msgid, context=None) -> str:
    return repr(msgid) + (f" [context {context!r}]" if context else "")


def fresh_extraction():
    """Run pybabel extract into a temporary .pot and read it back."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        cmd = [sys.executable, "-m", "babel.messages.frontend", *EXTRACT_ARGS, "-o", str(pot), "."]
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
        if result.returncode != 0 or not pot.exists():
            sys.exit(f"pybabel extract failed ({result.returncode}):\n{result.stderr}")
        with pot.open("rb") as f:
            return read_po(f)


def _source_files(kind: str):
    """Files babel.cfg maps to ``kind`` ("python" or "jinja2"), walked as pybabel walks."""
    with MAPPING.open() as f:
        method_map, _options = parse_mapping_cfg(f, str(MAPPING))
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel_dir = os.path.relpath(dirpath, ROOT).replace(os.sep, "/")

        def rel(name: str, rel_dir: str = rel_dir) -> str:
            return name if rel_dir == "." else f"{rel_dir}/{name}"

        # pybabel skips "." and "_" directories, and those an [ignore: ...] pattern matches.
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith((".", "_"))
            and not any(m == "ignore" and pathmatch(p, rel(d)) for p, m in method_map)
        )
        for name in sorted(filenames):
            path = rel(name)
            method = next((m for p, m in method_map if pathmatch(p, path)), None)
            if method == kind:
                yield path


def _call_name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):  # flask_babel.gettext(...)
        return func.attr
    return None


def scan_python():
    """(file, line, msgid or None, in_fstring) for gettext calls pybabel may not extract."""
    found = []
    for rel in _source_files("python"):
        try:
            tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"), rel)
        except SyntaxError as exc:
            found.append((rel, exc.lineno or 0, None, False, f"cannot parse: {exc.msg}"))
            continue
        in_fstring: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                in_fstring.update(id(n) for n in ast.walk(node))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node.func) not in GETTEXT_NAMES:
                continue
            name = _call_name(node.func)
            arg_index = 1 if name in {"pgettext", "npgettext", "lazy_pgettext"} else 0
            arg = node.args[arg_index] if len(node.args) > arg_index else None
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            msgid = arg.value if literal else None
            if id(node) in in_fstring or not literal:
                found.append((rel, node.lineno, msgid, id(node) in in_fstring, None))
    return found


def scan_templates():
    """(file, line) of template gettext calls whose msgid is not a literal."""
    # Only parsed, never rendered: autoescape does not matter here.
    env = Environment(  # noqa: S701
        extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
    )
    found = []
    for rel in _source_files("jinja2"):
        try:
            tree = env.parse((ROOT / rel).read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - report and go on
            found.append((rel, getattr(exc, "lineno", 0), f"cannot parse: {exc}"))
            continue
        for call in tree.find_all(nodes.Call):
            is_gettext = isinstance(call.node, nodes.Name) and call.node.name in {"_", "gettext", "ngettext"}
            if is_gettext and (not call.args or not isinstance(call.args[0], nodes.Const)):
                found.append((rel, call.lineno, None))
    return found


class _CountingCatalog(Catalog):
    """A catalog that counts the definitions of each msgid: Babel keeps the first of two
    without a word, msgfmt refuses the file."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.definitions: dict[tuple, int] = {}

    def __setitem__(self, id, message) -> None:
        key = (id, message.context)
        self.definitions[key] = self.definitions.get(key, 0) + 1
        super().__setitem__(id, message)


def check_catalog(locale: str, extracted, python_hits) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    catalog = _CountingCatalog(locale=locale)
    with po_path.open("rb") as f:
        PoFileParser(catalog).parse(f)
    rel_po = po_path.relative_to(ROOT)
    for key, count in catalog.definitions.items():
        if count > 1 and key[0]:
            errors.append(f"{rel_po}: {_label(*key)} is defined {count} times (msgfmt refuses the file)")

    if catalog.fuzzy:
        errors.append(f"{rel_po}: the header is marked fuzzy")
    headers = dict(catalog.mime_headers)
    if not headers.get("Language"):
        errors.append(f"{rel_po}: the header has no Language")
    if not headers.get("Plural-Forms"):
        errors.append(f"{rel_po}: the header has no Plural-Forms")

    present = {}
    for message in catalog:
        if not message.id:
            continue
        present[_key(message)] = message
        where = _locations(message)
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if message.fuzzy:
            errors.append(f"fuzzy: {_label(*_key(message))}  ({where})")
        if not all(strings):
            errors.append(f"untranslated: {_label(*_key(message))}  ({where})")
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0])))
        for s in strings:
            got = sorted(set(PLACEHOLDER.findall(s)))
            # A plural form may leave out the number, never add or rename a placeholder.
            if not set(got) <= set(wanted) or (len(strings) == 1 and got != wanted):
                errors.append(
                    f"placeholders differ: {_label(*_key(message))} has {wanted}, translation {s!r} has {got}"
                )
                break
        # Babel's own checkers (python-format compatibility, number of plural forms).
        for problem in message.check(catalog):
            errors.append(f"{problem}: {_label(*_key(message))}")

    for message in extracted:
        if message.id and _key(message) not in present:
            errors.append(f"missing from {rel_po}: {_label(*_key(message))}  ({_locations(message)})")

    extracted_keys = {_key(m) for m in extracted if m.id}
    fstring_ids = {hit[2] for hit in python_hits if hit[3] and hit[2]}
    for key in present:
        if key not in extracted_keys and key[0] not in fstring_ids:
            warnings.append(f"no longer in the source (pybabel update will obsolete it): {_label(*key)}")

    for rel, line, msgid, in_fstring, parse_error in python_hits:
        if parse_error:
            errors.append(f"{rel}:{line}: {parse_error}")
        elif in_fstring and msgid is not None and (msgid, None) not in present:
            errors.append(
                f"{rel}:{line}: gettext({msgid!r}) inside an f-string is not extracted on Python < 3.12 "
                f"and is missing from {rel_po}; move the call out of the f-string"
            )
        elif in_fstring and msgid is not None:
            warnings.append(
                f"{rel}:{line}: gettext({msgid!r}) inside an f-string is not extracted on Python < 3.12: "
                "its translation is kept by hand and the next pybabel update obsoletes it; "
                "move the call out of the f-string"
            )
    return errors, warnings


def main(argv: list[str]) -> int:
    locales = argv or sorted(
        p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file()
    )
    if not locales:
        print("no catalogs under translations/<locale>/LC_MESSAGES/messages.po")
        return 1
    extracted = fresh_extraction()
    python_hits = scan_python()
    template_hits = scan_templates()

    shared_warnings = []
    for rel, line, msgid, _in_fstring, parse_error in python_hits:
        if parse_error:
            continue
        if msgid is None:
            shared_warnings.append(f"{rel}:{line}: gettext call with a non-literal msgid is never extracted")
    for rel, line, problem in template_hits:
        problem = problem or "gettext call with a non-literal msgid is never extracted"
        shared_warnings.append(f"{rel}:{line}: {problem}")

    failed = False
    count = sum(1 for m in extracted if m.id)
    for locale in locales:
        if not (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").is_file():
            print(f"[{locale}] no catalog at translations/{locale}/LC_MESSAGES/messages.po")
            failed = True
            continue
        errors, warnings = check_catalog(locale, extracted, python_hits)
        for w in shared_warnings + warnings:
            print(f"[{locale}] warning: {w}")
        for e in errors:
            print(f"[{locale}] ERROR: {e}")
        if errors:
            failed = True
            print(f"[{locale}] {len(errors)} problem(s); {count} messages extracted from the source.")
        else:
            print(f"[{locale}] ok: all {count} extracted messages translated, none fuzzy.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
