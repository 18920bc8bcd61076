"""Contact intent: a clause that offers a way to reach someone off the platform lowers the bar
for what is redacted in it.

The other rules recognise a detail by its shape alone and must keep ordinary numbers and words
(order, part and tracking numbers, model names) as they are. People who mean to pass a detail
say so, in every language: "call me on", "ruf mich an", "mon portable", "mi correo es",
"add me on insta", "加我微信", "come and pick it up at". Inside such a clause (the words
around the cue, up to a blank line) a weaker shape is enough:

- a phone cue ("call", "Handy", "portable", "móvil", "電話"): a run of six or more digits,
  digit groups and number words mixed ("null eins sieben sechs 2345 6781");
- a mail or social cue ("my gmail", "insta", "username", "add me"): a handle-like token, one
  with a dot, underscore or digits inside, or "@" before it; and the word right after
  "is"/":" following such a cue ("my insta is annakowalska");
- a place cue ("pick it up", "I live", "abholen", "citofono"): a street name without its
  house number ("Hawthorn Close", "Lerchenweg", "via dei Glicini").

What the phone rule knows for ordinary (order IDs, labelled, tracking and part numbers,
prices, dates, sizes) stays out, cue or not; so do check-digit numbers (ISBN, GTIN, IMEI).
Cue lists are built per language family (Germanic, Romance, Slavic, Greek, Turkish, CJK,
...), not from corpus cases.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

import phonenumbers

from relay.rules.address import PUBLIC_BEFORE
from relay.rules.email import PROVIDERS
from relay.rules.needs import distinct_words, trie
from relay.rules.phone import (
    _DIGIT_WORDS,
    _JOINERS,
    _LABEL_BEFORE,
    _PAIR_WORDS,
    MASK,
    _compound,
    _gtin,
    _luhn,
    _mask_order_ids,
    _may_spell,
    mask,
    token_runs,
)
from relay.rules.view import folded

# Calling: verbs said to the reader and the nouns of a phone line, per language.
_PHONE_CUES = (
    # English
    r"call|calls|ring|phone|phones|text|txt|sms|mobile|mob|cell|cellphone|tel|telephone|"
    r"whats\s?app|wa|landline|give\s+me\s+a\s+bell|reach\s+me|my\s+number|number\s+is|"
    # German, Dutch, Scandinavian
    r"anrufen|ruf|rufen|rufe|anruf|telefon\w*|handy\w*|mobil\w*|festnetz\w*|erreichbar|"
    r"meine\s+nummer|nummer\s+ist|bel|bellen|belt|telefoon\w*|mobiel\w*|mijn\s+nummer|"
    r"ring|ringa|ringer|ringe|mitt\s+nummer|nummer\s+är|nummeret|nummer\s+er|"
    # Romance
    r"appel\w*|appelle\w*|appelez|téléphone\w*|portable|mon\s+numéro|numéro\s+est|joindre|"
    r"joignable|texto|llam\w+|teléfono|telefono|móvil|movil|celular|mi\s+número|número\s+es|"
    r"chiam\w+|cellulare|cell|il\s+mio\s+numero|numero\s+è|lig\w+|telemóvel|telemovel|"
    r"meu\s+número|número\s+é|zap|contactar|contacte|contattar\w*|"
    # Slavic, Greek, Turkish, Hungarian, Romanian
    r"zadzwo\w*|dzwo\w*|komórk\w*|telefonu|numer\s+to|mój\s+numer|zavolej\w*|volejte|"
    r"mobilu|číslo|звон\w*|позвон\w*|телефон\w*|номер\w*|мобильн\w*|τηλέφων\w*|κινητ\w*|"
    r"πάρτε|πάρε|αριθμ\w*|ara\w*|numaram\w*|numaram\u0131|cep\w*|telefonum\w*|hív\w*|"
    r"telefonszám\w*|sun\w*|număr\w*|soita\w*|soitt\w*|puhelin\w*|kännyk\w*|numeroni|"
    r"zavolejte|zavolat|mobil|volat|sunați|telefonul|volajte|zavolajte|zavolať|volať|"
    # Estonian, Latvian, Lithuanian, Slovenian, Croatian, Serbian
    # (imperatives: "the courier will call", helistab, offers nothing)
    r"helista|helistage|zvaniet|piezvaniet|zvani|skambinkite|paskambinkite|skambink|"
    r"pokličite|pokliči|nazovite|nazovi|zovite|pozovite|"
    # Arabic, Hebrew, Hindi, Ukrainian
    r"اتصل\w*|رقمي|رقم|هاتف\w*|جوال\w*|موبايل|تلفون\w*|تتصل|תתקשר\w*|טלפון|נייד|מספר|"
    r"дзвон\w*|подзвон\w*|телефонуй\w*|"
    # Asian scripts (no word boundaries there: matched as they stand)
    r"電話|でんわ|携帯|ケータイ|手机|手機|电话|打给|打給|전화|핸드폰|휴대폰|"
    r"연락|โทร|เบอร์|gọi|điện\s+thoại|telepon|nomor|hubungi|nombor"
)
# Writing and finding: mail, messengers, social and marketplace names, handles.
_HANDLE_CUES = (
    r"e-?mail\w*|mail\w*|correo|courriel|adresse\s+mail|indirizzo\s+mail|mailadres|"
    r"write\s+(?:to\s+)?me|drop\s+me|message\s+me|dm|inbox|add\s+me|follow\s+me|"
    r"find\s+me|search|look\s+me\s+up|schreib\w*|écri\w*|escr[ií]b\w*|scriv\w*|schrijf|"
    r"napisz\w*|skriv\w*|yaz\w*|"
    r"insta\w*|ig|facebook|fb|messenger|telegram|tg|signal|wechat|weixin|line\s+id|kakao\w*|"
    r"snap\w*|tiktok|discord|skype|viber|whats\s?app|threads|twitter|bluesky|"
    r"etsy|vinted|ebay|depop|kleinanzeigen|leboncoin|wallapop|marktplaats|olx|allegro|"
    r"mercari|reddit|okidoki\w*|bland|bazo[šs]\w*|jófogás|skelbiu|njuškalo|avito|авито|"
    r"kupujemprodajem|sahibinden|dubizzle|"
    # Payment handles: a Venmo or Swish name is a person to find ("Venmo @Olivia-Hart-22")
    r"venmo|cash\s?app|zelle|paypal|revolut|bizum|swish|mobilepay|vipps|twint|gcash|"
    r"reply\s+to\s+me|domain|domäne|domaine|dominio|"
    r"handle|username|user\s?name|user|nick\w*|pseudo\w*|benutzername|nutzername|"
    r"nimimerk\w*|käyttäjä\w*|sähköposti\w*|felhasználó\w*|becenév|přezdívk\w*|"
    r"uživatel\w*|utilizator|notandanafn\w*|kasutajanim\w*|lietotājvārd\w*|vartotoj\w*|"
    r"korisničk\w*\s+ime|uporabniš\w*\s+ime|brukarnamn|"
    # "user" itself in more languages ("korisnik starinar_split", "kasutaja vanavara_mart")
    r"korisnik\w*|kasutaja|użytkownik\w*|lietotāj\w*|uporabnik\w*|používateľ\w*|"
    r"потребителско\s+име|имя\s+пользователя|ім'я\s+користувача|ник\w*|нік\w*|"
    r"όνομα\s+χρήστη|"
    r"واتساب|واتس|ايميل\w*|إيميل\w*|بريد\w*|انستا\w*|וואטסאפ|מייל|אינסטגרם|пиш\w*|напиш\w*|"
    # "пошта"/"почта" is also the post office ("Новою поштою"): only e-mail's own words
    r"електронн\w*\s+пошт\w*|электронн\w*\s+почт\w*|мейл\w*|імейл\w*|имейл\w*|емейл\w*|"
    r"shop|boutique|tienda|negozio|loja|winkel|butik|sklep|ma\u011faza|"
    # a shop's name in quotes after "my shop" ("Kedai saya 'Kedai Runcit Pak Mat'")
    r"kedai|toko|warung|magasin|laden|geschäft|dükkan|obchod|butikk|kauppa|"
    r"local|negocio|bolt|محل|متجر|חנות|दुकान|dukaan|duka|"
    r"gebruikersnaam|användarnamn|brugernavn|brukernavn|nazwa\s+użytkownika|login|konto|"
    r"account|profil\w*|identifiant|usuario|utente|kullan\u0131c\u0131\s+ad\u0131|id|"
    rf"{PROVIDERS}|orange|free|"
    r"微信|加我|账号|帳號|ユーザー名|アカウント|メール|ライン|아이디|카톡|카카오톡|메일|인스타|"
    r"闲鱼|咸鱼|淘宝|拼多多|小红书|抖音|快手|店铺|店鋪"
)
# Places: coming over, collecting, where someone lives, the parts of a house.
_PLACE_CUES = (
    r"live|living|come|came|pick\s+(?:it\s+)?up|pickup|collect\w*|drop\s+by|swing\s+by|"
    r"houses?|flats?|door|bell|buzzer|i'?m\s+in|i'?m\s+at|we'?re\s+in|local|"
    # Sending back: where to is an address ("return it to", "skicka tillbaka till").
    r"return\s+(?:it\s+)?to|return\s+them\s+to|send\s+(?:it\s+)?(?:back\s+)?to|"
    r"send\s+them\s+(?:back\s+)?to|"
    r"ship\s+(?:it\s+)?to|post\s+it\s+to|"
    r"rücksend\w*|zurück\w*|schick\w*|retour\w*|renvoy\w*|devolu\w*|devolv\w*|morada|"
    r"skicka\w*|tillbaka|terug\w*|opsturen|odesła\w*|rispedi\w*|restitu\w*|iade|"
    r"wohne\w*|wohnen|abhol\w*|abzuholen|vorbei\w*|anschrift|haus|klingel\w*|"
    r"woon|wonen|ophalen|langs\w*|huis|aanbellen|bor|hämta\w*|huset|hente|"
    r"habite\w*|venir|viens|venez|récupér\w*|retrait|passe[rz]?|maison|sonne[zr]?|"
    r"vivo|vivimos|ven|venga|recoger|recog\w+|pasar|pásate|casa|portal|"
    r"abito|abitiamo|vieni|venire|ritir\w+|passare|citofon\w*|civico|"
    r"moro|moramos|vir|venha|buscar|retirar|"
    r"mieszkam|mieszkamy|odebra\w*|odbi\w*|dom|"
    r"oturuyorum|teslim|gel\w*|ev|asun|nouto|hae|tule|bydlím|vyzvednout|lakom|átvétel|"
    r"تعال\w*|استلام|בוא\w*|לאסוף|приход\w*|приїжд\w*|забрат\w*|забери\w*|"
    r"住所|取りに|受け取り|手渡し|地址|自取|面交|주소|직거래|오세요"
)
# Words for an address of either kind, e-mail or postal: both readings are tried.
_EITHER_CUES = (r"address|adresse|anschrift|adres|adress|dirección|direccion|indirizzo|"
                r"عنوان\w*|כתובת|पता|"
                r"endereço|adresa|adresem|adresi|διεύθυνσ\w*|адрес\w*|cím\w*")
# Getting in touch, by any means: both the phone and the handle reading.
_ANY_CUES = (r"contact\w*|kontakt\w*|contatt\w*|contacto|reach\s+me|reach\s+out|erreich\w*|"
             r"joign\w*|joindre|get\s+in\s+touch|in\s+touch")
# The cues as the view shows them: it reads Cyrillic and Greek look-alike letters as Latin
# ("звоните" is read with a Latin "o" there).
_ANY_CUES, _PHONE_CUES, _EITHER_CUES, _HANDLE_CUES, _PLACE_CUES = (
    folded(cues) for cues in (_ANY_CUES, _PHONE_CUES, _EITHER_CUES, _HANDLE_CUES, _PLACE_CUES))
_CUE = re.compile(
    rf"(?i:(?<!\w)(?:(?P<any>{_ANY_CUES})|(?P<phone>{_PHONE_CUES})|(?P<either>{_EITHER_CUES})|"
    rf"(?P<handle>{_HANDLE_CUES})|(?P<place>{_PLACE_CUES}))(?!\w))")
# Scripts written without spaces: their cues are found as they stand.
_CJK_CUES = {
    **dict.fromkeys(("電話", "携帯", "手机", "手機", "电话", "전화", "핸드폰", "휴대폰",
                     "ケータイ", "연락", "โทร", "เบอร์", "打给", "打給"), "phone"),
    # WeChat is also written with look-alike characters and letters ("V信", "薇信", "vx").
    **dict.fromkeys(("微信", "加我", "账号", "帳號", "ユーザー名", "アカウント", "メール", "ライン",
                     "아이디", "카톡", "메일", "인스타", "V信", "v信", "薇信", "威信", "微訊",
                     "QQ", "抖音", "小红书", "닉네임", "ニックネーム", "インスタ", "ツイッター",
                     # Searching a shop by its name ("闲鱼搜“芳芳的小铺”", "メルカリで検索")
                     "搜", "搜索", "查找", "検索", "검색", "闲鱼", "咸鱼", "淘宝", "拼多多",
                     "店铺", "店鋪", "メルカリ", "번개장터", "당근"),
                    "handle"),
    # Devanagari: its vowel signs are no word characters, so its words are found as they stand.
    **dict.fromkeys(("फ़ोन", "फोन", "कॉल", "नंबर", "मोबाइल"), "phone"),
    **dict.fromkeys(("ईमेल", "व्हाट्सएप", "इंस्टाग्राम", "इंस्टा", "टेलीग्राम", "यूज़रनेम",
                     "यूजरनेम"), "handle"),
    # Handles announced in the right-to-left scripts, Thai, Cyrillic (prefixes glued on: "בטלגרם")
    **dict.fromkeys(("שם משתמש", "משתמש", "טלגרם", "אינסטגרם", "פייסבוק", "סנאפ", "טיקטוק",
                     "سناب", "تليجرام", "تلغرام", "تيليجرام", "انستقرام", "انستغرام", "إنستغرام",
                     "فيسبوك", "اسم المستخدم", "يوزر", "تلگرام", "اینستاگرام", "آیدی",
                     "ไลน์", "อีเมล", "เฟซบุ๊ก", "เฟสบุ๊ก", "อินสตาแกรม", "ยูสเซอร์",
                     "телеграм", "инстаграм", "інстаграм", "вконтакте",
                     # "search for", "shop" (Cyrillic: a name in capitals follows)
                     "потърсете", "потърси", "ищите", "найдите", "шукайте", "знайдіть",
                     "магазин"), "handle"),
    **dict.fromkeys(("पता", "आकर ले", "आइए"), "place"),
    **dict.fromkeys(("住所", "取りに", "受け取り", "手渡し", "地址", "自取", "面交", "주소",
                     "직거래", "오세요"), "place"),
}
# Found in the view, which reads Cyrillic look-alike letters as Latin.
_CJK_CUES = {folded(word): kind for word, kind in _CJK_CUES.items()}


def _triggers(*alternations: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The words a cue starts with (exact), and the stems of those that go on ("chiam\\w+",
    "whats\\s?app"): a text none of whose words is one of these has no cue, and the costly
    pattern is then never run. Read off the alternations themselves, so they cannot drift."""
    exact, stems = set(), set()
    for alternation in alternations:
        for branch in alternation.split("|"):
            branch = branch.replace("-?", "").replace("(?:", "")
            literal = re.match(r"[^\\()\[\]?*+{}.\s]+", branch)
            if literal is None:
                continue
            word = literal.group(0).lower()
            (exact if literal.end() == len(branch) else stems).add(word)
    return frozenset(exact), tuple(sorted(stems))


