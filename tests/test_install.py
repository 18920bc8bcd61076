"""The relay installed like any package (`pip install .`, not editable) runs from an empty
directory with no config file: migrations and the default templates are package data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project installed into a directory of its own, as a wheel (its dependencies come
    from the test environment)."""
    source = tmp_path_factory.mktemp("source")  # pip builds in the tree: not in ours
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "relay", source / "relay",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return target


def relay_cli(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RELAY_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)  # ahead of the editable install of the test environment
    return subprocess.run([sys.executable, "-m", "relay.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120, check=False)


def test_installed_relay_runs_from_an_empty_directory_without_a_config(installed, tmp_path):
    where = relay_cli(installed, tmp_path, "--help")
    assert where.returncode == 0, where.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import relay; print(relay.__file__)"], capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": str(installed)}, cwd=tmp_path, check=True)
    assert probe.stdout.strip().startswith(str(installed)), probe.stdout  # not the work tree

    checked = relay_cli(installed, tmp_path, "check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("ok: built-in defaults"), checked.stdout

    migrated = relay_cli(installed, tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_initial.sql" in migrated.stdout
    assert (tmp_path / "data" / "relay.db").exists()

    opened = relay_cli(installed, tmp_path, "conversations", "open", "--order",
                       "112-1234567-1234567", "--buyer", "bob@example.com", "--seller",
                       "sally@example.org", "--json")
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["seller_alias"].endswith("@relay.localhost")

    listed = relay_cli(installed, tmp_path, "templates", "list")
    assert listed.returncode == 0, listed.stderr
    assert "shipping_delay" in listed.stdout  # the templates shipped as package data

    # The web pages' templates and static files are package data too.
    pages = subprocess.run(
        [sys.executable, "-c", "from relay.web import pages; s = pages.Static();"
         " print(pages.TEMPLATES_DIR); print(sorted(s.files));"
         " print(pages.environment(s).get_template('login.html').name)"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(installed)},
        cwd=tmp_path, check=False)
    assert pages.returncode == 0, pages.stderr
    where, files, login = pages.stdout.splitlines()
    assert where.startswith(str(installed)), where
    assert files == "['app.css', 'app.js']" and login == "login.html"


def test_a_named_config_file_that_is_missing_is_still_an_error(installed, tmp_path):
    done = relay_cli(installed, tmp_path, "--config", "nowhere.toml", "check-config")
    assert done.returncode != 0
    assert "not found" in done.stdout + done.stderr


def test_relay_init_writes_a_starter_config_that_checks_ok(installed, tmp_path):
    done = relay_cli(installed, tmp_path, "init")
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "relay.toml").read_text(encoding="utf-8")
    assert "[smtp]" in written and "auth" in written
    checked = relay_cli(installed, tmp_path, "--config", "relay.toml", "check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("ok: relay.toml"), checked.stdout
    again = relay_cli(installed, tmp_path, "init")
    assert again.returncode == 2
    assert "exists; not overwritten" in again.stderr
    assert (tmp_path / "relay.toml").read_text(encoding="utf-8") == written
