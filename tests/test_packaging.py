"""An installed bot (not only an editable one) must carry every file it reads at run time:
the catalogs, the sample stations and the migrations are package data, found through
importlib.resources, and pyproject.toml's package-data globs must match each of them."""

from __future__ import annotations

import fnmatch
import tomllib
from importlib import resources
from pathlib import Path

from setuptools import find_packages

from bot import serve
from bot.i18n import LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent


def _config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]  # type: ignore[no-any-return]


def _shipped(path: Path) -> bool:
    """Whether `path` is in a package that setuptools finds and matches its package-data."""
    config = _config()
    include = config["packages"]["find"]["include"]  # type: ignore[index]
    packages = set(find_packages(str(ROOT), include=include))
    data: dict[str, list[str]] = config["package-data"]  # type: ignore[assignment]
    relative = path.relative_to(ROOT)
    for package, globs in data.items():
        base = Path(*package.split("."))
        if package in packages and relative.is_relative_to(base):
            inner = relative.relative_to(base).as_posix()
            if any(fnmatch.fnmatch(inner, pattern) for pattern in globs):
                return True
    return False


def test_every_file_read_at_run_time_is_package_data() -> None:
    files = [
        *sorted((ROOT / "locales").glob("*/LC_MESSAGES/*.po")),
        *sorted((ROOT / "storage" / "migrations").glob("*.sql")),
        ROOT / "samples" / "stations.csv",
    ]
    assert len(files) > 40
    missing = [str(f.relative_to(ROOT)) for f in files if not _shipped(f)]
    assert missing == []


def test_the_bot_finds_them_through_its_packages_not_beside_its_source() -> None:
    assert Path(str(resources.files("locales"))) == LOCALES_DIR
    assert Path(str(resources.files("samples") / "stations.csv")) == serve.SAMPLE_STATIONS
    assert serve.SAMPLE_STATIONS.is_file()
    assert sorted(LOCALES_DIR.iterdir()) and (LOCALES_DIR / "zh_CN" / "LC_MESSAGES").is_dir()


def test_a_file_outside_the_globs_would_be_noticed(tmp_path: Path) -> None:
    assert not _shipped(ROOT / "README.md")
    assert not _shipped(ROOT / "locales" / "zh_CN" / "notes.txt")
