"""The docs against the code: every setting is in docs/configuration.md (and nothing there that
is not a setting), the README stays a front page, and no page points outside the repository."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from relay.config import _SECTIONS, Config

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def settings() -> set[str]:
    names = set()
    for f in dataclasses.fields(Config):
        if f.name in _SECTIONS:
            names |= {f"{f.name}.{g.name}" for g in dataclasses.fields(_SECTIONS[f.name])}
        else:
            names.add(f.name)
    return names


def documented() -> set[str]:
    """Settings named in the first column of the configuration table. A row may name several
    of one section: `smtp.host` / `smtp.port`, or `rules.a`, `b`, `c` (the section carries on)."""
    found = set()
    for line in (DOCS / "configuration.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        section = ""
        for name in re.findall(r"`([a-z0-9_.]+)`", line.split(" | ")[0]):
            if "." in name:
                section, _, key = name.partition(".")
            elif section:
                key = name
            else:
                found.add(name)
                continue
            found.add(f"{section}.{key}")
    return found


def test_every_setting_is_documented_and_every_documented_one_exists():
    missing = settings() - documented()
    unknown = documented() - settings()
    assert not missing, f"settings missing from docs/configuration.md: {sorted(missing)}"
    assert not unknown, f"docs/configuration.md names no such setting: {sorted(unknown)}"


def test_the_readme_is_a_front_page_with_the_two_commands_first():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    first_block = readme.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_no_page_points_outside_the_repository():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "DESIGN.md" not in text, page.name
        for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / link).exists(), f"{page.name}: broken link {link}"
