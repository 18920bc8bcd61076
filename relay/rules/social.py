"""contact.social: social handles and messenger contacts.

Messenger and profile links with or without a scheme ("t.me/sally", "wa.me/49176...",
"instagram.com/sally"), a platform named next to an identifier ("Telegram: sallyshop",
"WeChat ID: sally_wx88", "my insta is @sally_shop"), and a bare "@handle".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Profile and messenger hosts: a link to one is a contact, with or without a scheme.
PROFILE_HOSTS = frozenset({
    "t.me", "telegram.me", "telegram.dog", "wa.me", "api.whatsapp.com", "chat.whatsapp.com",
    "m.me", "fb.me", "fb.com", "facebook.com", "instagram.com", "instagr.am", "tiktok.com",
    "twitter.com", "x.com", "snapchat.com", "linkedin.com", "line.me", "discord.gg",
    "discord.com", "signal.me", "signal.group", "vk.com", "youtube.com", "youtu.be",
    "threads.net", "pinterest.com", "weixin.qq.com", "u.wechat.com", "viber.com", "skype.com",
    "kik.me", "etsy.com", "linktr.ee", "ebay.com", "ebay.de", "ebay.co.uk", "ebay.fr",
})
_PROFILE = re.compile(
    r"(?<![a-z0-9.\-])(?:https?://)?(?P<host>[a-z0-9][a-z0-9.\-]*\.[a-z]{2,})/"
    r"(?:[^\s<>\"'`]+|\s?[\d\s]{6,}\d)",  # "wa.me/ 31 6 4827 1953"
    re.IGNORECASE,
)
_PLATFORMS = (
    r"whats\s?app|wa|telegram|we\s?chat|weixin|signal|insta(?:gram)?|ig|facebook|fb|"
    r"messenger|snap(?:chat)?|tik\s?tok|twitter|skype|viber|discord|kik|linkedin|youtube|"
    r"line(?=,?\s*id\b)|threema|wickr|session(?=\s+id\b)|qq|tg(?=\s*:)"
)
_IDENT = r"(?:live:)?@?[\w][\w.\-]{2,39}"
# Something only a handle looks like: an @, or a digit, underscore, dot or # inside.
_STRONG = r"(?:@[\w][\w.\-]{2,39}|(?:live:)?[a-z][\w\-]*[._\d#][\w.\-#]*)"
# Words that say an identifier follows, in the languages of the corpus.
_KEYWORD = (r"id|i\.d\.|handle|user\s?name|user|account|acc|profile|nick(?:name)?|name|number|"
            r"no\.?|benutzername|nutzername|kennung|nom\s+d'utilisateur|pseudo|identifiant|"
            r"nombre\s+de\s+usuario|usuario|nome\s+utente|utente|gebruikersnaam|naam")
_OWNER = r"(?:(?:my|meine?|mon|ma|mi|il\s+mio|mijn|our|unser(?:e)?)\s+)?"
_SAYS = r"(?:\s*[:=]\s*|\s+(?:is|ist|est|es|è|=)\s+|\s+|\s*-\s*)"
_NAMED = re.compile(
    rf"\b(?:{_PLATFORMS})\b(?:[\s,(-]*{_OWNER}(?:{_KEYWORD})\b{_SAYS}\(?(?P<ident>{_IDENT})"
    rf"|\s*[:=]\s*(?P<after_colon>{_IDENT})"
    rf"|(?:\s+(?:me|us))?[\s,(]*(?:\b(?:at|on|is|via|under|unter|sur|su|op|en)\b)?\s*\(?"
    rf"(?P<strong>{_STRONG}))",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.+\-/])@[a-z_][\w.]{2,29}(?<!\.)(?![\w@\-]|\.\w)", re.IGNORECASE)


class SocialRule:
    code = "contact.social"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if "/" in text:
            for m in _PROFILE.finditer(text):
                host = m.group("host").lower().removeprefix("www.")
                if host in PROFILE_HOSTS:
                    yield m.start(), m.end()
        for m in _NAMED.finditer(text):
            group = next(g for g in ("ident", "after_colon", "strong") if m.group(g))
            ident = m.group(group)
            if group != "strong" and ident.isdigit() and len(ident) < 5:
                continue  # "Signal: 3 bars" is not an ID
            yield m.start(group), m.end(group)
        if "@" in text:
            for m in _HANDLE.finditer(text):
                yield m.start(), m.end()
