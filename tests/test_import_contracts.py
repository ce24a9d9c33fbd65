"""The import-linter contracts hold today and each one breaks on a deliberate violation.

Every case copies bot/, handlers/, storage/ and pyproject.toml to a temporary directory, appends
one import to one module of the copy and runs `lint-imports` there. The copy, not the installed
(editable) package, is analysed: lint-imports puts its working directory first on sys.path and
PYTHONPATH points there too; the editable finder comes after the path finder. The reported line
number of the appended import proves it, and `test_the_copy_is_what_gets_analysed` checks the
module origins directly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")

STORAGE = "storage knows nothing of Telegram, handlers or the application"
DOMAIN = "domain services know nothing of Telegram or handlers"
LAYERS = "layers: __main__ > demo > app > handlers > runtime > services > storage"
HANDLERS_DB = "handlers use no repositories, database or SQL driver"
SERVICES_SQL = "domain services use no SQL driver"
CONTRACTS = (STORAGE, DOMAIN, LAYERS, HANDLERS_DB, SERVICES_SQL)


@dataclass(frozen=True)
class Violation:
    """One import appended to one module of the copy, and what it must break."""

    contract: str
    path: str
    statement: str
    imported: str
    also_broken: frozenset[str] = field(default_factory=frozenset)

    @property
    def module(self) -> str:
        """The dotted name of the module the import is appended to."""
        return self.path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


VIOLATIONS = [
    Violation(STORAGE, "storage/models.py", "import telegram", "telegram", frozenset({DOMAIN})),
    Violation(
        STORAGE,
        "storage/db.py",
        "import handlers.help",
        "handlers.help",
        frozenset({DOMAIN, LAYERS}),
    ),
    Violation(DOMAIN, "bot/services/text.py", "import handlers", "handlers", frozenset({LAYERS})),
    Violation(DOMAIN, "bot/i18n.py", "from telegram import Bot", "telegram"),
    Violation(LAYERS, "handlers/help.py", "import bot.app", "bot.app"),
    Violation(LAYERS, "bot/runtime/logs.py", "import handlers.help", "handlers.help"),
    Violation(LAYERS, "bot/services/paging.py", "import bot.runtime.logs", "bot.runtime.logs"),
    Violation(LAYERS, "bot/app.py", "import bot.__main__", "bot.__main__"),
    Violation(HANDLERS_DB, "handlers/help.py", "import storage.repos.users", "storage.repos.users"),
    Violation(HANDLERS_DB, "handlers/start.py", "from storage import Database", "storage"),
    Violation(HANDLERS_DB, "handlers/keyboards.py", "from storage.db import Tx", "storage.db"),
    Violation(HANDLERS_DB, "handlers/errors.py", "import sqlite3", "sqlite3"),
    Violation(SERVICES_SQL, "bot/services/text.py", "import aiosqlite", "aiosqlite"),
    Violation(SERVICES_SQL, "bot/services/users.py", "import sqlite3", "sqlite3"),
]


def _copy_tree(target: Path) -> Path:
    """The three packages and pyproject.toml, without bytecode, under `target`."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def _env(copy: Path) -> dict[str, str]:
    """The environment for a subprocess that must see the copy's packages first."""
    return {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}


def _lint_imports() -> str:
    """The lint-imports script next to the running interpreter, else the one on PATH."""
    script = Path(sys.executable).with_name("lint-imports")
    if script.exists():
        return str(script)
    found = shutil.which("lint-imports")
    if found is None:
        pytest.skip("lint-imports is not installed")
    return found


def _run(copy: Path) -> tuple[int, str]:
    """Run lint-imports on the copy, without a cache; its exit code and output."""
    done = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=copy,
        env=_env(copy),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


def _verdicts(output: str) -> dict[str, str]:
    """Each contract's name mapped to KEPT or BROKEN, from the summary lines."""
    found = re.findall(rf"^({'|'.join(map(re.escape, CONTRACTS))}) (KEPT|BROKEN)$", output, re.M)
    return dict(found)


def _section(output: str, contract: str) -> str:
    """The part of the report that explains why `contract` is broken."""
    _, _, details = output.partition("Broken contracts")
    _, heading, rest = details.partition(f"\n{contract}\n")
    assert heading, f"no section for {contract!r} in:\n{output}"
    following = [rest.find(f"\n{other}\n") for other in CONTRACTS if other != contract]
    return rest[: min([i for i in following if i >= 0], default=len(rest))]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unmodified copy of the tree, shared by the tests that do not change it."""
    return _copy_tree(tmp_path_factory.mktemp("pristine"))


def test_every_contract_has_a_violation_case() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {c["name"] for c in config["tool"]["importlinter"]["contracts"]}
    assert names == set(CONTRACTS)
    assert {v.contract for v in VIOLATIONS} == set(CONTRACTS)


def test_the_copy_is_what_gets_analysed(pristine: Path) -> None:
    probe = "import importlib.util as u; print(*(u.find_spec(p).origin for p in {!r}))"
    done = subprocess.run(
        [sys.executable, "-c", probe.format(PACKAGES)],
        cwd=pristine,
        env=_env(pristine),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    origins = [Path(origin) for origin in done.stdout.split()]
    assert len(origins) == len(PACKAGES)
    assert all(origin.is_relative_to(pristine) for origin in origins), origins


def test_the_unmodified_tree_keeps_every_contract(pristine: Path) -> None:
    code, output = _run(pristine)
    assert _verdicts(output) == dict.fromkeys(CONTRACTS, "KEPT"), output
    assert code == 0, output


def test_handlers_may_import_storage_models(tmp_path: Path) -> None:
    copy = _copy_tree(tmp_path)
    with (copy / "handlers/help.py").open("a", encoding="utf-8") as module:
        module.write("import storage.models\nfrom storage.models import Role\n")
    code, output = _run(copy)
    assert _verdicts(output) == dict.fromkeys(CONTRACTS, "KEPT"), output
    assert code == 0, output


@pytest.mark.parametrize("violation", VIOLATIONS, ids=lambda v: f"{v.module}->{v.imported}")
def test_a_violation_breaks_its_contract(tmp_path: Path, violation: Violation) -> None:
    copy = _copy_tree(tmp_path)
    target = copy / violation.path
    source = target.read_text(encoding="utf-8")
    line = len(source.splitlines()) + 1
    target.write_text(f"{source}{violation.statement}\n", encoding="utf-8")

    code, output = _run(copy)

    print(output[output.find("Broken contracts") :])
    assert code != 0, output
    broken = {name for name, verdict in _verdicts(output).items() if verdict == "BROKEN"}
    assert broken == {violation.contract} | violation.also_broken, output
    assert len(_verdicts(output)) == len(CONTRACTS), output
    # The appended line, not some import of the real tree, is what is reported.
    assert f"{violation.module} -> {violation.imported} (l.{line})" in _section(
        output, violation.contract
    ), output
