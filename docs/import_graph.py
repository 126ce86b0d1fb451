"""Draw the import graph of the application packages from the code itself.

``make architecture`` runs this and writes ``docs/import-graph.md`` (Mermaid diagrams,
which GitHub and most editors render). ``tests/test_code_shape.py`` fails when the
committed drawing no longer matches the code, so the drawing stays true.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
# Highest layer first: a package may import only the packages listed after it.
PACKAGES = ("seeds", "reseller", "intake", "desk", "billing", "tenant", "auth", "core")
OUTPUT = ROOT / "docs" / "import-graph.md"


def present_packages() -> list[str]:
    return [name for name in PACKAGES if (ROOT / name / "__init__.py").exists()]


def build() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    return grimp.build_graph(*present_packages())


def package_of(module: str) -> str:
    return module.split(".", 1)[0]


def node_id(module: str) -> str:
    return module.replace(".", "_")


def package_edges(graph: grimp.ImportGraph) -> Counter:
    edges: Counter = Counter()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            source, target = package_of(importer), package_of(imported)
            if source != target:
                edges[(source, target)] += 1
    return edges


def module_label(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[1:]) or "__init__"


def render(graph: grimp.ImportGraph) -> str:
    packages = present_packages()
    lines = [
        "# Import graph",
        "",
        "Generated from the code by `make architecture` (`docs/import_graph.py`); do not edit by hand.",
        "An arrow points from the importer to what it imports; its number counts the pairs",
        "(importing module, imported module) that cross that way. Read `docs/architecture.md`",
        "for what each package owns and `pyproject.toml` for the layers inside each package.",
        "",
        "## Packages",
        "",
        "```mermaid",
        "flowchart TB",
    ]
    lines += [f"    {name}[{name}]" for name in packages]
    for (source, target), count in sorted(package_edges(graph).items()):
        lines.append(f"    {source} -->|{count}| {target}")
    lines += ["```", ""]
    for package in packages:
        modules = sorted(m for m in graph.modules if package_of(m) == package)
        lines += [f"## {package}", "", "```mermaid", "flowchart LR"]
        lines += [f'    {node_id(m)}["{module_label(m)}"]' for m in modules]
        outside: dict[str, set[str]] = {}
        for importer in modules:
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if package_of(imported) == package:
                    lines.append(f"    {node_id(importer)} --> {node_id(imported)}")
                else:
                    outside.setdefault(module_label(importer), set()).add(package_of(imported))
        lines += ["```", ""]
        if outside:
            lines.append("Imports from other packages:")
            lines.append("")
            for importer, targets in sorted(outside.items()):
                lines.append(f"- `{importer}` → {', '.join(sorted(targets))}")
            lines.append("")
    return "\n".join(lines)


def main() -> int:
    OUTPUT.write_text(render(build()), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
