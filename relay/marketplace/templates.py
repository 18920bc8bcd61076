"""Message templates (the `templates` directory, default relay/default_templates/*.toml),
rendered for one buyer.

A template names its message type, whether it is critical (sent with "[Important]"), the
longest body it may render to, whether files may go with it, and the free variables it
needs; subject and body per language with $placeholders. Rendering refuses a variable that
is unknown or missing, and a line break or NUL that would reach the Subject header.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Template as Text
from typing import Any

from relay.errors import ConfigError, UsageError
from relay.stages.optout import IMPORTANT

ALWAYS = frozenset({"order_id", "buyer_name"})
FALLBACK = "en"
UNKNOWN_NAME = {"en": "customer", "de": "Kundin, lieber Kunde", "fr": "cliente, cher client",
                "es": "cliente", "it": "cliente"}


@dataclass(frozen=True)
class Template:
    id: str
    type: str
    critical: bool
    max_length: int
    attachments: bool
    variables: tuple[str, ...]
    texts: dict[str, tuple[str, str]]  # language -> (subject, body)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


def _parse(path: Path) -> Template:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        texts = {lang: (str(t["subject"]), str(t["body"])) for lang, t in data["text"].items()}
        template = Template(
            id=str(data["id"]), type=str(data["type"]), critical=bool(data["critical"]),
            max_length=int(data["max_length"]), attachments=bool(data["attachments"]),
            variables=tuple(str(v) for v in data["variables"]), texts=texts)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError,
            AttributeError) as exc:
        raise ConfigError(f"template {path}: {exc.__class__.__name__}: {exc}") from None
    if template.id != path.stem or FALLBACK not in texts:
        raise ConfigError(f"template {path}: id must be {path.stem!r} and [text.en] must exist")
    allowed = ALWAYS | set(template.variables)
    for lang, (subject, body) in texts.items():
        used = set(Text(subject).get_identifiers()) | set(Text(body).get_identifiers())
        if not Text(subject).is_valid() or not Text(body).is_valid() or used - allowed:
            raise ConfigError(f"template {path} [{lang}]: placeholders {sorted(used - allowed)}"
                              " are not in variables (or a lone $; write $$)")
    return template


def load_all(directory: Path) -> dict[str, Template]:
    """Every template; a ConfigError lists every file's problem, not only the first."""
    if not directory.is_dir():
        raise ConfigError(f"templates: no directory {directory}")
    found, problems = {}, []
    for path in sorted(directory.glob("*.toml")):
        try:
            template = _parse(path)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        found[template.id] = template
    if problems:
        raise ConfigError(*problems)
    return found


def problems(directory: Path) -> list[str]:
    try:
        load_all(directory)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def language(locale: str | None, template: Template) -> str:
    """de-DE -> de when the template has it; else English."""
    lang = (locale or FALLBACK).split("-")[0].lower()
    return lang if lang in template.texts else FALLBACK


def render(template: Template, locale: str | None, order_id: str,
           values: dict[str, str]) -> Rendered:
    fixed = sorted(set(values) & ALWAYS)
    if fixed:
        raise UsageError(f"--var {fixed[0]}: set by the relay from the conversation",
                         field="variables")
    unknown = sorted(set(values) - set(template.variables))
    if unknown:
        raise UsageError(f"template {template.id} has no variable {', '.join(unknown)}"
                         f" (it takes: {', '.join(template.variables) or 'none'})",
                         field="variables")
    missing = sorted(set(template.variables) - set(values))
    if missing:
        raise UsageError(f"template {template.id} needs --var {'=… --var '.join(missing)}=…",
                         field="variables")
    lang = language(locale, template)
    subject, body = template.texts[lang]
    everything = {"order_id": order_id, "buyer_name": UNKNOWN_NAME.get(lang, "customer"),
                  **values}
    in_subject = set(Text(subject).get_identifiers())
    for key, value in everything.items():
        if "\0" in value or (key in in_subject and len(f"x{value}x".splitlines()) > 1):
            raise UsageError(f"--var {key}: no line breaks in a value that goes into the"
                             " Subject, and no NUL anywhere", field="variables")
        if key in in_subject and "=?" in value:
            # A reader decodes "=?utf-8?q?...?=" in a Subject: it could say [Important]
            # (or, on older Pythons, break the header) past the checks on the plain text.
            raise UsageError(f"--var {key}: no encoded words (=?...?=) in a value that goes"
                             " into the Subject", field="variables")
    rendered = Rendered(Text(subject).substitute(everything).strip(),
                        Text(body).substitute(everything).strip() + "\n", lang)
    if len(rendered.body) > template.max_length:
        raise UsageError(f"template {template.id}: the message would be {len(rendered.body)}"
                         f" characters, over its limit of {template.max_length}", field="variables")
    if not template.critical and IMPORTANT.search(rendered.subject):
        raise UsageError(f"template {template.id} is not critical: its Subject may not say"
                         " [Important]", field="variables")
    if template.critical and not IMPORTANT.search(rendered.subject):
        rendered = Rendered(f"[Important] {rendered.subject}", rendered.body, lang)
    return rendered
