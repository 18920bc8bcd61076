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


# Replies aiosmtpd words itself that the table names (530: a command before STARTTLS or AUTH).
AIOSMTPD_OWN = {"530"}
STATUS = re.compile(r"\b([245]\d\d)(?: ([245]\.\d{1,3}\.\d{1,3}))?\b")


def reply_cells() -> list[str]:
    """The reply column of docs/smtp.md's reply table."""
    text = (DOCS / "smtp.md").read_text(encoding="utf-8")
    table = text[text.index("| situation | reply |"):].split("\n\n")[0]
    return [row.rsplit(" | ", 1)[1] for row in table.splitlines()[2:]]


def test_the_reply_table_matches_relay_replies():
    """Every refusal the relay gives is in docs/smtp.md's table with its status, and the
    table shows no status the relay does not give."""
    from relay import replies

    cells = reply_cells()
    assert len(cells) > 20
    given = set()
    for name, value in vars(replies).items():
        if name.isupper() and isinstance(value, str) and STATUS.match(value):
            code, enhanced = STATUS.match(value).groups()
            given.add(f"{code} {enhanced}" if enhanced else code)
            if code[0] in "45":  # a refusal: the table must say when it is given
                status = f"{code} {enhanced}" if enhanced else code
                assert any(f"`{status}" in cell for cell in cells), f"{name} ({status})"
    for table in (replies.REFUSAL_STATUS, replies.TEMPORARY_STATUS):
        for reason, status in table.items():
            given.add(status)
            assert any(status in cell and reason in cell for cell in cells), (
                f"{reason}: no row answers {status} {reason}")
    given |= {replies.POLICY, replies.TEMPORARY, replies.queued("x")[:9], *AIOSMTPD_OWN}
    shown = {f"{c} {e}" if e else c for cell in cells for c, e in STATUS.findall(cell)}
    assert shown <= given, f"the table shows statuses the relay never gives: {shown - given}"
