"""What the content rules read: the Subject and the author's own words.

Quoted earlier messages (">" lines, "On ... wrote:" and everything after, Outlook's
"-----Original Message-----" or "From: ... Sent:" block) and the signature are not the
author's message: a seller's reply that quotes the buyer's "thanks!" is not thanks-only.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from email.contentmanager import ContentManager
from email.message import EmailMessage, Message
from typing import Any

import nh3

from relay.rules.needs import Gated

_ATTRIBUTION = Gated(re.compile(
    r"^(?:On\b.{0,200}\bwrote:|Am\b.{0,200}\bschrieb.{0,80}:|Le\b.{0,200}\ba écrit\s*:|"
    r"El\b.{0,200}\bescribió\s*:|Il\b.{0,200}\bha scritto\s*:|Op\b.{0,200}\bschreef.{0,80}:|"
    r"W dniu\b.{0,200}\bnapisał.{0,10}:|-{2,}\s*Original Message\s*-{2,}|"
    r"-{2,}\s*(?:Ursprüngliche Nachricht|Message d'origine|Mensaje original|"
    r"Messaggio originale)\s*-{2,}|_{10,}|From:\s.{0,200}$(?=\s*^(?:Sent|Date):))",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
))
_SIGNATURE = Gated(re.compile(r"^-- ?$", re.MULTILINE))
_LINE_TAGS = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "table"}
_TAG = re.compile(r"<[^>]*>")  # on nh3's canonical output: every "<" in text is escaped


@dataclass(frozen=True)
class Reading:
    subject: str
    text: str  # the author's own words
    direction: str
    is_reply: bool  # answers a message of this conversation (not just any In-Reply-To)
    bulk: bool  # List-Unsubscribe, List-Id or Precedence: bulk/list/junk


def own_words(text: str) -> str:
    attribution = _ATTRIBUTION.search(text)
    if attribution:
        text = text[:attribution.start()]
    signature = _SIGNATURE.search(text)
    if signature:
        text = text[:signature.start()]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _parsed_once(part: Message) -> Message:
    """A copy of the part (headers and body shared, not copied) whose get() parses each
    header once: the email package parses a header anew at every asking, and the content
    type of a text part is asked for four times (its type, a file name, the content
    manager's lookup, the charset)."""
    view = copy.copy(part)
    fetch, known, missing = part.get, {}, object()

    def get(name: str, failobj: Any = None) -> Any:
        key = name.lower()
        if key not in known:
            known[key] = fetch(key, missing)
        value = known[key]
        return failobj if value is missing else value

    view.get = get  # type: ignore[method-assign]
    return view


def _content(part: Message, ctype: str, maintype: str) -> str:
    """part.get_content(), the content type already known (the content manager asks again)."""
    if type(part).get_content is not EmailMessage.get_content:  # type: ignore[attr-defined]
        return part.get_content()  # type: ignore[attr-defined,no-any-return]
    manager = part.policy.content_manager  # type: ignore[attr-defined]
    if type(manager).get_content is not ContentManager.get_content:
        return part.get_content()  # type: ignore[attr-defined,no-any-return]
    for key in (ctype, maintype, ""):  # as ContentManager.get_content looks them up
        if key in manager.get_handlers:
            return manager.get_handlers[key](part)  # type: ignore[no-any-return]
    raise KeyError(ctype)


def _body(message: Message) -> str:
    plain = html_text = None
    for part in message.walk():
        if part.is_multipart():
            continue
        part = _parsed_once(part)
        # Main type and subtype are the halves of the content type, as the email package
        # itself takes them.
        ctype = part.get_content_type()
        maintype, subtype = ctype.split("/")[0], ctype.split("/")[1]
        if maintype != "text":
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            continue
        try:
            content = _content(part, ctype, maintype)
        except (LookupError, ValueError, AttributeError):
            data = part.get_payload(decode=True) or b""
            content = data.decode("utf-8", errors="replace")
        if subtype == "plain" and plain is None:
            plain = content
        elif subtype == "html" and html_text is None:
            html_text = content
    if plain is not None:
        return plain
    if html_text is not None:
        # Quotes and invisible parts dropped, line-making tags kept just to become newlines.
        markup = nh3.clean(html_text, tags=_LINE_TAGS, attributes={},
                           clean_content_tags={"blockquote", "script", "style", "title"})
        return html.unescape(_TAG.sub("\n", markup))
    return ""


def read(message: EmailMessage, direction: str, is_reply: bool) -> Reading:
    precedence = str(message.get("Precedence", "")).strip().lower()
    # Out-of-office replies often say "Precedence: bulk" too; that alone is no newsletter.
    automatic = str(message.get("Auto-Submitted", "no")).strip().lower() not in ("no", "")
    if automatic and precedence == "bulk":
        precedence = ""
    return Reading(
        subject=str(message.get("Subject", "")),
        text=own_words(_body(message)),
        direction=direction,
        is_reply=is_reply,
        bulk=precedence in ("bulk", "list", "junk") or message.get("List-Unsubscribe") is not None
        or message.get("List-Id") is not None,
    )
