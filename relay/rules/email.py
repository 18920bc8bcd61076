"""contact.email: e-mail addresses, also written to slip past a filter.

"sally@gmail.com", "sally at gmail dot com", "sally [at] gmail [dot] com", "sally(at)web(dot)de",
"sally arroba gmail punto com", "mailto:...". Full-width letters, zero-width characters and
HTML entities are undone by the view first. The relay's own addresses are on-platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from relay.rules.carriers import SHIPMENT_NUMBER
from relay.rules.needs import Gated, Gates, StartsAt
from relay.rules.view import folded

_AT_WORDS = (r"at|ät|arroba|arobase|chez|klammeraffe|malpa|małpa|chiocciola|apenstaartje|bei|"
             r"snabel-a|snabela|アットマーク|アット|あっと|골뱅이|at\s+işareti|at-sign|παπάκι|"
             r"zavináč|kukac|krøllalfa|แอท|เอท|afna|majmunica|majmunče|ljokica|艾特|爱特|"
             # Cyrillic words for "@" (a dog, a snail, a monkey) as the view shows them
             + folded(r"собака|собачка|сабачка|равлик|маймунка|мајмунче|кучешка"))
# Only in brackets: "(et)" is "and" elsewhere.
_AT_BRACKETED = r"et|a|@|hjá|hja"
_DOT_WORDS = (r"dot|d0t|dt|punkt|point|punto|ponto|kropka|punt|dott|nokta|piste|prick|ドット|닷|点|"
              r"pika|tocka|točka|tečka|bodka|pont|taškas|punktas|punkts|täpp|prikk|"
              # Azerbaijani, Uzbek, Indonesian, Vietnamese, Tagalog, Swahili, Armenian...
              r"nöqtə|noqta|nuqta|titik|chấm|tuldok|nukta|punktur|կետ|წერტილი|نقطة|نقطه|נקודה|डॉट|"
              + folded(r"точка|кропка|тачка|τελεία|нүкте|нуқта|чекит|цэг"))
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# "@" itself, or an at-word in brackets, or an at-word between spaces or dashes.
_AT = (rf"(?:\s?@\s?|\s*{_OPEN}\s*(?:{_AT_WORDS}|{_AT_BRACKETED})\s*{_CLOSE}\s*"
       rf"|\s+(?:{_AT_WORDS})\s+|\s*-(?:{_AT_WORDS})-\s*)")
# What _AT cannot do without, each found fast by its first character: "@", or an at-word in
# brackets, between spaces or between dashes.
_AT_HINTS = (
    re.compile("@"),
    StartsAt("([{<", re.compile(rf"{_OPEN}\s*(?:{_AT_WORDS}|{_AT_BRACKETED})\s*{_CLOSE}",
                                re.IGNORECASE)),
    Gated(re.compile(rf"\s(?:{_AT_WORDS})\s", re.IGNORECASE)),
    re.compile(rf"-(?:{_AT_WORDS})-", re.IGNORECASE),
)
_DOT_SPELLED = (rf"(?:\s*{_OPEN}\s*(?:{_DOT_WORDS}|\.)\s*{_CLOSE}\s*"
                rf"|\s+(?:{_DOT_WORDS})\s+|\s*-(?:{_DOT_WORDS})-\s*)")
_DOT = rf"(?:\.|{_DOT_SPELLED})"
_WORD = r"[a-z0-9_%+\-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
# In spelled-out forms a hyphen is either inside a word or part of "-dot-"/"-at-", never
# both: the engine then has one way to read "a-dot-a-dot-...", not exponentially many.
_NOT_SEPARATOR = rf"-(?!(?:{_AT_WORDS}|{_DOT_WORDS})-)"
_WORD_S = rf"[a-z0-9_%+]++(?:{_NOT_SEPARATOR}[a-z0-9_%+]++)*+"
_LABEL_S = rf"[a-z0-9]++(?:{_NOT_SEPARATOR}[a-z0-9]++)*+"
# Spelled-out forms need a TLD people actually use: "at home. It" is no address.
_TLDS = (r"com|net|org|edu|gov|info|biz|de|fr|uk|es|it|nl|pl|be|ch|at|eu|us|ca|au|jp|in|io|"
         r"co|me|ru|cn|br|mx|se|dk|no|fi|pt|ie|nz|email|mail|online|shop|store|xyz|app|dev|"
         r"si|hr|ua|by|cz|sk|hu|ro|bg|gr|lt|lv|ee|rs|tr|kz|il|za|kr|tw|hk|sg|ph|ng|ke|ar|cl|pe|vn|th")

_TLDS_NO_WORDS = (r"com|net|org|edu|gov|info|biz|de|fr|uk|es|nl|pl|ch|eu|ca|au|jp|ru|cn|br|mx|se|"
                  r"dk|fi|pt|ie|nz|io|fm|email|online|shop|store|xyz|app|dev")
# Between two labels of a plain address: a dot, spaced ("gmail . com") or not. A dot that
# ends its label and is followed by a space or a line break, then a capital, ends a sentence:
# "bob@gmail.com. Thanks" is an address and the next word, not gmail.com.thanks.
_SEP = r"(?:\s\.\s?|\.(?:\s(?-i:(?![A-Z])))?)"
_PLAIN = Gated(re.compile(
    rf"(?<![a-z0-9_%+\-])(?<![a-z0-9_%+\-]\.)(?P<local>{_WORD}(?:\.{_WORD}){{0,10}})\s?@\s?"
    rf"(?P<domain>{_LABEL}(?:{_SEP}{_LABEL}){{0,8}}{_SEP}[a-z]{{2,24}})(?![a-z0-9\-])",
    re.IGNORECASE,
))
_SPELLED = Gated(re.compile(
    # Bounded repeats: a run of "x dot x dot ..." must not cost quadratic time.
    rf"(?<![a-z0-9._%+\-])(?P<local>{_WORD_S}(?:{_DOT}{_WORD_S}){{0,6}}){_AT}"
    # After a bare "." the TLD must be lower case: "at home.It broke" is a missing space;
    # a spaced " . " only before a TLD that is no word; after "(dot)" any TLD will do.
    rf"(?P<domain>(?!www\.){_LABEL_S}(?:(?:{_DOT}|\s\.\s?){_LABEL_S}){{0,6}}"
    rf"(?:\.(?-i:{_TLDS})|\s\.\s?(?-i:{_TLDS_NO_WORDS})|{_DOT_SPELLED}[a-z]{{2,6}}))"
    r"(?![a-z0-9\-/])",  # "me at t.me/sally" is a link, not an address
    re.IGNORECASE,
), *_AT_HINTS)
_FILES = {"pdf", "png", "jpg", "jpeg", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
          "eml", "ics"}
# Described in words: "saoirse.quill, then the at sign, then gmail.com".
_DESCRIBED = Gated(re.compile(
    r"(?<![\w.+\-])[\w.+\-]{3,64}+[\s,;:]+(?:(?:and\s+)?then\s+|followed\s+by\s+)?(?:the\s+|an?\s+)?"
    r"(?:at[\s-]?sign|at[\s-]?symbol|@[\s-]?sign|at\s+character|klammeraffe|arroba|arobase)"
    r"[\s,;:]+(?:(?:and\s+)?then\s+|followed\s+by\s+)?(?:the\s+domain\s+)?"
    r"[\w\-]+(?:\s?\.\s?[\w\-]+){1,6}",
    re.IGNORECASE,
))
# Mail providers people name instead of writing the domain ("jens.albrecht87 bei gmail",
# "my hotmail is tombaker1985"): the name alone says which address is meant.
PROVIDERS = (
    r"g-?mail|googlemail|hotmail|msn|yahoo|ymail|icloud|me\.com|aol|gmx|web\.de|"
    r"t-online|freenet|posteo|mailbox\.org|wanadoo|free\.fr|laposte|sfr|libero|virgilio|web\sde|"
    r"tiscali|tin\.it|proton(?:mail)?|pm\.me|tutanota|fastmail|zoho|mail\.ru|yandex|"
    r"qq|163|126|sina|naver|daum|hanmail|seznam|wp\.pl|onet|interia|ziggo|kpn|"
    r"telenet|skynet|bluewin|yahoo\.co\.jp|docomo|ezweb|softbank|rediffmail|"
    r"bredband|comhem|btinternet|virginmedia|comcast|verizon|gmx\.net|outlook|sapo|jubii|"
    r"wp|o2\.pl|op\.pl|centrum\.cz|email\.cz|post\.cz|otenet|forthnet|abv\.bg|citromail|"
    r"freemail|inbox\.lv|ukr\.net|hotmail\.co\.uk|yahoo\.co\.uk|mail\.com|"
    r"네이버|지메일|한메일|야후|ネイバー|ヤフー|ジーメール|"
    # Written in other scripts ("على جيميل", "בג'ימייל", "จีเมล"), Cyrillic as the view folds it
    + folded(r"جيميل|جي\s?ميل|جيمايل|هوتميل|هوتمايل|ياهو|أوتلوك|ג'ימייל|גימייל|הוטמייל|יאהו|"
             r"אאוטלוק|จีเมล|ฮอตเมล|ยาฮู|जीमेल|याहू|हॉटमेल|джимейл|гмейл|гмайл|яху|хотмейл|"
             r"аутлук|яндекс|гмаил|гмејл|џимејл|хотмејл|γκμέιλ|τζιμέιλ")
)
# Providers whose name is also a word ("in orange", "live", "sky"): only after an at-word.
_WORDLIKE_PROVIDERS = r"orange|live|sky|alice|bol|kakao|nate|o2|telia"
_HANDLE = r"[a-z0-9][a-z0-9._\-]{1,40}[a-z0-9]"
# A handle only an address looks like: a dot, underscore, dash or digit inside.
_STRONG_HANDLE = r"[a-z0-9]+(?:[._\-][a-z0-9]+)+|[a-z]+\d+[a-z0-9]*|\d+[a-z]+[a-z0-9]*"
# "<user> bei/en/chez/at/on/sur/auf/su/op/på/em/na/w/@ <provider>"
_USER_AT_PROVIDER = re.compile(
    rf"(?<![\w.@+\-])(?P<user>{_STRONG_HANDLE})[)»\"'\u201d]?\s*(?:{_OPEN}\s*)?(?:(?:@|at|bei|auf|en|chez|"
    rf"sur|on|su|op|på|em|na|w|di|an|in|no|bij|hos|σε|στο)(?:\s*{_CLOSE})?\s+(?:der\s+|la\s+)?"
    rf"(?:{PROVIDERS}|{_WORDLIKE_PROVIDERS}|onet\w{{0,4}})|(?:@|at|bei|chez|arroba|arobase)(?:\s*{_CLOSE})?\s*"
    rf"(?:{_WORDLIKE_PROVIDERS}))\b",
    re.IGNORECASE,
)
# "my gmail is <user>", "mi hotmail: <user>", "gmail: <user>", "on gmail as <user>"
_PROVIDER_USER = re.compile(
    rf"\b(?:{PROVIDERS})\b(?:[\s\-]*(?:address|adresse|adres|account|konto|compte|cuenta|conta|"
    rf"correo|mail|e-?mail|id|name|handle|user(?:name)?))?\s*[\u2014\u2013,\-]?\s*"
    rf"(?:it's|it\s+is|that's|c'est|das\s+ist)?\s*(?:[:=]|\s?(?:is|ist|es|est|è|é|är|"
    rf"er|jest|to|as|als|comme|como|come|under|unter|sous|op|:)\b[\s:]*)?\s*"
    rf"(?P<user>(?=[\w.\-]*[a-z])(?:{_STRONG_HANDLE}))(?![\w@])",
    re.IGNORECASE,
)
# A provider named, then within a few words a handle only an address looks like (a dot or
# underscore inside, or letters then digits): "στο gmail μου, είναι nikos.papadakis.ath".
# Only names that mean nothing else: "163", "wp" or "sky" may stand near a model number.
_MAIL_BRANDS = "|".join(w for w in PROVIDERS.split("|") if (len(w) > 4 and not w.isdigit())
                        or w in ("gmx", "sapo", "naver") or not w.isascii())
_PROVIDER_NEAR = re.compile(
    rf"\b(?:{_MAIL_BRANDS})\b[^\n@.!?]{{0,40}}?(?<![\w.\-])"
    r"(?P<user>[a-z][a-z0-9]*(?:[._][a-z0-9]+)+|[a-z]{3,}_?\d{2,})(?![\w@])",
    re.IGNORECASE,
)
# Spelled out before a provider: "sabine punkt ott bei web de", "pilar guion bajo rios
# arroba gmail", "francesca punto bellini 90 su libero".
_JOIN_WORDS = (rf"{_DOT_WORDS}|underscore|unterstrich|guion\s+bajo|guión\s+bajo|"
               r"trattino(?:\s+basso)?|tiret(?:\s+bas)?|bindestrich|hyphen|dash|guion|guión|"
               r"podkreślnik|myślnik|understreck|streck|sublinhado|hífen|traço|liggende\s+streg")
_SPELLED_USER = re.compile(
    rf"(?<![\w.@])(?P<user>[a-z0-9]{{2,30}}(?:\s+(?:{_JOIN_WORDS})\s+[a-z0-9]{{1,30}}){{1,4}}"
    rf"(?:\s+\d{{1,4}})?)\s*(?:{_OPEN}\s*)?(?:@|{_AT_WORDS}|en|su|sur|auf|on|op|på|em|na|w|"
    rf"no|hos|bij|in|di)(?:\s*{_CLOSE})?\s+(?:{PROVIDERS}|{_WORDLIKE_PROVIDERS})\b",
    re.IGNORECASE,
)
# "il mio indirizzo è g.santoro74", "meine Mailadresse ist tanja_roeder", "o usuário é ...":
# an address announced, its domain left out or written elsewhere.
_ANNOUNCED = Gated(re.compile(
    r"\b(?:e-?mail|mail|correo|courriel|mailadresse|e-?mail-?adresse|adresse(?:\s+(?:e-?)?mail)?|"
    r"indirizzo(?:\s+e-?mail)?|endereço(?:\s+de\s+e-?mail)?|adres(?:\s+e-?mail)?|"
    r"e-?postadress|usuário|usuario|utilisateur|benutzer|gebruiker|account|konto|compte|cuenta|"
    r"conta|användarnamn\w*|adres\w*|アドレス|メアド|아이디|kullan\u0131c\u0131\s+ad\u0131\w*)"
    r"(?:\b|(?<=[^\x00-\x7f]))"
    r"(?:\s+(?:to\s+write\s+to|perso|personal|privée?|privada|privat|personnelle))?"
    r"\s*(?:[:=\uff1a]|は|는|은|가|이|が|を|\s(?:is|ist|est|es|è|é|är|c'est|lautet|jest|er|to|dat\s+is)\b)?"
    r"\s*[«\"'„“]?\s*"
    # An ordinal is no user ("Royal Mail 2nd Class")
    r"(?!\d{1,3}(?:st|nd|rd|th)\b)"
    rf"(?P<user>(?=[\w.\-]*[a-z])(?:{_STRONG_HANDLE}))(?![\w@])",
    re.IGNORECASE,
))
# "jmgarrido_63 arroba (ya sabe) ...": the user part before an at-word, the rest in riddles.
_BEFORE_AT = Gated(re.compile(
    rf"(?<![\w.@+\-])(?P<user>(?=[\w.\-]*[a-z])(?:{_STRONG_HANDLE}))[)»\"']?\s*"
    rf"(?:{_OPEN}\s*)?(?:@|arroba|arobase|ät|klammeraffe|małpa|malpa|chiocciola|"
    rf"apenstaartje|골뱅이|あっと|アットマーク|アット|παπάκι|zavináč|snabel-?a)(?:\s*{_CLOSE})?"
    r"(?![a-z0-9_])",
    re.IGNORECASE,
))
# With mail talk about, a handle alone on its line (or after "first half:") is the user part.
_MAIL_TALK = re.compile(rf"e-?mail|\bmail|correo|courriel|indirizzo|endereço|メール|邮箱|이메일|"
                        rf"{PROVIDERS}", re.IGNORECASE)
_LONE_HANDLE = Gated(re.compile(
    r"^(?:[^\n]{0,200}?[:\uff1a][ \t]*|[ \t]*)"
    r"(?P<user>[.@]?[a-z][a-z0-9]*(?:[._][a-z0-9]+)+)[ \t\r]*$"
    r"|^[ \t]*(?P<part>[.@][a-z0-9][a-z0-9._]*)[ \t\r]*$",
    re.IGNORECASE | re.MULTILINE,
), re.compile(r"[._@][a-z0-9._]*[ \t\r]*$", re.IGNORECASE | re.MULTILINE))  # what each holds
# user@[192.0.2.1], user@[IPv6:2001:db8::1]: an address literal; user%host@relay: source route.
_LITERAL = re.compile(r"[\w.%+\-]{1,64}\s?@\s?\[[0-9a-f.:]{2,60}\]|[\w.%+\-]{1,64}\s?@\s?\[IPv6:"
                      r"[0-9a-f.:]{2,60}\]", re.IGNORECASE)
# A contact card pasted as text: every line of it is a contact detail.
_VCARD = re.compile(r"BEGIN:VCARD.{0,4000}?(?:END:VCARD|\Z)", re.IGNORECASE | re.DOTALL)
_MAILTO = Gated(re.compile(r"mailto:(?!\u2591)[^\s<>\"']*", re.IGNORECASE))  # masked: own
# An address broken over lines: "matilda.\nholm\n@\ngmail\n.com"
_SPLIT = re.compile(
    r"^[ \t]*(?:[a-z0-9._%+\-]{1,40}[ \t\r]*\n[ \t]*){1,5}@[ \t\r]*\n?[ \t]*[a-z0-9\-]{1,40}"
    r"(?:[ \t\r]*\n?[ \t]*\.[ \t]*[a-z0-9\-]{1,20}){1,3}",
    re.IGNORECASE | re.MULTILINE,
)
# An "@" inside a word whose right side has no dot: a payment address ("rohitk.88@okicici",
# a UPI ID), an address with its domain's ending left out, or one written backwards
# ("se.kooltuo@0991mgarual"). Three letters or more on each side: "2@5.99" is a price,
# "4K@60Hz" a video mode.
_NO_DOT_DOMAIN = re.compile(
    r"(?<![\w@.+\-/:%])(?=(?:[\w.+\-]*[^\W\d_]){3})[\w.+\-]{3,64}@"
    r"(?=(?:[\w\-]*[^\W\d_]){3})[\w\-]{3,40}(?![\w@\-]|\.\w)", re.IGNORECASE)
# Cheap test for text where no spelled-out address can be: no dot-word, no ".tld".
_MAY_SPELL = re.compile(rf"\b(?:{_DOT_WORDS})\b|\.\s?(?:{_TLDS})\b|{_OPEN}\s*\.\s*{_CLOSE}",
                        re.IGNORECASE)
_SPACES_AND_DOTS = re.compile(rf"\s+|{_DOT_SPELLED}", re.IGNORECASE)


def _file_extension(domain: str) -> int:
    """Length of a file extension glued to an address ("bob@mail.example.pdf"), or 0."""
    head, _, extension = domain.rpartition(".")
    return len(extension) + 1 if extension.lower() in _FILES and "." in head else 0


_ROUTED = re.compile(r"[%!]")
_ROUTE = re.compile(r"[\w.+\-]{1,64}[%!][\w.%!+\-]{1,200}@", re.IGNORECASE)


# Cheap tests before the costly patterns.
_PROVIDER_STEMS = (*dict.fromkeys(
    w.replace("\\", "").replace("-?", "").replace("(?:mail)?", "")
    for w in PROVIDERS.split("|")), "onet", "web de")
_MAIL_STEMS = ("mail", "correo", "courriel", "indirizzo", "endereço", "adres", "usuário",
               "usuario", "utilisateur", "benutzer", "gebruiker", "account", "konto", "compte",
               "cuenta", "conta", "användarnamn", "アドレス", "メアド", "メール", "邮箱", "아이디",
               "이메일", "kullan")
_AT_STEMS = ("@", "arroba", "arobase", "ät", "klammeraffe", "małpa", "malpa", "chiocciola",
             "apenstaartje", "골뱅이", "あっと", "アット", "παπάκι", "zavináč", "snabel")


_PROVIDER_WORD = Gated(re.compile(rf"\b(?:{PROVIDERS}|{_WORDLIKE_PROVIDERS}|onet\w{{0,4}})\b",
                                  re.IGNORECASE))
_NEAR_PROVIDER = (_USER_AT_PROVIDER, _PROVIDER_USER, _PROVIDER_NEAR, _SPELLED_USER)


def _windows(found: Iterator[re.Match[str]], length: int) -> list[tuple[int, int]]:
    """Stretches around each provider's name, wide enough for every form around one (a
    spelled-out user part before it, a handle a few words after it), overlaps merged."""
    out: list[tuple[int, int]] = []
    for m in found:
        start, end = max(0, m.start() - 300), min(length, m.end() + 200)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _mentions(lowered: str, stems: tuple[str, ...]) -> bool:
    return any(stem in lowered for stem in stems)


_GATES = Gates(_PLAIN, _SPELLED, _DESCRIBED, _ANNOUNCED, _BEFORE_AT, _LONE_HANDLE, _MAILTO,
               _PROVIDER_WORD)


def _near_provider(text: str) -> Iterator[tuple[int, int]]:
    """The patterns around a provider's name, run only near one: a window each side."""
    for start, end in _windows(_PROVIDER_WORD.finditer(text), len(text)):
        for pattern in _NEAR_PROVIDER:
            for m in pattern.finditer(text, start, end):
                if pattern is _PROVIDER_NEAR and _file_extension("x." + m.group("user")):
                    continue  # "the outlook invite.ics": a file, not a mailbox
                yield m.start("user"), m.end("user") if pattern not in (
                    _USER_AT_PROVIDER, _SPELLED_USER) else m.end()


