"""The text rules together: contact details, links and emoji found in one pass over a text.

Allowed links and the relay's own addresses are masked before the other rules look, so the
digits of a carrier's tracking link are not taken for a phone number.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

import phonenumbers

from relay.config import RulesSettings
from relay.rules.accounts import AccountRule
from relay.rules.address import ACCESS_BEFORE, AddressRule, way_after
from relay.rules.carriers import CARRIER_HOSTS, SHIPMENT_NUMBER
from relay.rules.contact_model import ContactModel
from relay.rules.email import EmailRule
from relay.rules.emoji import EmojiRule, separators
from relay.rules.findings import Finding, apply, merge
from relay.rules.intent import IntentRule
from relay.rules.links import LinkRule
from relay.rules.meeting import MeetingRule
from relay.rules.phone import MASK, PhoneRule, called_before, caller_name, mobile_in
from relay.rules.pieces import PiecesRule
from relay.rules.regions import suggested
from relay.rules.social import SocialRule
from relay.rules.view import View, view

# A query value in an allowed link ("...track?tracknum=1Z...&email=sally%40gmail.com"): the
# host and path stay, a value that holds a contact detail goes. Keys that name a person or a
# way to reach one go whatever their value looks like.
_QUERY_VALUE = re.compile(r"[?&;#](?P<key>[^=&;#?\s]{1,40})=(?P<value>[^&;#\s]*)")
_CONTACT_KEYS = re.compile(
    r"mail|phone|tel|mobil|cell|fax|whatsapp|contact|name|user|login|addr|street|zip|postcode|"
    r"sender|recipient|receiver|notify|sms|handle|telegram|wechat|skype|viber|signal|^wa$|"
    r"^line$|^cb$|^hp$|^sdt$|^kin$|^tlf$|^puh|^gsm|mob|^nr_?tel|^numar|^telefono|^celular|"
    r"t[aā]lr|kontakt|^nom$|^nome$|^nombre$|^naam$|^navn$|^namn$|^nimi$|^jm[eé]no$|^meno$|"
    r"^imi[eę]$|^ime$|^isim$|"
    r"^f[oó]n$|^uimh|"
    # Messengers and "call me" said in a key ("whats=", "bel=", "rappel=", "requester=")
    r"whats|zalo|kakao|^cel$|^bel$|rappel|ligar|llam|chiam|anruf|callback|requester|^ph$|"
    r"r[uü]e?ckruf|notif|^simu$|^utas$|mugikor|^s[ií]mi$|^s[ií]man[uú]mer|^tikkie|"
    # Sender and recipient in other languages ("avsandare=", "empfaenger=", "nadawca=")
    r"avs[aä]ndare|mottagare|absender|empf[aä]e?nger|remitente|destinatari|mittente|"
    r"exp[eé]diteur|nadawca|odbiorca|afzender|ontvanger|pengirim|penerima|^nguoi$|"
    # A telephone and a house in other languages ("tilefono=", "huisnummer=", "strasse=")
    r"tilef|thlef|huisnummer|hausnummer|housenumber|straat|stra(?:ss|ß)e|fone|^cep$|^end$|"
    r"adres|adress|direcc|indirizz|endere",
    re.IGNORECASE,
)
_KEY_JOINER = re.compile(r"[_\-.]")


def _key_words(key: str) -> list[str]:
    """A query key and, where it joins words, each word: "sdt_nguoi_gui" is a phone
    ("sdt") of a sender, "hp_pengirim" a sender's handphone."""
    return [key, *_KEY_JOINER.split(key)] if _KEY_JOINER.search(key) else [key]


# A number after a word that says whose or what it is, in a value ("hivj:06301234567",
# "wa:+971...", "contacto:+34...").
_SAID_NUMBER = re.compile(r"[^\W\d_]{1,12}\s?[:=]\s?\+?[\d\s\-()]{7,20}")
# Keys whose values are a carrier's own numbers.
_SHIPMENT_KEY = re.compile(
    r"(?i)track|trk|trace|awb|barcode|code|(?:^|_)id$|^id|number|^nr|^no$|ship|parcel|consign|"
    r"waybill|wbl|item|piece|search|query|^q$|^s$|^tn$|^cn$|mailno|objeto|cargo|order|match|"
    r"sendung|colis|envio|pedido|lahetys|zasilk")
