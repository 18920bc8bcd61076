"""contact.social: a way to pay or find someone off the platform that is neither a handle nor
a phone: an IBAN, a bank account or payment alias given to transfer to ("Cuenta RUT BancoEstado, RUT
15.432.876-K", "mi alias: LUCAS.TANGO.SOL", "የንግድ ባንክ ሒሳቤ 1000123456789"), and a company's or
person's registry number given to look up ("slå vores CVR 38412277 op på virk.dk").

A registry or tax number on an invoice ("USt-IdNr. DE123456789", "NIP 5213...") is what
invoices carry and stays; it goes where the sentence speaks of looking it up or of paying
there. An account's number goes only where the sentence speaks of a bank or a transfer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay.rules.needs import Gated
from relay.rules.view import folded

# Registry numbers after their names: company registers, tax and national numbers. Written
# in capitals where the name is an abbreviation: "tin", "nip" and "pan" are words too.
_REGISTRY = Gated(re.compile(
    r"(?<![\w\-])(?:CVR|KVK|KvK|SIRE[NT]|ABN|ACN|UEN|CNPJ|CPF|NIP|REGON|KRS|IČO|IČ|DIČ|Y-tunnus|"
    r"[Oo]rg\.?\s?[Nn]r\.?|[Oo]rgani[sz]a(?:sjons|tions)nummer|UID(?:-Nr\.?)?|CUIT|CUIL|RUT|RUC|"
    r"RFC|NIF|CIF|NIE|DNI|P\.?\s?IVA|[Pp]artita\s+IVA|VAT\s+(?:[Nn]o\.?|[Nn]umber|[Rr]eg\w*|ID)|"
    r"USt-?IdNr\.?|Steuernummer|GSTIN|NPWP|TIN|EIN|BSN|PESEL|OIB|JMBG|EMŠO|"
    r"[Cc]odice\s+[Ff]iscale|ΑΦΜ|VKN|TCKN|CNIC|CURP|KRA\s+PIN|"
    + folded(r"ИНН|ОГРН|ЕДРПОУ|ЄДРПОУ|УНП|ЕИК|БУЛСТАТ|БИН|ИИН") + r")"
    r"(?![\w\-])[\s.:#]*(?:(?i:nr|no|number|nummer|n[º°])\.?\s*[:#]?\s*)?"
    r"(?P<number>(?:[A-Z]{2}\s?)?\d[\d .\-/]{4,22}[\dkKX])(?![\w\-])"))
# A registry number's own shape: a Chilean RUT, a Brazilian CPF or CNPJ.
# (Each starts with a class of characters, its look-behind after: the engine then skips to
# where one stands instead of trying every position.)
_ID_SHAPES = re.compile(r"\d(?<![\w.\-/]\d)(?:\d?\.\d{3}\.\d{3}-[\dkK]|\d{2}\.\d{3}\.\d{3}-\d{2}|"
                        r"\d\.\d{3}\.\d{3}/\d{4}-\d{2})(?![\w\-/])")
# A bank account by its word, and its number within the clause ("account no. 0123456789",
# "Konto 1234 5678 90", "حسابي 1234567890123").
# (Words that also mean an invoice or a bill, "számla", "rachunek", "счёт", are left out.)
_ACCOUNT_WORDS = (
    r"account|a/c|acct|bank\s+details|konto|kontonummer|kontonr|rekeningnummer|cuenta|conta|"
    r"compte|conto|hesap\w*|účet|účtu|tilinumero|tilille|akaun|akaunti|asusu|akaụntụ|"
    # a bank's name right before the number: "Maybank 5642 1234 5678"
    r"\w*bank|acc(?![\w.])|acc\.|rek(?![\w.])|rek\.|rekening\w*|akhawunti|capitec|"
    r"reikning\w*|(?:tekuć\w+|žiro|moj\w*|na)\s+račun\w*|CLABE|hisob\w*|llogari\w*|"
    + folded(r"сметк\w*|данс\w*|шот\w*") + r"|"
    r"λογαριασμ\w*|"
    r"ሒሳ\w*|ሂሳ\w*|حساب\w*|חשבון\w*|खाता|खाते|অ্যাকাউন্ট|হিসাব|கணக்கு|ఖాతా|ಖಾತೆ|"
    r"അക്കൗണ്ട്|ખાતા|ਖਾਤਾ|tài\s+khoản|บัญชี|账户|账号|帳戶|口座|계좌")
_ACCOUNT = Gated(re.compile(
    rf"(?i:(?<!\w)(?:{_ACCOUNT_WORDS}))(?:[^\d\n.!?]|\.(?=\s?[a-z\d:])){{0,30}}?"
    r"(?P<number>(?<!\d)\d(?:[ \-]?\d){7,25})(?!\d)"))
# An IBAN: a country's code and its length, and the check digits right (ISO 13616, mod 97),
# or (a number made up, check digits wrong) a sentence that speaks of paying by bank; a
# parcel's number of the same shape ("JD014600003828120012") is neither.
_IBAN = re.compile(r"[A-Z](?<![A-Z0-9][A-Z])[A-Z]\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}"
                   r"(?:[ \-]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


def _iban(candidate: str) -> bool:
    code = candidate.replace(" ", "").replace("-", "")
    if _IBAN_LENGTHS.get(code[:2]) != len(code):
        return False
    digits = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
    return int(digits) % 97 == 1


# A payment alias (Argentina's CBU/CVU aliases): words joined by dots after "alias".
_ALIAS = re.compile(
    r"(?i:\balias\b)[^\n.!?]{0,40}?(?P<alias>(?<![\w.@])[A-Za-z][A-Za-z0-9]{1,19}"
    r"(?:\.[A-Za-z][A-Za-z0-9]{1,19}){1,3})(?![\w.@/])"
    r"|(?i:\b(?:CBU|CVU)\b)\s*[:#]?\s*(?P<cbu>\d{22})\b"
    # Jordan's CliQ and others: an alias of capitals and digits ("الاسم المستعار SAMEERJO88")
    r"|(?:(?i:\balias\b)|الاسم\s+المستعار|اسم\s+مستعار|כינוי)\s*[:\-]?\s*"
    r"(?P<caps>(?<![\w.@])[A-Z][A-Z0-9]{4,19})(?![\w.@/])")
# Payment apps and wallets. (Names that are words too, "Bit", "Wise", "Click", only
# written as a name: capitalised, or in Hebrew script.)
_WALLETS = (
    r"(?i:mobilepay|vipps|swish|twint|payconiq|blik|bizum|lydia|satispay|papara|ininal|fps|"
    r"轉數快|转数快|payme|paynow|promptpay|พร้อมเพย์|duitnow|gcash|paymaya|mvola|"
    r"orange\s+money|airtel\s+money|m-?pesa|mtn\s+momo|bkash|বিকাশ|nagad|jazzcash|easypaisa|"
    r"paytm|phonepe|google\s+pay|gpay|upi|zelle|venmo|cash\s*app|interac|e-?transfer|"
    r"revolut|paypal|qiwi|yoomoney|alipay|支付宝|支付寶|微信支付|wechat\s+pay|"
    r"kakaopay|카카오페이|토스|line\s+pay|paypay|paybox|gopay|shopeepay|zalopay|telebirr|"
    r"ቴሌብር|ecocash|opay|palmpay|uzum|humo|cliq|kbz\s?pay|wave\s?pay|aya\s?pay|cb\s?pay|"
    r"e-?wallet|palawan|mb\s?way|payid|tikkie|momo\s+pay|paysera|zaad|evc\s?plus|sahal|"
    r"e-?dahab|snapscan|街口支付)|Bit|Wise|Click|Maya|MoMo|OVO|"
    r"DANA|Wave|Toss|ב?ביט")
# Names of payment apps in scripts without spaces or with prefixes glued on ("ผ่านพร้อมเพย์").
_WALLETS_GLUED = r"พร้อมเพย์|ทรูมันนี่|ജിപേ|ഗൂഗിൾ\s?പേ|ஜிபே|ফোনপে|বিকাশে|支付宝|微信|轉數快|转数快"
# A label of another number between the word and the digits: the number is that one's
# ("your account is ready; order 12345678 ships").
_OTHER_LABEL = re.compile(r"(?i)order|invoice|ref|track|parcel|ticket|case|pedido|commande|"
                          r"bestell|rechnung|zamówien|sipariş|fattura|factura|colis|paket|"
                          r"serial|seri[ea]|imei|s/n|resi|suivi|sendung|env[ií]o|artic|artikel|"
                          r"reclam|claim|code|kod|receipt|recibo|reçu|ricevut|beleg|quittung|kvitt|transac|macaamil|transaz|transakc|utr|റഫറൻസ്|रेफ|রেফা|ரெஃப|రిఫ|ರೆಫ|"
                          + folded(r"код"))
# What the sentence must speak of: looking a registry number up, or paying by bank.
_LOOK_UP = re.compile(
    r"(?i)look\s+(?:us\s+|it\s+|me\s+|him\s+|her\s+)?up|search|find\s+(?:us|me)|slå\s+\w+\s+op|"
    r"\bop\s+på|opzoek|nachschlag|such(?:e|en|t)\b|recherch|busca|cercate|sök|søg|\bhae\b|etsi|"
    r"szukaj|"
    r"hledej|vyhledej|keres|virk\.dk|allabolag|proff|kvk\.nl|northdata|companies\s+house|"
    r"societe\.com|pappers|infogreffe")
_MONEY = re.compile(
    r"(?i)bank|banco|banca|banque|transf|überweis|virement|bonifico|przelew|převod|prevod|"
    r"átutal|\bpix\b|iban|swift|sepa|wire|deposit|depósit|paybill|m-?pesa|pervest|pervesk|"
    r"sąskait|pārskait|ülekan|uplat|nakazil|nakaž|clabe|spei|tilisiirt|tilille|platb|zaplat|"
    r"poplat|fizet|utal|\bneft\b|\bimps\b|\brtgs\b|\bupi\b|"
    r"insättning|överför|overfør|"
    r"overmak|overschrij|havale|millifær|\beft\b|κατάθεσ|μεταφορ|"
    + folded(r"перевод|перевест|переказ") + r"|"
    r"ባንክ|بنك|بانک|банк|בנק|बैंक|ব্যাংক|ธนาคาร|ngân\s+hàng|銀行|银行|은행|ბანკ|გადმორიცხ|"
    r"โอน|ബാങ്ക്|வங்கி|బ్యాంక్|ಬ್ಯಾಂಕ್|બેંક|ਬੈਂਕ|ဘဏ်|လွှဲ|"
    # A payment app's name is money talk too.
    r"(?<!\w)(?:" + _WALLETS + r")|" + _WALLETS_GLUED)


# A payment card's number: four groups of four (American Express: 4-6-5), where the sentence
# speaks of a card or of paying ("a la tarjeta 4152 3137 1234 5678", "کارت به کارت
# ۶۰۳۷-۹۹۷۱-۲۳۴۵-۶۷۸۹"); not the start of a longer number in groups (a USPS tracking number).
_CARD = re.compile(r"\d(?<![\w\-.]\d)(?<!\d[ \-.]\d)\d{3}(?P<gap>[ \-])\d{4}(?P=gap)\d{4}(?P=gap)"
                   r"\d{4}(?![\w\-]|[ \-.]\d)"
                   r"|\d(?<![\w\-.]\d)(?<!\d[ \-.]\d)\d{3}(?P<gap2>[ \-])\d{6}(?P=gap2)\d{5}"
                   r"(?![\w\-]|[ \-.]\d)")
_CARD_WORDS = re.compile(
    r"(?i)card|kart|carte|tarjeta|cart[aã]o|carta|kaart|kort|k[aá]rty|kartic|kartu|\bkad\b|"
    r"thẻ|บัตร|卡|カード|카드|کارت|بطاقة|כרטיס|visa|mastercard|maestro|uzcard|humo|"
    + folded(r"карт|корт|мир\b"))
# A payment app's number: a phone or an ID after the app's name ("MobilePay ... Send til
# 40 55 66 77", "Papara No 1907554321", "FPS ID: 1234567", "בביט ל-054-7654321").
# (Gated: most texts name no app, and the scan of its alternation is then skipped.)
_WALLET = Gated(re.compile(r"(?:(?<!\w)(?:" + _WALLETS + r")(?![\w\-])|" + _WALLETS_GLUED
                           + r")[^\n]{0,60}?"
                           r"(?P<number>(?<![\w+])\+?\d(?:[ \-]?\d){5,14})(?![\w\-])"))
# Words for the account's holder or the payment's recipient, said before the name.
_RECIPIENT_WORDS = (
    r"kontoinhaber\w*|account\s+(?:holder|title)|t\.\s?n\.\s?v\.|ten\s+name\s+van|"
    r"em\s+nome\s+de|au\s+nom\s+de|a\s+nombre\s+de|intestat[oa]\s+a|titulaire|"
    r"bénéficiaire|primalac|primatelj|prejemnik|gavėjas|saņēmējs|saaja|marrësi|al\u0131c\u0131|alici|"
    r"mpokeaji|mottaker|mottagare|modtager|vastaanottaja|příjemce|príjemca|kedvezményezett|"
    r"beneficjent|"
    + folded(r"получател|получатель|одержувач|отримувач") + r"|"
    r"მიმღები|收款人|户名|戶名|口座名義|名義人|اکاؤنٹ\s+ٹائٹل|ชื่อบัญชี|ชื่อผู้รับ|"
    r"المستفيد|اسم\s+الحساب|صاحب\s+الحساب|בעל\s+החשבון|על\s+שם")
_HOLDER_LABELS = (
    r"(?i:account\s+name|name|holder|a\.\s?n\.|atas\s+nama|nama|aha|anarana|nom|titular|"
    r"nombre|beneficiar\w*|inhaber|empf[aä]nger|odbiorca|jina|suna|orukọ|igama|magaca|"
    r"ім'я|имя|на\s+имя|ስም|নাম|नाम|பெயர்|పేరు|ಹೆಸರು|പേര്|નામ|ਨਾਮ|نام|اسم|باسم|名義|名义|"
    r"이름|예금주|ชื่อ|tên|naam|egasi|ឈ្មោះ|"
    + _RECIPIENT_WORDS + ")")
# (Without a label, a name's shape: capitalised words or initials, or words of a script
# without capitals; "(card statement)", "(EAN)", "- Reason: ..." are no one's name.)
_NAME_WORD = (r"(?:[A-Z\u00c0-\u00de\u0100-\u017f\u0410-\u042f][a-z\u00df-\u00ff\u0100-\u017f"
              r"\u0430-\u044f\u0451'\-]+|[A-Z\u0410-\u042f]\.|[^\W\d_a-zA-Z\u00c0-\u024f\u0400-\u04ff]+)")
_INITIALS = r"(?:[A-Z\u0410-\u042f]\.[ \t]?)*"  # "J. de Vries", "A. J. Patel"
_DASHES = "\\-\u2013\u2014"
# A name after its word, up to the clause's end.
_NAME_TAIL = (r"[ \t]*[:=\-]?[ \t]*(?P<name>" + _INITIALS
              + r"[^\W\d_][^\n.,;!?()\d]{1,49}?)(?=[ \t]*(?:[\n.,;!?()]|$))")
# The account's holder named right after its number: "..., name Chukwuemeka Obi Enterprises",
# "a.n. Budi Santoso", "(አበበ ከበደ)", "- J. Dela Cruz", "anarana: Rakoto Jean".
_HOLDER = re.compile(
    rf"[ \t]*(?:[,;:/{_DASHES}][ \t]*)?(?:"
    + _HOLDER_LABELS + _NAME_TAIL
    + rf"|[(\uff08](?P<paren>{_NAME_WORD}(?:[ \t]{_NAME_WORD}){{0,3}}"
    # or words of another script, their marks included ("(ဒေါ်ခင်မာဝင်း)")
    r"|[^\x00-\x1f\x21-\x7f\u00c0-\u024f\u0400-\u04ff\d()\uff08\uff09\u3002\uff0c]{2,40})"
    r"[)\uff09]"
    rf"|[{_DASHES}][ \t]*(?P<dashed>{_NAME_WORD}(?:[ \t]?{_NAME_WORD}){{1,3}})(?![\w:]))")
_NAMED_NEAR = re.compile(r"(?<!\w)" + _HOLDER_LABELS + _NAME_TAIL)
# After a number a wallet, an account or a card word names, the name may follow bare:
# "GCash ... 0998 443 2176 R. Dizon".
_BARE_HOLDER = re.compile(
    rf"[ \t]*[,;]?[ \t]+(?P<bare>(?:[A-Z\u0410-\u042f]\.[ \t]?)+{_NAME_WORD}|{_NAME_WORD}[ \t]"
    rf"(?:[A-Z\u0410-\u042f]\.[ \t]?)*{_NAME_WORD})(?![\w:])")
# The holder or recipient named with its word, wherever it stands in a sentence about paying:
# "Commerzbank, Kontoinhaber Stefan Lorenz", "t.n.v. J. de Vries", "em nome de Rui Pereira".
_RECIPIENT = Gated(re.compile(r"(?<!\w)(?i:" + _RECIPIENT_WORDS + ")" + _NAME_TAIL))
# A bank's code of a branch or of the bank itself, where paying is spoken of: the account is
# found by it ("Sort code 20-45-77", "BSB 062-692", "IFSC FDRL0001045", "takkode 632005").
_BANK_CODE = Gated(re.compile(
    r"(?i:sort\s*code|BSB|routing(?:\s+(?:number|no\.?))?|ABA|IFSC|branch(?:\s+code)?|takkode|"
    r"tak\s+kode|BIC|SWIFT(?:\s+code)?|código\s+de\s+sucursal|agência|agencia|"
    r"clearing(?:-?nummer)?|reg\.?\s?nr\.?)[\s.:#]*"
    r"(?P<code>\d{2}-\d{2}-\d{2}|\d{3}-\d{3}|\d{4,9}|[A-Z]{4}0[A-Z0-9]{6}|[A-Z]{6}[A-Z0-9]{2}"
    r"(?:[A-Z0-9]{3})?)(?![\w\-])"))
# A crypto wallet's address where the text speaks of crypto: TRON ("T" + 33 base58), Bitcoin
# (legacy "1"/"3" + base58, or bech32 "bc1..."), Ethereum and its tokens ("0x" + 40 hex).
_CRYPTO_TALK = re.compile(r"(?i)usdt|usdc|trc-?20|erc-?20|bep-?20|bitcoin|\bbtc\b|\beth\b|"
                          r"ethereum|crypto|krypto|cripto|binance|tether|wallet\s+address|tron\b")
_CRYPTO_STEMS = ("usd", "rc20", "rc-20", "ep20", "ep-20", "bitcoin", "btc", "eth", "crypt",
                 "krypt", "binance", "tether", "wallet", "tron")  # cheap tests first
_CRYPTO = re.compile(r"(?<![\w])(?:T[1-9A-HJ-NP-Za-km-z]{33}|[13][1-9A-HJ-NP-Za-km-z]{25,34}|"
                     r"bc1[02-9ac-hj-np-z]{11,71}|0x[0-9a-fA-F]{40})(?![\w])")
# An account's national shape, where paying is spoken of: Serbian "160-0000012345678-90",
# Hungarian "11773016-11111018-00000000", Czech "123456789/0800".
_ACCOUNT_SHAPE = re.compile(r"\d(?<![\w\-/]\d)(?:\d{2}-\d{8,13}-\d{2}|\d{7}-\d{8}(?:-\d{8})?|"
                            r"(?:\d{0,5}-)?\d{5,9}/\d{4})(?![\w\-/])")
# An account's, a card's or a wallet's number, whoever found it: the holder named after it goes.
_PAY_NUMBER = re.compile(r"(?<!\d)\d(?:[ \-]?\d){6,25}(?!\d)")


def _holder(text: str, end: int) -> tuple[int, int] | None:
    m = _HOLDER.match(text, end)
    if m is None:
        return None
    group = next(g for g in ("name", "paren", "dashed") if m.group(g))
    return m.span(group)


def _speaks_of(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether the sentence around start..end (120 characters either side) speaks of it."""
    return bool(pattern.search(text, max(0, start - 120), end + 120))


