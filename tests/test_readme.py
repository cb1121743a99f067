"""The README's API table is generated from the handler registry, never hand-maintained."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _api_table():
    spec = importlib.util.spec_from_file_location("api_table", ROOT / "scripts" / "api_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_api_table_matches_the_registry():
    module = _api_table()
    readme = (ROOT / "README.md").read_text()
    assert module.render(readme) == readme, "run: python scripts/api_table.py --write"


def test_readme_names_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