# A run of digits inside a value of words and digits: read alone for a mobile number.
_GLUED_RUN = re.compile(r"(?<=[^\W\d_\-])\d{8,13}(?!\d)|(?<=[^\W\d_]-)\d{8,13}(?!\d)")
_VALUE_WORD = re.compile(r"[^\W\d_]+")
# A value of words (two or more), or one word of a script without capitals: a name.
_NAME_VALUE = re.compile(r"[^\W\d_][\w.'\u2019\-]*(?:[ ,]+[^\W\d_][\w.'\u2019\-]*)+"
                         r"|[^\W\d_a-zA-Z\u00c0-\u024f\u0370-\u04ff]{2,}")
# Keys whose values are words but no one's: a language, a country, a page's settings.
_PLAIN_KEY = re.compile(r"(?i)lang|locale|country|region|site|page|tab|view|type|service|"
                        r"product|status|submit|action|mode|sort|filter|format|currency|utm|^q$")
_INTERNATIONAL = re.compile(r"\+\s?\d[\d\s\-()]{7,}")
# A value that spells its digits in percent escapes ("%30%39%31...") or writes a number with
# phone punctuation ("0812%2D8844%2D3190", "(11)%2097412-6608"): carriers' numbers need
# neither, a number smuggled past the rules does.
_ESCAPED_DIGIT = re.compile(r"%3[0-9]", re.IGNORECASE)
_PUNCTUATED_NUMBER = re.compile(r"\(?\d[\d\s\-()./]{6,20}\d")
# A value in base64 ("ref=bWFub2oucmFvQGdtYWlsLmNvbQ%3D%3D"): what it decodes to is read too.
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{12,}={0,2}")
# A shipment number: the digits of an allowed link's path or of a query value whose key names
# no contact ("https://www.posti.fi/track/JJFI64123450012345678", "?barcode=9234...").
_LINK_NUMBER = re.compile(r"(?<![0-9])[0-9]{8,24}(?![0-9])")
# The same number in the text, written as one run or in groups of digits.
_RUN_GAPS = "[ \u00a0\\-.]?"


def _decoded(raw: str) -> str:
    """A query value as its reader gets it: percent escapes undone, twice over if need be
    ("paolo.greco%2540libero.it"), and a base64 value that decodes to text given as that."""
    value = unquote_plus(raw)
    for _ in range(2):
        if "%" not in value or (again := unquote_plus(value)) == value:
            break
        value = again
    value = value.strip()
    if _BASE64.fullmatch(value) and not value.isdigit() and not value.isalpha():
        try:
            text = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_",
                                    validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return value
        if text.isprintable():
            return text
    return value


def allowed_hosts(settings: RulesSettings, domain: str) -> tuple[str, ...]:
    carriers = CARRIER_HOSTS if settings.carrier_link_hosts else ()
    return (domain, settings.marketplace_domain, *carriers, *settings.allowed_link_hosts)


# A bare run of digits (no "+", no brackets): what an order, serial or reference number
# after a label the phone rule's lists lack looks like too.
_BARE = re.compile(r"[\s\d\-.]+")


_HOST = re.compile(r"(?:[a-z][a-z0-9+.\-]*://)?(?P<host>[^/?#:\s]+)", re.IGNORECASE)


def _host_region(url: str) -> str | None:
    """The region a link's country domain names ("aramex.co.za": ZA), if it has one."""
    m = _HOST.match(url)
    tld = m.group("host").rsplit(".", 1)[-1].upper() if m else ""
    tld = "GB" if tld == "UK" else tld
    return tld if len(tld) == 2 and tld in phonenumbers.SUPPORTED_REGIONS else None


def _bare(text: str, start: int, end: int) -> bool:
    """A run of digits with nothing that makes it a phone number: no "+", no area code in
    brackets. A run bracketed whole is bare too ("MX Master 3S (910-006559)")."""
    if text.startswith("(", start) and text.startswith(")", end):
        start += 1
    return _BARE.fullmatch(text, start, end) is not None


def _in_ordinary(start: int, end: int, sentences: list[tuple[int, int, float, list[str]]],
                 below: float) -> bool:
    """Whether start..end lies in a sentence the model reads as plainly ordinary."""
    return any(s <= start < e and score < below for s, e, score, _ in sentences)