_EXACT, _STEMS = _triggers(_ANY_CUES, _PHONE_CUES, _EITHER_CUES, _HANDLE_CUES, _PLACE_CUES)
# The stems by their first two letters: a word is compared with the few that can start it.
_STEMS_BY_START: dict[str, tuple[str, ...]] = {}
for _stem in _STEMS:
    _STEMS_BY_START[_stem[:2]] = (*_STEMS_BY_START.get(_stem[:2], ()), _stem)
assert all(len(stem) >= 2 for stem in _STEMS)


def _stemmed(word: str) -> bool:
    stems = _STEMS_BY_START.get(word[:2])
    return stems is not None and word.startswith(stems)


def _by_letter() -> dict[str, re.Pattern[str]]:
    """_CUE cut by the first letter of its branches: one of these is tried at a word, not
    all four hundred branches."""
    branches: dict[str, list[str]] = {}
    for kind, alternation in (("any", _ANY_CUES), ("phone", _PHONE_CUES), ("either", _EITHER_CUES),
                              ("handle", _HANDLE_CUES), ("place", _PLACE_CUES)):
        for branch in alternation.split("|"):
            re.compile(branch)  # a "|" inside a group would have split it wrongly
            first = branch.lstrip("(?:")[:1].lower()
            branches.setdefault(first, []).append(f"(?P<{kind}{len(branches[first])}>{branch})")
    return {first: re.compile(rf"(?i:(?<!\w)(?:{'|'.join(alts)})(?!\w))")
            for first, alts in branches.items()}


