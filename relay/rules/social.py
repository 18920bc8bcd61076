"""contact.social: social handles and messenger contacts.

Messenger and profile links with or without a scheme ("t.me/sally", "wa.me/49176...",
"instagram.com/sally"), a platform named next to an identifier ("Telegram: sallyshop",
"WeChat ID: sally_wx88", "my insta is @sally_shop"), and a bare "@handle".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay.rules.needs import Gated, Gates, distinct_words
from relay.rules.view import folded

# Profile and messenger hosts: a link to one is a contact, with or without a scheme.
PROFILE_HOSTS = frozenset({
    "t.me", "telegram.me", "telegram.dog", "wa.me", "api.whatsapp.com", "chat.whatsapp.com",
    "m.me", "fb.me", "fb.com", "facebook.com", "instagram.com", "instagr.am", "tiktok.com",
    "twitter.com", "x.com", "snapchat.com", "linkedin.com", "line.me", "discord.gg",
    "discord.com", "signal.me", "signal.group", "vk.com", "youtube.com", "youtu.be",
    "threads.net", "pinterest.com", "weixin.qq.com", "u.wechat.com", "viber.com", "skype.com",
    "kik.me", "etsy.com", "linktr.ee", "ebay.com", "ebay.de", "ebay.co.uk", "ebay.fr",
})
_PROFILE = Gated(re.compile(
    r"(?<![a-z0-9.\-])(?:https?://)?(?P<host>[a-z0-9][a-z0-9.\-]*\.[a-z]{2,})/"
    r"(?:[^\s<>\"'`]+|\s?[\d\s]{6,}\d)",  # "wa.me/ 31 6 4827 1953"
    re.IGNORECASE,
), re.compile(r"\.[a-z]{2,}/", re.IGNORECASE))  # what each match holds, found fast
# Messengers, social networks and marketplaces (a shop or seller name there is a way to
# reach someone off the platform), with the endings other languages give them
# ("na Discordzie", "auf Instagramm").
_PLATFORMS = (
    r"(?:whats\s?app|telegram|we\s?chat|weixin|signal|insta(?:gram)?|facebook|"
    r"messenger|snap(?:chat)?|tik\s?tok|twitter|skype|viber|discord|kik|linkedin|youtube|"
    r"threema|wickr|etsy|vinted|ebay|depop|poshmark|mercari|wallapop|leboncoin|kleinanzeigen|"
    r"marktplaats|tradera|blocket|olx|allegro|subito|shpock|willhaben|reddit|pinterest|"
    r"twitch|tumblr|bluesky|mastodon|xing|vk|vkontakte|kakao\s?talk|wickr|zalo|steam|discogs|"
    r"mercado\s?livre|mercado\s?libre|mercadolibre|vinted|catawiki|bandcamp|soundcloud|"
    r"onlyfans|patreon|ko-fi|kofi|gumtree|craigslist|carousell|shopee|lazada|coupang|rakuten|"
    r"mercari|jimoty|ジモティー|メルカリ|번개장터|당근마켓|闲鱼|淘宝|taobao|xianyu|"
    r"avito|kufar|jiji|tokopedia|bukalapak|daraz|sahibinden|letgo|dubizzle|yad2|jumia|"
    r"takealot|bazos|grailed|enjoei|xiaohongshu|douyin|weibo|bilibili|小红书|抖音|微博|"
    r"kijiji|trade\s?me|2dehands|2ememain|donedeal|divar|دیوار|list\.am|lalafo|unegui|"
    r"mapy\.cz|google\s?maps|bazoš|justdial|just\s?dial|sulekha|indiamart|yelp|2gis|"
    r"dianping|fejs|face)"
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
            r"nombre\s+de\s+usuario|usuario|usuari|usuário|nome\s+utente|utente|gebruikersnaam|naam|"
            r"felhasználó|käyttäjä|kasutaja|lietotājs|vartotojas|korisnik|uporabnik|"
            r"användarnamn|brukernavn|brugernavn|shop|store|boutique|tienda|laden|butik|winkel|"
            r"sklep|negozio|loja|page|seite|channel|kanal|konto|compte|cuenta|conta")
_OWNER = (r"(?:(?:my|meine?|mon|ma|mi|il\s+mio|la\s+mia|mijn|our|unser(?:e)?|minha|meu|mój|"
          r"moja)\s+)?")
_SAYS = (r"(?:\s*[:=]\s*|\s+(?:is|ist|est|es|è|é|är|heißt|=)\s+|\s+|\s*-\s*)"
         r"[«\"'„“\u2018\u201a]?\s?")
_NAMED = Gated(re.compile(
    rf"\b(?:{_PLATFORMS})\b(?:[\s,(-]*{_OWNER}(?:{_KEYWORD})\b{_SAYS}\(?(?P<ident>{_IDENT})"
    rf"|\s*[:=]\s*(?P<after_colon>{_IDENT})"
    rf"|(?:\s+(?:me|us))?[\s,(]*(?:\b(?:at|on|is|via|under|unter|sur|su|op|en|as|als|comme|"
    rf"como|come|sous|som|jako|called|named|heißt|sono|soy|sou)\b|で|に|は|の|에서)?\s*\(?"
    rf"[«\"'„“\u2018\u201a]?\s?(?P<strong>{_STRONG})"
    rf"|(?:\s+[^\s.!?]{{1,20}}){{1,3}}?\s+(?:as|als|comme|como|come|unter|sous|som|jako|under)\s+"
    rf"[«\"'„“\u2018\u201a]?\s?(?P<found_as>{_STRONG}))",
    re.IGNORECASE,
))
# "chineuse_de_lyon on Vinted", "sally_deals auf eBay"
_BEFORE_PLATFORM = Gated(re.compile(
    rf"(?<![\w@.])(?P<ident>{_STRONG})\s+(?:on|auf|sur|en|su|op|på|na|w|bei|at|in|im)\s+"
    rf"(?:{_PLATFORMS})\b", re.IGNORECASE))
# Schemes that open a messenger chat or a call: tg://resolve?domain=..., viber://chat?...
_SCHEMES = Gated(re.compile(
    r"(?<![\w+\-])(?<![a-z0-9]\.)(?P<scheme>tg|viber|weixin|wechat|line|kakaotalk|kakaoplus|kakaolink|whatsapp|"
    r"skype|sgnl|signal|fb-messenger|messenger|snapchat|instagram|threema|wickr|discord|tiktok|"
    r"twitter|zalo|imo|icq|xmpp|msnim|facetime|facetime-audio|sip|sips|tel|sms|mms|callto|im|"
    r"aim|ymsgr|gtalk|wire|element|matrix|teams|msteams|mqq|tencent|weibo|sinaweibo|"
    r"kakaostory|band|navertalk):(?://)?[^\s<>\"'`]+", re.IGNORECASE))
# Messengers named in Chinese, Japanese or Korean ("加我微信 sally_wx88", "카톡 아이디 ...").
_CJK_MESSENGERS = re.compile(
    r"(?:微信号?|微信|威信|薇信|[Vv]信|QQ号?|扣扣|企鹅号|ライン|らいん|カカオトーク|カカオ|カトク|"
    r"テレグラム|ワッツアップ|インスタ|카톡|카카오톡|카카오|텔레그램|라인|왓츠앱|인스타|微博|抖音|"
    r"小红书|加微|(?i:v\s?x|w\s?x)(?=\s*[:号])|(?<![A-Za-z])[Vv](?=\s*:)"
    # Latin names glued to the CJK text around them ("WeChatのIDは...")
    r"|(?i:we\s?chat|weixin|line|kakao\s?talk|telegram|whats\s?app|insta(?:gram)?|skype|"
    r"facebook|discord|signal|viber)(?=\s*(?:の|で|は|ID|id|아이디|号|號|:|\uff1a)))"
    r"\s*(?:の|에서?\s?)?\s*(?:ID|id|Id|号|號|아이디|계정|アカウント|账号|帐号|搜索|搜|검색|で検索)?\s*(?:は|是|:|은|는|으로|로|を|も)?"
    r"\s*:?\s*"
    r"(?P<ident>[A-Za-z0-9][A-Za-z0-9_\-.]{3,30})")
# A nickname or user name, announced as such ("Mon pseudo là-bas c'est chineuse_de_lyon").
_NICK_WORDS = (r"nick(?:name)?|pseudo(?:nyme)?|notandanafn|nama\s+pengguna|benutzername|"
               r"nutzername|användarnamn|anv\.?namn|"
               r"brukernavn|brugernavn|gebruikersnaam|user\s?name|nome\s+utente|"
               r"nombre\s+de\s+usuario|apodo|ksywka|nazwa\s+użytkownika|kullan\u0131c\u0131\s+ad\u0131|"
               r"handle|login|ユーザー名|ユーザ名|ニックネーム|昵称|用户名|닉네임|přezdívk\w*|"
               r"uživatelské\s+jméno|ψευδώνυμο|όνομα\s+χρήστη|rumuz\w*|takma\s+ad\w*|apelido|"
               r"soprannome|bijnaam|smeknamn|kallenavn|kaldenavn|profilname|profilnamn|"
               r"profielnaam|nom\s+de\s+profil|nombre\s+de\s+perfil|nome\s+(?:do|del)\s+perfil|"
               r"profile\s+name|nazwa\s+profilu|profil\s+ad\u0131|アカウント名|账号名|계정\s?이름")
_FILLER = (r"là-bas|la-bas|c'est|c\u2019est|ist|is|är|es|est|è|to|jest|there|dort|da|on|auf|sur|"
           r"en|op|på|na|w|im|am|als|as|my|mein|meiner|mon|mi|el|il|lautet|heißt|är|er|was|war|"
           r"su|no|em|bei|in|at|v|ve|σε|στο|είναι|è")
_NICK = Gated(re.compile(
    rf"\b(?:{_NICK_WORDS})\w{{0,2}}\b(?:\s*(?:(?:{_FILLER})\b|(?P<site>(?-i:[A-Z][\w\-]{{1,20}})"
    rf"(?=[\s:])|(?:{_PLATFORMS})\b))){{0,4}}\s*(?P<colon>[:=])?\s*(?P<quote>[«\"'„“\u2018\u201a])?\s*"
    rf"(?P<ident>@?[\w][\w.\-]{{2,39}})", re.IGNORECASE))
# "heiße ich Schraubenkoenig_BO", "me llamo ...": a name that only a handle looks like
_CALLED = Gated(re.compile(
    rf"\b(?:heiße\s+ich|ich\s+heiße|heiß\s+ich|i'm\s+called|i\s+go\s+by|je\s+m'appelle|"
    rf"me\s+llamo|mi\s+chiamo|heet\s+ik|ik\s+heet|jag\s+heter|jeg\s+heter|nazywam\s+się|"
    rf"me\s+chamo|sono|soy|sou|je\s+suis|jestem|i'm|i\s+am)\s+[«\"'„“\u2018\u201a]?"
    rf"(?P<ident>{_STRONG})", re.IGNORECASE))
# With a platform or a nickname talked about, a name with an underscore is a handle.
_TALK = Gated(re.compile(rf"\b(?:{_PLATFORMS}|{_NICK_WORDS})\b|微信|微博|ライン|카톡|라인",
                         re.IGNORECASE))
_UNDERSCORED = Gated(re.compile(r"(?<![\w@./])[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*"
                                r"(?:_[A-Za-z0-9]+)+(?:[._][A-Za-z0-9]+)*(?![\w@])"))
_COMMON = frozenset((
    "the", "and", "ist", "der", "die", "das", "est", "les", "une", "con", "por", "para", "per",
    "che", "und", "oder", "och", "är", "som", "från", "here", "there", "same", "also", "auch",
    "aussi", "también", "anche", "ook", "också"))
# u/name on reddit
_REDDIT = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_\-]{3,20}\b")
# "Búscame en Facebook como Cerámicas Alba Ruiz", "search Anna Kowalski on Facebook"
_CAP = r"[A-ZÁÉÍÓÚÑÄÖÜÅŁŚŻÇ][\w'\-]+"
_CAPS = rf"{_CAP}(?:\s+(?:{_CAP}|de|del|da|di|von|van|la|le|dos|das)){{0,5}}"
_QUOTE = r"[«\"'„“\u2018\u201a]?\s?"
_AS = (r"(?i:as|como|comme|als|unter|sous|come|som|jako|under|z|pelo\s+nome|by\s+the\s+name|"
       r"under\s+the\s+name|unter\s+dem\s+namen|sous\s+le\s+nom|con\s+el\s+nombre|"
       r"col\s+nome|com\s+o\s+nome|onder\s+de\s+naam|pod\s+nazwą|pod\s+jménem|"
       r"pod\s+názvem|pod\s+menom|pod\s+názvom|pod\s+imenom|pod\s+nazivom|néven|nimellä|"
       r"ad\u0131yla|" + folded(r"под\s+именем|под\s+названием|під\s+назвою|під\s+ім'ям") + ")")
_SEARCH = (r"(?i:search|look\s+(?:me\s+)?up|find|google|znajd\u017a(?:\s+mnie)?|hitta\s+mig|"
           r"vind\s+me|trovami|encu[ée]ntrame|look\s+for|busca(?:me)?|búscame|"
           r"cherche(?:z)?(?:-moi)?|such(?:e|en|t)?|zoek|szukaj|cerca(?:mi)?|procur[ae](?:-me)?|"
           r"me\s+procura|sök|ara|tapez|tape|type|enter|tippe|gib|digita|escribe|pon|"
           r"hledej\w*|hľadaj\w*|keres\w*|etsi\w*|søg|leit\w*|fittex|cari\w*|tafuta|tìm)")
# "search my name on", "such mich einfach auf"
_OBJECT = (r"(?i:me|mich|moi|mnie|mig|meg|mij|me|my\s+name|meinen\s+namen|mon\s+nom|"
           r"mi\s+nombre|il\s+mio\s+nome|mijn\s+naam|mitt\s+namn|meu\s+nome|moje\s+imię|"
           r"for\s+me|nach\s+mir)")
_SIMPLY = (r"(?i:einfach|just|simply|simplement|simplemente|semplicemente|gewoon|bara|bare|"
           r"po\s+prostu|só|apenas)")
_SEARCH_ME = Gated(re.compile(
    # Every form starts a word: the engine gives up at once inside one (most positions).
    rf"\b(?:(?i:{_PLATFORMS})(?:\s+[^\s.!?]{{1,20}}){{0,2}}?\s+{_AS}\s+{_QUOTE}(?P<as>{_CAPS})"
    rf"|{_SEARCH}\s+(?:(?i:for|nach|me|mich|moi)\s+)?{_QUOTE}(?P<name>{_CAPS})[»\"'“”]?\s+"
    rf"(?i:on|en|auf|sur|op|na|su|w|i|no|in|bei)\s+(?i:{_PLATFORMS})"
    rf"|{_SEARCH}\s+(?:{_OBJECT}\s+)?(?:{_SIMPLY}\s+)?(?i:on|en|auf|sur|op|na|su|w|i|no|in|bei)"
    rf"\s+(?i:{_PLATFORMS})[\s,:\-\u2014]+{_QUOTE}(?P<after>{_CAPS})"
    # A Turkish "Facebook'ta <name> diye arat\u0131n": the name, then the search verb
    rf"|(?i:{_PLATFORMS})(?:['\u2019\-]\w{{1,4}})?\s+{_QUOTE}(?P<before_verb>{_CAPS})[»\"'“”]?"
    rf"\s+(?i:diye|olarak|and|und|et|y|e|en|och|i)?\s*(?i:arat\w*|ara\w*|search|such\w*|"
    rf"cherch\w*|busc\w*|cerca\w*|zoek\w*|sök\w*|szukaj\w*|procur\w*|தேடி|தேடு|खोज|"
    rf"ค้นหา|ابحث|חפש)"
    # "just search WillowAndWickCandles": a name only a handle looks like
    rf"|{_SEARCH}\s+(?:(?i:for|nach|me|mich|moi)\s+)?{_QUOTE}(?P<handle>{_STRONG})(?![\w@])"
    rf"|(?i:{_PLATFORMS})\s*[\u2014\u2013:\-]\s*{_SEARCH}\s+{_QUOTE}(?P<then>{_CAPS})"
    # "hledejte pod jménem Honza Kola Brno", "fittex lil Marija Borg": a name sought, said
    # with "under the name" or as a person's full name (two capitalised words or more)
    rf"|{_SEARCH}\s+(?:(?i:me|mich|moi|mě|mne)\s+)?{_AS}\s+{_QUOTE}(?P<under>{_CAPS})"
    rf"|{_SEARCH}\s+(?i:for|nach|lil|per|po|za|pro)\s+(?P<person>{_CAP}(?:\s+{_CAP}){{1,3}}))"))
# A name said unquoted after "by the name" or "the profile" in scripts without capitals to
# tell it by, where a platform is named ("بتلاقيني على السوق المفتوح باسم أبو سامي
# للإلكترونيات،", "اسم آگهی کالای دست دوم تهران غرب.", "потърсете профила Иван Антики"): the
# words up to the clause's end.
_NAMED_AS = Gated(re.compile(
    r"(?:باسم|بإسم|اسمها|اسمه|به\s+اسم|با\s+نام|اسم\s+(?:آگهی|پیج|صفحه|فروشگاه|کانال|الحساب|المتجر|"
    r"الصفحة|الصفحه)|בשם|کے\s+نام\s+سے|नाम\s+से|"
    + folded(r"профила|с\s+името|под\s+ником|с\s+именем|под\s+именем")  # noqa: RUF001
    + r")[\s:]+(?P<name>[^\W\d_][^\n.,،;!?()\d]{1,40}?)(?=\s*(?:[\n.,،;!?()]|$))"))
_MORE_NAMES = re.compile(rf"(?:[ \t]+{_CAP}){{1,3}}")
# A quoted name searched for ("「花田さくら 陶芸」って検索", "'Selin Aydin Kilim' diye aratin") or
# announced as a shop or seller name ("店铺名「丽丽的茶铺」", "verkoper 'VintageVanDam'").
_OPEN_Q = "[「『“\"'«„\u2018]"
_CLOSE_Q = "[」』”\"'»“\u2019]"
_QUOTED = re.compile(rf"{_OPEN_Q}(?P<q>[^」』”\"'»“\u2019\n]{{2,40}}){_CLOSE_Q}")
_OPEN_QUOTES = "「『“\"'«„\u2018"  # what _OPEN_Q takes
_SEARCHED_AFTER = re.compile(
    r"\s*(?:って|을|를|で|diye|and|och|en|und|,|" + folded(r"гэж|гэдгээр") + r")?\s*"
    r"(?:検索|검색|搜索|搜|arat|ara\b|search|zoek|sök|such|busca|cherche|cerca|procura|"
    r"hledej|hľadaj|keres|etsi|søg|tìm|cari|tafuta|தேடு|தேடி|खोज|ค้นหา|ابحث|חפש|"
    + folded(r"хай|ищи|найди|шукай|знайди|іздең|потърс") + ")", re.IGNORECASE)
_NAMED_BEFORE = re.compile(
    r"(?:店铺名|店名|상점명|ショップ名|昵称|ハンドルネーム|ハンドル名|ニックネーム|ユーザー名|닉네임|用户名|"
    r"账号|小程序|公众号|"
    + folded(r"продавца|продавця|прадаўца|продавач\w*|продавец|") +
    r"(?i:verkoper|verkäufer|seller|vendeur|vendedor|venditore|säljare|sprzedawca|"
    r"sat\u0131c\u0131|anbieter|shop\s+name|store\s+name|shop|store|boutique|tienda|loja|"
    r"negozio|winkel|butik|sklep|laden|trgovin\w*|prodavnic\w*|veikal\w*|parduotuv\w*|"
    r"pood\w*|dyqan\w*|siop\w*|siopa|denda|botiga))\s*(?:は|是|:|is|ist|est|es|är|heißt)?\s*$")
# A user quoted, or a name searched for, where another platform is named (Hebrew "the user
# 'X'" on Yad2, "Додај ме на Вибер, тражи 'X'"); without one a product is searched for ("搜
# “蓝色台灯”"), and on the marketplace itself ("the user "X" on here asked me...") a user's
# name is no way out.
_SEARCH_BEFORE = re.compile(
    r"(?<!\w)(?i:search|find|busca|búscame|cherche|cerca|zoek|sök|søg|szukaj|hledej|hľadaj|keres|"
    r"cari|tafuta|ara|meklē\w*|meklej\w*|ieškok\w*|otsi\w*|cuardaigh|chwilia\w*|bilatu|"
    r"kërko\w*|" + folded(r"тражи\w*|траж|ищи\w*|шукай\w*|пребарај|потърс\w*") + r")"
    r"(?:\s+(?:for|me|us|nach|uns|mich))?\s*(?::)?\s*$")
_USER_BEFORE = re.compile(
    r"(?:המשתמש|משתמש|החנות|المستخدم|المتجر|(?i:user(?:name)?|utilisateur|usuario|usuário|"
    r"benutzer(?:name)?|gebruiker|użytkownik))\s*(?::|is|ist|est|es|är)?\s*$")
# Cheap tests before the costly patterns: most messages name no platform and no nickname.
_PLATFORM_STEMS = (
    "whatsapp", "whats app", "telegram", "wechat", "we chat", "weixin", "signal", "insta",
    "facebook", "messenger", "snap", "tiktok", "tik tok", "twitter", "skype", "viber",
    "discord", "kik", "linkedin", "youtube", "threema", "wickr", "etsy", "vinted", "ebay",
    "depop", "poshmark", "mercari", "wallapop", "leboncoin", "kleinanzeigen", "marktplaats",
    "tradera", "blocket", "olx", "allegro", "subito", "shpock", "willhaben", "reddit",
    "pinterest", "twitch", "tumblr", "bluesky", "mastodon", "xing", "vkontakte", "kakao",
    "zalo", "steam", "discogs", "mercado", "catawiki", "bandcamp", "soundcloud", "onlyfans",
    "patreon", "ko-fi", "kofi", "gumtree", "craigslist", "carousell", "shopee", "lazada",
    "coupang", "rakuten", "jimoty", "ジモティー", "メルカリ", "번개장터", "당근마켓", "闲鱼",
    "淘宝",
    "taobao", "xianyu", "avito", "kufar", "jiji", "tokopedia", "bukalapak", "daraz",
    "sahibinden", "letgo", "dubizzle", "yad2", "jumia", "takealot", "bazos", "grailed",
    "enjoei", "xiaohongshu", "douyin", "weibo", "bilibili", "小红书", "抖音", "微博",
    "kijiji", "trade me", "trademe", "2dehands", "2ememain", "donedeal", "divar", "دیوار",
    "list.am", "lalafo", "unegui", "mapy.cz", "google maps", "googlemaps", "bazoš",
    "ss.lv", "ss.com", "skelbiu", "okidoki", "ricardo", "tutti.ch", "蝦皮",
    "虾皮", "露天", "olx.ba", "pazar3", "merrjep", "njuskalo", "halooglasi", "bolha",
    "justdial", "just dial", "sulekha", "indiamart", "yelp", "2gis", "dianping",
    # Named in other scripts, as the lowered view shows them
    *(folded(w).lower() for w in (
        "фейсбук", "инстаграм", "інстаграм", "телеграм", "вайбер", "вибер", "вконтакт",
        "фэйсбүүк",
        "инстаграмм")),
    "فيسبوك", "فيس بوك", "فیسبوک", "انستقرام", "انستغرام", "اینستاگرام", "ফেসবুক",
    "फेसबुक", "इंस्टाग्राम", "ເຟສບຸກ", "เฟซบุ๊ก", "เฟสบุ๊ค", "ფეისბუქ", "ინსტაგრამ",
    "ֆեյսբուք", "ինստագրամ", "ፌስቡክ", "ኢንስታግራም", "インスタ", "フェイスブック", "인스타",
    "페이스북", "פייסבוק", "אינסטגרם", "\u05d9\u05d32", "\u05d9\u05d3 2", "opensooq", "haraj",
    "حراج", "السوق المفتوح", "شیپور", "دوبيزل", "تلگرام", "تلغرام", "التلغرام", "واتساب",
    "واتس", "ایتا", "روبیکا", *(folded(w).lower() for w in ("олх", "авито", "куфар")),
    "fejs", "face")
_SHORT_PLATFORMS = re.compile(r"\b(?:wa|ig|fb|tg|qq|vk|line\W{0,3}id|session\s+id)\b")
# Asked of the text before the lowered copy is searched: lowering keeps every character's
# place and kind but for "İ" (two characters lowered), so where the text has none, a match
# in the lowered copy is one in the text, any case.
_SHORT_PLATFORMS_ANY_CASE = Gated(re.compile(_SHORT_PLATFORMS.pattern, re.IGNORECASE))
_NICK_STEMS = (
    "notandanafn", "pengguna", "přezdív", "jméno", "ψευδώνυμο", "χρήστη", "rumuz", "takma",
    "apelido", "soprannome",
    "bijnaam", "smeknamn", "kallenavn", "kaldenavn", "profil", "profile", "アカウント", "账号",
    "계정", "nick", "pseudo", "benutzer", "nutzer", "användar", "anv.namn", "bruker", "bruger",
    "gebruiker", "user", "utente", "usuario", "apodo", "ksywka", "użytkownik", "kullan",
    "handle", "login", "ユーザ", "ニックネーム", "昵称", "用户名", "닉네임")
_NOT_NAME_WORDS = re.compile(r"(?i)handle|login|nick|pseudo")
_STRONGISH = re.compile(r"[a-z][A-Z]|[A-Za-z]_|[a-z]\d")


# "face" alone is Facebook only as a word of its own ("add me on face", not "surface"); Bland
# (Iceland's marketplace) only with its capital. (Bland is no platform in _PLATFORMS: a group
# that turns case back on there costs the gates' analysis about 20 s at import.)
_FACE = re.compile(r"\bface\b")
_BLAND = re.compile(r"\bBland\b")


def _mentions(lowered: str, stems: tuple[str, ...]) -> bool:
    return any(stem in lowered for stem in stems)


_HANDLE = re.compile(r"(?<![\w@.+\-/])@[a-z_][\w.]{2,29}(?<!\.)(?![\w@\-]|\.\w)", re.IGNORECASE)


# A page, shop or group on a platform given by its name, in quotes or after a colon ("my FB
# page, search "Aling Nena's Kakanin"", "Facebook පිටුවේ: Colombo Batik House"): the
# platform, then within a clause a word for page, shop, group, channel, name or search, then
# the name. A name quoted near a platform without such a word ("the "Air Max" I saw on
# Instagram") stays.
_PLATFORM_NAMES = (
    _PLATFORMS + r"|fb|ig|sharechat|kaspi|tap\.az|bina\.az|olx|"
    + folded(r"фейсбук\w*|инстаграм\w*|телеграм\w*|вайбер\w*|viber\w*|вконтакт\w*|")
    + r"فيسبوك|فيس\s?بوك|فیسبوک|انستقرام|اینستاگرام|ফেসবুক|फेसबुक|इंस्टाग्राम|"
    r"ເຟສບຸກ|เฟซบุ๊ก|เฟสบุ๊ค|ფეისბუქ\w*|ֆեյսբուք\w*|ፌስቡክ|インスタ|フェイスブック|인스타|페이스북")
_PAGE_WORDS = (
    r"page|pagina|página|seite|side|sida|sivu|strona|stránk\w*|oldal\w*|"
    r"shop|store|boutique|tienda|loja|negozio|winkel|butik|sklep|laden|mağaza\w*|dükkan\w*|"
    r"group|groupe|grupo|gruppe|grupa|channel|kanal|canal|community|communauté|comunidad|"
    r"name|nom|nombre|nome|naam|namn|navn|nimi|isim|adı|search|look\s+(?:me\s+)?up|find|"  # noqa: RUF001
    r"cherche\w*|busca\w*|procur\w*|such\w*|cerca\w*|zoek\w*|sök\w*|szukaj\w*|hledej\w*|"
    r"hanapin|cari\w*|tafuta|axtar\w*|název\w*|názv\w*|nazw\w*|naziv\w*|namens|"
    + folded(r"страниц\w*|сторінк\w*|магазин\w*|групп\w*|груп\w*|канал\w*|общност\w*|"
    r"сообществ\w*|спільнот\w*|ищите|найдите|шукайте|іздеңіз|дүкен\w*|")
    + r"صفحت\w*|صفحة|اسمها|اسمه|پیج|صفحه|فروشگاه|مغازه|متجر|পেজ|পেইজ|पेज|पेज़|పేజీ\w*|పేజ్|பக்க\w*|"
    r"පිටුව\w*|ຊື່|ชื่อ|เพจ|ร้าน|გვერდ\w*|էջ\w*|ページ|ショップ|페이지|가게|店|页面|頁面")
_PAGE_NAMED = Gated(re.compile(
    rf"(?i:(?<!\w)(?:{_PLATFORM_NAMES})(?!\w))(?=[^\n.!?]{{0,50}}?(?i:{_PAGE_WORDS}))"
    r"[^\n.!?«\"“„「『]{0,60}?"
    r"(?:[«\"“„「『](?P<qname>)|:\s*(?=[A-Z]))"
    r"(?P<name>(?(qname)[^\"”“«»」』\n]{2,60}(?=[»\"”“」』])"
    r"|[A-Z][\w'\u2019&\-]*(?:[ \t]+[A-Z][\w'\u2019&\-]*){1,5}))"))

_LONG_WORD = re.compile(r"[^\W\d_]{4,}")


def _name_cased(name: str) -> bool:
    """A name as shops write theirs: in a script with capitals, each longer word starts with
    one ("Aling Nena's Kakanin", not "Ships in 2 days")."""
    return all(w[0].isupper() or w[0] == w[0].upper() for w in _LONG_WORD.findall(name))


_GATES = Gates(_PROFILE, _NAMED, _BEFORE_PLATFORM, _SCHEMES, _NICK, _CALLED, _TALK,
               _UNDERSCORED, _SEARCH_ME, _SHORT_PLATFORMS_ANY_CASE)


class _Talk:
    """Whether a text talks of a platform or a nickname: asked only where a pattern that
    needs it could match at all (most texts name neither), each once."""

    def __init__(self, text: str) -> None:
        self.text, self.lowered = text, text.lower()
        self.asked: dict[str, bool] = {}

    def platform(self) -> bool:
        if "platform" not in self.asked:
            text, lowered = self.text, self.lowered
            self.asked["platform"] = (_mentions(lowered, _PLATFORM_STEMS) and (
                "face" not in lowered or _mentions(lowered, _PLATFORM_STEMS[:-1])
                or bool(_FACE.search(lowered)))) \
                or (("\u0130" in text or _SHORT_PLATFORMS_ANY_CASE.may_match(text))
                    and bool(_SHORT_PLATFORMS.search(lowered))) \
                or bool(_BLAND.search(text))
        return self.asked["platform"]

    def nick(self) -> bool:
        if "nick" not in self.asked:
            self.asked["nick"] = _mentions(self.lowered, _NICK_STEMS)
        return self.asked["nick"]


def _named(text: str) -> Iterator[tuple[int, int]]:
    """An identifier next to a platform's name."""
    for m in _NAMED.finditer(text):
        group = next(g for g in ("ident", "after_colon", "strong", "found_as") if m.group(g))
        ident = m.group(group)
        if group != "strong" and ident.isdigit() and len(ident) < 5:
            continue  # "Signal: 3 bars" is not an ID
        end = m.end(group)
        if ident[:1].isupper() and (more := _MORE_NAMES.match(text, end)):
            end = more.end()  # a full name: "Facebook: Xaver Oberhuber-Kaltenbrunner"
        yield m.start(group), end