# A quoted title: a book, record or film named after a street ("Il ragazzo della via Gluck",
# « Double assassinat dans la rue Morgue »).
_QUOTED = re.compile('"[^"\n]{1,80}"|\u201c[^\u201d\n]{1,80}\u201d|\u201e[^\u201c\u201d\n]{1,80}'
                     '[\u201c\u201d]|\u00ab[^\u00bb\n]{1,80}\u00bb|\u300c[^\u300d\n]{1,80}\u300d'
                     # In single quotes: opened before a word, closed after one, so that an
                     # apostrophe ("the shop's on") opens nothing
                     "|(?<![\\w'])['\u2018](?=\\w)[^'\u2018\u2019\\n]{1,80}(?<=[\\w.!?])['\u2019](?!\\w)")


def _in_title(text: str, start: int, end: int) -> bool:
    """Whether a street without a number lies inside quotation marks on its line: a title."""
    if any(c.isdigit() for c in text[start:end]):
        return False
    line = text.rfind("\n", 0, start) + 1
    stop = text.find("\n", end)
    return any(m.start() < start - line and end - line < m.end()
               and not ACCESS_BEFORE.search(text, max(line, line + m.start() - 40),
                                            line + m.start())
               for m in _QUOTED.finditer(text[line:stop if stop >= 0 else len(text)]))


def _mask_numbers(text: str, numbers: set[str]) -> str:
    """Mask each of `numbers` where the text writes it, whole or in digit groups."""
    for number in numbers:
        pattern = re.compile("(?<![0-9])" + _RUN_GAPS.join(number) + "(?![0-9])")
        text = pattern.sub(lambda m: MASK * len(m.group(0)), text)
    return text