_CUE_BY_LETTER = _by_letter()
_WORD = re.compile(r"\w+")

# How far a cue reaches: back to the start of its sentence (a number said first, "06 12 34
# 56 78, ring me"), forward over the rest of it and a little more; never over a blank line.
_BEFORE, _AFTER = 80, 140
_BLANK = re.compile(r"\n[ \t\r]*\n")

# Digits and number words in a row: six or more digits said is a number to call.
_NUMBER_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_NUMBER_GAP = re.compile(r"[^\w\r\n]{0,5}")
# Teens, tens and hundreds the phone rule's tables do not have (each says two or three digits).
_MORE_PAIRS = frozenset((
    "hundred", "hundert", "cien", "ciento", "cento", "cem", "honderd", "hundra",
    "hundrede", "sto", "sta", "yüz", "εκατό", "сто", "sata", "száz", "trescientos",
    "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien", "achttien",
    "negentien", "elva", "tolv", "tretton", "fjorton", "femton", "sexton", "sjutton", "arton",
    "nitton", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście",
    "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście", "dwadzieścia", "trzydzieści",
    "czterdzieści", "pięćdziesiąt", "yirmi", "otuz", "k\u0131rk", "elli", "altm\u0131ş",
    "yetmiş", "seksen", "doksan", "δέκα", "έντεκα", "δώδεκα", "είκοσι", "τριάντα", "σαράντα",
    "πενήντα", "εξήντα", "εβδομήντα", "ογδόντα", "ενενήντα", "sedici", "diciassette",
    "diciotto", "diciannove", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veintiuno",
    "veintidós", "treze", "catorze", "quinze", "dezesseis", "dezessete", "dezoito", "dezenove",
    "dix-sept", "dix-huit", "dix-neuf", "elleve", "tolv", "tretten", "fjorten", "femten",
    "seksten", "sytten", "atten", "nitten", "tyve", "tjue", "tredive", "tretti", "førti",
    "fyrre", "halvtreds", "femti", "seksti", "sytti", "åtti", "nitti",
))
# Said between the groups: "and", "then", "and then".
_MORE_JOINERS = _JOINERS | frozenset((
    "sen", "sedan", "så", "daarna", "dan", "danach", "ensuite", "après", "después", "dopo",
    "depois", "ve", "sonra", "i", "и", "потом", "και", "μετά", "a", "pak", "potem", "és", "aztán",
    "ja", "sitten", "og", "derefter", "deretter", "und", "dann",
    # more languages; "code" for a number given in pieces ("+7, код 926, дальше 305")
    "дальше", "далее", "затем", "потім", "далі", "\u0456", "й", "код", "code", "kod", "ואז", "ثم",
    "و", "rồi", "và", "lalu", "terus", "kemudian", "apoi", "și", "şi", "potom", "majd",
    "utána", "pastaj", "then",
    # "luego 48, después 21, y acaba en 09", "poi", "puis", "siis", "zatim", "nato"
    "luego", "poi", "puis", "siis", "zatim", "onda", "nato", "potem", "následne", "paskui",
    "acaba en", "termina en", "ends with", "ends in", "finisce con", "termina com", "endet mit",
    "se termine par", "after that", "and then", "y luego", "e poi", "et puis"))
