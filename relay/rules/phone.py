"""contact.phone: telephone numbers in the configured regions' numbering plans.

First what only looks like a phone number is masked: order IDs (3-7-7), carrier tracking
numbers, numbers after a word that says what they are ("Invoice", "SKU", "Sendungsnummer"),
prices, dates, times, measurements. Then libphonenumber's matcher runs over the rest, region by
region; runs of digits broken up by spaces, dots or dashes are checked as whole numbers; and
seven or more digits spelled out in words ("four one five ...") are a number whatever they
spell.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

from relay.rules.carriers import CARRIER_NAMES
from relay.rules.needs import Gated, distinct_words, trie
from relay.rules.regions import suggested
from relay.rules.view import folded, view

MASK = "\u2591"
# Candidates checked one by one per text; past this many, the rest are redacted unchecked.
MAX_CHECKED = 200  # neither digit nor letter nor phone punctuation: ends any candidate

# Units that follow a number after a space; the short ones that are also words ("0321 in
# the morning", "2 a day") only when written right after the digits.
_UNITS = (r"mm|cm|dm|km|inch(?:es)?|ft|feet|yd|kg|mg|lbs?|oz|ml|cl|dl|ltr|litres?|"
          r"liters?|gb|tb|mb|kb|mah|wh|kwh|kw|hz|khz|mhz|ghz|rpm|dpi|px|pcs|pieces?|"
          r"stück|stk|pairs?|units?|sheets?|pages?|days?|weeks?|months?|years?|hours?|hrs?|"
          r"min(?:utes?)?|sec(?:onds?)?|tage?n?|jours?|días?|giorni|%|°|°c|°f")
_TIGHT_UNITS = r"m|in|g|l|w|v|a|k|x"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_CURRENCY = (r"[$€£¥₹₩₽¢]|usd|eur|gbp|cad|aud|inr|jpy|chf|sek|nok|dkk|pln|czk|rs\.?|"
             r"euros?|dollars?|pounds?|yen|rupees?|złotych|zł|kr")
# Shipment, tracking, waybill, order and serial-number labels in the scripts and languages
# the lists above miss (stems take their endings: "отправления", "zásilky", "lähetystunnus").
_SHIPMENT_WORDS = folded(
    r"трек\w*|отслежива\w*|отправлени\w*|посылк\w*|накладн\w*|ттн|заказ\w*|"
    r"почтов\w*\s+идентификатор\w*|штрих\w*|серийн\w*|артикул\w*|"
    r"відстеж\w*|відправлен\w*|посилк\w*|замовлен\w*|експрес-накладн\w*|"
    r"αποστολ\w*|παρακολούθησ\w*|δέμα\w*|δέματ\w*|παραγγελί\w*|voucher|κωδικ\w*\s+αποστολ\w*|"
    r"מעקב|משלוח\w*|חבילה|החבילה|הזמנה|ההזמנה|מספר\s+מעקב|"
    r"تتبع|التتبع|شحن\w*|الشحن\w*|بوليص\w*|طلب\w*|الطلب\w*|طرد\w*|الطرد\w*|"
    r"ट्रैकिंग|शिपमेंट|ऑर्डर|पार्सल|कंसाइनमेंट|ٹریکنگ|کنسائنمنٹ|آرڈر|"
    r"товарителниц\w*|артикулн\w*|серійн\w*|"
    r"เลขพัสดุ|พัสดุ|เลขติดตาม|ติดตาม\w*|เลขที่คำสั่งซื้อ|คำสั่งซื้อ|"
    r"vận\s+đơn|mã\s+vận\s+đơn|mã\s+đơn(?:\s+hàng)?|đơn\s+hàng|đơn|mã\s+theo\s+dõi|"
    r"mã\s+bưu\s+gửi|kiện\s+hàng|bưu\s+phẩm|bưu\s+kiện|"
    r"resi|nomor\s+resi|no\.?\s*resi|pesanan|pengiriman|lacak\w*|"
    r"colet\w*|expedier\w*|comand\w*|urmărir\w*|"
    r"csomag\w*|küldemény\w*|nyomkövet\w*|rendelés\w*|azonosító\w*|fuvarlevél\w*|"
    r"zásilk\w*|balík\w*|sledován\w*|objednávk\w*|obj|naročil\w*|narudžb\w*|porudžbin\w*|"
    r"lähetys\w*|seuranta\w*|paketti\w*|tilaus\w*|"
    r"forsendelse\w*|sporing\w*|pakke\w*|ordre\w*|"
    r"spårning\w*|försändelse\w*|gönderi\w*|"
    r"guía|número\s+de\s+guía|rastreo|rastreamento|encomenda\w*|"
    r"운송장|송장|등기\s?번호|배송\s?조회|주문|伝票|送り状|追跡|運單|运单|快递|快遞|物流|"
    r"tracking\s+id|tracking\s+code|track\s*&\s*trace|track\s+and\s+trace|"
    r"pošiljk\w*|zásielk\w*|siunt\w*|sūtījum\w*|saadetis\w*|sendingarnúmer\w*|"
    r"пратк\w*|пошиљк\w*|مرسوله|رهگیری|پیگیری|kiriman|penjejakan|padala|"
    # Serial, factory and article numbers
    r"gyári\s+szám\w*|sorozatszám\w*|cikkszám\w*|termékkód\w*|výrobní\s+číslo|sériové\s+číslo|"
    # South and South-East Asia, the Caucasus, Central Asia, Africa ("tracking", "order", "parcel")
    r"izləmə\w*|sifariş\w*|bağlama\w*|kuzatuv\w*|buyurtma\w*|jo'natma\w*|"
    r"հետևման|հետագծման|առաքման|պատվեր\w*|ծանրոց\w*|თვალყურ\w*|შეკვეთ\w*|ამანათ\w*|"
    r"тапсырыс\w*|сәлемдеме\w*|захиалг\w*|илгээмж\w*|буйрутма\w*|посылка\w*|"
    r"ट्र्याकिङ|ट्रॅकिंग|ट्रेकिंग|ট্র্যাকিং|অর্ডার|পার্সেল|ਟ੍ਰੈਕਿੰਗ|ਆਰਡਰ|ટ્રેકિંગ|ઓર્ડર|"
    r"டிராக்கிங்|ட்ராக்கிங்|ஆர்டர்|ట్రాకింగ్|ట్రాకింగ్|ఆర్డర్|ಟ್ರ್ಯಾಕಿಂಗ್|ಆರ್ಡರ್|ട്രാക്കിംഗ്|ഓർഡർ|"
    r"ට්\u200dරැකින්|ට්රැකින්|ඇණවුම\w*|ခြေရာခံ\w*|အော်ဒါ|ပါဆယ်|លេខតាមដាន|តាមដាន|ការបញ្ជាទិញ|"
    r"ຕິດຕາມ|ພັດສະດຸ|ufuatiliaji|kifurushi|yokulandelela|iphasela|i-oda|ìtọpinpin|"
    r"መከታተያ|ትዕዛዝ|faktur|"
    # Basque, Welsh, Somali ("jarraipen-zenbakia", "rhif tracio", "lambarka raadraaca")
    r"jarraipen\w*|bidalketa\w*|eskaera\w*|tracio|archeb\w*|parsel\w*|raadraac\w*|dalab\w*|"
    r"xirmo\w*|"
    r"sarjanumero\w*|valmistenumero\w*|tuotenumero\w*|серийн\w*\s+номер\w*|заводск\w*\s+номер\w*|"
    r"σειριακ\w*|מספר\s+סידורי|מק\"\u05d8|الرقم\s+التسلسلي|رقم\s+تسلسلي|सीरियल\s+नंबर|"
    r"số\s+seri|số\s+serial|nomor\s+seri|număr\s+de\s+serie|seria|serienr|ซีเรียล|หมายเลขเครื่อง"
)
# "Number" between a label and its number: "Objednávka č. 2026110234", "Narudžba br. 4411".
_NUMBER_ABBREVIATIONS = (r"no|nr|num|number|id|nummer|numéro|número|numero|n°|nº|#|№|č|br|nro|"
                         r"núm|sz|št")
# Labels that CJK writes with the number glued on ("订单2026120388812").
_GLUED = "订单|訂單|运单|運單|单号|單號"
# A carrier's name: the number after it is its shipment number (a label, below: unless the
# clause speaks of calling).
_CARRIERS = trie({folded(name) for name in CARRIER_NAMES})
_KEYWORDS = (
    r"order|orders|invoice|inv|receipt|tracking|track|trk|shipment|parcel|package|consignment|"
    r"awb|waybill|ref(?:erence)?|sku|item|article|art|asin|isbn|ean|upc|gtin|mpn|model|modell|"
    r"part|serial|s/n|sn|imei|ticket|case|rma|return|claim|batch|lot|account|customer|"
    r"bestellung|bestellnummer|auftrag|auftragsnummer|rechnung|rechnungsnummer|sendung|"
    r"sendungsnummer|paketnummer|kundennummer|artikelnummer|commande|facture|colis|suivi|"
    r"numéro de suivi|référence|pedido|factura|seguimiento|envío|ordine|fattura|spedizione|"
    r"tracciamento|bestelling|factuur|zending|zamówienie|faktura|przesyłka|voucher|coupon|"
    r"dhl|ups|fedex|usps|dpd|gls|hermes|evri|royal mail|parcelforce|colissimo|chronopost|"
    r"correos|postnl|inpost|yodel|tnt|aramex|teilenr|teilenummer|artnr|art\.-nr|bestellnr|"
    r"sachnr|materialnr|seriennummer|serienummer|réf|rif|codice|código|cod|numéro de série|"
    r"número de serie|numero di serie|onderdeelnummer|part no|firmware|version|artikel|kunden|"
    r"kunde|kundennr|best|bestell|retoure|rücksendung|rücksendenummer|bestelnummer|klant|"
    r"klantnummer|transaktion|transaction|transacción|transazione|barcode|amount|betrag|"
    r"montant|importe|importo|total|summe|paypal|iban|bic|rma|"
    # More languages: parcels, serials, part and return numbers
    r"pakket|pakketnummer|zending|zendingnummer|retournummer|serienummer|onderdeel|"
    r"sändning|sändningsnummer|försändelse|kolli|kollinummer|paket|paketnummer|spårningsnummer|"
    r"ordernummer|artikelnummer|returnummer|serienr|symbol|symbolu|paczka|paczki|przesyłki|"
    r"numer\s+seryjny|nr\s+seryjny|numer\s+przesyłki|numer\s+zamówienia|zwrot|zwrotu|"
    r"sipariş|kargo|takip|seri\s+no|parça|encomenda|rastreio|rastreamento|objeto|"
    # Declined and suffixed forms ("Siparişiniz (2025...)", "do zamówienia 2025/02/094")
    r"siparişiniz|siparişinizin|kargonuzun|zamówienia|zamówieniu|zamówieniem|faktury|fakturze|"
    r"przesyłką|przesyłkę|"
    r"طلب|طلبك|طلبكم|الطلب|شحنتك|შეკვეთა|შეკვეთის|ஆர்டர்|অর্ডার|সিএন|"
    # Shipment and product numbers of more languages and makers ("Número de expedición",
    # "Csomagszám", "Namba ya ufuatiliaji", Electrolux "PNC", Philips "12NC", "OE" parts)
    r"expedición|expedicion|envio|csomagszám|ufuatiliaji|pnc|12nc|sbn|oe|oem|"
    # A listing's number ("Zur Anzeige 2417783391", "annonce n° 2417783391")
    r"anzeige|inserat|annonce|anuncio|annuncio|advertentie|ogłoszenie|ogłoszenia|inzerát|ilan|"
    r"listing|"
    # Claims, tax numbers, Thai and Khmer orders and tracking
    r"reclamo|reclamación|reclamação|réclamation|reklamation|reklamace|reklamacja|mst|"
    r"ออเดอร์|លេខតាមដាន|"
    # Serial, catalogue and frame numbers ("Serijska št.", "výr. č.", "nr kat.", "Numéro de
    # cadre", "Parça No")
    r"serijsk\w*|výr|výrobní|kat|katalogow\w*|cadre|rahmennummer|frame|"
    r"sériové|serien|seriya|fd|fabrikationsnummer|raðnúmer\w*|nömrəsi|"
    r"kosztorys\w*|zaliczka|zam|請求書|"
    r"nota\s+fiscal|pièce|réf\.|typ|type|ra|authorization|authorisation|autorización|"
    r"autorisation|autorizzazione|garantie|warranty|garanzia|garantía|lieferschein|"
    r"delivery\s+note|bon\s+de\s+livraison|albarán|imei\d?|meid|esn|mac|uuid|"
    r"serial\s+number|serial\s+no|product\s+code|product\s+key|license|licence|"
    r"追跡番号|お問い合わせ番号|お問合せ番号|問い合わせ番号|問合せ番号|伝票番号|注文番号|"
    r"送り状番号|荷物番号|製造番号|シリアル番号|シリアル|型番|品番|管理番号|受付番号|"
    r"ヤマト運輸|ヤマト|クロネコ|佐川急便|佐川|日本郵便|ゆうパック|ゆうパケット|西濃|福山通運|"
    r"运单号|運單號|快递单号|快遞單號|订单号|訂單號|单号|物流单号|序列号|型号|顺丰|中通|圆通|"
    r"韵达|申通|京东|ems|운송장\s?번호|운송장|송장\s?번호|송장|주문\s?번호|일련\s?번호|"
    r"시리얼\s?번호|모델\s?번호|택배|cj대한통운|한진택배|우체국택배|롯데택배|"
    # Case files and parts in more languages ("Fall 2026-55812", "Numer części: 0 986 ...")
    r"fall|vorgang|aktenzeichen|ärende|sag|caso|pratica|dossier|expediente|częś|czesc|"
    r"reservedel|varenr|varenummer|díl|dílu|číslo|parte|pezzo|ricambio|repuesto|peça|"
    # Any compound number word ("Ersatzteilnummer", "Fakturanummer", "Vorgangsnr") but one
    # that names a way to call ("Handynummer", "Servicenummer")
    r"(?!\w*(?:telefon|handy|mobil|ruf|fax|kontakt|privat|whats|tlf|notfall|durchwahl|"
    r"festnetz|service|hotline|sms|telefoon|mobiel|mobil|signal|viber|tel|puhelin|gsm|"
    r"kännykkä|sím|swish|vipps|mobilepay|bizum))"
    r"[a-zäöüßåæø]{2,24}(?:nummer|numret|numer|nr)"
)
# Words that may stand between such a word and its number: "FedEx Ground number ...",
# "Sendung mit der Nummer ...", "track-and-trace ...".
_BETWEEN = folded(
            r"ground|express|home|freight|priority|standard|delivery|tracking|track|trace|and|"
            r"är|er|ist|is|är|o|z|nr|nummer|numret|numéro|nº|は|:|番号|번호|lautet|lyder|jest|è|é|"
            r"shipment|label|parcel|package|reference|ref|waybill|code|number|nummer|no|nr|id|"
            r"mit|der|die|das|the|my|your|this|of|is|was|ist|est|es|de|du|la|le|van|del|di|"
            r"dumneavoastră|dvs|voastră|ta|tale|vaše|váš|vaša|twoje|twoja|jūsų|jūsu|teie|"
            r"suivi|numéro|número|numero|seguimiento|spedizione|sendungs?|paket|colis|envío|"
            r"номер|номером|номера|номеру|αριθμός|αριθμό|מספר|رقم|संख्या|नंबर|เลข|หมายเลข|"
            r"số|mã|nomor|numărul|număr|szám|száma|számú|číslo|numero|numeron|tunnus|"
            r"nummeret|kodu|kod|код\w*|κωδικός|zásilky|của|là|je|on")
_AMOUNT = r"(?:\d{1,3}(?:[.,' ]\d{2,3})+|\d+)(?:[.,]\d{1,2})?"
# What ordinary numbers look like by their shape alone: IDs and tracking numbers of known
# formats, prices, dates, times, sizes, ISBNs, years.
_SHAPES = (
    r"(?<!\d)\d{3}-\d{7}-\d{7}(?!\d)",                         # marketplace order ID
    r"\b1Z(?:\s?[0-9A-Z]){16}\b",                              # UPS, also spaced
    r"\b[A-Z]{2}\s?\d{3}\s?\d{3}\s?\d{3}\s?[A-Z]{2}\b",        # UPU S10: Royal Mail, ...
    r"\b(?:9[1-5]\d{2}|82\d{2})(?:\s?\d{4}){4}(?:\s?\d{2,4})?\b",  # USPS
    # $1,299.00  EUR 19,99  19,99 €  ₹1,25,000: digits grouped by twos or threes, so that
    # "0878 3311 9025 yen" (Javanese "if") is no price
    rf"(?i:(?:{_CURRENCY}))\s?-?{_AMOUNT}",
    rf"{_AMOUNT}\s?(?i:(?:{_CURRENCY}))(?![a-z])",
    rf"\b(?:19|20)\d\d[-/.]{_MONTH}[-/.]{_DAY}\b(?![-/.]\d)",       # 2026-11-26
    rf"\b(?:{_DAY}[-/.]{_MONTH}|{_MONTH}[-/.]{_DAY})[-/.](?:19|20)?\d\d\b(?![-/.]\d)",
    # 26. 3. 2025, 24.-26. 3. 2025 (or an en dash): day and month with a space after their dots
    rf"\b{_DAY}\.(?:\s?[-\u2013]\s?{_DAY}\.)?\s{_MONTH}\.\s?(?:19|20)\d\d\b",
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",                           # 14:30
    # 32x40 cm, 10 x 20 x 30 mm, 1.5 kg, 250 ml, 100%
    r"\b\d+(?:[.,]\d+)?\s?(?:[x\u00d7*]\s?\d+(?:[.,]\d+)?\s?){1,3}"
    rf"(?i:(?:{_UNITS})(?![a-z]))?",
    rf"\b\d+(?:[.,]\d+)?\s?(?i:(?:{_UNITS})(?![a-z]))",
    rf"\b\d+(?:[.,]\d+)?(?i:(?:{_TIGHT_UNITS})(?![a-z]))",
    r"(?i:\bisbn(?:-1[03])?:?)\s*[\d\- ]{9,16}[\dX]\b",
    r"(?<![\d+])[1-9]\d{3}[-\s]\d{4}[-\s]\d{4}(?![\d-])",  # carriers: 12 digits, 4-4-4, no 0
    r"\b(?:19|20)\d{2}\s?[-\u2013]\s?(?:19|20)\d{2}\b",             # 2019-2026
    # A reference led by a year or a date ("2024-118-7734", "20261206-0417", "2025/02/094",
    # "20240318-55"): no phone number is written with a four-digit first group that is a year
    r"\b(?:19|20)\d\d(?:[01]\d[0-3]\d)?[-/]\d{2,8}(?:[-/]\d{1,8})?\b",
    # The parts after a code in capitals and a slash, with a slash between them: an invoice
    # series ("TN/24-25/003318", a state, the financial year, the serial)
    r"(?<=[A-Z]/)\d[\d\-]{0,8}/\d{1,10}\b",
)
# Those, and a number after a word that names it.
_PROTECT = re.compile("|".join((
    *_SHAPES[:4],
    # A number after a word that names it: "Order #1234567", "Sendungsnummer: 0034..."
    rf"(?i:(?<![A-Za-z0-9])(?:{_KEYWORDS})(?:[a-zäöüåéèíóúñçłęą]{{0,3}})(?![A-Za-z0-9])\.?"
    rf"(?:[\s-]+(?:{_BETWEEN})\b\.?){{0,4}})\s*"
    rf"(?:(?i:{_NUMBER_ABBREVIATIONS}|No)\.?\s*)?[:#\uff1aはが]?\s*\(?"
    r"(?:\d{4}(?:\s\d{4}){2,5}(?:\s\d{2})?|\d{1,3}(?:[ ,.']\d{3}){2,4}|\d(?:\s\d{6}){2}"
    r"|[A-Z0-9#](?:[A-Z0-9]|[\-/.](?=[A-Z0-9])|\s(?=[A-Z0-9])){3,40})",
    *_SHAPES[4:],
)))
# The shapes that start with a digit, tried only where one stands: a fifth of the cost of
# trying every shape at every place of a text.
_ORDINARY_SHAPES = re.compile(r"(?=\d)(?:" + "|".join(
    p for p in _SHAPES if not p.startswith((r"\b[A-Z]", "(?i:"))) + ")")

# Bounded by what is not a digit: "invoice_114-3920581-6620417.pdf" quotes one too.
_ORDER_ID = re.compile(r"(?<!\d)\d{3}-\d{7}-\d{7}(?!\d)")
# What stands three characters into each: found fast (it starts with "-"), where the
# engine would try the pattern at every place of the text.
_ORDER_ID_MIDDLE = re.compile(r"-\d{7}-")


def _mask_order_ids(text: str) -> str:
    """_ORDER_ID.sub(MASK * its length, text), trying the pattern only where it can match."""
    out, done, at = [], 0, 0
    while (middle := _ORDER_ID_MIDDLE.search(text, at)) is not None:
        m = _ORDER_ID.match(text, middle.start() - 3) if middle.start() - 3 >= done else None
        if m is None:
            at = middle.start() + 1
            continue
        out += (text[done:m.start()], MASK * len(m.group(0)))
        done = at = m.end()
    return "".join(out) + text[done:] if out else text
# A run that may be a number: 7 to 15 digits with phone punctuation between, and never four
# white spaces in a row (the columns of a table: "Filtro olio OE 55223416      1    8,90").
# Bounded by what is not a Latin letter or digit: Japanese or Korean text runs on without a
# space ("090-1234-5678までお電話ください"); not glued to a capitals' code by a dash
# ("CS-2503-14772"; the lower-case "ku-083 555 7788" is a Zulu prefix).
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z\u00c0-\u024f_\u2591])(?<![A-Z]-)"
                        r"(?:(?:\+|00)\s?)?\(?\s?\d"
                        r"(?:[\d().\-/\u2010-\u2015_*\u00b7|\u2022\u2219~\u301c\u30fc\uff0d\uff5e"
                        r"\u05be]"  # the Hebrew maqaf, a hyphen
                        r"|\s(?!\s{3})){5,28}\d"
                        r"(?![0-9A-Za-z\u00c0-\u024f_\u2591])")
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "null": "0", "eins": "1", "zwei": "2", "zwo": "2", "drei": "3", "vier": "4", "fünf": "5",
    "fuenf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9",
    "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "sept": "7",
    "huit": "8", "neuf": "9",
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6",
    "siete": "7", "ocho": "8", "nueve": "9",
    "due": "2", "tre": "3", "quattro": "4", "cinque": "5", "sei": "6", "sette": "7", "otto": "8",
    "nove": "9", "double": "", "triple": "",
    "um": "1", "dois": "2", "três": "3", "quatro": "4", "sete": "7", "oito": "8",
    "nul": "0", "een": "1", "één": "1", "twee": "2", "drie": "3", "vijf": "5", "zes": "6",
    "zeven": "7", "negen": "9",
    "noll": "0", "ett": "1", "två": "2", "fyra": "4", "fem": "5", "sex": "6", "sju": "7",
    "åtta": "8", "nio": "9",
    "jeden": "1", "dwa": "2", "trzy": "3", "cztery": "4", "pięć": "5", "sześć": "6",
    "siedem": "7", "osiem": "8", "dziewięć": "9",
    "s\u0131f\u0131r": "0", "bir": "1", "iki": "2", "üç": "3", "dört": "4", "beş": "5",
    "alt\u0131": "6",
    "yedi": "7", "sekiz": "8", "dokuz": "9",
    "nula": "0", "jedna": "1", "dva": "2", "tři": "3", "čtyři": "4", "pět": "5", "šest": "6",
    "sedm": "7", "osm": "8", "devět": "9",
    "seks": "6", "syv": "7", "otte": "8", "åtte": "8",
    "μηδέν": "0", "ένα": "1", "δύο": "2", "δυο": "2", "τρία": "3", "τέσσερα": "4",
    "πέντε": "5", "έξι": "6", "επτά": "7", "εφτά": "7", "οκτώ": "8", "οχτώ": "8", "εννέα": "9",
    "εννιά": "9",
    # Danish and Norwegian ("to", "en", "et", "ni" left out: words of other languages too)
    "fire": "4",
    "nolla": "0", "yksi": "1", "kaksi": "2", "kolme": "3", "neljä": "4", "viisi": "5",
    "kuusi": "6", "seitsemän": "7", "kahdeksan": "8", "yhdeksän": "9",
    "nulla": "0", "egy": "1", "kettő": "2", "két": "2", "három": "3", "négy": "4", "öt": "5",
    "hat": "6", "hét": "7", "nyolc": "8", "kilenc": "9",
    "unu": "1", "doi": "2", "două": "2", "trei": "3", "patru": "4", "cinci": "5", "șase": "6",
    "şase": "6", "șapte": "7", "şapte": "7", "opt": "8", "nouă": "9",
    "ноль": "0", "нуль": "0", "один": "1", "одна": "1", "два": "2", "две": "2", "дві": "2",
    "три": "3", "четыре": "4", "чотири": "4", "пять": "5", "шесть": "6", "шість": "6",
    "семь": "7", "сім": "7", "восемь": "8", "вісім": "8", "девять": "9",
    **{f"дев{a}ять": "9" for a in "'\u2019\u02bc"}, **{f"п{a}ять": "5" for a in "'\u2019\u02bc"},
    "אפס": "0", "אחת": "1", "אחד": "1", "שתיים": "2", "שתים": "2", "שניים": "2", "שלוש": "3",
    "שלושה": "3", "ארבע": "4", "ארבעה": "4", "חמש": "5", "חמישה": "5", "שש": "6", "שישה": "6",
    "שבע": "7", "שבעה": "7", "שמונה": "8", "תשע": "9", "תשעה": "9",
    "صفر": "0", "واحد": "1", "اثنان": "2", "اثنين": "2", "ثلاثة": "3", "ثلاث": "3",
    "أربعة": "4", "اربعة": "4", "أربع": "4", "خمسة": "5", "خمس": "5", "ستة": "6", "سبعة": "7",
    "سبع": "7", "ثمانية": "8", "ثمان": "8", "تسعة": "9", "تسع": "9",
    "शून्य": "0", "एक": "1", "दो": "2", "तीन": "3", "चार": "4", "पांच": "5", "पाँच": "5",
    "छह": "6", "छः": "6", "सात": "7", "आठ": "8", "नौ": "9",
    "không": "0", "một": "1", "hai": "2", "ba": "3", "bốn": "4", "tư": "4", "năm": "5",
    "lăm": "5", "sáu": "6", "bảy": "7", "bẩy": "7", "tám": "8", "chín": "9",
    "nol": "0", "kosong": "0", "satu": "1", "dua": "2", "tiga": "3", "empat": "4", "lima": "5",
    "enam": "6", "tujuh": "7", "delapan": "8", "sembilan": "9",
    # South Slavic, Slovak, Bulgarian, Baltic, Estonian, Icelandic, Catalan, Tagalog,
    # Swahili, Persian, Urdu, Bengali ("du", "set", "moja" left out: words elsewhere)
    "jedan": "1", "pet": "5", "tri": "3", "dve": "2", "štiri": "4", "ena": "1",
    "četiri": "4", "sedam": "7", "osam": "8", "devet": "9",
    "jedno": "1", "štyri": "4", "päť": "5", "šesť": "6", "sedem": "7", "deväť": "9",
    "нула": "0", "едно": "1", "един": "1", "један": "1", "четири": "4", "пет": "5",
    "шест": "6", "седем": "7", "седам": "7", "осем": "8", "осам": "8", "девет": "9",
    "nulis": "0", "vienas": "1", "trys": "3", "keturi": "4", "penki": "5", "šeši": "6",
    "septyni": "7", "aštuoni": "8", "devyni": "9", "nulle": "0", "viens": "1", "divi": "2",
    "trīs": "3", "četri": "4", "pieci": "5", "seši": "6", "septiņi": "7", "astoņi": "8",
    "deviņi": "9", "üks": "1", "kaks": "2", "kolm": "3", "neli": "4", "viis": "5", "kuus": "6",
    "seitse": "7", "kaheksa": "8", "üheksa": "9", "núll": "0", "einn": "1", "tveir": "2",
    "þrír": "3", "fjórir": "4", "fimm": "5", "sjö": "7", "átta": "8", "níu": "9",
    "cinc": "5", "sis": "6", "vuit": "8",
    "sero": "0", "isa": "1", "dalawa": "2", "tatlo": "3", "apat": "4", "anim": "6",
    "pito": "7", "walo": "8", "siyam": "9", "sifuri": "0", "mbili": "2", "tatu": "3",
    "nne": "4", "tano": "5", "sita": "6", "saba": "7", "nane": "8", "tisa": "9",
    "یک": "1", "سه": "3", "چهار": "4", "پنج": "5", "شش": "6", "هفت": "7", "هشت": "8",
    "ایک": "1", "تین": "3", "چار": "4", "پانچ": "5", "چھ": "6", "سات": "7", "آٹھ": "8",
    "শূন্য": "0", "এক": "1", "দুই": "2", "তিন": "3", "চার": "4", "পাঁচ": "5", "ছয়": "6",
    "সাত": "7", "আট": "8", "নয়": "9",
    # Afrikaans, Hausa, Somali, Amharic, Georgian, Armenian, Azerbaijani, Uzbek, Kazakh,
    # Kyrgyz, Mongolian, Tajik (short words that other languages use left out: "se", "ses",
    # "uku", "laba", "tara"...)
    "vyf": "5", "sewe": "7", "agt": "8", "nege": "9",
    "sifiri": "0", "ɗaya": "1", "daya": "1", "biyu": "2", "hudu": "4", "huɗu": "4",
    "biyar": "5", "shida": "6", "bakwai": "7",
    "takwas": "8", "saddex": "3", "toddoba": "7", "siddeed": "8", "sagaal": "9",
    "ዜሮ": "0", "አንድ": "1", "ሁለት": "2", "ሶስት": "3", "ሦስት": "3", "አራት": "4", "አምስት": "5",
    "ስድስት": "6", "ሰባት": "7", "ስምንት": "8", "ዘጠኝ": "9",
    "ნული": "0", "ერთი": "1", "ორი": "2", "სამი": "3", "ოთხი": "4", "ხუთი": "5",
    "ექვსი": "6", "შვიდი": "7", "რვა": "8", "ცხრა": "9",
    "զրո": "0", "մեկ": "1", "երկու": "2", "երեք": "3", "չորս": "4", "հինգ": "5", "վեց": "6",
    "յոթ": "7", "ութ": "8", "ինը": "9",
    "dörd": "4", "yeddi": "7", "səkkiz": "8", "doqquz": "9", "ikki": "2",
    "besh": "5", "olti": "6", "yetti": "7", "sakkiz": "8",
    "нөл": "0", "бір": "1", "екі": "2", "төрт": "4", "алты": "6",  # noqa: RUF001
    "жеті": "7", "сегіз": "8", "тоғыз": "9", "эки": "2",
    "жети": "7", "сегиз": "8", "тогуз": "9", "хоёр": "2",
    "гурав": "3", "дөрөв": "4", "зургаа": "6", "долоо": "7", "найм": "8",
    "панҷ": "5", "ҳафт": "7", "ҳашт": "8", "нӯҳ": "9",
    # Somali, Malagasy, Luxembourgish
    "eber": "0", "kow": "1", "laba": "2", "afar": "4", "shan": "5", "lix": "6",
    "aotra": "0", "iray": "1", "roa": "2", "telo": "3", "efatra": "4", "dimy": "5",
    "enina": "6", "fito": "7", "valo": "8", "sivy": "9",
    "eent": "1", "zwee": "2", "dräi": "3", "véier": "4", "fënnef": "5", "siwen": "7",
    "aacht": "8", "néng": "9",
}
# The view writes Greek letters that look Latin as Latin ("οκτώ" is matched as "oktώ").
_DIGIT_WORDS.update({view(w).text: d for w, d in list(_DIGIT_WORDS.items())})
# Teens and tens say two digits at once ("quarante-sept", "twenty one").
_PAIR_WORDS = frozenset({
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
    "ninety", "zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn",
    "achtzehn", "neunzehn", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig",
    "achtzig", "neunzig", "dix", "onze", "douze", "treize", "quatorze", "quinze", "seize",
    "vingt", "trente", "quarante", "cinquante", "soixante", "diez", "once", "doce", "trece",
    "catorce", "quince", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta",
    "ochenta", "noventa", "dieci", "undici", "dodici", "tredici", "venti", "trenta", "quaranta",
    "cinquanta", "sessanta", "settanta", "ottanta", "novanta",
    "septante", "huitante", "octante", "nonante",  # Swiss and Belgian French
    "dvidešimt", "trisdešimt", "keturiasdešimt", "penkiasdešimt", "šešiasdešimt",  # Lithuanian
    "septyniasdešimt", "aštuoniasdešimt", "devyniasdešimt", "divdesmit", "trīsdesmit",
    "četrdesmit", "piecdesmit", "sešdesmit", "septiņdesmit", "astoņdesmit", "deviņdesmit",
    "dez", "doze", "vinte", "trinta", "quarenta", "cinquenta", "sessenta", "oitenta", "tien",
    "twintig", "dertig", "veertig", "vijftig", "zestig",
    "zeventig", "tachtig", "negentig", "tio", "tjugo", "trettio", "fyrtio", "femtio",
    "sextio", "sjuttio", "åttio", "nittio",
    "tyve", "tredive", "fyrre", "halvtreds", "tres", "halvfjerds", "firs", "halvfems", "tjue",
    "tretti", "førti", "femti", "seksti", "sytti", "åtti", "nitti", "kymmenen", "tíz", "húsz",
    "harminc", "negyven", "ötven", "hatvan", "hetven", "nyolcvan", "kilencven", "zece",
    "десять", "двадцать", "тридцать", "сорок", "девяносто", "двадцять", "тридцять",
    "дев'яносто", "עשר", "עשרה", "עשרים", "שלושים", "ארבעים", "חמישים", "שישים", "שבעים",
    "שמונים", "תשעים", "عشرة", "عشر", "عشرون", "عشرين", "ثلاثون", "ثلاثين", "أربعون", "أربعين",
    "خمسون", "خمسين", "ستون", "ستين", "سبعون", "سبعين", "ثمانون", "ثمانين", "تسعون", "تسعين",
    "mười", "mươi", "sepuluh", "sebelas",
    # Dutch, Danish and Norwegian teens ("06 twaalf 34 56 78")
    "twaalf", "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten",
    "nitten",
})
# "and", and "then" between the groups ("tre quattro sette, poi 219 88 40")
_JOINERS = frozenset({"et", "and", "und", "y", "e", "en", "och", "og", "then", "dann", "puis",
                      "poi", "luego", "depois", "dan", "sedan", "potem", "sonra", "pak", "så",
                      "και", "kai", "a"})
# Tens said in one word with their units ("drieënveertig", "sextiosju", "dreiundzwanzig"),
# teens, and hundreds ("sześćset", "trzysta", "beş yüz"): each says two or three digits.
_COMPOUND_ENDS = (
    "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig",
    "zwanzig", "dreißig", "dreissig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig",
    "neunzig", "dzieścia", "dzieści", "dziesiąt", "naście", "sześćset", "pięćset", "siedemset",
    "osiemset", "dziewięćset", "czterysta", "trzysta", "dwieście", "hundert", "honderd",
    "hundra", "tien", "tton", "elva", "tolv", "arton", "nitton",
    "ogtyve", "ogtredive", "ogfyrre", "oghalvtreds", "ogtres", "oghalvfjerds", "ogfirs",
    "oghalvfems", "kymmentä", "toista", "zeci", "sprezece", "надцать", "надцять", "десят",
    "puluh", "belas")
# Cyrillic and Greek as the view folds them.
_PAIR_WORDS = _PAIR_WORDS | {folded(w) for w in _PAIR_WORDS}
_COMPOUND_ENDS = tuple(dict.fromkeys(_COMPOUND_ENDS + tuple(folded(w) for w in _COMPOUND_ENDS)))
_COMPOUND_STARTS = ("tjugo", "trettio", "fyrtio", "femtio", "sextio", "sjuttio", "åttio",
                    "nittio", "harminc", "negyven", "ötven", "hatvan", "hetven", "nyolcvan",
                    "kilencven", "tizen", "huszon", "tjue", "tretti", "førti", "femti",
                    "seksti", "sytti", "åtti", "nitti")
_COMPOUND_WORDS = frozenset((
    "yirmi", "otuz", "k\u0131rk", "elli", "altm\u0131ş", "yetmiş", "seksen", "doksan", "yüz"))


def _compound(lowered: str) -> bool:
    """A number word made of several ("drieënveertig", "sextiosju", "sześćset")."""
    return len(lowered) > 3 and (lowered.endswith(_COMPOUND_ENDS) or lowered.startswith(
        _COMPOUND_STARTS) or lowered in _COMPOUND_WORDS)


# _compound() of any of several words, each after a space: one starts as a compound does
# (and, over the words written backwards, ends as one does), or is one. Each of these is
# longer than three letters but "yüz".
_COMPOUND_START = re.compile(" " + trie(set(_COMPOUND_STARTS)))
_COMPOUND_END = re.compile(" " + trie({w[::-1] for w in _COMPOUND_ENDS}))
_LONG_COMPOUND_WORDS = frozenset(w for w in _COMPOUND_WORDS if len(w) > 3)


def _any_compound(words: set[str]) -> bool:
    spaced = " " + " ".join(words) + " "
    return bool(not words.isdisjoint(_LONG_COMPOUND_WORDS) or _COMPOUND_START.search(spaced)
                or _COMPOUND_END.search(spaced[::-1]))

# A word: its letters and the vowel signs of Devanagari, which are no letters to \w.
# Letters, Indic vowel signs, and the Ukrainian apostrophe inside a word ("дев'ять", "п'ять").
_WORD = (r"(?:[^\W\d_]|[\u0900-\u0903\u093a-\u094f\u0962\u0963\u0981-\u0983\u09bc-\u09d7"
         r"\u09e2\u09e3]|(?<=[^\W\d_])['\u2019\u02bc](?=[яюєї]))+")
_TOKEN = re.compile(_WORD + r"|\d")
_DIGIT_AFTER = re.compile(r"[^\W\d_]+[\s,.\-/:]{1,3}\d")
# Between number words: spaces and punctuation, Arabic, CJK, Ethiopic and Armenian commas too.
_GAP = re.compile(r"[\s,.\-/\u2013\u2014:\u060c\u3001\u1363\u1361\u1366\u055d]*")


def _weight(word: str) -> int:
    """How many digits a word says: 1, 2 for teens and tens, 0 for "and" or "double"."""
    lowered = word.lower()
    if word.isdigit() or _DIGIT_WORDS.get(lowered, ""):
        return 1
    return 2 if lowered in _PAIR_WORDS or _compound(lowered) else 0


def _counts(word: str) -> bool:
    lowered = word.lower()
    return word.isdigit() or lowered in _DIGIT_WORDS or lowered in _PAIR_WORDS \
        or lowered in _JOINERS or _compound(lowered)


_NUMBER_WORDS = frozenset({w for w, d in _DIGIT_WORDS.items() if d} | _PAIR_WORDS)
_LETTERS = re.compile(_WORD)


def _may_spell(text: str) -> bool:
    """Whether the text has a number word at all (most have none): asked of each different
    word once, lowered on its own as in the text (but "İ" and "Σ", whose lowering depends on
    what stands around them)."""
    if "\u0130" in text or "\u03a3" in text:
        return True
    distinct = {w.lower() for w in _LETTERS.findall(distinct_words(text))}
    return not distinct.isdisjoint(_NUMBER_WORDS) or _any_compound(distinct)


def _spelled(text: str) -> Iterator[tuple[int, int]]:
    """Only where number words come close together is a spelled number possible: the token
    walk runs on those stretches alone."""
    # A plain word scan and a set lookup: many times faster than one regex of all the words.
    # Lowered once (str.lower keeps the length of these letters' words), then looked up.
    if not _may_spell(text):
        return
    lowered = text.lower()
    words = [m.start() for m in _LETTERS.finditer(lowered) if m.group(0) in _NUMBER_WORDS
             or _compound(m.group(0))] if len(lowered) == len(text) else [
        m.start() for m in _LETTERS.finditer(text) if m.group(0).lower() in _NUMBER_WORDS
        or _compound(m.group(0).lower())]
    start = 0
    while start < len(words):
        end = start
        while end + 1 < len(words) and words[end + 1] - words[end] <= 40:
            end += 1
        # Two number words close together, or one said before the digits ("seis 12 48 73 90")
        if end > start or _DIGIT_AFTER.match(text, words[start]):
            offset = max(0, words[start] - 60)
            window = text[offset:words[end] + 60]
            for s, e in _spelled_runs(window):
                yield offset + s, offset + e
        start = end + 1


def token_runs(text: str, token: re.Pattern[str], gap: re.Pattern[str],
               counts: Callable[[str, bool], bool]) -> Iterator[list[re.Match[str]]]:
    """Runs of the tokens `counts(word, inside_a_run)` takes, each next to the one before
    across no more than `gap` matches: the digit groups and number words a number is said in."""
    run: list[re.Match[str]] = []
    for m in token.finditer(text):
        if not counts(m.group(0), bool(run)):
            if run:
                yield run
                run = []
            continue
        if run and not gap.fullmatch(text, run[-1].end(), m.start()):
            yield run
            run = []
        run.append(m)
    if run:
        yield run


def _spelled_runs(text: str) -> Iterator[tuple[int, int]]:
    """Runs that say 7+ digits, at least two of them in words, with only separators between."""
    for run in token_runs(text, _TOKEN, _GAP, lambda word, inside: _counts(word) and (
            inside or word.lower() not in _JOINERS)):
        while run and run[-1].group(0).lower() in _JOINERS:
            run.pop()
        digits = sum(_weight(t.group(0)) for t in run)
        words = sum(1 for t in run if not t.group(0).isdigit() and _weight(t.group(0)))
        # One word said before eight digits or more ("seis 12 48 73 90") is a number too.
        # (A word the table has, not one read as a compound: "Karton: 0034..." is a label.)
        said_first = bool(run) and len(run[0].group(0)) >= 3 and _weight(run[0].group(0)) > 0 \
            and not run[0].group(0).isdigit() and run[0].group(0).lower() in _DIGIT_WORDS
        raw = sum(1 for t in run if t.group(0).isdigit())
        # Words that are also an article or "or" ("$48.500 o un cambio") say a number only
        # among others: two of them alone after digits are no number said in words.
        weak = sum(1 for t in run if t.group(0).lower() in _WEAK_WORDS)
        if len(run) >= 5 and ((digits >= 7 and words >= 2 and (words > weak or words >= 3)) or (
                said_first and raw >= 8 and not (len(run) > 1 and _DATE_AFTER.fullmatch(
                    text, run[1].start(), run[-1].end())))):
            yield run[0].start(), run[-1].end()


_WEAK_WORDS = frozenset({"o", "oh", "un", "een", "ett", "en", "et", "ena", "bir", "isa", "e"})
# The digits after one word are a date ("iki 2024-03-22", Lithuanian "until"; "iki" is also
# Turkish "two"): no number said in part.
_DATE_AFTER = re.compile(r"(?:19|20)\d\d[-./]\d\d?[-./]\d\d?|\d\d?[-./]\d\d?[-./](?:19|20)\d\d")


# A number that a label names further back in its clause ("Il codice EAN sulla confezione è
# 8001505005707", "die DHL-Express-Sendung mit dem Zubehör hat die Nummer 4817263950") is
# that, not a phone, unless the clause speaks of calling.
_LABELS = (
    r"invoice|receipt|tracking|track|trk|shipment|parcel|package|consignment|awb|waybill|"
    r"ref(?:erence)?|sku|asin|isbn|ean|upc|gtin|mpn|model|modell|part|serial|s/n|imei|ticket|"
    r"rma|return|claim|batch|lot|rechnung|sendung|sendungsnummer|paket|paketnummer|"
    r"artikelnummer|commande|facture|colis|suivi|référence|factura|seguimiento|envío|fattura|"
    r"spedizione|tracciamento|factuur|zending|pakket|faktura|przesyłk\w*|voucher|coupon|"
    r"seriennummer|serienummer|réf|rif|codice|código|cod|barcode|sändning\w*|kolli|symbol\w*|"
    r"typ|kargo|takip|rastreio|objeto|matricola|ricambio|vettura|peça|pieza|pièce|"
    r"réclamation|retour\w*|retoure\w*|autorización|autorisation|autorizzazione|devolución|"
    r"reso|zwrot\w*|n°|nº|referenz|referencia|riferimento|vorgang|aktenzeichen|dossier|"
    r"expediente|pratica|ärende|modelo|modèle|modello|artículo|articolo|onderdeel|część|"
    r"parça|kod|serie|série|seriale|garantie|warranty|garanzia|garantía|lieferschein|"
    r"albarán|numéro de série|número de serie|numer seryjny|追跡番号|お問い合わせ番号|伝票番号|"
    r"注文番号|製造番号|型番|品番|运单号|快递单号|订单号|单号|序列号|型号|운송장|송장|주문번호|"
    r"일련번호|모델|jan|jancode|janコード|条码|條碼|바코드|protokół|protokol|szkody|zgłoszeni\w*|"
    + _SHIPMENT_WORDS + "|" + _CARRIERS
)
_LABEL_BEFORE = re.compile(
    rf"(?i:(?<![A-Za-z0-9])(?:{_LABELS})(?:[a-zäöüåéèíóúñçłęą]{{0,3}})(?![A-Za-z0-9]))"
    r"(?:[^\d\u2591.!?;\n]|\.(?=\s?[a-z\d:])){0,40}$")
_SHIPMENT_AFTER = re.compile(rf"(?i:[\s\-:(]{{0,3}}(?:{_SHIPMENT_WORDS})(?![A-Za-z0-9]))")
PHONE_WORDS = re.compile(
    r"(?i:\b(?:tel|tél|telf|phone|call|ring|text|sms|whats\s?app|mobile|cell|handy|telefon\w*|"
    r"anruf\w*|ruf|appel\w*|appelle\w*|rappel\w*|portable|téléphone|llam\w+|móvil|movil|teléfono|"
    r"celular|cellulare|chiam\w+|telefono|bel|mobiel|telefoon|zadzwo\w*|komórk\w*|"
    r"numer\s+telefonu|ara|zap|contact\w*|kontakt\w*|reach|erreichbar|joignable|fax|viber|"
    # Payments keyed by a phone number ("Mitt swishnummer är 070-312 44 89")
    r"swish\w*|vipps\w*|mobilepay\w*|bizum\w*|moncash|gcash|m-?pesa|mb\s?way|yape|nequi|"
    r"daviplata|paynow|promptpay|tikkie|easypaisa|jazzcash|bkash|nagad|khalti|esewa|opay|"
    r"palmpay|moniepoint|"
    r"signal|telegram|wechat|(?:my|meine?|mon|ma|mi|il\s+mio|mijn|mitt|mój|minha|meu)\s+"
    r"(?:private\s+|own\s+|eigene\s+)?(?:number|nummer|numéro|número|numero|numer)|"
    # Calling in the other scripts and languages (as the view folds their letters)
    + folded(r"звон\w*|позвон\w*|телефон\w*|моб\w*|дзвон\w*|зателефон\w*|вайбер\w*|"
    r"τηλέφων\w*|τηλ|κάλεσ\w*|καλέσ\w*|πάρ(?:ε|τε)\s+με|κινητ\w*|להתקשר|התקשר\w*|תתקשר\w*|טלפון|נייד|וואטסאפ|"
    r"اتصل\w*|اتصال|هاتف\w*|جوال\w*|واتساب|رقمي|फोन|फ़ोन|कॉल|व्हाट्सऐप|मोबाइल|"
    r"کال|فون|موبائل|واٹس\s?ایپ|"
    r"gọi|điện\s+thoại|sđt|sdt|zalo|telepon|telp|hubungi|wa|sună\w*|suna\w*|hívj\w*|"
    r"hívjon|zavolej\w*|volejte|soita\w*|puhelin\w*|puh|ring\w*|tlf|aray\u0131n|arayin|"
    # the imperatives only: "the courier will call" (helistab) is no offer of a number
    r"volajte|zavolajte|helista|helistage|zvaniet|piezvaniet|zvani|skambinkite|paskambinkite|"
    r"skambink|pokličite|pokliči|nazovite|nazovi|zovite|zəng|qo'ng'iroq\w*|tawag\w*|telpon|"
    r"қоңырау\w*|хабарлас\w*|залга\w*|ይደውሉ|ደውሉ|"
    # Zulu and Xhosa "call me" ("ngishayele", "ndifowunele"): a prefix before the stem
    r"\w{0,4}shayel\w*|\w{0,4}fonel\w*|\w{0,4}fowunel\w*|ffoni\w*|ffôn)\b)"
    r"|電話|携帯|전화|핸드폰|휴대폰|手机|电话|联系|โทร|มือถือ|ไลน์|ติดต่อ"
    # Scripts whose words end in a combining mark, where \b cannot stand
    r"|ফোন|মোবাইল|হোয়াটসঅ্যাপ|போன்|அழை|கைபேசி|ఫోన్|కాల్|ಫೋನ್|ಕರೆ|ഫോൺ|വിളി|ફોન|ਫੋਨ|ਕਾਲ|"
    r"ෆෝන්|කෝල්|ඇමතුම|ဖုန်း|ទូរស័ព្ទ|ໂທ|ስልክ|ደውል|զանգ|հեռախոս|ტელეფონ|დარეკ"))


_CALL_BEFORE = re.compile(
    r"(?i:\b(?:ring\w{0,3}|call|tel|tlf|telefon\w*|mobil\w*|handy|cell|phone|whats\s?app|"
    r"sms|text|appel\w*|llam\w*|chiam\w*|bel|zadzwo\w*|ara)\b)[^\d\n]{0,25}$")


# Whether a window of a text (a search that ends early) can speak of calling: where these
# say the whole text does not, no window of it does. Masking order numbers changes only
# digits and dashes, which none of these words has: asked of the text as written.
_PHONE_TALK = Gated(PHONE_WORDS, windows=True)
_CALL_TALK = Gated(_CALL_BEFORE, windows=True)


def _labelled(text: str, start: int, end: int, talk: bool = True) -> bool:
    """A label stands before the number in its clause (or a shipment's word right after it,
    as Turkic languages and Japanese put it: "4386692627 izləmə nömrəsi"), and nothing
    speaks of calling (`talk`: whether anything in the whole text may)."""
    before = text[max(0, start - 60):start]
    if not _LABEL_BEFORE.search(before) and not _SHIPMENT_AFTER.match(text, end, end + 40):
        return False
    return not (talk and PHONE_WORDS.search(text, max(0, start - 80), min(len(text), end + 40)))


def _gtin(digits: str) -> bool:
    """An EAN/UPC/GTIN: 8, 12, 13 or 14 digits whose last is their check digit."""
    if len(digits) not in (8, 12, 13, 14):
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


# An ISBN-10 as printed: group, publisher, title, check digit ("3-446-21234-5").
_ISBN10_LAYOUT = re.compile(r"\d{1,5}[- ]\d{1,7}[- ]\d{1,7}[- ]\d")


def _isbn10(digits: str) -> bool:
    return sum((10 - i) * int(d) for i, d in enumerate(digits)) % 11 == 0


def _luhn(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# Vanity numbers: a toll-free prefix and letters on the keypad ("1-800-FLOWERS").
# Toll-free prefixes: North America (1-800 ...), Australia (1800, 1300), the UK, Germany,
# France and others (0800, 0808, 0805); the letters of the keypad after them, in words too
# ("1800 FIX APPS").
_VANITY = Gated(re.compile(
    r"(?<![\w+])(?:\+?1[\s.\-]?)?(?:\(\s?(?:800|888|877|866|855|844|833)\s?\)|"
    r"(?:800|888|877|866|855|844|833)|1800|1300|0800|0808|0805)[\s.\-]?"
    r"(?P<tail>[A-Za-z0-9]{2,8}(?:[.\-][A-Za-z0-9]{1,8}|[ ][A-Z0-9]{2,8}(?![a-z])){0,2})"
    r"(?!\w)"))
# Numbers in CJK numerals ("〇九〇・一二三四・五六七八") or Sino-Korean digit syllables
# ("공일공-일이삼사-오육칠팔"): nine or more of them in a run are a number.
_CJK_NUMERALS = "〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖貳參陸幺"  # 幺: "one" said in numbers
_KO_NUMERALS = "공영일이삼사오육칠팔구"
_CJK_RUN = re.compile(rf"[{_CJK_NUMERALS}0-9](?:[{_CJK_NUMERALS}0-9]|"
                      rf"[\s.\-\u2010-\u2015\u30fc\uff0d(),の](?=[{_CJK_NUMERALS}0-9])){{7,30}}")
_KO_RUN = re.compile(rf"[{_KO_NUMERALS}0-9](?:[{_KO_NUMERALS}0-9]|[ .\-](?=[{_KO_NUMERALS}0-9]))"
                     r"{8,30}")


# Digits read aloud in kana ("ぜろはちぜろ の 2941"), mixed with digits.
# Each digit's readings in hiragana and katakana, long vowels too ("ごー", "キュー"); longest
# first, so that "にー" is one digit and not "に" and a stray "ー".
_KANA_DIGIT = (r"(?:ぜろ|ゼロ|れい|レイ|まる|マル|いち|イチ|にい|にー|ニー|に|ニ|"
               r"さん|サン|よん|ヨン|し|シ|ごお|ごー|ゴー|ご|ゴ|ろく|ロク|なな|ナナ|しち|シチ|はち|ハチ|"
               r"きゅう|きゅー|キュウ|キュー|く|ク)")
_KANA_RUN = re.compile(rf"(?:{_KANA_DIGIT}|\d)(?:{_KANA_DIGIT}|\d|[\s\-の、,・]){{6,60}}")


def _kana_runs(text: str) -> Iterator[tuple[int, int]]:
    for m in _KANA_RUN.finditer(text):
        run = m.group(0).rstrip(" -の、,")
        kana = re.findall(_KANA_DIGIT, run)
        digits = len(kana) + sum(c.isdigit() for c in run)
        if (len(kana) >= 4 and digits >= 9) or (len(kana) >= 3 and digits >= 10):
            yield m.start(), m.start() + len(run)


def _numeral_runs(text: str) -> Iterator[tuple[int, int]]:
    for pattern, numerals in ((_CJK_RUN, _CJK_NUMERALS), (_KO_RUN, _KO_NUMERALS)):
        if not any(c in text for c in numerals):
            continue
        for m in pattern.finditer(text):
            run = m.group(0)
            count = sum(c.isdigit() or c in numerals for c in run)
            words = sum(c in numerals for c in run)
            # (Eight numerals and no digit: a Hong Kong or Singapore number, "九一二三 四五六七".)
            if (count >= 9 and words >= 3) or (count == words >= 8):
                yield m.start(), m.end()


# Any area code with the rest on the keypad ("917-DOG-WALK"), where the text speaks of calling.
_KEYPAD = Gated(re.compile(r"(?<![\w+\-])(?:\+?1[\s.\-]?)?\(?[2-9]\d{2}\)?[\s.\-]"
                           r"(?P<tail>[A-Z0-9]{3}[\s.\-]?[A-Z0-9]{4})(?![\w\-])"),
                # What each match holds that has a letter on the keypad (the others are
                # passed over): two digits, then the rest with a letter in it.
                re.compile(r"\d\d\)?[\s.\-](?=[A-Z0-9]{3}[\s.\-]?[A-Z0-9]{4}(?![\w\-]))"
                           r"(?:[A-Z0-9]{0,2}[A-Z]|[A-Z0-9]{3}[\s.\-]?[A-Z0-9]{0,3}[A-Z])"))
_MAY_KEYPAD = re.compile(r"\d[\s.\-)][A-Z0-9]{2}")


def _vanity(text: str) -> Iterator[tuple[int, int]]:
    if _MAY_KEYPAD.search(text) and _PHONE_TALK.may_match(text):  # kept only near such words
        for m in _KEYPAD.finditer(text):
            if sum(c.isalpha() for c in m.group("tail")) >= 3 and PHONE_WORDS.search(
                    text, max(0, m.start() - 80), m.end() + 40):
                yield m.start(), m.end()
    for m in _VANITY.finditer(text):
        first = re.split(r"[\s.\-]", m.group("tail"))[0].lower()
        if re.fullmatch(_UNITS + "|" + _TIGHT_UNITS, first):
            continue  # "1800 mm WIDE": a size
        if text[m.start("tail") - 1:m.start("tail")].isspace() and m.group("tail").islower():
            continue  # "a 1-800 number": a word after the prefix, not letters to dial
        tail = re.sub(r"[\s.\-]", "", m.group("tail"))
        letters = sum(c.isalpha() for c in tail)
        if 6 <= len(tail) <= 10 and letters >= 3 and (tail.isupper() or m.group(0)[:1] in "1+("):
            yield m.start(), m.end()


# The shipment words of more languages and the carriers' names, with their number right
# after them: masked as _PROTECT's labels are, unless the clause speaks of calling ("πάρτε
# με τηλέφωνο πριν την αποστολή: 210 7248 391").
_PROTECT_SHIPMENT = re.compile(
    rf"(?i:(?:(?<![A-Za-z0-9])(?:{_SHIPMENT_WORDS}|{_CARRIERS})(?![A-Za-z0-9])|{_GLUED})\.?"
    rf"(?:[\s-]+(?:{_BETWEEN})\b\.?){{0,4}})\s*"
    rf"(?:(?i:{_NUMBER_ABBREVIATIONS})\.?\s*)?[:#\uff1a]?\s*"
    r"(?:\d{4}(?:\s\d{4}){2,5}(?:\s\d{2})?|\d{1,3}(?:[ ,.']\d{3}){2,4}|\d(?:\s\d{6}){2}"
    r"|[A-Z0-9#](?:[A-Z0-9]|[\-/.](?=[A-Z0-9])|\s(?=[A-Z0-9])){3,40})")


def _shipment(m: re.Match[str]) -> str:
    text = m.string
    if PHONE_WORDS.search(text, max(0, m.start() - 80), min(len(text), m.end() + 40)):
        return m.group(0)
    return MASK * len(m.group(0))


def mask(text: str) -> str:
    text = _PROTECT.sub(lambda m: MASK * len(m.group(0)), text)
    return _PROTECT_SHIPMENT.sub(_shipment, text)


def mask_shapes(text: str) -> str:
    """`text` with the numbers that are ordinary by their shape alone masked."""
    return _ORDINARY_SHAPES.sub(lambda m: MASK * len(m.group(0)), text)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# Thai number words, written without spaces between them ("ศูนย์แปดหนึ่ง..."): seven or more
# in a row, digits mixed in, are a number.
_THAI_DIGIT = re.compile(r"ศูนย์|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า")
_THAI_RUN = re.compile(r"(?:(?:ศูนย์|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|โท|\d)[\s\-.,]{0,2}){6,}"
                       r"(?:ศูนย์|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|โท|\d)")


# Letters that stand for digits in a number typed to slip past a filter.
_AS_DIGITS = str.maketrans("lIOo", "1100")
_LOOKALIKE_HINT = re.compile(r"\d[lIOo]|[lIOo]\d")
_LOOKALIKE_RUN = re.compile(
    r"(?<![A-Za-z0-9])[\dlIOo]+(?:[ ().\-]{1,2}[\dlIOo]+){0,5}(?![A-Za-z0-9])")
_LOOKALIKE_TOKEN = re.compile(r"[\dlIOo]+")


# Where a word of calling stands right before a number that no plan the text suggests
# accepts ("Telpon aku 0878 3311 9025" in Javanese, which names no country): the plans of the
# most populous countries, a mobile number with its trunk "0" in one of them.
_WIDE_REGIONS = (
    "ID", "PK", "NG", "BD", "PH", "VN", "EG", "ET", "CD", "IR", "TR", "TH", "TZ", "ZA", "KE",
    "MM", "CO", "KR", "UG", "AR", "DZ", "SD", "IQ", "AF", "PL", "MA", "SA", "UZ", "PE", "AO",
    "MY", "MZ", "GH", "YE", "NP", "VE", "CM", "CI", "NE", "LK", "BF", "ML", "CL", "KZ", "MW",
    "ZM", "RO", "EC", "SN", "GT", "NL", "KH", "TD", "SO", "ZW", "GN", "RW", "BJ", "BI", "TN",
    "BO", "BE", "HT", "JO", "CU", "DO", "CZ", "GR", "SE", "PT", "AZ", "HU", "AE", "BY", "IL",
    "TJ", "AT", "CH", "PG", "HN", "RS", "LA", "KG", "BG", "PY", "SV", "NI", "DK", "SG", "FI",
    "NO", "SK", "IE", "NZ", "GE", "HR", "AM", "MN", "AL", "LT", "LV", "EE", "SI", "MK", "IS",
    "UA", "RU", "IT", "ES", "BR", "MX", "CN",
)


def called_before(text: str, start: int) -> bool:
    """Whether a word of calling stands just before `start` on its line ("ติดต่อกลับ
    081-332-7460"): a number offered so is no part number, however ordinary the rest."""
    line = text.rfind("\n", 0, start) + 1
    return PHONE_WORDS.search(text, max(line, start - 30), start) is not None


# The person to ask for, named between a word of calling and the number: "Call Farid at
# +60 12-338 4172", "Fowunela uLulama ku-060 ...", "Ffoniwch Siân ar 07923 ...".
_CALLER = re.compile(
    r"[ \t]+(?:ask\s+for[ \t]+)?(?:[a-z]{1,3}(?=[A-Z]))?"
    r"(?P<name>[A-Z\u00c0-\u00de\u0100-\u017f\u0410-\u042f][a-z\u00df-\u00ff\u0100-\u017f"
    r"\u0430-\u044f'\-]+(?:[ \t][A-Z\u00c0-\u00de][a-z\u00df-\u00ff'\-]+)?)"
    r"[ \t]*(?:[a-z]{1,5}-?|@)?[ \t:\-]*$")


def caller_name(text: str, start: int) -> tuple[int, int] | None:
    """Where the name of the one to call stands before a number found at `start`."""
    line = text.rfind("\n", 0, start) + 1
    window = max(line, start - 45)
    for m in PHONE_WORDS.finditer(text, window, start):
        named = _CALLER.match(text, m.end(), start)
        if named:
            return named.span("name")
    return None


def mobile_in(digits: str, regions: Iterable[str]) -> bool:
    """Whether `digits` is a valid mobile number (or one the plan cannot tell from a fixed
    line) as written in one of `regions`."""
    for region in regions:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
                PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            return True
    return False


def _mobile_somewhere(candidate: str) -> bool:
    """A national mobile number (trunk "0", 10 to 12 digits) of one of the wide regions."""
    digits = _digits(candidate)
    return digits.startswith("0") and 10 <= len(digits) <= 12 \
        and mobile_in(digits, _WIDE_REGIONS)


class PhoneRule:
    code = "contact.phone"

    def __init__(self, regions: Iterable[str]) -> None:
        self.regions = tuple(regions)

    def _valid_run(self, candidate: str, regions: tuple[str, ...]) -> bool:
        digits = _digits(candidate)
        international = candidate.lstrip(" (").startswith(("+", "00"))
        for region in regions:
            try:
                number = phonenumbers.parse(
                    ("+" + digits.removeprefix("00")) if international else digits, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        # Mexican mobiles are still written with the "1" the plan dropped in 2019
        # ("+52 1 55 4821 9037"): valid without it.
        bare = digits.removeprefix("00")
        if international and bare.startswith("521") and len(bare) == 13:
            return phonenumbers.is_valid_number(phonenumbers.parse("+52" + bare[3:], None))
        return False

    def _numbers(self, text: str) -> Iterator[tuple[int, int]]:
        call, talk = _CALL_TALK.may_match(text), _PHONE_TALK.may_match(text)
        # Order IDs first, cheaply: most messages quote theirs, and without it they often
        # hold no candidate at all, so the costly masking below never runs.
        text = _mask_order_ids(text)
        # Masking looks at what stands before the digits ("Invoice no. ..."): each candidate
        # gets a window, and overlapping windows are masked once, together.
        windows: list[list[int]] = []
        for raw in _CANDIDATE.finditer(text):
            # Masking only takes digits away: a run too short to be a number now never will
            # be one (a date, a price, a postcode), and costs no masking at all.
            digits = sum(c.isdigit() for c in raw.group(0))
            if digits < 8 or (digits == 8 and not raw.group(0).lstrip(" (").startswith(
                    ("+", "00")) and not (call and _CALL_BEFORE.search(
                    text, max(0, raw.start() - 40), raw.start()))):
                continue
            start, end = max(0, raw.start() - 80), raw.end() + 30
            if windows and start <= windows[-1][1]:
                windows[-1][1] = end
            else:
                windows.append([start, end])
        checked = 0
        extra: tuple[str, ...] | None = None  # the text's own regions, found when needed
        for offset, end in windows:
            for m in _CANDIDATE.finditer(mask(text[offset:end])):
                candidate = m.group(0)
                digits = len(_digits(candidate))
                international = candidate.lstrip(" (").startswith(("+", "00"))
                # Without a country code, a number people share has its area code: 9 digits+.
                # Eight digits are a whole number in some plans (DK, NO): where calling is
                # spoken of just before.
                if not (8 if international else 9) <= digits <= 15 and not (
                        digits == 8 and call and _CALL_BEFORE.search(
                            text, max(0, offset + m.start() - 40), offset + m.start())):
                    continue
                if digits in (14, 15) and not international and (
                        (digits == 15 and _luhn(_digits(candidate))) or "imei" in text.lower()):
                    continue  # an IMEI (15 digits, Luhn check digit; 14 without it)
                if digits == 10 and _ISBN10_LAYOUT.fullmatch(candidate.strip()) and _isbn10(
                        _digits(candidate)):
                    continue  # an ISBN-10: four groups, the last its check digit
                if not international and candidate.isdigit() and digits >= 12 \
                        and _gtin(candidate):
                    continue  # a barcode number written as one run
                if not international and _labelled(text, offset + m.start(), offset + m.end(),
                                                   talk):
                    continue
                checked += 1
                if checked > MAX_CHECKED:  # digit soup: redact rather than spend seconds
                    yield offset + m.start(), offset + m.end()
                    continue
                hits = list(self._check(candidate, self.regions))
                if not hits and not international:
                    if extra is None:
                        extra = tuple(r for r in suggested(text) if r not in self.regions)
                    if extra:
                        hits = list(self._check(candidate, extra))
                    if not hits and called_before(text, offset + m.start()) \
                            and _mobile_somewhere(candidate):
                        hits = [(0, len(candidate))]
                for s, e in hits:
                    yield offset + m.start() + s, offset + m.start() + e

    def _check(self, candidate: str, regions: tuple[str, ...]) -> Iterator[tuple[int, int]]:
        """The number(s) in one candidate, in positions within it."""
        found = False
        for region in regions:
            # A few tries: a candidate is short, and digit soup must not cost seconds.
            matcher = PhoneNumberMatcher(candidate, region, leniency=Leniency.VALID,
                                         max_tries=4)
            for hit in matcher:
                found = True
                yield hit.start, hit.end
            if found:
                break
        if not found and self._valid_run(candidate, regions):
            yield 0, len(candidate)

    def _lookalikes(self, text: str) -> Iterator[tuple[int, int]]:
        """A number with letters that look like digits ("2l2-555-Ol88", "69O 12I 34I5"):
        read with the digits they stand for, where the text speaks of calling."""
        for m in _LOOKALIKE_RUN.finditer(text):
            run = m.group(0)
            if sum(c.isdigit() for c in run) < 5 or not all(
                    any(c.isdigit() for c in token) for token in _LOOKALIKE_TOKEN.findall(run)):
                continue
            # In its text, so the text's language still says which plans to try.
            read = text[:m.start()] + run.translate(_AS_DIGITS) + text[m.end():]
            if any(s < m.end() and e > m.start() for s, e in self._numbers(read)):
                yield m.start(), m.end()

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        yield from self._numbers(text)
        if _LOOKALIKE_HINT.search(text) and _PHONE_TALK.may_match(text) \
                and PHONE_WORDS.search(text):
            yield from self._lookalikes(text)
        yield from _spelled(text)
        if not text.isascii():
            yield from _numeral_runs(text)
            yield from _kana_runs(text)
            if _THAI_DIGIT.search(text):
                for m in _THAI_RUN.finditer(text):
                    yield m.start(), m.end()
        yield from _vanity(text)
