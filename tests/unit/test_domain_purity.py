"""House rule 1: `o2c.domain` imports only the standard library (and itself)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import o2c.domain

DOMAIN = Path(o2c.domain.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module, nested ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside the package
                found.append((node.lineno, "o2c.domain"))
            else:
                found.append((node.lineno, node.module or ""))
    return found


def test_the_domain_has_modules_to_check() -> None:
    assert len(list(DOMAIN.glob("*.py"))) > 10


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    offending = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if module == "o2c.domain" or module.startswith("o2c.domain."):
                continue
            if top in sys.stdlib_module_names:
                continue
            offending.append(f"{path.name}:{line} imports {module}")
    assert offending == []


def test_the_import_walk_would_notice_a_third_party_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import decimal\nfrom sqlalchemy import select\n"
                      "def f():\n    import o2c.services.bus\n")
    assert [m for _, m in _imports(module)] == ["decimal", "sqlalchemy", "o2c.services.bus"]