# Cyrillic and Greek as the view folds them ("потом" reads "пoтoм").
_MORE_JOINERS = _MORE_JOINERS | {folded(w) for w in _MORE_JOINERS}
_JOINED_GROUPS = re.compile(
    r"\d[\s,.;:\-]*(?i:" + trie(set(_MORE_JOINERS)) + r")(?!\w)[\s,.;:\-]*\d")
_NUMBER_WORDS = frozenset({w for w, d in _DIGIT_WORDS.items() if d} | _PAIR_WORDS
                          | _MORE_PAIRS | {"double", "triple", "doppel", "doppia", "doble"})

# A token only a handle looks like: a dot, underscore or dash between letters and digits,
# letters then digits, or "@" before it. At least one lower-case letter: "TP-2000" and
# "JJD0003900" are model and tracking numbers.
_HANDLE = re.compile(
    r"(?<![\w@.\-/\u2591])@?(?=[\w.\-]*[^\W\d_])(?!_)\w+(?:[._\-]\w+)*(?![\w@\u2591])")
# A handle with its dots said in words: "bastien point lacombe", "anna punkt nowak".
_DOT_SAID = re.compile(
    r"(?i)(?<![\w.])[^\W\d_]{2,30}(?:\s+(?:dot|point|punkt|punto|ponto|punt|kropka|nokta|"
    r"piste|prick|tečka|pont|underscore|unterstrich|tiret|trattino|guión|guion|"
    r"sous-tiret|tiret\s+bas)\s+\w{2,30}){1,3}(?![\w@])")
_HANDLE_SHAPE = re.compile(
    r"^@.{2,}|.*[^\W\d_].*[._]\w.*|[^\W\d]{2,}\d{1,10}$|.*_.*"
    r"|(?:[a-z0-9]{2,}-){2,}[a-z0-9]{2,}$"  # "retro-audio-uk" (not "Bestätigungs-E-Mail")
    r"|.*[a-z].*[A-Z].*[a-z].*[A-Z].*")  # "OakAndThistleCo": capitals inside, twice
# In a clause about writing or finding someone: a name quoted ("búscame como 'ChemaRetro'",
# « Atelier Le Bihan »), a word after "as"/"als"/"como"/"unter", a user before an at-word.
_QUOTED = re.compile(r"[\"\u201c\u201e«\u2039'\u2018\u300c\u300e]\s?"
                     r"(?P<name>[^\"\u201c\u201d\u201e«»\u2039\u203a'\u2018\u2019\u300c-\u300f"
                     r"\n]{2,40}?)"
                     # (CJK text runs on after the quote without a space)
                     r"\s?[\"\u201d\u201c»\u203a'\u2019\u300d\u300f]"
                     r"(?![0-9A-Za-z\u00c0-\u024f_])")
# A name: a handle, or two to five capitalised words with particles between ("Atelier Le
# Bihan", "Brocante du Moulin", "Haus von Mia").
_CAPITAL = "A-ZÀ-ÞА-ЯЁЄІЇΑ-Ω"  # Latin, Cyrillic and Greek capitals
_NAME_LIKE = re.compile(
    r"@[\w.\-]+|\w[\w.\-]*[A-Z0-9_][\w.\-]*"  # a capital past the first letter, a digit
    rf"|[{_CAPITAL}][\w'\-]+(?:\s(?:(?:de|du|des|da|do|di|del|della|la|le|von|van|der|den|y|"
    rf"e|&|and|und|et|\u0443|в|на|и|з|от|из)\s)?[{_CAPITAL}][\w'\-]+){{1,4}}"
    # In the scripts without capitals: a shop's name, quoted ("芳芳的小铺"; "蓝色台灯" is what
    # to search for, not whom)
    r"|[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]{1,12}"
    r"(?:店|铺|鋪|屋|坊|馆|館|堂|商行|工作室|工房|ショップ|샵|스토어|가게|상점)")
