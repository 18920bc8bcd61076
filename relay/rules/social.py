"""contact.social: social handles and messenger contacts.

Messenger and profile links with or without a scheme ("t.me/sally", "wa.me/49176...",
"instagram.com/sally"), a platform named next to an identifier ("Telegram: sallyshop",
"WeChat ID: sally_wx88", "my insta is @sally_shop"), and a bare "@handle".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_PROFILE_HOSTS = (
    r"t\.me|telegram\.(?:me|dog)|wa\.me|api\.whatsapp\.com|chat\.whatsapp\.com|m\.me|fb\.me|"
    r"fb\.com|facebook\.com|instagram\.com|instagr\.am|tiktok\.com|twitter\.com|x\.com|"
    r"snapchat\.com|linkedin\.com|line\.me|discord\.gg|discord\.com|signal\.me|signal\.group|"
    r"vk\.com|youtube\.com|youtu\.be|threads\.net|pinterest\.com|weixin\.qq\.com|u\.wechat\.com|"
    r"viber\.com|skype\.com|kik\.me|etsy\.com|ebay\.[a-z.]+|linktr\.ee"
)
_PROFILE = re.compile(
    rf"(?<![a-z0-9.\-])(?:https?://)?(?:www\.)?(?:{_PROFILE_HOSTS})/[^\s<>\"'`]+",
    re.IGNORECASE,
)
_PLATFORMS = (
    r"whats\s?app|wa|telegram|we\s?chat|weixin|signal|insta(?:gram)?|ig|facebook|fb|"
    r"messenger|snap(?:chat)?|tik\s?tok|twitter|skype|viber|discord|kik|linkedin|youtube|"
    r"line\s+id|threema|wickr|session\s+id|qq"
)
_IDENT = r"@?[\w][\w.\-]{2,39}"
# Something only a handle looks like: an @, or a digit, underscore or dot inside.
_STRONG = r"(?:@[\w][\w.\-]{2,39}|(?:live:)?[a-z][\w\-]*[._\d#][\w.\-#]*)"
_SEPARATOR = (r"(?:,?[\s-]*(?:id|i\.d\.|handle|user\s?name|user|account|acc|profile|"
              r"nick(?:name)?|name|number|no\.?)?\s*(?:[:=]|\s-\s|\s\u2013\s)\s*"
              r"|,?\s+(?:id|handle|user\s?name)\s+)")
_NAMED = re.compile(
    rf"\b(?:{_PLATFORMS})\b(?:{_SEPARATOR}(?P<ident>{_IDENT})"
    rf"|(?:\s+(?:me|us))?,?\s*(?:\bat\b|\bon\b|\bis\b|:)?\s*(?P<strong>{_STRONG}))",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@.+\-/])@[a-z_][\w.]{2,29}(?<!\.)(?![\w@\-]|\.\w)", re.IGNORECASE)


class SocialRule:
    code = "contact.social"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for m in _PROFILE.finditer(text):
            yield m.start(), m.end()
        for m in _NAMED.finditer(text):
            group = "ident" if m.group("ident") else "strong"
            ident = m.group(group)
            if group == "ident" and not ident.startswith("@") and ident.isdigit() \
                    and len(ident) < 5:
                continue  # "Signal: 3 bars" is not an ID
            yield m.start(group), m.end(group)
        for m in _HANDLE.finditer(text):
            yield m.start(), m.end()