_NEEDS = ("alias", "cbu", "cvu", "مستعار", "כינוי")
_DIGIT = re.compile(r"\d")


class AccountRule:
    code = "contact.social"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        numbers: list[tuple[int, int]] = []  # what was found: a recipient named near it goes
        for span in self._numbers(text):
            numbers.append(span)
            yield span
        if numbers:  # "..., IFSC BARB0MANEKC, નામ: Hitesh Textiles": a name said near one
            for m in _NAMED_NEAR.finditer(text):
                if any(0 <= m.start() - e <= 80 for _, e in numbers):
                    yield m.span("name")
        for m in _RECIPIENT.finditer(text) if _RECIPIENT.may_match(text) else ():
            if _speaks_of(_MONEY, text, *m.span()) or _speaks_of(_CARD_WORDS, text, *m.span()) \
                    or any(abs(s - m.start()) <= 120 for s, _ in numbers):
                yield m.span("name")
        lowered = text.lower()
        if any(word in lowered for word in _NEEDS):
            for m in _ALIAS.finditer(text):
                group = next(g for g in ("alias", "cbu", "caps") if m.group(g))
                yield m.start(group), m.end(group)

    def _numbers(self, text: str) -> Iterator[tuple[int, int]]:
        """Registry, account, IBAN, card and payment app numbers, bank codes, and the holder
        named right after such a number."""
        if not _DIGIT.search(text):
            return
        for m in _REGISTRY.finditer(text) if _REGISTRY.may_match(text) else ():
            start, end = m.span("number")
            if sum(c.isdigit() for c in m.group("number")) >= 6 and (
                    _speaks_of(_LOOK_UP, text, start, end)
                    or _speaks_of(_MONEY, text, start, end)):
                yield start, end
        for m in _ID_SHAPES.finditer(text) if "." in text else ():
            if _speaks_of(_LOOK_UP, text, *m.span()) or _speaks_of(_MONEY, text, *m.span()):
                yield m.span()
        paid: list[tuple[int, int]] = []  # numbers of an account, a card, an app
        for m in _ACCOUNT.finditer(text) if _ACCOUNT.may_match(text) else ():
            start, end = m.span("number")
            if not _OTHER_LABEL.search(text, m.start(), start) \
                    and _speaks_of(_MONEY, text, start, end):
                paid.append((start, end))
        for m in _IBAN.finditer(text):
            if _iban(m.group(0)) or (_IBAN_LENGTHS.get(m.group(0)[:2]) == len(
                    m.group(0).replace(" ", "").replace("-", ""))
                    and _speaks_of(_MONEY, text, *m.span())):
                yield m.span()
        for m in _CARD.finditer(text):
            if _OTHER_LABEL.search(text, max(0, m.start() - 30), m.start()):
                continue
            if _speaks_of(_CARD_WORDS, text, *m.span()) or _speaks_of(_MONEY, text, *m.span()):
                paid.append(m.span())
        for m in _WALLET.finditer(text):
            if not _OTHER_LABEL.search(text, m.start(), m.start("number")):
                paid.append(m.span("number"))
        for m in _ACCOUNT_SHAPE.finditer(text):
            if _speaks_of(_MONEY, text, *m.span()):
                paid.append(m.span())
        lowered = text.lower()
        for m in _CRYPTO.finditer(text) if any(w in lowered for w in _CRYPTO_STEMS) \
                and _CRYPTO_TALK.search(text) else ():
            yield m.span()
        for m in _BANK_CODE.finditer(text):
            if _speaks_of(_MONEY, text, *m.span()):
                yield m.span("code")
        for start, end in paid:
            yield start, end
            bare = _BARE_HOLDER.match(text, end)
            if bare:
                yield bare.span("bare")
        for m in _PAY_NUMBER.finditer(text):
            holder = _holder(text, m.end())
            if holder and (_speaks_of(_MONEY, text, *m.span())
                           or _speaks_of(_CARD_WORDS, text, *m.span())):
                yield holder