class TextRules:
    def __init__(self, settings: RulesSettings, domain: str) -> None:
        self.email = EmailRule(domain)
        self.links = LinkRule(allowed_hosts(settings, domain))
        self.phone = PhoneRule(settings.phone_regions)
        rules = (self.email, SocialRule(), AccountRule(), self.phone, AddressRule(), MeetingRule(),
                 self.links)
        self.rules = tuple(r for r in rules if settings.action(r.code) != "off")
        self.emoji = EmojiRule() if settings.action("style.emoji") != "off" else None
        # Clauses that offer a way to reach someone: a weaker shape is enough there. Each
        # finding carries the code of its cue; a code turned off is kept out.
        self.intent_codes = frozenset(c for c in ("contact.email", "contact.phone",
                                                  "contact.social", "contact.address")
                                      if settings.action(c) != "off")
        self.intent = IntentRule() if self.intent_codes else None
        self.pieces = PiecesRule() if "contact.phone" in self.intent_codes else None
        self.model = ContactModel.load() if settings.contact_model and self.intent_codes \
            else None

    def prepare(self, text: str, shipments: Iterable[str] = ()) -> tuple[View, str, list[Finding]]:
        """The view the rules read (allowed links, their shipment numbers, `shipments` (those
        of links the text came with, as an HTML anchor's href) and the relay's own addresses
        masked), and the contact details found in allowed links' query values."""
        findings: list[Finding] = []
        seen = view(text)
        masked = seen.text
        if not masked.isascii():
            # Emoji between digit groups ("0176📞1234📞5678") separate them like spaces:
            # stripped later, they must not glue the digits into a clean number.
            masked = separators(masked)
        allowed = list(self.links.allowed_spans(masked))
        for start, end in allowed:
            for vs, ve, code in self.query_contacts(masked[start:end], masked):
                findings.append(Finding(*seen.span(start + vs, start + ve), code))
        numbers = {n for start, end in allowed
                   for n in self.link_numbers(masked[start:end])} | set(shipments)
        for start, end in (*allowed, *self.email.own(masked)):
            masked = masked[:start] + MASK * (end - start) + masked[end:]
        if numbers:
            masked = _mask_numbers(masked, numbers)
        return seen, masked, findings

    def find(self, text: str, shipments: Iterable[str] = (),
             whole_sentences: bool = True) -> list[Finding]:
        """Findings in `text` (original positions), merged and ordered. `shipments`: numbers
        that allowed links the text came with carry (an HTML anchor's text is its href's).
        `whole_sentences=False`: the model does not add sentences (a value that is no prose,
        as a calendar's product name), though it still keeps weak findings out."""
        findings: list[Finding] = []
        if self.rules:
            seen, masked, findings = self.prepare(text, shipments)
            # The model's reading of each sentence: it adds what the rules miss, and keeps
            # the weakest findings (a bare digit run, what the intent layer found) out of
            # sentences it reads as plainly ordinary.
            scored = self.model.scored(masked) if self.model is not None else []
            below = bare = self.model.ordinary_below if self.model is not None else 0.0
            if self.model is not None and self.model.bare_below is not None:
                bare = self.model.bare_below
            # What the pattern rules found, in `masked`: they know a detail's extent. (The
            # intent layer's findings are guesses at one, and hold the model back from
            # nothing.)
            hits: list[tuple[int, int]] = []
            address_hits: list[tuple[int, int]] = []
            for rule in self.rules:
                for start, end in rule.find(masked):
                    if scored and rule is self.phone and _bare(masked, start, end) \
                            and _in_ordinary(start, end, scored, bare) \
                            and not called_before(masked, start):
                        continue
                    if rule.code == "contact.address" and _in_title(masked, start, end):
                        continue
                    hits.append((start, end))
                    if rule is self.phone and (named := caller_name(masked, start)):
                        findings.append(Finding(*seen.span(*named), rule.code))
                    if rule.code == "contact.address":
                        address_hits.append((start, end))
                    findings.append(Finding(*seen.span(start, end), rule.code))
            if self.intent is not None:
                # The model's "plainly ordinary" holds a guess back, unless a pattern rule
                # found a detail in the same sentence ("am Ende vom Birnbaumweg, Hausnummer
                # siebzehn": the street is there, so the number said in words goes too).
                ordinary = [s for s in scored if not any(s[0] <= h < s[1] for h, _ in hits)]
                for start, end, code in self.intent.find_coded(masked):
                    if ordinary and _in_ordinary(start, end, ordinary, below):
                        continue
                    if code in self.intent_codes:
                        findings.append(Finding(*seen.span(start, end), code))
            if self.pieces is not None:  # weak too: a number given in pieces to be joined
                for start, end in self.pieces.find(masked):
                    if not (scored and _in_ordinary(start, end, scored, below)):
                        findings.append(Finding(*seen.span(start, end), self.pieces.code))
            if self.model is not None and whole_sentences:
                # A second look at every sentence: one the model reads as passing a detail
                # goes whole. Where the pattern rules found something in it, the rest stays
                # unless the rest still reads as passing one ("I am @Tyler-Brooks-7 on
                # venmo, or cash app $tbrooks7" says it twice).
                for start, end, score, words in scored:
                    if not self.model.passes(masked[start:end], score):
                        continue
                    inside = [(max(s, start) - start, min(e, end) - start)
                              for s, e in hits if s < end and start < e]
                    code = self.model.code(words)
                    # A sentence read as giving an address, where the patterns found part of
                    # one, goes whole: what they missed of it (a flat, a district, a town
                    # with its postcode) reads as ordinary words alone.
                    if inside and not (code == "contact.address" and any(
                            s < end and start < e for s, e in address_hits)) \
                            and not self.model.passes_without(masked[start:end], inside):
                        continue
                    if code == "contact.address":
                        end = way_after(masked, end)  # "... 600040. Opposite the temple, ..."
                    if code in self.intent_codes:
                        findings.append(Finding(*seen.span(start, end), code))
        if self.emoji is not None:
            findings.extend(Finding(s, e, self.emoji.code) for s, e in self.emoji.find(text))
        return merge(findings)

    def link_numbers(self, url: str) -> set[str]:
        """The digit runs an allowed carrier link carries outside its contact-bearing query
        values: the message quoting the same number quotes its tracking number, not a phone."""
        path, _, query = url.partition("?")
        numbers = set(_LINK_NUMBER.findall(path))
        if query:
            query = "?" + query
            contacts = {start for start, _, _ in self.query_contacts(query)}
            for m in _QUERY_VALUE.finditer(query):
                if m.start("value") not in contacts:
                    numbers.update(_LINK_NUMBER.findall(unquote_plus(m.group("value"))))
        return numbers

    def query_contacts(self, url: str, text: str = "") -> list[tuple[int, int, str]]:
        """Query values of an allowed link that carry a contact detail: (start, end, code).
        A fragment that is no route ("#01912345678", "#hivj:06301234567") is read as a
        value too. `text`: the message the link stands in (its language suggests regions)."""
        values = [(m.start("value"), m.end("value"), m.group("key"), m.group("value"))
                  for m in _QUERY_VALUE.finditer(url)] if "=" in url else []
        hash_at = url.find("#")
        if hash_at >= 0 and not any(c in url[hash_at + 1:] for c in "=/&?"):
            values.append((hash_at + 1, len(url), "", url[hash_at + 1:]))
        found = []
        host_region = _host_region(url) if values else None
        for start, end, key, raw in values:
            value = _decoded(raw)
            if not value:
                continue
            code = None
            if SHIPMENT_NUMBER.fullmatch(value):
                continue  # "MAILNO=RR204819330TW": a postal item's number, whatever the key
            if any(map(_CONTACT_KEYS.search, _key_words(key))):
                code = "contact.phone" if re.search(r"\d{6}", value) else "contact.email" \
                    if "@" in value else "contact.social"
            elif "@" in value:
                code = "contact.email"
            elif _INTERNATIONAL.search(value) or (
                    7 <= sum(c.isdigit() for c in value) <= 15
                    and (_ESCAPED_DIGIT.search(raw)
                         or (_PUNCTUATED_NUMBER.fullmatch(value)
                             and not value.isdigit())
                         or _SAID_NUMBER.fullmatch(value)
                         or (not _SHIPMENT_KEY.search(key)
                             and self._mobile(value, text, host_region)))):
                code = "contact.phone"
            elif not _SHIPMENT_KEY.search(key) and (
                    any(self._mobile(run, text, host_region) for run in _GLUED_RUN.findall(value))
                    or (sum(c.isdigit() for c in value) >= 7
                        and any(map(_CONTACT_KEYS.fullmatch, _VALUE_WORD.findall(value))))):
                # A mobile glued to words ("src=txt0274456789", "ref=call-0803...-for-delivery"),
                # or any number a word says is a phone ("ref=cell-3125550187")
                code = "contact.phone"
            else:
                # A value of words ("call me at (503) 555-0187") is text, and every rule
                # reads it; one token is read by all but the phone rule, since carriers'
                # values are shipment numbers.
                # A value with a path is read by the link rule too ("ref=njuskalo.hr/korisnik/
                # marko"); the phone rule reads one glued to words of another script too
                # ("連絡先080-5555-2468").
                code = next((r.code for r in self.rules
                             if (r.code != "link.external" or "/" in value)
                             and (r is not self.phone or " " in value or not value.isascii())
                             and any(r.find(value))), None)
                if code is None and _NAME_VALUE.match(value) \
                        and not _PLAIN_KEY.search(key):
                    # A person's or a shop's name ("dest=Mme%20Lefebvre", "rcv=สมชาย"):
                    # carriers' own values are numbers and codes, not words.
                    code = "contact.social"
                if code is None and self.model is not None and " " in value:
                    # Words the rules find nothing in are read as a sentence is
                    # ("ret=14, Periyar St, Mylapore, Chennai 600004").
                    code = next((self.model.code(words)
                                 for start, end, score, words in self.model.scored(value)
                                 if self.model.passes(value[start:end], score)), None)
            if code is not None:
                found.append((start, end, code))
        return found

    def _mobile(self, value: str, text: str, host_region: str | None) -> bool:
        """A run of digits that is a mobile number as its owner writes it: with the trunk
        "0" of the link's country, the rules' regions or the text's ("0722123456"), or as the
        link's own country writes its mobiles without one (poste.it: "3398812045"). (With a
        country code and no "+", a carrier's own numbers too often read valid: "12345678901".)"""
        if not value.isdigit() or not 9 <= len(value) <= 13 or value.startswith("00"):
            return False
        # Without a trunk "0" ("rif=3398812045"), only as the link's own country writes it.
        regions = (*((host_region,) if host_region else ()), *self.phone.regions,
                   *(suggested(text) if text else ())) if value[0] == "0" else \
            ((host_region,) if host_region else ())
        return mobile_in(value, dict.fromkeys(regions))

    def redact(self, text: str, whole_sentences: bool = True) -> tuple[str, list[Finding]]:
        findings = self.find(text, whole_sentences=whole_sentences)
        return (apply(text, findings) if findings else text), findings