_AS = re.compile(r"(?i)(?<!\w)(?:as|als|como|comme|come|unter|under|sous|som|jako|olarak|"
                 r"named|called|heißt|chamad[oa]|llamad[oa]|appel[ée]e?|genaamd|kallad)\s+"
                 r"[\"'\u201c\u201e«\u2018]?(?P<name>@?[\w][\w.\-]{2,40}[\w])")
_AT_WORD = re.compile(
    # "@" itself is the e-mail rule's; words said before an at-word are the user's name.
    r"(?i)(?P<user>(?:[\w\-]{1,40}\s){0,3}[\w.\-]{2,40})\s*[(\[]?\s*(?:arobase|arroba|"
    r"klammeraffe|zavináč|chiocciola|małpa|malpa|apenstaartje|snabel-?a|kukac|at-sign|"
    r"at\s+sign)\s*[)\]]?")
# Before a number: a word that names what it is ("IMEI", "takip", "운송장"), with
# nobody saying it is theirs in between ("my", "mein", "mon" ...).
_MINE = re.compile(
    r"(?i)\b(?:me|my|mich|mir|mein\w*|moi|mon|ma|mes|mi|mí|meu|minha|mio|mia|mij|mijn|mig|"
    r"min|mitt|mnie|mój|moja|benim|bana|beni|μου|με|мне|мой|мой)\b|私|我|제|저|내")
# "art.nr", "z.B", "inkl.MwSt", "p.s": abbreviations, every part of three letters or fewer.
_ABBREVIATION = re.compile(r"[^\W\d_]{1,4}(?:\.[^\W\d_]{1,4})+\.?")
_FILE = re.compile(r"\.(?:pdf|jpe?g|png|gif|docx?|xlsx?|txt|csv|zip|heic|ics|vcf)$", re.I)
# A cue word, then "is"/":": the next word is the handle whatever its shape.
_SAID = re.compile(
    r"\s*(?:[:=\u2013\u2014]|\s(?:is|ist|es|est|è|é|är|er|jest|je|to|lautet|c'est|"
    r"it's|det\s+är|is\s+just|heißt|heet|heter|hedder|se\s+llama|si\s+chiama|は|는|은|是)\b:?)"
    r"\s*"
    r"[\"'\u201c\u201e«]?(?P<word>@?[\w][\w.\-]{2,40}[\w])")
_NOT_HANDLES = frozenset((
    "the", "this", "that", "here", "there", "down", "broken", "same", "fine", "easy", "below",
    "above", "attached", "also", "still", "not", "now", "best", "better", "faster", "gone",
    "ist", "sind", "der", "die", "das", "nicht", "unten", "oben", "gleich", "le", "la", "les",
    "pas", "très", "plus", "ici", "es", "el", "muy", "más", "aquí", "il", "lo", "più", "qui",
    "my", "mein", "meinem", "meinen", "meiner", "mon", "ma", "mi", "mio", "mijn", "min", "mitt",
    "dem", "den", "a", "an", "un", "une", "una", "uno", "ein", "einem", "einer", "een", "name",
    "please", "bitte", "merci", "thanks", "danke", "gracias", "grazie", "obrigado", "dank",
    # "the same", "unchanged", "correct", "right": said of an address already known
    "same", "unchanged", "correct", "right", "hetzelfde", "dezelfde", "ongewijzigd", "juist",
    "dieselbe", "derselbe", "unverändert", "richtig", "korrekt", "même", "inchangée",
    "correcte", "juste", "misma", "mismo", "correcta", "stessa", "stesso", "corretto",
    "mesma", "mesmo", "correto", "samma", "densamma", "samme", "sama", "ten", "ayn\u0131", "doğru"))

# Street names without their number: "Hawthorn Close", "Lerchenweg", "via dei Glicini".
_CAP = r"[A-ZÄÖÜÅÆØÉÈÁÍÓÚÑÇŁŚŻŹĆŃ][\w'\u2019\-]{1,30}"
# A word of a street's name: a capital, then small letters ("via SEDEX", "via WhatsApp" are
# the English "via").
_NAME_WORD = r"[A-ZÄÖÜÅÆØÉÈÁÍÓÚÑÇŁŚŻŹĆŃ][^\W\dA-ZÄÖÜÅÆØÉÈÁÍÓÚÑÇŁŚŻŹĆŃ]{1,30}(?![\w'\-])"
_STREET_AFTER = (r"Street|St|Road|Rd|Lane|Ln|Close|Avenue|Ave|Drive|Dr|Way|Court|Crescent|"
                 r"Gardens|Grove|Place|Terrace|View|Row|Mews|Hill|Walk|Square|Park|Rise|Green|"
                 r"Boulevard|Parade")
_STREET_SUFFIX = (r"straße|strasse|str\.|weg|gasse|allee|damm|ufer|chaussee|pfad|"
                  r"straat|laan|gracht|pad|plein|kade|dijk|singel|steeg|"
                  r"vägen|väg|gatan|gata|gränd|stigen|vej|gade|veien|gaten|stræde|"
                  r"utca|sokak|sokağ\u0131|caddesi")
_STREET_BEFORE = (r"via|viale|piazza|piazzale|corso|vicolo|largo|calle|avenida|avda\.|av\.|"
                  r"paseo|plaza|camino|carrer|rua|travessa|praça|alameda|estrada|rue|impasse|"
                  r"avenue|allée|chemin|boulevard|place|quai|ruelle|ulica|ul\.|ulicy|aleja|"
                  r"al\.|osiedle|os\.|strada|ulice|náměstí|odos|οδός|sokak|cadde|mahallesi")
_PARTICLE = (r"(?i:de|del|della|dei|degli|delle|di|da|do|dos|das|des|du|de\s+la|de\s+los|"
             r"d'|la|le|los|las|l'|van|von|der|den|ter)")
def _plain_words(alternation: str) -> frozenset[str]:
    """The first word of each branch of an alternation, lower case: one of them is a word of
    any clause the alternation matches in."""
    return frozenset(re.split(r"\\[.s]|\s", w)[0].lower() for w in alternation.split("|"))


