"""A plain, non-editable install must carry everything the server reads from its own package.

Sandbox mode loads the example chart and cost codes, and every start applies the migrations; both
are package data, which an editable install hides (it reads the checkout). So this builds the real
wheel from a copy of the sources, installs it into a folder of its own and imports from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot.store import db
from tests.conftest import ROOT

MIGRATIONS = ROOT / "bot" / "migrations" / "versions"
SOURCES = ("pyproject.toml", "README.md", "bot", "handlers", "blocks", "qbd")
NEEDED = (
    "bot/sandbox/examples/cost_codes.csv",
    "bot/sandbox/examples/gl_accounts.csv",
    "bot/sandbox/static/index.html",
    "bot/migrations/env.py",
)
LOADER = """
import bot, bot.sandbox.example_data as examples
from bot.costcodes import intake
from bot.store import db
assert bot.__file__.startswith(TARGET), bot.__file__
rows, problems = intake.read_file(examples.COST_CODES)
print(len(rows), len(problems), len(examples.example_quickbooks().accounts), db.head_revision())
"""


def _run(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from a copy of the sources (no build/ or egg-info in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), ".", cwd=source)
    (built,) = out.glob("costcodes-*.whl")
    return built


def test_the_wheel_carries_the_examples_static_files_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in NEEDED if name not in names] == []
    versions = [n for n in names if n.startswith("bot/migrations/versions/") and n.endswith(".py")]
    on_disk = list(MIGRATIONS.glob("*.py"))
    assert len(versions) == len(on_disk) > 0


def test_an_installed_copy_serves_the_example_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel), cwd=tmp_path)  # fmt: skip
    # Only the installed copy on the path: the checkout (and its examples) cannot be imported.
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = f"TARGET = {str(target)!r}\n{LOADER}"
    out = _run(sys.executable, "-c", code, cwd=tmp_path, env=env)
    assert out.split() == ["143", "0", "50", db.head_revision()]
