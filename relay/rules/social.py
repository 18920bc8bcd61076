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
# Messengers, social networks and marketplaces (a shop or seller name there is a way to
# reach someone off the platform), with the endings other languages give them
# ("na Discordzie", "auf Instagramm").
_PLATFORMS = (
    r"(?:whats\s?app|telegram|we\s?chat|weixin|signal|insta(?:gram)?|facebook|"
    r"messenger|snap(?:chat)?|tik\s?tok|twitter|skype|viber|discord|kik|linkedin|youtube|"
    r"threema|wickr|etsy|vinted|ebay|depop|poshmark|mercari|wallapop|leboncoin|kleinanzeigen|"
    r"marktplaats|tradera|blocket|olx|allegro|subito|shpock|willhaben|reddit|pinterest|"
    r"twitch|tumblr|bluesky|mastodon|xing|vk|vkontakte|kakao\s?talk|wickr|zalo)"
    r"(?:e|ie|zie|u|em|ach|a|s|'s|m|n)?"
    r"|wa|ig|fb|line(?=,?\s*id\b)|session(?=\s+id\b)|qq|tg(?=\s*:)"
)
_IDENT = r"(?:live:[\w.\-:]{3,40}|@?[\w][\w.\-]{2,39})"
# Something only a handle looks like: an @, or a digit, underscore, dot or # inside, or
# words run together with capitals ("CandleCraftCo").
_STRONG = (r"(?:@[\w][\w.\-]{2,39}|live:[\w.\-:]{3,40}|[a-z][\w\-]*[._\d#][\w.\-#]*"
           r"|(?-i:[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+))")
# Words that say an identifier follows, in the languages of the corpus.
_KEYWORD = (r"id|i\.d\.|handle|user\s?name|user|account|acc|profile|nick(?:name)?|name|number|"
            r"no\.?|benutzername|nutzername|kennung|nom\s+d'utilisateur|pseudo|identifiant|"
            r"nombre\s+de\s+usuario|usuario|nome\s+utente|utente|gebruikersnaam|naam|"
            r"användarnamn|brukernavn|brugernavn|shop|store|boutique|tienda|laden|butik|winkel|"
            r"sklep|negozio|loja|page|seite|channel|kanal|konto|compte|cuenta|conta")
_OWNER = r"(?:(?:my|meine?|mon|ma|mi|il\s+mio|mijn|our|unser(?:e)?)\s+)?"
_SAYS = r"(?:\s*[:=]\s*|\s+(?:is|ist|est|es|è|=)\s+|\s+|\s*-\s*)"
_NAMED = re.compile(
    rf"\b(?:{_PLATFORMS})\b(?:[\s,(-]*{_OWNER}(?:{_KEYWORD})\b{_SAYS}\(?(?P<ident>{_IDENT})"
    rf"|\s*[:=]\s*(?P<after_colon>{_IDENT})"
    rf"|(?:\s+(?:me|us))?[\s,(]*(?:\b(?:at|on|is|via|under|unter|sur|su|op|en|as|als|comme|"
    rf"como|come|sous|som|jako|called|named|heißt)\b|で|に|は|の|에서)?\s*\(?"
    rf"(?P<strong>{_STRONG}))",
    re.IGNORECASE,
)
# "chineuse_de_lyon on Vinted", "sally_deals auf eBay"
_BEFORE_PLATFORM = re.compile(
    rf"(?<![\w@.])(?P<ident>{_STRONG})\s+(?:on|auf|sur|en|su|op|på|na|w|bei|at|in|im)\s+"
    rf"(?:{_PLATFORMS})\b", re.IGNORECASE)
# Schemes that open a messenger chat or a call: tg://resolve?domain=..., viber://chat?...
_SCHEMES = re.compile(
    r"(?<![\w.+\-])(?P<scheme>tg|viber|weixin|wechat|line|kakaotalk|kakaoplus|kakaolink|whatsapp|"
    r"skype|sgnl|signal|fb-messenger|messenger|snapchat|instagram|threema|wickr|discord|tiktok|"
    r"twitter|zalo|imo|icq|xmpp|msnim|facetime|facetime-audio|sip|sips|tel|sms|mms|callto|im|"
    r"aim|ymsgr|gtalk|wire|element|matrix|teams|msteams|mqq|tencent|weibo|sinaweibo|"
    r"kakaostory|band|navertalk):(?://)?[^\s<>\"'`]+", re.IGNORECASE)