# Each form of street with what it cannot do without (a lower-case substring of the clause):
# a form whose words are not in the clause is not run (a pattern tried at every letter of a
# clause costs a tenth of a millisecond).
_STREETS: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    # "Rua Dr. António José de Almeida, 45", "via dei Glicini", "Blvd. Kukulcán"
    (_plain_words(_STREET_BEFORE) | {"blvd", "bd"}, re.compile(
        rf"(?i:\b(?:{_STREET_BEFORE}|blvd\.?|bd\.?))\s+(?:{_PARTICLE}\s*)?{_NAME_WORD}\.?"
        rf"(?:\s(?:{_PARTICLE}\s)?{_NAME_WORD}\.?){{0,4}}(?:,?\s\d{{1,4}}[a-zA-Z]?\b)?")),
    # "Foxglove Close", "Market Street" (not "Rua Dr", taken above)
    (_plain_words(_STREET_AFTER), re.compile(
        rf"\b(?<!Rua\s)(?<!Av\.\s){_CAP}(?:\s{_CAP}){{0,2}}\s(?:{_STREET_AFTER})\b")),
    # "Lerchenweg", "Storgatan 3", "Zonnebloemstraat"
    (frozenset(("*suffix",)), re.compile(
        rf"\b[A-ZÄÖÜÅÆØ][\wäöüßåæø]{{2,30}}(?:{_STREET_SUFFIX})(?:n|s|e|en)?\b"
        rf"(?:\s\d{{1,4}}[a-z]?)?")),
    # "Meir 78 bus 3, 2000 Antwerpen", "Lange Straat 5, 1017 Amsterdam": a name, a number, a
    # postcode and a town
    (frozenset(), re.compile(
        rf"\b{_CAP}(?:\s{_CAP}){{0,3}}\s\d{{1,4}}[a-zA-Z]?(?:\s(?:bus|box|app|apt|boîte)\s?"
        rf"\d{{1,4}})?,\s*(?:[A-Z]{{1,2}}-)?\d{{4,5}}(?:-\d{{3}})?\s{_CAP}")),
    # A post box
    (frozenset(("box", "postfach", "postbus", "apartado", "caixa", "casilla", "skrytka", "bp",
                "postboks", "postilokero")), re.compile(
        r"\b(?:Box|Postfach|Postbus|Apartado|Caixa\s+Postal|Casilla|Skrytka\s+pocztowa|BP|"
        r"P\.?\s?O\.?\s+Box|Postboks|Postilokero)\s\d{1,6}\b")),
)


def _streets(text: str, start: int, end: int) -> Iterator[re.Match[str]]:
    words = set(_WORD.findall(text[start:end].lower()))
    for needs, pattern in _STREETS:
        if "*suffix" in needs:
            if not any(w.endswith(_SUFFIXES) for w in words):
                continue
        elif needs:
            if words.isdisjoint(needs):
                continue
        elif not _POSTCODE_AFTER_COMMA.search(text, start, end):
            continue
        yield from pattern.finditer(text, start, end)


_SUFFIXES = tuple(re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), w)
                  .replace("\\", "").rstrip(".") for w in _STREET_SUFFIX.split("|"))
_POSTCODE_AFTER_COMMA = re.compile(r",\s*(?:[A-Z]{1,2}-)?\d{4,5}\b")


# "Hausnummer dreiundzwanzig", "el número treinta y dos", "numer czterdzieści dwa"
_HOUSE_NUMBER = re.compile(
    r"(?i)\b(?:hausnummer|huisnummer|husnummer|nummer|number|no\.|nr\.?|número|numero|numéro|"
    r"numer|civico|portal|n[º°]|numaras\u0131|αριθμός|číslo|talo)\s+(?:(?:ist|is|es|est|è|é|är|"
    r"er|die|the|el|la|le|o|a|de|het)\s+){0,2}"
    r"(?P<said>[^\W\d_]+(?:[\s\-]+[^\W\d_]+){0,3})\b")

_AT_SAID = re.compile(r"(?i)(?<!\w)(?:arobase|arroba|klammeraffe|zavináč|chiocciola|małpa|"
                      r"malpa|apenstaartje|snabel-?a|kukac|at-sign|at\s+sign|@)")
_PROVIDER = re.compile(rf"(?i)(?<!\w)(?:{PROVIDERS}|orange|free|telia|live)(?!\w)")
_AFTER_COLON = re.compile(r":\s*(?P<word>[a-z][a-z0-9._\-]{3,40})"
                          r"(?=\s*(?:[,;)(]|$|\s[-\u2013]))", re.MULTILINE)

_CODES = {"phone": "contact.phone", "handle": "contact.social", "place": "contact.address"}


def _digits_said(words: list[str]) -> int:
    said = 0
    for word in words:
        lowered = word.lower()
        if word.isdigit():
            said += len(word)
        elif _DIGIT_WORDS.get(lowered):
            said += 1
        elif lowered in _PAIR_WORDS or lowered in _MORE_PAIRS or _compound(lowered):
            said += 2
    return said


def _is_number_word(word: str) -> bool:
    lowered = word.lower()
    return lowered in _NUMBER_WORDS or _compound(lowered)


def _ordinary(digits: str, text: str) -> bool:
    """A number with a check digit that says what it is (ISBN, GTIN/EAN, IMEI), or of the
    length of one the text names ("IMEI", "ISBN")."""
    if len(digits) in (8, 12, 13, 14) and _gtin(digits):
        return True
    if len(digits) == 15 and (_luhn(digits) or "imei" in text.lower()):
        return True
    return len(digits) == 10 and (isbn10(digits) or "isbn" in text.lower())


def isbn10(digits: str) -> bool:
    return sum((10 - i) * int(d) for i, d in enumerate(digits)) % 11 == 0


_DIGIT_RUN = re.compile(r"\d(?:[^\w\r\n]{0,5}\d)*")


# What an ordinary number written in digits looks like: a price ("3.749,90"), a date
# ("11. 12. 2026", "03.2026"), a reference that starts with a year ("20261206-0417",
# "2024-118-7734").
_NOT_PHONE = re.compile(
    r"\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}"
    r"|\d{1,2}\.\s?(?:\d{1,2}\.\s?)?(?:19|20)?\d\d"
    r"|\d{1,2}[/\-]\d{1,2}[/\-](?:19|20)?\d\d"
    r"|\d{1,2}\.\d{1,2}\.?\s?[-\u2013]\s?\d{1,2}\.\d{1,2}\.?(?:(?:19|20)?\d\d)?"
    r"|(?:19|20)\d\d(?:[01]\d[0-3]\d)?[\-/.\s].*")
