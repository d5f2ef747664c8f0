"""Imports go one way: staffing uses forecasts and profiles; those two never import staffing or each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {"forecasts": {"staffing", "profiles"}, "profiles": {"staffing", "forecasts"}}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_its_neighbours(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_packages(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from staffing.site import load_site\nimport profiles.fit\n")
    assert _imported_packages(f) == {"staffing", "profiles"}


def test_the_simulator_never_imports_the_roster_engine():
    """staffing/simulate reads run folders and model files; it shares no code with the roster model."""
    offenders = []
    for path in sorted((ROOT / "staffing" / "simulate").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name} imports {n}" for n in names if n == "staffing.roster" or n.startswith("staffing.roster.")]
    assert offenders == []
    assert (ROOT / "staffing" / "simulate" / "engine.py").is_file()  # the check looks at the real package
