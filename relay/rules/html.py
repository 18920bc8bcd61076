"""HTML parts: sanitized by nh3 (ammonia), then the text rules over the text a reader sees.

nh3 parses the HTML the way a browser does and keeps only an allow-list of tags and
attributes; comments go (Outlook's conditional comments carry VML images). Its callback decides
each attribute: links by the link rule, image sources and CSS by the tracker rule, alt and
title text by the text rules. Its output is canonical, so a second, simple pass with the
standard library's tokenizer can drop hidden images and unsubscribe links and run the text
rules over the text as one string: an address split over <b>...</b> is still one address.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote

import nh3

from relay.rules import active, trackers
from relay.rules.findings import Finding, marker
from relay.rules.links import LinkRule
from relay.rules.text import TextRules

TAGS = frozenset(nh3.ALLOWED_TAGS | {"font", "center", "big", "body"}) - {"area", "map"}
# Presentational attributes only, each held to the shape of its values (_SHAPES): free text
# in an attribute is text no reader sees and no rule would read. alt and title are text and
# go through the text rules.
_SHAPES = {
    "width": r"[\d.]{1,6}(?:%|px)?", "height": r"[\d.]{1,6}(?:%|px)?", "border": r"\d{1,3}",
    "cellpadding": r"\d{1,3}", "cellspacing": r"\d{1,3}", "colspan": r"\d{1,3}",
    "rowspan": r"\d{1,3}", "size": r"[+-]?\d{1,2}", "start": r"\d{1,4}", "hspace": r"\d{1,3}",
    "vspace": r"\d{1,3}", "span": r"\d{1,3}",
    "align": r"left|right|center|justify|top|middle|bottom|absmiddle|baseline",
    "valign": r"top|middle|bottom|baseline", "dir": r"ltr|rtl|auto", "nowrap": r"|nowrap",
    "bgcolor": r"#?[A-Za-z0-9]{1,20}", "color": r"#?[A-Za-z0-9]{1,20}",
    "face": r"[A-Za-z0-9 ,'\"-]{1,80}", "lang": r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,3}",
    "type": r"[1aAiI]|disc|circle|square", "scope": r"row|col|rowgroup|colgroup",
    "clear": r"left|right|all|none",
}
# Inline CSS that styles text and layout; values without free text (no "@", no long digit
# runs, short): "--x: sally@mail.example" or content:'...' carry nothing a reader needs.
_CSS_PROPERTY = re.compile(
    r"(?:color|background(?:-color)?|font(?:-family|-size|-style|-weight|-variant)?|"
    r"text-(?:align|decoration|transform|indent)|line-height|letter-spacing|word-spacing|"
    r"white-space|word-(?:break|wrap)|overflow-wrap|vertical-align|direction|"
    r"(?:margin|padding)(?:-(?:top|right|bottom|left))?|"
    r"border(?:-(?:top|right|bottom|left))?(?:-(?:width|style|color))?|border-radius|"
    r"border-collapse|border-spacing|(?:min-|max-)?(?:width|height)|display|visibility|"
    r"opacity|float|clear|overflow|table-layout|list-style(?:-type|-position)?|"
    r"mso-[a-z-]+)",
    re.IGNORECASE,
)
_CSS_VALUE = re.compile(r"(?!.*\d{5})[\w\s#%.,()'\"+\-!/]{0,120}")
_SHAPE_RE = {k: re.compile(v, re.IGNORECASE) for k, v in _SHAPES.items()}
_GLOBAL_ATTRIBUTES = set(_SHAPES) | {"style", "title", "alt"} | trackers.IMAGE_ATTRIBUTES
ATTRIBUTES = {"*": _GLOBAL_ATTRIBUTES, "a": {"href"}, "img": {"src"}}
# Every scheme reaches the callback, which decides (and records why a link went).
_SCHEMES = {"http", "https", "cid", "mailto", "data", "javascript", "vbscript", "ftp", "tel",
            "sms", "file", "callto", "skype", "whatsapp", "tg", "viber", "intent"}
# Elements whose end starts a new line of text: an address cannot run across them.
_BLOCKS = frozenset({
    "p", "div", "br", "li", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "ul", "ol", "dl", "dt", "dd", "section", "article", "header",
    "footer", "nav", "aside", "figure", "figcaption", "caption", "details", "summary", "center",
    "address", "body",
})
_VOID = frozenset({"br", "hr", "img", "wbr", "col"})
_HIDDEN_TEXT = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0*)?[a-z%]*\s*(?:;|$)"
    r"|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)", re.IGNORECASE)
_UNSUBSCRIBE = re.compile(
    r"unsubscribe|opt[\s-]?out|manage (?:your )?(?:email )?(?:preferences|subscriptions)|"
    r"abmelden|abbestellen|d[ée]sinscri|d[ée]sabonn|darse de baja|cancelar (?:la )?suscripci|"
    r"annulla (?:l')?iscrizione|disiscriviti|afmelden|uitschrijven|wypisz",
    re.IGNORECASE,
)


@dataclass
class Outcome:
    html: str
    findings: list[Finding] = field(default_factory=list)
    codes: set[str] = field(default_factory=set)  # strip-type rules that removed something


class HtmlRules:
    def __init__(self, text: TextRules, links: LinkRule, trackers_on: bool) -> None:
        self.text = text
        self.links = links
        self.trackers_on = trackers_on
        self._outcome: Outcome | None = None  # of the clean() running now (synchronous)
        self._content_ids: frozenset[str] | None = None
        self._cleaner = nh3.Cleaner(
            tags=set(TAGS), clean_content_tags=set(active.CONTENT_TAGS),
            attributes={k: set(v) for k, v in ATTRIBUTES.items()},
            attribute_filter=self._attribute, strip_comments=True, link_rel=None,
            url_schemes=set(_SCHEMES),
        )

    def clean(self, source: str, content_ids: frozenset[str] | None = None) -> Outcome:
        """Sanitize one HTML part. content_ids: the message's parts an inline image may show
        (None: any); an image of a part that is not there (a GIF removed) goes too."""
        source = re.sub("[\udc80-\udcff]", "\ufffd", source)  # undecodable bytes
        outcome = Outcome("")
        lowered = source.lower()
        if "<script" in lowered or "<form" in lowered or "<iframe" in lowered \
                or "<object" in lowered or "<embed" in lowered or "<base" in lowered:
            outcome.codes.add("html.active")
        if "<link" in lowered or ("<style" in lowered and trackers.fetches(lowered)) or any(
                f"<{tag}" in lowered for tag in ("svg", "picture", "video", "audio", "image")):
            outcome.codes.add("image.tracker")  # nh3 removes these whole, unseen by the callback
        if "<noscript" in lowered or "<template" in lowered:
            outcome.codes.add("html.active")
        if "<area" in lowered:
            outcome.findings.append(Finding(0, 0, "link.external"))
        self._outcome = outcome
        self._content_ids = content_ids
        try:
            cleaned = self._cleaner.clean(source)
        finally:
            self._outcome = None
        _Rewriter(self, outcome).run(cleaned)
        return outcome

    def _note(self, code: str) -> None:
        assert self._outcome is not None
        self._outcome.codes.add(code)

    def _attribute(self, tag: str, name: str, value: str) -> str | None:
        """nh3's callback, for every attribute it meets; None drops the attribute."""
        if _runs_code(tag, name, value):
            self._note("html.active")
            return None
        if name == "href":
            return self._href(value)
        if name == "src":
            return self._src(tag, value)
        if name in trackers.IMAGE_ATTRIBUTES:
            return self._tracker(value)
        if name == "style":
            return self._style(value)
        if name in ("alt", "title"):
            return self._text_attribute(value)
        return _shaped(name, value)

    def _src(self, tag: str, value: str) -> str | None:
        """An image's source: a remote one is a tracker, one of this message's parts stays
        while that part is there. A src on anything but <img> goes."""
        if tag != "img":
            return None
        if trackers.remote(value):
            return self._tracker(value)
        if self._content_ids is not None and \
                unquote(value.strip()[4:]).strip("<>").lower() not in self._content_ids:
            return None  # its part is gone
        return value

    def _text_attribute(self, value: str) -> str:
        """alt and title: text a reader sees, redacted like the rest."""
        new, findings = self.text.redact(value)
        assert self._outcome is not None
        self._outcome.findings.extend(findings)
        return new

    def _tracker(self, value: str) -> str | None:
        if not self.trackers_on:
            return value
        self._note("image.tracker")
        return None

    def _href(self, url: str) -> str | None:
        mailto = url.strip().lower().startswith("mailto:")
        if not _UNSUBSCRIBE.search(url) and (
                self.links.allowed_url(url) or (mailto and self.text.email.own_mailto(url))):
            # An allowed link keeps its host and path; a query value with a contact goes.
            found = [] if mailto else self.text.query_contacts(url)
            for start, end, code in reversed(found):
                url = url[:start] + url[end:]
                assert self._outcome is not None
                self._outcome.findings.append(Finding(0, 0, code))
            return url
        assert self._outcome is not None
        code = "contact.email" if mailto else "link.external"
        if url.strip().lower().startswith(("javascript:", "vbscript:")):
            self._note("html.active")
        self._outcome.findings.append(Finding(0, 0, code))
        return None

    def _style(self, css: str) -> str | None:
        kept = []
        for declaration in css.split(";"):
            prop, _, value = declaration.partition(":")
            if active.runs_code(declaration):
                self._note("html.active")
            elif "\\" in declaration or "/*" in declaration:
                self._note("html.active")  # escapes and comments hide url() and expression()
            elif trackers.fetches(declaration) and self.trackers_on:
                self._note("image.tracker")
            elif _CSS_PROPERTY.fullmatch(prop.strip()) and _CSS_VALUE.fullmatch(value.strip()):
                kept.append(f"{prop.strip()}:{value.strip()}")
        return "; ".join(kept) or None