# Where a number written as one block could be from: it is a phone number if it is one there.
_BLOCK_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "BR", "PT", "MX", "JP", "KR",
                  "CN", "IN", "TR", "SE", "AU", "CA", "BE", "CH", "AT")


def _may_be_phone(run: str, digits: str) -> bool:
    """A run of digits alone (no number words): seven to thirteen digits, not a price, date or
    year-led reference; written as one block of ten or more, only a valid number somewhere."""
    if not 7 <= len(digits) <= 13 or _NOT_PHONE.fullmatch(run.strip()):
        return False
    if len(digits) >= 10 and run.strip().isdigit():
        for region in _BLOCK_REGIONS:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(digits, region)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False
    return True


# "26, 2026", "3 2026": a day and a year.
_DATE = re.compile(r"^\d{1,2}(?:st|nd|rd|th|\.)?,?\s(?:19|20)\d\d$")


def _accepted(text: str, start: int, end: int, said: int, all_digits: str | None,
              cue: int) -> bool:
    """Whether a run saying `said` digits at text[start:end] is a number to call: six digits
    or more, no check-digit number (`all_digits`: the digits, when nothing else is said), not
    part of a longer code, not named by a label before it."""
    if said < 6 or (all_digits is not None and _ordinary(all_digits, text)):
        return False
    if all_digits is not None and not _may_be_phone(text[start:end], all_digits):
        return False
    # Digits alone, seven or eight of them: a local number right after the cue ("ring me on
    # 4471120"), else more likely a customer or parcel number.
    if all_digits is not None and len(all_digits) < 9 and not 0 <= start - cue <= 30:
        return False
    # Part of a longer code ("RMA-TR-240613-0092", "1Z999AA1012345"): not a number to call.
    if re.match(r"[\-_/.]?[A-Za-z0-9]", text[end:end + 2]) or re.search(
            r"[A-Za-z0-9][\-_/]?$", text[max(0, start - 2):start]):
        return False
    if _DATE.search(text[start:end]):
        return False
    # A label names the number unless the cue stands between them ("Kargo ... call me: 0532").
    offset = max(0, start - 60)
    before = text[offset:start]
    label = _LABEL_BEFORE.search(before)
    return label is None or offset + label.start() < cue < start or bool(
        _MINE.search(before, label.start()))


def _cue_before(cues: list[int], at: int) -> int:
    """The last cue at or before `at` (the first one if none is)."""
    i = bisect_right(cues, at) - 1
    return cues[max(i, 0)] if cues else -1


