"""The apps stand in layers and import only from below (docs/architecture.md).

networks < indicators < comparisons < learning: a module of one app may import the apps below
it, never one above, not even inside a function. A lower app tells a higher one that something
happened through `networks.events`. Tests and migrations are outside the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("networks", "indicators", "comparisons", "learning")


def upward_imports(root: Path) -> list[str]:
    """Every import in the apps under `root` of an app above the importing one, as
    ``path:line imports module``."""
    rank = {app: position for position, app in enumerate(LAYERS)}
    found = []
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            parts = path.relative_to(root).parts
            if "tests" in parts or "migrations" in parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if rank.get(top, -1) > rank[app]:
                        found.append(f"{path.relative_to(root)}:{node.lineno} imports {module}")
    return found


def test_no_app_imports_an_app_above_it():
    assert upward_imports(ROOT) == []


def test_the_check_sees_an_upward_import():
    found = upward_imports(ROOT / "tests" / "layers_fixture")
    assert found == [
        "networks/upward.py:3 imports comparisons.services",
        "networks/upward.py:7 imports learning",
    ]
