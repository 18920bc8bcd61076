"""A real browser for the web pages' tests: Playwright (from PyPI) driving Debian's Chromium
(`apt-get install chromium`; Playwright's own browser downloads are not used). Missing, the
tests skip, saying so; with REQUIRE_TEST_TOOLS=1 (CI) they fail instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dns_server import require

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots of each step: TEST_ARTIFACTS=DIR keeps them there; else in pytest's tmp dir.
ARTIFACTS = "TEST_ARTIFACTS"


def require_browser() -> None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        require(False, "Playwright (pip: playwright)")
    require(os.access(CHROMIUM, os.X_OK), f"Debian's Chromium ({CHROMIUM})")


def screenshots(factory: pytest.TempPathFactory, name: str) -> Path:
    where = os.environ.get(ARTIFACTS)
    folder = Path(where) / name if where else factory.mktemp(name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