def _number_runs(text: str, words: bool, cues: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of digit groups and number words (joiners between) saying six digits or more;
    without `words` (the text has no number word), digit runs alone, found faster."""
    if not words:
        for m in _DIGIT_RUN.finditer(text):
            digits = "".join(c for c in m.group(0) if c.isdigit())
            if _accepted(text, m.start(), m.end(), len(digits), digits,
                         _cue_before(cues, m.start())):
                yield m.start(), m.end()
        return
    for run in token_runs(text, _NUMBER_TOKEN, _NUMBER_GAP, lambda word, inside: (
            word.isdigit() or _is_number_word(word) or (
                inside and word.lower() in _MORE_JOINERS))):
        while run and not (run[-1].group(0).isdigit() or _is_number_word(run[-1].group(0))):
            run.pop()
        if not run:
            continue
        tokens = [t.group(0) for t in run]
        digits = "".join(w for w in tokens if w.isdigit())
        if _accepted(text, run[0].start(), run[-1].end(), _digits_said(tokens),
                     digits if digits == "".join(tokens) else None,
                     _cue_before(cues, run[0].start())):
            yield run[0].start(), run[-1].end()


def _places(text: str, word: str) -> Iterator[int]:
    """Where `word` stands in `text` as a whole word."""
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not text[at - 1].isalnum()) and (
                end == len(text) or not (text[end].isalnum() or text[end] == "_")):
            yield at
        at = text.find(word, at + 1)


# What each kind of cue opens: "contact" both calling and writing, "address" both writing
# and a place.
_READINGS = {"phone": ("phone",), "any": ("phone", "handle"), "handle": ("handle",),
             "either": ("handle", "place"), "place": ("place",)}
# Candidates checked against the phone rule's masks per text; past this, digit soup, the rest
# are redacted unchecked (as the phone rule does).
MAX_CHECKED = 200


class _Budget:
    def __init__(self) -> None:
        self.checked = 0

    def masked(self, text: str, start: int, end: int) -> bool:
        if not any(c.isdigit() for c in text[start:end]):
            return False
        self.checked += 1
        return self.checked <= MAX_CHECKED and _masked(text, start, end)


def _masked(text: str, start: int, end: int) -> bool:
    """Whether what the phone rule knows for ordinary (a labelled, tracking or part number, a
    price, a date, a size) covers text[start:end]: masked around it only (masking the whole
    text costs a millisecond), with room before it for its label."""
    if not any(c.isdigit() for c in text[start:end]):
        return False
    offset = max(0, start - 80)
    return MASK in mask(text[offset:end + 30])[start - offset:end - offset]


class IntentRule:
    """Findings are (start, end, code): the code is the kind of cue that opened the clause."""

    code = "contact.social"

    def find_coded(self, text: str) -> Iterator[tuple[int, int, str]]:
        cues = self._cues(text)
        if not cues:
            return
        order_free = _mask_order_ids(text)
        budget = _Budget()
        # Each reading runs once over the clauses its cues open, merged where they overlap:
        # a text of cues does not cost one scan of its clause per cue.
        regions: dict[str, list[list[int]]] = {"phone": [], "handle": [], "place": []}
        for kind, cue_start, cue_end in cues:
            start, end = self._clause(text, cue_start, cue_end)
            for reading in _READINGS[kind]:
                merged = regions[reading]
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            if kind in ("either", "handle", "any"):  # what stands right at the cue
                # "my address is lucy ✦ hartnell ✦ 88 @ gmail": with an at-sign or a provider
                # in the clause, an address of either kind is an e-mail one.
                shaped = kind != "handle" and not (
                    _AT_SAID.search(order_free, start, end) or _PROVIDER.search(order_free, start,
                                                                                end))
                yield from self._at_cue(order_free, cue_start, cue_end, budget, shaped)
        if regions["phone"]:
            starts = [c[1] for c in cues if c[0] in ("phone", "any")]
            # Words to read: number words, or digit groups joined by "then" ("916, потом 555").
            spelled = _may_spell(text) or bool(_JOINED_GROUPS.search(text))
            for start, end in regions["phone"]:
                window = order_free[start:end]
                for s, e in _number_runs(window, spelled, [c - start for c in starts]):
                    if not budget.masked(order_free, start + s, start + e):
                        yield start + s, start + e, "contact.phone"
        for start, end in regions["handle"]:
            yield from self._handles(order_free, start, end, budget)
        for start, end in regions["place"]:
            for m in _streets(text, start, end):
                if not PUBLIC_BEFORE.search(text, max(0, m.start() - 50), m.start()):
                    yield m.start(), m.end(), "contact.address"
            for m in _HOUSE_NUMBER.finditer(text, start, end):
                if all(_is_number_word(w) or w.isdigit() or w.lower() in _JOINERS
                       for w in m.group("said").replace("-", " ").split()):
                    yield m.start("said"), m.end("said"), "contact.address"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        return ((s, e) for s, e, _ in self.find_coded(text))

    @staticmethod
    def _clause(text: str, start: int, end: int) -> tuple[int, int]:
        first, last = max(0, start - _BEFORE), min(len(text), end + _AFTER)
        for blank in _BLANK.finditer(text, first, start):
            first = blank.end()
        after = _BLANK.search(text, end, last)
        return first, after.start() if after else last

    @staticmethod
    def _cues(text: str) -> list[tuple[str, int, int]]:
        """(kind, start, end) of every cue, in order: a word of the text looked up first."""
        words = {w.lower() for w in distinct_words(text).split()}
        found = []
        hits = words & _EXACT
        hits.update(w for w in words if _stemmed(w))
        lowered = text.lower()
        if hits and len(lowered) != len(text):  # a letter that lowers to two: walk the words
            hits = {m.start() for m in _WORD.finditer(text) if m.group(0).lower() in hits}
        elif hits:  # each hit word found where it stands alone
            hits = {at for word in hits for at in _places(lowered, word)}
        for at in sorted(hits):
            pattern = _CUE_BY_LETTER.get(lowered[at])
            cue = pattern.match(text, at) if pattern is not None else None
            if cue is not None and cue.lastgroup is not None:
                found.append((cue.lastgroup.rstrip("0123456789"), cue.start(), cue.end()))
        if not text.isascii():
            for word, kind in _CJK_CUES.items():
                at = text.find(word)
                while at >= 0:
                    found.append((kind, at, at + len(word)))
                    at = text.find(word, at + 1)
            found.sort(key=lambda cue: cue[1])
        return found

    @staticmethod
    def _at_cue(plain: str, cue_start: int, cue_end: int, budget: _Budget,
                shaped: bool) -> Iterator[tuple[int, int, str]]:
        """The word after "my insta is", and a quoted name right by the cue. After a word
        that may name a postal address or a phone too ("my address is", `shaped`), only a
        word shaped like a handle: "mijn adres is hetzelfde" is no handle."""
        said = _SAID.match(plain, cue_end)
        if said is not None:
            word = said.group("word")
            if (not shaped or _HANDLE_SHAPE.match(word)) \
                    and word.lower() not in _NOT_HANDLES and not _FILE.search(word) \
                    and not word.isdigit() and not budget.masked(plain, *said.span("word")):
                yield said.start("word"), said.end("word"), "contact.social"
        for m in _QUOTED.finditer(plain, max(0, cue_start - 60), cue_end + 40):
            name = m.group("name")
            if _NAME_LIKE.fullmatch(name) and (0 <= cue_start - m.end() <= 20 or
                                               0 <= m.start() - cue_end <= 25):
                yield m.start("name"), m.end("name"), "contact.social"

    @staticmethod
    def _handles(plain: str, start: int, end: int,
                 budget: _Budget) -> Iterator[tuple[int, int, str]]:
        # With a mail provider or an at-word in the clause, an address is being described:
        # a lone word after a colon is its user ("mijn naam aan elkaar: joostvanderlinde, en
        # dan bij ziggo"), dots said in words join its parts ("bastien point lacombe").
        at_said = _AT_SAID.search(plain, start, end) is not None
        described = at_said or _PROVIDER.search(plain, start, end) is not None
        if described:
            for m in _AFTER_COLON.finditer(plain, start, end):
                # The provider itself is no user ("Shipping: free", "Carrier: orange")
                if m.group("word").lower() not in _NOT_HANDLES \
                        and not _PROVIDER.fullmatch(m.group("word")):
                    yield m.start("word"), m.end("word"), "contact.email"
            for m in _DOT_SAID.finditer(plain, start, end):  # not "polka dot dress"
                yield m.start(), m.end(), "contact.email"
        for m in _HANDLE.finditer(plain, start, end):
            token = m.group(0)
            if _HANDLE_SHAPE.match(token) and not _FILE.search(token) \
                    and not _ABBREVIATION.fullmatch(token) \
                    and not token.isupper() and sum(c.isalpha() for c in token) >= 2 \
                    and not budget.masked(plain, m.start(), m.end()):
                yield m.start(), m.end(), "contact.social"
        for m in _AS.finditer(plain, start, end):  # only a name shaped like a handle
            name = m.group("name")
            if (_HANDLE_SHAPE.match(name) or _NAME_LIKE.fullmatch(name)) and not name.isupper() \
                    and name.lower() not in _NOT_HANDLES \
                    and not budget.masked(plain, *m.span("name")):
                yield m.start("name"), m.end("name"), "contact.social"
        if at_said:
            for m in _AT_WORD.finditer(plain, start, end):
                yield m.start("user"), m.end(), "contact.email"