def _runs_code(tag: str, name: str, value: str) -> bool:
    """An event handler, any attribute of an active element, or a <meta> refresh."""
    return active.handler(name) or (tag in active.TAGS and tag != "meta") or (
        tag == "meta" and name == "http-equiv" and value.lower() == "refresh")


def _shaped(name: str, value: str) -> str | None:
    """A presentational attribute, kept only in the shape its values have (_SHAPES)."""
    shape = _SHAPE_RE.get(name)
    return value if shape is not None and shape.fullmatch(value.strip()) else None


class _Rewriter(HTMLParser):
    """Re-serializes nh3's output: drops hidden images and unsubscribe links, and applies
    the text rules to the text, which it sees as one string with a newline per block."""

    def __init__(self, rules: HtmlRules, outcome: Outcome) -> None:
        super().__init__(convert_charrefs=True)
        self.rules = rules
        self.outcome = outcome
        self.out: list[str] = []  # markup, and None-marked slots for text
        self.texts: list[tuple[int, str]] = []  # (index in out, decoded text)
        self.anchor: int | None = None  # where the open <a> began in out
        self.hidden = 0  # depth inside an element nobody sees: its text is dropped
        # Shipment numbers the allowed links carry: the anchor's text quotes them
        # (<a href="https://www.dhl.com/...?tracking-id=4829106742">4829106742</a>).
        self.shipments: set[str] = set()

    def run(self, source: str) -> None:
        self.feed(source)
        self.close()
        self._apply_text_rules()
        self.outcome.html = "".join(self.out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self.hidden or (tag not in _VOID and _HIDDEN_TEXT.search(values.get("style", ""))):
            # Hidden text reads as nothing and splits what is shown: "+49 176 <span
            # style=display:none>Q</span>1234 5678" shows a phone number. It goes.
            self.hidden += tag not in _VOID
            return
        if tag == "img" and (
                "src" not in values or (self.rules.trackers_on and trackers.hidden(values))):
            if "src" in values:
                self.outcome.codes.add("image.tracker")
            return
        if tag == "a":
            self.anchor = len(self.out)
            href = values.get("href", "")
            if href and self.rules.links.allowed_url(href):
                self.shipments |= self.rules.text.link_numbers(href)
        rendered = "".join(f' {k}="{html.escape(v)}"' for k, v in attrs if v is not None)
        self.out.append(f"<{tag}{rendered}>")
        if tag in _BLOCKS:
            self._text("\n", markup=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if self.hidden:
            self.hidden -= 1
            return
        self.out.append(f"</{tag}>")
        if tag == "a" and self.anchor is not None:
            self._drop_unsubscribe(self.anchor)
            self.anchor = None
        if tag in _BLOCKS:
            self._text("\n", markup=True)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._text(data)

    def _text(self, data: str, markup: bool = False) -> None:
        # Block breaks are text for matching only: they take no room in the output.
        self.texts.append((len(self.out), data))
        self.out.append("" if markup else html.escape(data, quote=False))

    def _drop_unsubscribe(self, start: int) -> None:
        words = "".join(t for i, t in self.texts if i >= start)
        if _UNSUBSCRIBE.search(words):
            del self.out[start:]
            self.texts = [(i, t) for i, t in self.texts if i < start]
            self.outcome.findings.append(Finding(0, 0, "link.external"))

    def _apply_text_rules(self) -> None:
        joined = "".join(t for _, t in self.texts)
        findings = self.rules.text.find(joined, self.shipments)
        if not findings:
            return
        self.outcome.findings.extend(findings)
        # Each text piece gets the part of each finding that falls in it; the marker goes
        # where the finding starts.
        position = 0
        for index, piece in self.texts:
            end = position + len(piece)
            self.out[index] = _edit_piece(piece, position, end, findings, self.out[index])
            position = end


def _edit_piece(piece: str, start: int, end: int, findings: list[Finding],
                rendered: str) -> str:
    if not any(f.start < end and f.end > start for f in findings):
        return rendered
    if rendered == "" and piece == "\n":
        return rendered  # a block break: nothing to cut
    out: list[str] = []
    at = start
    for f in findings:
        if f.end <= start or f.start >= end or f.end <= at:
            continue  # outside this piece, or inside a finding already cut (an emoji)
        cut_from, cut_to = max(f.start, start, at), min(f.end, end)
        out.append(html.escape(piece[at - start:cut_from - start], quote=False))
        if f.start >= start:
            out.append(html.escape(marker(f.code), quote=False))
        at = cut_to
    out.append(html.escape(piece[at - start:], quote=False))
    return "".join(out)