class SocialRule:
    code = "contact.social"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        _GATES.ask(text)
        if "/" in text:
            for m in _PROFILE.finditer(text):
                host = m.group("host").lower().removeprefix("www.")
                if host in PROFILE_HOSTS:
                    yield m.start(), m.end()
        talk = _Talk(text)
        if _NAMED.may_match(text) and talk.platform():
            yield from _named(text)
        if "@" in text:
            for m in _HANDLE.finditer(text):
                yield m.start(), m.end()
        if ":" in text:
            for m in _SCHEMES.finditer(text):
                yield m.start(), m.end()
        for m in _BEFORE_PLATFORM.finditer(text) if _BEFORE_PLATFORM.may_match(text) \
                and talk.platform() else ():
            yield m.start("ident"), m.end("ident")
        if not text.isascii():
            for m in _CJK_MESSENGERS.finditer(text):
                yield m.start("ident"), m.end("ident")
        if _PAGE_NAMED.may_match(text):
            for m in _PAGE_NAMED.finditer(text):
                if _name_cased(m.group("name")):
                    yield m.start("name"), m.end("name")
        for m in _NICK.finditer(text) if _NICK.may_match(text) and talk.nick() else ():
            ident = m.group("ident")
            if ident.lower() in _COMMON:
                continue
            # A plain word is a nickname too where the site it belongs to is named
            # ("il mio nickname su Steam è ilgattoprofessore").
            # So is a plain word of six letters or more after a word for a user name where a
            # platform is named ("á Bland, notandanafn hjolagunni"; a "handle" is a mug's too).
            if m.group("colon") or m.group("quote") or (m.group("site") and len(ident) >= 6) \
                    or re.search(r"[\d._\-@]|[a-z][A-Z]", ident) \
                    or (len(ident) >= 6 and ident.islower() and talk.platform()
                        and not _NOT_NAME_WORDS.match(m.group(0))):
                yield m.start("ident"), m.end("ident")
        if "u/" in text:
            for m in _REDDIT.finditer(text):
                yield m.start(), m.end()
        searched = _SEARCH_ME.may_match(text) and talk.platform()
        for m in _SEARCH_ME.finditer(text) if searched else ():
            group = next(g for g in ("as", "name", "after", "then", "before_verb", "handle",
                                     "under", "person") if m.group(g))
            yield m.start(group), m.end(group)
        for m in _NAMED_AS.finditer(text) if _NAMED_AS.may_match(text) \
                and talk.platform() else ():
            yield m.start("name"), m.end("name")
        for m in _QUOTED.finditer(text) if any(q in text for q in _OPEN_QUOTES) else ():
            if _SEARCHED_AFTER.match(text, m.end()) or _NAMED_BEFORE.search(
                    text, max(0, m.start() - 30), m.start()) or (_USER_BEFORE.search(
                    text, max(0, m.start() - 30), m.start()) and talk.platform()) or (
                    _SEARCH_BEFORE.search(text, max(0, m.start() - 20), m.start())
                    and talk.platform()):
                yield m.start("q"), m.end("q")
        # _STRONGISH is made of word characters: its matches lie within words.
        called = _CALLED.may_match(text) and bool(_STRONGISH.search(distinct_words(text)))
        for m in _CALLED.finditer(text) if called else ():
            if len(m.group("ident")) >= 5:
                yield m.start("ident"), m.end("ident")
        if "_" in text and _UNDERSCORED.may_match(text) and (
                talk.platform() or talk.nick() or _TALK.search(text)):
            for m in _UNDERSCORED.finditer(text):
                yield m.start(), m.end()