class _Named:
    """Whether a text (lowered) names a provider, mail or an at-word: asked only where a
    pattern that needs it could match at all (most texts name none), each once."""

    def __init__(self, lowered: str) -> None:
        self.lowered = lowered
        self.asked: dict[tuple[str, ...], bool] = {}

    def __call__(self, stems: tuple[str, ...]) -> bool:
        if stems not in self.asked:
            self.asked[stems] = _mentions(self.lowered, stems)
        return self.asked[stems]

    def provider(self) -> bool:
        return self(_PROVIDER_STEMS) or self(_WORDLIKE_STEMS)


_WORDLIKE_STEMS = ("orange", "live", "sky", "alice", "bol", "kakao", "nate", "o2", "telia")


class EmailRule:
    code = "contact.email"

    def __init__(self, own_domain: str) -> None:
        self.own_domain = own_domain.lower()

    def _own(self, domain: str) -> bool:
        domain = _SPACES_AND_DOTS.sub(".", domain).strip(".").lower()
        # An alias as a file name ("alias@relay.example.pdf") is still the alias.
        head, _, extension = domain.rpartition(".")
        return domain == self.own_domain or (head == self.own_domain and extension in _FILES)

    def own(self, text: str) -> Iterator[tuple[int, int]]:
        """The relay's own addresses: on-platform, never redacted. A local part with "%" or
        "!" routes on to another host ("sally%real.example@relay"): not ours."""
        return ((m.start(), m.end()) for m in _PLAIN.finditer(text)
                if self._own(m.group("domain")) and not _ROUTED.search(m.group("local"))
                and text[max(0, m.start() - 1):m.start()] not in ("%", "!"))

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        _GATES.ask(text)
        patterns = [_PLAIN] if "@" in text else []
        if _SPELLED.may_match(text) and _MAY_SPELL.search(text):
            patterns.append(_SPELLED)
        for pattern in patterns:
            for m in pattern.finditer(text):
                if not self._own(m.group("domain")) or _ROUTED.search(m.group("local")):
                    yield m.start(), m.end() - _file_extension(m.group("domain"))
        if "@" in text:
            if "\n" in text:
                for m in _SPLIT.finditer(text):
                    yield m.start(), m.end()
            for m in _LITERAL.finditer(text):
                yield m.start(), m.end()
            for m in _ROUTE.finditer(text):  # "sally%real.example@" before the domain
                yield m.start(), m.end()
            for m in _NO_DOT_DOMAIN.finditer(text):
                yield m.start(), m.end()
        named = _Named(text.lower())
        patterns = [p for p, stems in ((_ANNOUNCED, _MAIL_STEMS), (_BEFORE_AT, _AT_STEMS))
                    if p.may_match(text) and named(stems)]
        for pattern in patterns:
            for m in pattern.finditer(text):
                if not SHIPMENT_NUMBER.fullmatch(m.group("user")):
                    yield m.start("user"), m.end("user")
        if _PROVIDER_WORD.may_match(text) and named.provider():
            yield from _near_provider(text)
        if "\n" in text and _LONE_HANDLE.may_match(text) and (
                named(_MAIL_STEMS) or named.provider()):
            for m in _LONE_HANDLE.finditer(text):
                group = "user" if m.group("user") else "part"
                if m.group(group).rpartition(".")[2].lower() not in _FILES:
                    yield m.start(group), m.end(group)
        for m in _DESCRIBED.finditer(text):
            yield m.start(), m.end()
        if "VCARD" in text.upper():
            for m in _VCARD.finditer(text):
                yield m.start(), m.end()
        for m in _MAILTO.finditer(text):
            if not self.own_mailto(m.group(0)):
                yield m.start(), m.end()

    def own_mailto(self, url: str) -> bool:
        """A mailto: link to one of the relay's addresses (and to nobody else besides)."""
        addresses = unquote(url.strip()[7:].split("?")[0]).split(",")
        return all("@" in a and self._own(a.rpartition("@")[2]) for a in addresses)