# Messengers named in Chinese, Japanese or Korean ("加我微信 sally_wx88", "카톡 아이디 ...").
_CJK_MESSENGERS = re.compile(
    r"(?:微信号?|微信|威信|薇信|[Vv]信|QQ号?|扣扣|企鹅号|ライン|らいん|カカオトーク|カカオ|カトク|"
    r"テレグラム|ワッツアップ|インスタ|카톡|카카오톡|카카오|텔레그램|라인|왓츠앱|인스타|微博|抖音|"
    r"小红书|(?i:vx|wx)(?=\s*[:号]))"
    r"\s*(?:ID|id|Id|号|號|아이디|계정|アカウント|账号|帐号)?\s*(?:は|是|:|은|는|으로|로|を|も)?\s*:?\s*"
    r"(?P<ident>[A-Za-z0-9][A-Za-z0-9_\-.]{3,30})")
# A nickname or user name, announced as such ("Mon pseudo là-bas c'est chineuse_de_lyon").
_NICK_WORDS = (r"nick(?:name)?|pseudo(?:nyme)?|benutzername|nutzername|användarnamn|anv\.?namn|"
               r"brukernavn|brugernavn|gebruikersnaam|user\s?name|nome\s+utente|"
               r"nombre\s+de\s+usuario|apodo|ksywka|nazwa\s+użytkownika|kullan\u0131c\u0131\s+ad\u0131|"
               r"handle|login|ユーザー名|ユーザ名|ニックネーム|昵称|用户名|닉네임")
_FILLER = (r"là-bas|la-bas|c'est|c\u2019est|ist|is|är|es|est|è|to|jest|there|dort|da|on|auf|sur|"
           r"en|op|på|na|w|im|am|als|as|my|mein|meiner|mon|mi|el|il|lautet|heißt|är|er|was|war")
_NICK = re.compile(
    rf"\b(?:{_NICK_WORDS})\b(?:\s*(?:{_FILLER})\b){{0,3}}\s*(?P<colon>[:=])?\s*"
    rf"(?P<ident>@?[\w][\w.\-]{{2,39}})", re.IGNORECASE)
_COMMON = frozenset((
    "the", "and", "ist", "der", "die", "das", "est", "les", "une", "con", "por", "para", "per",
    "che", "und", "oder", "och", "är", "som", "från", "here", "there", "same", "also", "auch",
    "aussi", "también", "anche", "ook", "också"))
# u/name on reddit
_REDDIT = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_\-]{3,20}\b")
# "Búscame en Facebook como Cerámicas Alba Ruiz", "search Anna Kowalski on Facebook"
_CAP = r"[A-ZÁÉÍÓÚÑÄÖÜÅŁŚŻÇ][\w'\-]+"
_CAPS = rf"{_CAP}(?:\s+(?:{_CAP}|de|del|da|di|von|van|la|le|dos|das)){{0,5}}"
_SEARCH_ME = re.compile(
    rf"(?:(?i:{_PLATFORMS})\s+(?:as|como|comme|als|unter|sous|come|som|jako|under|z)\s+"
    rf"(?P<as>{_CAPS})"
    rf"|(?i:search|look\s+up|find|google|look\s+for|busca(?:me)?|búscame|cherche(?:z)?(?:-moi)?|"
    rf"such(?:e|en|t)?|zoek|szukaj|cerca(?:mi)?|procur[ae](?:-me)?|sök|ara)\s+(?:(?i:for|nach|"
    rf"me|mich|moi)\s+)?(?P<name>{_CAPS})\s+(?i:on|en|auf|sur|op|na|su|w|i|no|in|bei)\s+"
    rf"(?i:{_PLATFORMS}))")
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
        if ":" in text:
            for m in _SCHEMES.finditer(text):
                yield m.start(), m.end()
        for m in _BEFORE_PLATFORM.finditer(text):
            yield m.start("ident"), m.end("ident")
        if not text.isascii():
            for m in _CJK_MESSENGERS.finditer(text):
                yield m.start("ident"), m.end("ident")
        for m in _NICK.finditer(text):
            ident = m.group("ident")
            if ident.lower() in _COMMON:
                continue
            if m.group("colon") or re.search(r"[\d._\-@]|[a-z][A-Z]", ident):
                yield m.start("ident"), m.end("ident")
        if "u/" in text:
            for m in _REDDIT.finditer(text):
                yield m.start(), m.end()
        for m in _SEARCH_ME.finditer(text):
            group = "as" if m.group("as") else "name"
            yield m.start(group), m.end(group)
