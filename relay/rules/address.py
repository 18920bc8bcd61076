"""contact.address: street addresses and post boxes (US, UK, DE, FR, ES/IT/PT/NL/SE/PL, MX,
Québec, Japanese, Chinese and Korean forms), and streets described in words.

A street needs a house number next to a street word ("221B Baker Street", "Hauptstraße 5",
"12 rue de Rivoli", "Södermannagatan 19", "Av. Insurgentes Sur 1602"); the postcode and town
after it go with it, also past a floor or flat ("2. OG", "3º izq.", "m. 12") and on the next
line. A postcode that nearly names a building (UK, Canadian) or has the shape only an address
line has (Dutch "1017 GN", Portuguese "4000-447", Swedish "116 40", Polish "90-006" with their
town, 〒) is an address line on its own; a town with its postcode written as prose ("nach
80331 München", "AZ 85719") reaches no one and stays. Without a number, a street named after
a word that places someone there ("on Elm Road", "in der Gartenstraße", "rue des Lilas", "na
Rua Augusta") is a described address, with the "number 9" next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay.rules.needs import Gated, Gates, WordIn, Words
from relay.rules.view import folded

# Repeats are bounded throughout: "A-A-A-..." must not cost quadratic time.
_NAME = r"[A-ZÄÖÜÉÈ][\w'\u2019.\-]{0,30}"
_STREET_EN = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Estate|"
              r"Terr|Cres|Crt|Pde|Gdns|Cl|Mnr|Manor|Pike|Alley|Loop|Bend|Run|Path|"
              r"Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Close|"
              r"Crescent|Gardens|Grove|Row|Mews|Walk|Parade|Broadway|Yard|Green|Rise|Wharf|Quay|"
              r"Vale|Hill|Heights|Circus|Approach|Gate")
# Typed in lower case only the words that mean nothing else ("2 hard drive caddies").
_STREET_EN_LOWER = r"street|avenue|boulevard|terrace|crescent"
_UNIT = r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|#)\.?\s*[\w-]{1,6})?"
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    "NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_UK_POSTCODE = r"\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"
_US_ZIP = rf"\b(?:{_US_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"
_EU_POSTCODE = (r"\b(?:[DFA]-?\s?)?(?:\d{5}|\d{2}-\d{3})\s+[A-ZÄÖÜÉŁŚŻ][\w\-]+"
                r"(?:[ \-][A-ZÄÖÜÉ][\w\-]+)?")
_CA_POSTCODE = (r"\b(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d\b")
_AU_POSTCODE = r"\b(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}\b"
_JP_POSTCODE = r"(?:〒\s?)?\b\d{3}-\d{4}\b"
_IN_PIN = r"\b[A-Z][a-z]+\s+[1-9]\d{2}\s?\d{3}\b"
_NL_POSTCODE = r"\b\d{4}\s?[A-Z]{2}\s+[A-Z][\w\-]+"
# Town and postcode lines that follow a street (same line after a comma, or the next line).
_TAIL = (rf"(?:(?:,\s*|\s*\n\s*)(?:{_NAME}(?:\s{_NAME}){{0,2}},?\s*)?"
         rf"(?:{_US_ZIP}|{_UK_POSTCODE}|{_EU_POSTCODE}|{_NL_POSTCODE}|{_CA_POSTCODE}|"
         rf"{_AU_POSTCODE}|{_IN_PIN}|{_JP_POSTCODE}))?")
# "305, 3e Avenue", "12 1st Street": a numbered street, with no name besides its number
_NUMBERED_STREET = (r"\b\d{1,5},?\s+\d{1,3}(?:e|er|re|ème|ieme|st|nd|rd|th)\s+(?i:avenue|rue|rang|"
                    r"street|avenida|calle|strasse|straße)\b")
_STREETS = (
    # 221B Baker Street, 1600 Pennsylvania Avenue NW, 55 Main St., Apt 4B
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:(?:[NSEW]|NE|NW|SE|SW)\.?\s+)?"
    rf"(?:(?:{_NAME}|\d{{1,3}}(?:st|nd|rd|th))\s+){{1,4}}(?:{_STREET_EN})\b\.?"
    rf"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?{_UNIT}",
    rf"\b\d{{1,6}}[a-z]?\s+(?:[a-z][\w'-]{{0,30}}\s+){{1,3}}(?:{_STREET_EN_LOWER})\b{_UNIT}",
    # Ashgrove Road 9 (the number after the street, as many countries write it)
    rf"\b(?:{_NAME}\s+){{1,3}}(?:Street|Road|Lane|Avenue|Close|Crescent|Drive|Terrace|Way|"
    rf"Gardens|Grove|Place|Court|Square)\s+\d{{1,3}}[a-zA-Z]?\b(?![.,]\d|\s?(?:%|days?|mins?))",
    # Hauptstraße 5, Berliner Str. 12, Lindenallee 3a
    r"(?<![\w\-])[A-ZÄÖÜÅØÆ][\wäöüßåøæ\-]{0,40}(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|"
    r"damm|ufer|chaussee|steig|pfad|markt|straat|laan|plein|gracht|kade|singel|dijk|steeg|hof|"
    r"gatan|vägen|gränd|torget|stigen|backen|allén|leden|gata|väg|vej|gade|veien|vegen|gaten|"
    r"gate|vei|tie|katu)\s+\d{1,4}(?:\s?[a-zA-Z]\b|-[IVX]{1,4}\b|-\d{1,3}\b|\s?(?:bis|hs)\b)?"
    # not a date's day ("Bring 14.03.2024") nor the start of a code ("Referentie 3SPNL0123...")
    r"(?![\w\-]|[.,]\d)",
    r"(?<![\w\-])[A-ZÄÖÜ][\wäöüß\-]{1,40}\s+(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|"
    r"Chaussee)\s+\d{1,4}\s?[a-zA-Z]?\b",
    # Am Markt 3, 80331 München: only with its postcode, "Am Montag 3 Pakete" is not one.
    rf"\b(?:Am|An der|Im|In der|Auf der|Zum|Zur|Unter den)\s+{_NAME}\s+\d{{1,4}}[a-z]?"
    rf"(?=,?\s*\n?\s*{_EU_POSTCODE})",
    # 12 rue de Rivoli, 5 bis avenue des Champs-Élysées
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:\d{1,2}(?:e|er|re)\s+)?"
    r"(?i:rue|avenue|av\.|ave\.?|boulevard|boul\.|bd|place|chemin|"
    r"ch\.|allée|allee|rang|montée|côte|"
    r"impasse|quai|route|cours|passage|square|faubourg)\s+(?:(?:de la|de l'|des|du|de|d'|l'|"
    r"la|le|les)\s*)?[A-ZÉÈÀ][\w'\u2019\-]{0,30}(?:[\s\-]+(?:[A-ZÉÈÀ][\w'\u2019\-]{0,30}|de|du|des|"
    r"la|le)){0,5}",
    # Laan van Meerdervoort 310, Plein van de Verenigde Naties 1
    r"\b(?:Laan|Weg|Plein|Kade|Dijk|Singel|Straat)\s+(?:van|der|de|het|den|op|aan)\s+"
    r"(?:(?:de|der|het|den)\s+)?[A-Z][\w'\-]{2,30}(?:\s+[A-Z][\w'\-]{2,30}){0,2}\s+\d{1,4}[a-zA-Z]?\b",
    # Calle Mayor 5, Via Roma 10, Piazza San Marco 1
    r"(?:\b|(?<=\s))(?:Calle|C/|Avenida|Av\.|Avda\.?|Plaza|Paseo|Carrer|Camino|Carretera|Calzada|"
    r"Privada|Cerrada|Callejón|Calz\.|Boulevard|Blvd\.?|Ronda|Travesía|Via|Viale|Piazza|Corso|Largo|"
    r"Vicolo|Strada|Rua|R\.|Travessa|Praça|Estrada|Alameda|Avenue|ul\.|ulica|al\.|Al\.|Aleja|"
    r"aleja|os\.|osiedle|plac|pl\.)\s*(?:(?:de la|de las|de los|del|de|dei|della|di|do|da|dos|"
    r"das)\s+)?[A-ZÁÉÍÓÚŁŚŻ0-9][\w'\u2019\-]{1,30}"
    r"(?:\s+(?:[A-ZÁÉÍÓÚŁŚŻ][\w'\u2019\-.]{1,30}|de|del|da|do|di|dos|das)){0,4},?\s+"
    r"(?:n\.?\s?[ºo°]\.?\s?|n\.?\s?|no\.?\s?|#\s?)?\d{1,5}[a-zA-Z]?(?:/\d{1,4})?\b",
    # Unit 7, Riverside Industrial Estate / Flat 12, 4th Cross, MG Road
    rf"\b(?:Unit|Flat|Apt\.?|Apartment|Suite|House|Plot|Door)\s+(?:No\.?\s*)?\d{{1,5}}[A-Z]?,"
    rf"[ \w.'-]{{3,60}}?\b(?:{_STREET_EN}|Cross|Main|Nagar|Marg|Layout|Colony|Park)\b",
    # 1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001
    r"\b\d{1,4}(?:-\d{1,4}){1,3},?\s+[A-Z][a-z]+(?:[\s-][A-Z]?[a-z]+)?(?:,\s*[A-Z][a-z]+-(?:ku|shi|"
    r"ken|cho|machi|gun))+(?:,\s*[A-Z][a-z]+)?",
    # 〒150-0001 東京都渋谷区神宮前1-2-3 サニーハイツ201号室 / 大阪市北区梅田3丁目1番1号
    r"(?:〒\s?\d{3}-?\d{4}\s*)?(?:東京都|北海道|(?:京都|大阪)府|[\u4e00-\u9fff]{2,3}県)?"
    r"[\u4e00-\u9fff\u30a0-\u30ffヶ々]{1,8}[市区町村郡][\u4e00-\u9fff\u30a0-\u30ffヶ々]{0,10}"
    r"(?:\d{1,4}|[一二三四五六七八九十]{1,3})(?:丁目|丁|番地?|号|-\d{1,4})"
    r"(?:(?:\d{1,4}|[一二三四五六七八九十]{1,3})(?:丁目|丁|番地?|号|-\d{1,4})|-\d{1,4}){0,3}"
    r"(?:[\s\u3000]*[\u30a0-\u30ff\u4e00-\u9fffA-Za-z]{1,15}\s?\d{1,4}(?:号室?|室)?)?",
    # 京都市中京区河原町通三条上る恵比須町427: a town block with its number, past a ward
    r"[市区郡][\u3040-\u30ff\u4e00-\u9fffヶ々]{1,24}?[町村]\d{1,4}(?:-\d{1,4}){0,2}",
    # 番地は三の七の十二: the block number said in numerals
    r"番地\s*(?:は|:|\uff1a)?\s*[〇一二三四五六七八九十\d]{1,3}(?:[のー\-][〇一二三四五六七八九十\d]{1,3}){1,3}",
    # 北京市朝阳区建国路88号 / 上海市静安区南京西路1266号恒隆广场
    r"[\u4e00-\u9fff]{2,15}(?:路|街|道|大道|胡同)(?:[一二三四五六七八九十]{1,3}段)?"
    r"(?:\d{1,5}\s?(?:弄|巷|号|號|樓|楼|室|栋|棟|单元|單元|F|f)){1,5}",
    # 서울특별시 강남구 테헤란로 123 / 부산 해운대구 우동 1234-5
    r"(?:[가-힣]{1,10}(?:특별시|광역시|시|도)\s?)?[가-힣]{1,10}(?:구|군)\s[가-힣0-9]{1,15}"
    r"(?:로|길|동|읍|면)\s?\d{1,5}(?:-\d{1,5})?(?:\s?\d{1,5}\s?호)?",
    # Caferağa Mah. Moda Cad. No:48 D:7
    r"[A-ZÇĞİÖŞÜ][\wçğ\u0131öşü]+\s+(?:Mah\.|Mahallesi|Cad\.|Caddesi|Sok\.|Sokak|Sokağ\u0131|Sk\.|"
    r"Bulvar\u0131|Blv\.)(?:\s+[A-ZÇĞİÖŞÜ][\wçğ\u0131öşü]+\s+(?:Cad\.|Caddesi|Sok\.|Sokak|Sk\.))?"
    r"(?:\s*No\s?:?\s?\d{1,4}(?:/\d{1,3})?)?(?:\s*(?:D|Daire)\s?:?\s?\d{1,3})?",
    # Post boxes and pick-up stations, with their town
    r"(?i:\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|postbus|boîte postale|b\.p\.|"
    r"apartado de correos|apartado postal|casella postale|skrytka pocztowa|packstation|"
    r"postfiliale|postnummer|case postale|c\.p\.|caixa postal))\s*\d(?:[\d ]{0,10}\d)?",
    # Nordic post boxes: "Box 2217, 103 15 Stockholm"
    r"\bBox\s+\d{1,6}(?=,?\s*\d{3}\s?\d{2}\s)",
    _NUMBERED_STREET,
    # Street words of more scripts and languages, before the street's name (folded as the
    # view shows Cyrillic and Greek): "ул. Большая Конюшенная, д. 19, кв. 42", "вул. Хрещатик,
    # 15", "Οδός Ερμού 86", "Str. Mihai Eminescu nr. 42, bl. B3", "Jl. Kemang Raya No. 27B"
    folded(r"(?<![\w.])(?i:ул\.|улица|улице|вул\.|вулиця|вулиці|просп\.|проспект\w*|бульвар\w*|"
           r"бул\.|наб\.|набережн\w*|шоссе|провулок|переулок|пер\.|мкр\.|микрорайон\w*|"
           r"οδός|οδ\.|λεωφόρος|λεωφ\.|πλατεία|"
           r"str\.|strada|bd\.|bdul\.?|bulevardul|calea|șos\.|şos\.|șoseaua|şoseaua|aleea|"
           r"splaiul|intrarea|jl\.|jln\.?|jalan|gg\.|gang|lorong|lrg\.|"
           r"ulica|ul\.|улица|ул\.|бул\.|булевар|خیابان|کوچه|گلی)"
           r"\s*[^\W\d_][\w'\u2019.\-]{1,30}(?:\s+[^\W\d_][\w'\u2019.\-]{0,30}){0,3},?\s*"
           r"(?:(?i:д|дом|буд|будинок|nr|no|nomor|numărul|n|№|\u0431\u0440|br|پلاک|مکان)\.?\s*)?"
           r"\d{1,4}[^\W\d_]?"
           r"(?:/\d{1,4})?(?:,?\s*(?i:кв|квартира|корп|под|эт|bl|sc|et|ap|rt|rw|διαμ|όροφος|"
           r"\d{1,2}ος\s+όροφος)\.?\s*[\w/]{0,6}){0,5}"),
    # Hungarian: the street word after the name ("Pozsonyi út 38. 2. em. 5.", "Váci út 76")
    r"(?<![\w\-])[A-ZÁÉÍÓÖŐÚÜŰ][\wáéíóöőúüű.\-]{1,30}(?:\s+[A-ZÁÉÍÓÖŐÚÜŰ][\wáéíóöőúüű\-]{1,30})"
    r"{0,2}\s+(?:utca|u\.|út|útja|tér|tere|körút|krt\.|sugárút|köz|sor|fasor|rakpart|"
    r"lakótelep|ltp\.)\s+\d{1,4}(?:/[A-Za-z0-9]{1,3})?\.?"
    r"(?:,?\s*\d{1,2}\.\s*(?:em|emelet|ajtó)\.?(?:\s*\d{1,3}\.?)?){0,2}",
    # Baltic, Estonian and South Slavic: the street word after the name ("Vilniaus g. 12",
    # "Brīvības iela 45", "Pärnu mnt 7", "Gedimino pr. 9", "Trubarjeva cesta 18")
    r"(?<![\w\-])[A-ZĀČĆĒĢĪĶĻŅŠŪŽĄĘĖĮŲÕÄÖÜĐ][\wāčćēģīķļņšūžąęėįųõäöüđ\-]{1,30}\s+(?:g\.|gatvė|"
    r"pr\.|prospektas|al\.|iela|bulvāris|tänav|mnt\.?|maantee|pst\.?|puiestee|"
    r"cesta|ulica|ulice|trg|nabrežje|obala|put)\s+\d{1,4}"
    r"[A-Za-z]?(?:[-/]\d{1,4})?",
    # Hebrew and Arabic: the street word, its name, its number ("רחוב ביאליק 14, דירה 5",
    # "ברחוב הרצל 102", "شارع الأمير سلطان، مبنى 24، شقة 7", in either kind of digits)
    # ("בדרך כלל", "usually", is no road)
    r"(?:\b|(?<=[\sבלמה\u05d5]))(?:רחוב|רח'|שדרות|שד'|דרך(?!\s*כלל)|סמטת)"
    r"\s*[\u05d0-\u05ea\"'\-]{2,20}"
    r"(?:\s+[\u05d0-\u05ea\"'\-]{1,20}){0,2}\s+\d{1,4}(?:\s*[,،]?\s*(?:דירה|קומה|כניסה|חנות)"
    r"\s*\d{1,3})*",
    # Persian: street, alley, then the plate number ("خیابان ولیعصر، کوچه نسترن، پلاک 12")
    r"(?:خیابان|کوچه|بلوار|میدان)\s+[^\d\n]{2,60}?پلاک\s*\d{1,5}",
    # Egypt: the number before the street word ("14 شارع السبتية")
    r"(?<!\d)\d{1,4}[ \t]+(?:شارع|ش\.)[ \t]*[\u0621-\u064a]{2,20}"
    r"(?:[ \t]+[\u0621-\u064a]{2,20}){0,2}",
    r"(?:شارع|طريق|ش\.)[ \t]+[\u0621-\u064a \t]{2,30}?(?:[،,][ \t]*|[ \t]+)"
    r"(?:(?:مبنى|عمارة|فيلا|بناية|"
    r"منزل|رقم|بيت)\s*)?\d{1,4}(?:\s*[،,]\s*(?:شقة|الطابق|طابق|دور)\s*\d{1,3})*",
    # Thai: house number, soi and road ("บ้านเลขที่ 88/14 ซอยสุขุมวิท 55", "12/3 ถนนพระราม 9")
    r"(?:บ้านเลขที่\s*)?\d{1,4}(?:/\d{1,4})?\s*(?:หมู่(?:ที่)?\s*\d{1,2}\s*)?(?:ซอย|ซ\.|ถนน|ถ\.)"
    r"\s*[\u0e00-\u0e7f]{1,30}(?:\s*\d{1,3})?",
    r"บ้านเลขที่\s*\d{1,4}(?:/\d{1,4})?",
    # Vietnamese: "số 27 ngõ 112 Trần Duy Hưng", "ngõ 5 phố Huế", "123 đường Lê Lợi"
    r"(?i:\b(?:số\s+)?\d{1,4}[a-z]?(?:/\d{1,4})*,?\s+(?:ngõ|ngách|hẻm|kiệt|đường|phố)\s+)"
    r"(?:\d{1,4}(?:/\d{1,4})*\s+)?(?:(?:phố|đường)\s+)?[A-ZĐÂĂÊÔƠƯ\u1ea0-\u1ef9][\w]{0,12}"
    r"(?:\s+[A-ZĐ\u1ea0-\u1ef9][\w]{0,12}){0,4}",
    r"(?i:\b(?:ngõ|ngách|hẻm|kiệt)\s+\d{1,4}(?:/\d{1,4})*\s+(?:(?:phố|đường)\s+)?)"
    r"[A-ZĐ\u1ea0-\u1ef9][\w]{0,12}(?:\s+[A-ZĐ\u1ea0-\u1ef9][\w]{0,12}){0,4}",
    # Hindi: a flat or house number, and a town with its six-digit PIN after a comma
    r"(?:फ्लैट|फ़्लैट|मकान|हाउस|प्लॉट|फ्लैट\s+नं\.?)\s*(?:नं\.?|नंबर|संख्या)?\s*\d{1,5}[A-Z]?"
    r"(?:,[^\n,]{2,40}){0,4}",
    r",\s*[\u0900-\u097f]{2,20}\s+[1-9]\d{2}\s?\d{3}(?!\d)",
    # India's planned towns: a plot or house in a numbered sector ("B-42 Sector 18", "H.No.
    # 1127, Sector 15", "Plot 7, Sec-62")
    r"(?<![\w\-])(?:(?i:h\.?\s?no\.?|house\s+no\.?|plot(?:\s+no\.?)?|flat(?:\s+no\.?)?)\s*"
    r"(?:[A-Z]{1,2}-?)?\d{1,4}[A-Z]?,?|[A-Z]{1,2}-\d{1,4}[A-Z]?,?|\d{1,4}[A-Z]?,)"
    r"\s+(?i:sector|sec\.?)[\s\-]?\d{1,3}[A-Z]?\b",
    # Tamil (Sri Lanka, Tamil Nadu): the number, the name, the street word ("45/2 காலி வீதி")
    r"(?<![\d/])\d{1,4}(?:/\d{1,3})?[A-Za-z]?,?\s+(?:[\u0b80-\u0bff]+\s+){1,3}"
    r"(?:வீதி|தெரு|சாலை|ரோடு)",
    # West Africa: a numbered street at its crossing ("Rue 10 x Blaise Diagne")
    r"\b(?:Rue|Avenue|Av\.|Route)\s+\d{1,3}\s+(?:x|X|angle)\s+(?:Rue\s+|Avenue\s+)?"
    r"[A-Z0-9][\w\-']{0,20}(?:\s+[A-Z][\w\-']{1,20}){0,2}",
    # Colombia: a numbered street, "#", the crossing street's number and the house's
    # ("Carrera 15 # 93-47", "Cl. 72 Bis No. 10-34")
    r"\b(?i:carrera|cra\.?|kr\.?|calle|cl\.?|cll\.?|avenida|av\.?|transversal|tv\.?|"
    r"diagonal|dg\.?)\s*\d{1,3}\s?[A-Z]?(?:\s?(?i:bis))?\s*(?:#|(?i:no)\.?|N[°º])\s*\d{1,3}"
    r"\s?[A-Z]?\s*-\s*\d{1,3}",
)
# Street and number, then postcode and town, in any script: "Vinohradská 1511/230, 100 00
# Praha 10", "Ερμού 56, 105 63 Αθήνα"
_STREET_POSTCODE = re.compile(
    r"(?<![\w\-])(?P<street>[^\W\d_][\w'.\-]{2,40}(?:\s[^\W\d_][\w'.\-]{1,30}){0,3})"
    r"\s(?:n[º°o]\.?\s?|č\.\s?)?\d{1,5}(?:[/\-]\d{1,4})?[a-zA-Z]?,\s+(?:[A-Z]{1,2}-)?"
    r"(?:\d{3}\s?\d{2}|\d{5}|\d{4}|\d{2}-\d{3}|\d{4}-\d{3})\s+(?P<town>[^\W\d_][\w'.\-]{1,30}"
    r"(?:\s(?:\d{1,2}\b|[^\W\d_][\w'.\-]{1,30}))?)")
# An announced postcode alone: "Mijn postcode is 3581 KP"
_POSTCODE_SAID = Gated(re.compile(
    r"(?i:\b(?:postcode|post\s?code|postal\s+code|zip(?:\s?code)?|code\s+postal|"
    r"c[óo]digo\s+postal|codice\s+postale|cap|plz|postleitzahl|postnummer|postnr|"
    r"kod\s+pocztowy|posta\s+kodu|psč|ταχυδρομικός\s+κώδικας|τ\.κ\.|邮编|郵便番号|우편번호|郵遞區號)"
    r"(?:\s+(?:is|ist|est|es|è|é|är|er|jest|to|lautet|c'est|mi|mein|mijn))*\s*[:=]?\s*)"
    r"(?P<code>\d{2,5}(?:[\s\-]?(?:\d{2,4}|[A-Z]{2}))?\b)"))
# A street and number without a street word, told as one by the floor or flat after it
# ("Ferhadija 12, treći sprat, stan 7", "Tähe 44-7, 2. korrus", "Ilica 5, 3. kat, stan 12"):
# the flat word with its number is what only an address has.
_FLAT_WORDS = folded(
    r"stan|sprat|kat|etaža|spr\.|apt|apartment|flat|app|appartement|étage|piso|dpto|depto|"
    r"andar|apto|wohnung|whg|stock|lgh|lägenhet|leilighet|lejlighed|asunto|as\.|huoneisto|"
    r"korrus|korter|dzīvoklis|dz\.|butas|mieszkanie|m\.|lok|byt|lakás|ajtó|emelet|em\.|"
    r"apartament|ap\.|daire|kv|кв|квартира|стан|спрат|кат|апартамент|ап\.|етаж|"
    r"διαμέρισμα|όροφος|banesa|kati|hyrja|fflat|lawr|árasán|íbúð|hæð|pisu|bloc|bl\.|scara")
_STREET_FLAT = Gated(re.compile(
    r"(?<![\w\-])[^\W\d_a-z\u00df-\u00ff\u0430-\u044f][^\W\d_]{2,30}"
    r"(?:\s[^\W\d_]{2,30}){0,2}\s\d{1,4}[a-zA-Z]?(?:[/\-]\d{1,4})?"
    r"(?:,\s*(?:[^\W\d_]{2,12}\s+)?(?i:" + _FLAT_WORDS + r")\.?(?:\s?\d{1,4}[a-zA-Z]?)?){0,2}"
    r",\s*(?:\d{1,2}\.?\s*)?(?i:" + _FLAT_WORDS + r")\.?\s?\d{1,4}[a-zA-Z]?(?![\w\-])"))
# A postcode only an address line has, with its house number instead of a town ("3511 LK,
# huisnummer 22-bis", "4000-447, n.º 12").
_CODE_NUMBER = re.compile(
    r"\d(?<![\w\-]\d)(?:\d{3}\s?[A-Z]{2}|\d{3}-\d{3}|\d-\d{3})(?![\w\-])[\s,]+"
    r"(?i:huisnummer|huisnr\.?|nummer|nr\.?|n\.?\s?º|número|numer|no\.?)\s*\d{1,5}"
    r"(?:[\-\s]?(?:bis|[a-zA-Z]\b|\d{1,3}))?")
# A street and number right after a word for the address or where to deliver
# ("Kohaletoimetamine: Tähe 44-7, Tartu", "Adresa: Ilica 5, Zagreb"): told as an address.
_ADDRESS_LABEL = Gated(re.compile(
    r"(?i:address|adresse|adres|adresa|adresă|adressa|anschrift|lieferadresse|dirección|"
    r"direccion|endereço|indirizzo|aadress|kohaletoimetamine|tarneaadress|osoite|"
    r"toimitusosoite|leveringsadresse|leveransadress|adresas|adrese|cím|szállítási\s+cím|"
    r"deliver\s+to|ship\s+to|delivery\s+address|shipping\s+address|teslimat\s+adresi|"
    r"alamat|enderezo|helbidea|cyfeiriad|seoladh|heimilisfang|indirizz|"
    + folded(r"адрес|адреса|адреса\s+доставки|διεύθυνση") + r")\s*:\s*"
    r"(?P<street>[^\W\d_a-z\u00df-\u00ff\u0430-\u044f][^\W\d_]{1,30}(?:\s[^\W\d_]{1,30}){0,3}"
    r"\s\d{1,5}[a-zA-Z]?(?:[/\-]\d{1,4})?,\s*[^\W\d_a-z\u00df-\u00ff\u0430-\u044f][^\W\d_]{1,30})"))
# One pattern per form: in one alternation the first form to match would hide a longer one.
_STREET = tuple(Gated(re.compile(rf"(?:{form}){_TAIL}")) for form in _STREETS)
# Forms written in CJK or Hangul: only tried on text that has such letters.
_CJK_FORMS = frozenset(i for i, form in enumerate(_STREETS) if re.search(r"[\u3000-\ud7a3]",
                                                                          form))
# Cheap tests before the costly patterns: each form can only match where one of its words
# stands (lower case, looked up in the lowered text; None: always tried).
_FORM_NEEDS: tuple[tuple[str, ...] | None, ...] = (
    None,
    ("street", "avenue", "boulevard", "terrace", "crescent"),
    None,
    ("straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer",
     "chaussee", "steig", "pfad", "markt", "straat", "laan", "plein", "gracht", "kade", "singel",
     "dijk", "steeg", "hof", "gatan", "vägen", "gränd", "torget", "stigen", "backen", "allén",
     "leden", "gata", "väg", "vej", "gade", "veien", "vegen", "gaten", "gate", "vei", "tie",
     "katu"),
    ("straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer",
     "chaussee"),
    ("am ", "an der", "im ", "in der", "auf der", "zum ", "zur ", "unter den"),
    ("rue", "av", "boul", "bd", "place", "ch.", "chemin", "allée", "allee", "rang", "montée",
     "côte", "impasse", "quai",
     "route", "cours", "passage", "square", "faubourg"),
    ("laan", "weg", "plein", "kade", "dijk", "singel", "straat"),
    ("calle", "c/", "av", "plaza", "paseo", "carrer", "camino", "carretera", "calz", "privada",
     "cerrada", "callej", "boulevard", "blvd", "ronda", "traves", "via", "piazza", "corso",
     "largo", "vicolo", "strada", "rua", "r.", "travessa", "praça", "estrada", "alameda", "ul.",
     "ulica",
     "al.", "aleja", "os.", "osiedle", "plac", "pl."),
    ("unit", "flat", "apt", "apartment", "suite", "house", "plot", "door"),
    ("-ku", "-shi", "-ken", "-cho", "-machi", "-gun"),
    None, None, None, None, None,
    ("mah", "cad", "sok", "sk.", "bulvar", "blv"),
    ("box", "post", "boîte", "b.p.", "apartado", "casella", "skrytka", "packstation", "c.p.",
     "caixa"),
    ("box",),
    ("avenue", "rue", "rang", "street", "avenida", "calle", "strasse", "straße"),
    tuple(folded(w) for w in ("ул.", "улиц", "вул.", "вулиц", "просп", "бульвар", "бул.", "наб",
                              "шоссе", "провулок", "переулок", "пер.", "мкр", "микрорайон",
                              "οδός", "οδ.", "λεωφ", "πλατεία", "str.", "strada", "bd.",
                              "bdul", "bulevardul", "calea", "șos", "şos", "aleea", "splaiul",
                              "intrarea", "jl.", "jln", "jalan", "gg.", "gang", "lorong",
                              "lrg.", "ulica", "ul.", "улица", "бул.", "булевар", "خیابان",
                              "کوچه", "گلی")),
    ("utca", "u.", "út", "tér", "tere", "körút", "krt.", "sugárút", "köz", "sor", "fasor",
     "rakpart", "lakótelep", "ltp."),
    ("g.", "gatvė", "pr.", "prospektas", "al.", "iela", "bulvāris", "tänav", "mnt", "maantee",
     "pst", "puiestee", "cesta", "ulica", "ulice", "trg", "nabrežje", "obala", "put"),
    ("רחוב", "רח'", "שדרות", "שד'", "דרך", "סמטת"),
    ("پلاک",),
    ("شارع", "ش."),
    ("شارع", "طريق", "ش."),
    ("ซอย", "ซ.", "ถนน", "ถ.", "บ้านเลขที่"),
    ("บ้านเลขที่",),
    ("ngõ", "ngách", "hẻm", "kiệt", "đường", "phố"),
    ("ngõ", "ngách", "hẻm", "kiệt"),
    ("फ्लैट", "फ़्लैट", "मकान", "हाउस", "प्लॉट"),
    (",",),
    ("sector", "sec", "sec."),
    ("வீதி", "தெரு", "சாலை", "ரோடு"),
    ("rue", "avenue", "av.", "route"),
    ("carrera", "cra", "kr", "calle", "cl", "avenida", "av", "transversal", "tv", "diagonal",
     "dg"),
)
_SAID_NEEDS = ("post", "zip", "code", "cap", "plz", "psč", "τ.κ", "ταχυδρομ", "kod", "codice",
               "邮编", "郵便番号", "우편번호", "郵遞區號",
               "código", "codigo")
_COMMA_CODE = re.compile(r",\s+(?:[A-Z]{1,2}-)?\d{2}")  # not "24,99"
# A postcode that comes near to naming a building, alone: a UK one (about fifteen
# addresses), a Canadian one with its province. (A US state and ZIP, an Australian territory
# and postcode name a town's part, as "80331 München" does, and stay alone.) Each form's
# words, each a word of its own in the text: a UK inward code ("1AA"); a province and its
# code ("K1A 0B1", "K1A0B1").
_ALONE = Gated(re.compile(rf"{_UK_POSTCODE}|{_CA_POSTCODE}"),
               Words(re.compile(r" \d[A-Z]{2} ")),
               (WordIn("AB BC MB NB NL NS NT NU ON PE QC SK YT"),
                Words(re.compile(r" [A-Z]\d[A-Z](?:\d[A-Z]\d)? "))))
# An Irish Eircode names one building ("V35 X2Y4", "D02 AF30"): its routing key, a space (run
# together, "X1504VA" is a laptop's model), then four letters and digits, both kinds there.
# A GhanaPost GPS code ("GA-184-2291") names a few metres; its shape is an order number's
# too, so only after its name.
# (Each pattern here starts with a class of characters, its look-behind after: the engine
# then skips ahead to where one stands instead of trying every position.)
_EIRCODE = re.compile(r"[ACDEFHKNPRTVWXY](?<![\w\-][ACDEFHKNPRTVWXY])(?:\d{2}|(?<=D)6W) "
                      r"(?=[0-9ACDEFHKNPRTV-Y]{0,3}[ACDEFHKNPRTV-Y])(?=[0-9ACDEFHKNPRTV-Y]{0,3}\d)"
                      r"[0-9ACDEFHKNPRTV-Y]{4}(?![\w\-])")
_GHANA_GPS = re.compile(r"(?i:ghana\s?post(?:\s+gps)?|gps\s+(?:address|code)|digital\s+address)"
                        r"(?:\s+(?:is|code|address))?\s*[:\-,]?\s*(?P<code>[A-Z]{2}-?\d{3,4}-?\d{3,4})\b")

_GHANA_NAMED = re.compile(r"(?i)ghana\s?post|\bgps\s+(?:address|code)|digital\s+address")
_GHANA_CODE = re.compile(r"(?<![\w\-])[A-Z]{2}-\d{3,4}-\d{4}(?![\w\-])")

_CARRIERS = re.compile(r"\b(?:Royal Mail|DHL|UPS|FedEx|USPS|DPD|GLS|Hermes|Evri)\b")


_DIGIT = re.compile(r"\d")

class _CodeBeforeTown:
    """A hint: a digit or capital, spaces or commas, and a town's first two letters (a
    postcode's end before its town), looked for from where a town can start: far fewer
    places than digits and capitals."""

    _TOWN = re.compile(r"[ ,](?=[A-ZÄÖÜÅÉÁÍÓÚŁŚŻ][a-zäöüåéèáíóúłśżąćęńź])")

    def search(self, text: str) -> bool:
        for m in self._TOWN.finditer(text):
            at = m.start()
            while at and text[at - 1] in " ,":
                at -= 1
            if at and (text[at - 1].isdecimal() or "A" <= text[at - 1] <= "Z"):
                return True
        return False


# -- what follows a street: floor or flat, then postcode and town ---------------------------
_TOWN = (r"[A-ZÄÖÜÅÉÈÁÍÓÚŁŚŻİ][\w'\u2019.\-/]{1,30}"
         r"(?:[ \-](?:[A-ZÄÖÜÅÉÈÁÍÓÚŁŚŻ][\w'\u2019.\-]{1,30}|"
         r"am|an|der|de|la|le|sur|del|di|upon|on)){0,3}(?:\s?\([A-ZÉ][\w\-]{1,20}\))?")
_POSTCODE = (r"(?:(?:C\.?\s?P\.?|CP|PL|NL|D|F|A|CH|S|SE|DK|N|B|L|I|E|P)[\s\-]?)?"
             r"(?:\d{5}(?:-\d{4})?|\d{4}\s?[A-Z]{2}(?![A-Za-z])|\d{4}-\d{3}|\d{2}-\d{3}|"
             r"\d{3}\s\d{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|〒?\s?\d{3}-\d{4}|\d{5}-\d{3}|"
             r"\d{4}(?=\s+[A-Z]))")
_TAIL_CODE = re.compile(
    rf"(?<![\w\-])(?:{_POSTCODE}(?![\w\-])(?:[ ,]+{_TOWN})?|{_UK_POSTCODE}|{_US_ZIP})")
_SENTENCE_END = re.compile(r"[A-Za-zÀ-ÿ]{4,}[.!?]\s+[A-ZÀ-Ý]|[!?]")
# A postcode only an address has, with its town (or one that needs none).
_SIZES = r"XS|XL|XXL|GB|MB|TB|KG|CM|MM|PC|AM|PM|HD|UK|EU|US|OK|LED|USB|CD|DVD"
# Each form starts with what it must start with: a digit, a letter-digit, "C", "〒".
_POSTCODE_LINE = Gated(re.compile(
    rf"(?<![\w\-])(?:\d{{4}}\s?(?!(?:{_SIZES})\b)[A-Z]{{2}}|\d{{4}}-\d{{3}}|\d{{2}}-\d{{3}}|"
    rf"\d{{3}}\s\d{{2}})[ ,]+(?=[A-ZÄÖÜÅÉÁÍÓÚŁŚŻ][a-zäöüåéèáíóúłśżąćęńź])(?:{_TOWN})"
    r"|(?<![\w\-])[A-Z]\d[A-Z]\s?\d[A-Z]\d(?![\w\-])"
    r"|\b(?:C\.P\.|CP|C\.P)\s?\d{5}\b"
    rf"|\bCol\.\s+{_NAME}(?:\s+{_NAME}){{0,3}}"
    r"|〒\s?\d{3}-?\d{4}",
), *(  # what each form holds: a postcode's end (a digit or a capital), spaces or commas and
    # a town's first two letters; a Canadian code ("A1A 1A1", "A1A1A1" as words); "C.P.",
    # "CP", "CEP" and "Col." (their words); 〒
    _CodeBeforeTown(),
    Words(re.compile(r" [A-Z]\d[A-Z](?:\d[A-Z]\d)? ")), Words(re.compile(r" C(?: |P|EP|ol )")),
    re.compile("〒")))
# "04109 Leipzig" alone: only as an address line (after a comma or a line break); "nach
# 80331 München" names where a parcel goes, the town, and reaches no one.
_FIVE_DIGITS_TOWN = Gated(re.compile(
    rf"(?<![\w\-])(?:[DFA]-)?\d{{5}}\s+(?=[A-ZÄÖÜÉÁÍÓÚ][a-zäöüéèáíóúñ]|CDMX)(?:{_TOWN})"),
    # Its words: five digits, and a town's (or "CDMX").
    (Words(re.compile(r" \d{5} ")), Words(re.compile(r" (?:[A-ZÄÖÜÉÁÍÓÚ][a-zäöüéèáíóúñ]|CDMX)"))))
_PLACE_BEFORE = re.compile(r"(?:^|\n|,\s)$")


# -- described in words: a street placed, without its number ---------------------------------
_NUMBER_WORDS = (r"(?:number|no\.|nr\.?|Nr\.?|Hausnummer|Nummer|nummer|huisnummer|numéro|"
                 r"n°|nº|número|numero|numer|husnummer|house\s+number|door\s+number|civico)")
_HOUSE_NUMBER = (rf"{_NUMBER_WORDS}(?:\s+(?:ist|is|es|est|è|é|är|die|the|la|le|el|o|a)){{0,2}}"
                 r"\s?\d{1,4}[a-zA-Z]?")
# "on Elm Road" is a place like "on High Street" near a shop: only next to words about a home.
# A street named as where a post office, a carrier's pickup point or a station stands ("the
# Correos office on calle Alcalá", "il fermopoint della tabaccheria in piazza Dalmazia"): a
# public place, no one's home, unless a home or "my" comes between ("via DPD to my house on
# ..."). Its house number, had it one, is still read by the rules.
PUBLIC_BEFORE = re.compile(
    r"(?i:\b(?:post\s?office|correos|poste|ufficio\s+postale|bureau\s+de\s+poste|postamt|"
    r"postfiliale|postkantoor|posten|pošt\w*|poczt\w*|posta|fermo\s?point|tabaccheria|"
    r"relais|point\s+relais|pickup|pick-up|paketshop|packstation|paketomat\w*|paczkomat\w*|"
    r"locker|punt|punto|postnl|dhl|dpd|gls|ups|hermes|inpost|chronopost|colissimo|"
    r"metro|station|estación|stazione|gare|bahnhof|u-bahn|s-bahn|mall|shopping|supermarket|"
    r"supermercado|supermercato|supermarché|carrefour|esselunga|agência|agencia|filiale|"
    r"depot|dépôt|sucursal)\b(?:(?!\b(?:home|house|my|me|casa|mi|mia|mio|moi|mon|ma|chez|"
    r"mein\w*|mir|thuis|mijn|live|vivo|abito|habite|wohn\w*)\b)[^.!?\n]){0,40}$)")
_DESCRIBED_EN = Gated(re.compile(
    r"\b(?:on|at|in|off|along|down|up|near|onto|into|end\s+of)\s+(?:the\s+)?(?!The\b)"
    rf"(?:{_NAME}\s+){{1,3}}"
    r"(?<!Google )(?<!Hard )(?<!USB )(?<!Flash )(?<!One )"
    r"(?:Street|Road|Lane|Avenue|Close|Crescent|Drive|Terrace|Court|Place|Gardens|Grove|Mews|"
    r"Boulevard|Walk|Square|Row|Way|Hill|View|Rise|Park|Vale|Croft|Meadows?|Fields|End|Green|"
    r"Parade|Villas|Cottages)\b"))
_HOME_WORDS = re.compile(
    r"\b(?:house|home|flat|apartment|door|live|lives|living|number|no\.|building|gate|"
    r"pick\s?(?:it\s)?up|collect|come\s+(?:by|round|over)|drop\s+(?:it\s)?off|porch|garage|"
    r"mailbox|letterbox|opposite|next\s+to|corner|bungalow|cottage|farm|block)\b", re.IGNORECASE)
_DESCRIBED = Gated(re.compile(
    "|".join((
        # in der Gartenstraße, an der Lindenallee, am Mühlenweg
        r"\b(?:in|an|auf)\s+der\s+[A-ZÄÖÜ][\wäöüß\-]{2,40}(?:straße|strasse|gasse|allee|chaussee)\b",
        r"\b(?:[Ii]m|[Aa]m|vom|zum|beim)\s+[A-ZÄÖÜ][\wäöüß\-]{2,40}(?:weg|ring|damm|platz|markt|"
        r"ufer|straße|gasse|allee)\b(?=[^.\n]{0,60}(?:Hausnummer|Nummer|Nr\.|wohne|Haus|Klingel))",
        # rue des Lilas, avenue Victor Hugo, chemin du Moulin
        r"\b(?:rue|avenue|boulevard|chemin|allée|impasse|quai|ruelle|rang|montée)\s+"
        r"(?:de la |de l'|de l\u2019|des |du |de |d'|d\u2019)?[A-ZÉÈÀ][\w'\u2019\-]{2,30}"
        r"(?:[\s\-](?:[A-ZÉÈÀ][\w'\u2019\-]{2,30}|de|du|des|la|le)){0,3}",
        # en la calle Mayor, na Rua Augusta, in via Roma, nella via Garibaldi
        r"\b(?:calle|avenida|paseo|camino|calzada|rua|avenida|travessa|estrada|alameda|viale|"
        r"piazza|corso|vicolo|(?<=in )via|(?<=nella )via|(?<=della )via|(?<=sulla )via|"
        r"(?<=di )via|(?<=in )Via|(?<=di )Via|(?<=della )Via|"
        r"(?<=da )Rua|(?<=na )Rua|(?<=na )Avenida|(?<=la )Calle|(?<=en )Calle)\s+"
        r"(?:(?:de la|de las|de los|del|de|do|da|dos|das|di|della|dei|delle|degli|dello)\s+)?"
        r"[A-ZÁÉÍÓÚ][\w'\u2019\-]{2,30}(?:\s[A-ZÁÉÍÓÚ][\w'\u2019\-]{2,30}){0,3}",
        # in de Kerkstraat, op de Dorpsweg, aan de Prinsengracht
        r"\b(?:in|op|aan|bij|van)\s+(?:de|het)\s+[A-Z][\w\-]{2,40}(?:straat|laan|weg|gracht|plein|"
        r"kade|singel|dijk|steeg|pad|hof|erf|dreef|kant)\b",
        # på Storgatan, vid Kungsvägen
        r"\b(?:på|vid|i)\s+[A-ZÅÄÖ][\wåäö\-]{2,40}(?:gatan|vägen|gränd|torget|stigen|backen)\b",
        # the name on the doorbell: Klingel „Brandt“, citofono Ferrante
        r"\b(?:Klingel|klingeln\s+bei|citofono|campanello|doorbell|bell|interphone|sonnette|"
        r"timbre|campainha|dzwonek|ring\s+på\s+hos|aanbellen\s+bij)\b[\s:,]*(?:bei\s+|hos\s+|"
        r"chez\s+)?[„“\"'«\u201a]?\s?[A-ZÄÖÜÅÉ][\w'\-]{1,30}(?:\s[A-ZÄÖÜÅÉ][\w'\-]{1,30})?",
        # na ulicy Długiej, przy ul. Kwiatowej
        r"\b(?:ulicy|ulica|ul\.|alei|aleja|al\.|osiedlu|osiedle|os\.)\s+"
        r"[A-ZŁŚŻ][\wąćęłńóśźż\-]{2,30}"
        r"(?:\s[A-ZŁŚŻ][\wąćęłńóśźż\-]{2,30}){0,2}",
    )),
))
_NUMBER_NEAR = re.compile(rf"[\s,;:\-]{{0,6}}(?:\w+\s+){{0,3}}?{_HOUSE_NUMBER}")
_NUMBER_BEFORE = re.compile(rf"{_HOUSE_NUMBER}[\s,;:\-]{{0,6}}(?:\w+\s+){{0,3}}?$")
# English street words as words (" place", not "replacement"), the others as parts of one.
_DESCRIBE_STEMS = (
    " street", " road", " lane", " avenue", " close", " crescent", " drive", " terrace",
    " court", " place", " gardens", " grove", " mews", " boulevard", " walk", " square", " row",
    " way", " hill", " view", " rise", " park", " vale", " croft", " meadow", " fields", " end",
    " green", " parade", " villas", " cottages", "klingel", "citofono", "campanello", "doorbell",
    "bell", "interphone",
    "sonnette", "timbre", "campainha", "dzwonek", "ring på", "aanbellen", "straße", "strasse",
    "gasse", "allee", "chaussee", "weg", "ring", "damm", "platz", "markt", "ufer", "rue ",
    "chemin", "allée", "impasse", "quai", "ruelle", "rang ", "montée", "calle", "avenida",
    "paseo", "camino", "calzada", "rua ", "travessa", "estrada", "alameda", "via ", "piazza",
    "corso", "vicolo", "viale", "straat", "laan", "gracht", "plein", "kade", "singel", "dijk",
    "steeg", "pad", "dreef", "gatan", "vägen", "gränd", "torget", "stigen", "backen", "ulic",
    "ul.", "alei", "aleja", "al.", "osiedl", "os.")


def _tail(text: str, end: int) -> int:
    """Where an address that ends at `end` really ends: past a floor or flat and the
    postcode and town after it (on this line or the next), if there are any."""
    window = text[end:end + 80]
    m = _TAIL_CODE.search(window)
    if m is None:
        return end
    gap = window[:m.start()]
    if gap.count("\n") > 2 or "\n\n" in gap or _SENTENCE_END.search(gap):
        return end
    return end + m.end()


# A name on the line right above a street line is the addressee: "Karin Almqvist\nVasagatan 31"
_NAME_LINE = re.compile(r"(?:^|\n)[ \t]*((?:(?:Mr|Mrs|Ms|Dr|Herr|Frau|M\.|Mme|Sr|Sra)\.?\s+)?"
                        r"[A-ZÄÖÜÅÉÁŁŚŻ][\w'\-]+(?:[ \t]+[A-ZÄÖÜÅÉÁŁŚŻ][\w'\-]+){1,2})"
                        r"[ \t\r]*\n[ \t]*$")


def _head(text: str, start: int) -> int:
    m = _NAME_LINE.search(text, max(0, start - 60), start)
    return m.start(1) if m else start


# Words before a number that make it no house number ("Order 12, 10115 Berlin").
_NOT_STREET = re.compile(r"(?i)(?:order|invoice|item|art|size|model|page|room|version|nr|no|"
                         r"bestellung|rechnung|artikel|größe|commande|pedido|ordine|zamówienie)\b")


_GATES = Gates(*_STREET, _POSTCODE_SAID, _DESCRIBED, _DESCRIBED_EN, _STREET_FLAT, _ADDRESS_LABEL)


def _forms(text: str, lowered: str) -> Iterator[Gated]:
    """The street forms that can match the text: its script, what each needs."""
    ascii_only = text.isascii()
    for i, pattern in enumerate(_STREET):
        if ascii_only and i in _CJK_FORMS:
            continue
        needs = _FORM_NEEDS[i]
        if pattern.may_match(text) and (
                needs is None or any(word in lowered for word in needs)):
            yield pattern


# A position given as latitude and longitude: decimal degrees with four or more places
# ("45.4642, 9.1900", "-33.8915 151.2767") or degrees, minutes and seconds
# ("48°51'24"N 2°21'07"E"). Four places are a house's width; no price or size has them twice.
_COORDINATES = re.compile(
    r"(?<![\d.])[-+]?\d{1,2}\.\d{4,8}°?\s?[NSns]?\s*[,;/ ]\s*[-+]?\d{1,3}\.\d{4,8}°?\s?[EWOewo]?"
    r"(?!\d|\.\d)"
    r"|\d{1,2}°\s?\d{1,2}['\u2032]\s?\d{1,2}(?:[.,]\d+)?(?:\"|\u2033|''|\u2032\u2032)\s?[NS]\s*,?\s*"
    r"\d{1,3}°\s?\d{1,2}['\u2032]\s?\d{1,2}(?:[.,]\d+)?(?:\"|\u2033|''|\u2032\u2032)\s?[EWO]")


# A place given as a code: a what3words address, three words after "///"
# ("///stol.lampa.regn"), any script; an Open Location Code ("plus code", "9C3XGV4C+2V"): eight
# of its 20 letters and digits, "+", two or three more.
_PLACE_CODES = re.compile(r"///[^\W\d_]{1,20}\.[^\W\d_]{1,20}\.[^\W\d_]{1,20}"
                         r"|(?<![\w+])[2-9CFGHJMPQRVWX]{8}\+[2-9CFGHJMPQRVWX]{2,3}(?![\w+])")


# The way in to an address: a door or gate code, or the name on the bell or the intercom
# ("Digicode 4B27", "Citofono Rinaldi", "Porten kod 1847", "Zvono: Horvat"). The value goes: a
# code with a digit, or a name with a capital.
_ACCESS_WORDS = (
    r"door\s?code|gate\s?code|entry\s?code|access\s?code|buzzer|door\s?bell|bell|intercom|"
    r"digicode|code\s+(?:de\s+la\s+)?porte|code\s+d'entrée|interphone|sonnette|"
    r"citofono|campanello|codice\s+(?:del\s+)?(?:portone|cancello)|portero|telefonillo|timbre|"
    r"c[óo]digo\s+(?:de[l]?\s+)?(?:la\s+)?(?:puerta|portal|port[ãa]o)|campainha|interfone|"
    r"türcode|haustürcode|klingel(?:schild)?|deurcode|"
    r"portkod|porten\s?kod|dörrkod|porttelefon|ringklocka|dørkode|portkode|ringeklokke|"
    r"ovikoodi|summeri|ovisummeri|uksekood|fonolukk|durų\s+kodas|domofonas|durvju\s+kods|"
    r"domofons?|kod\s+(?:do\s+)?(?:domofonu|bramy|klatki)|dzwonek|kapukód|kapucsengő|csengő|"
    r"kaputelefon|interfon|cod\s+(?:interfon|poartă|poarta)|sonerie|zvonek|zvonček|zvono|zvonec|"
    r"kód\s+(?:od\s+)?(?:vchodu|brány|dveří)|portafon|šifra\s+ulaza|kod\s+ulaza|"
    r"домофон\w*|звон(?:ок|ец)|звънец|дзвінок|код\s+(?:на\s+)?(?:входа|подъезда|під'їзду|домофона)|"
    r"κουδούνι|θυροτηλέφωνο|κωδικός\s+εισόδου|kap\u0131\s+kodu|zil|diyafon|"
    r"bel\s+(?:aan\s+)?bij|aanbellen\s+bij|laiptinės\s+kodas|kods\s+(?:pie\s+)?durvīm|"
    r"код\s+на\s+дверях|код\s+дверей|дамафон\w*|орцны\s+код|кодын\s+дугаар|"
    r"кнопка\s+звонка|zvonku|kód\s+(?:na\s+)?(?:vchod|bráne|bránu)|dørtelefon\w*|"
    r"הקוד\s+בכניסה|קוד\s+(?:ה)?כניסה|קוד\s+(?:ל|ה)בניין|אינטרקום|"
    r"رمز\s+(?:الباب|الدخول|البوابة)|كود\s+(?:الباب|العمارة|الدخول)|الانتركم|انتركم|"
    r"門鐘|门铃|門禁|门禁|비밀번호|현관\s*비번|インターホン|オートロック")
# The rules read the view, where Cyrillic and Greek letters that look Latin are Latin.
_ACCESS_WORDS = folded(_ACCESS_WORDS)
_ACCESS = re.compile(
    rf"(?i:(?<!\w)(?:{_ACCESS_WORDS})(?!\w))[\s:\-\u2013]{{1,3}}"
    r"(?:(?:[^\W\d_]{1,5}\s){0,3}?)"
    r"[«„\"“\u201a\u2018'「]?"
    r"(?P<value>(?=[\w#*]{0,9}\d)[\w#*]{2,10}(?!\w)"
    r"|[^\W\d_a-z\u00df-\u00ff\u0430-\u044f\u03b1-\u03c9][^\W\d_]{1,30}(?![\w\-]))")
_ACCESS_NEEDS = ("code", "bell", "buzz", "intercom", "inter", "sonn", "citofon", "campan",
                 "codice", "porter", "telefonil", "timbre", "digo", "campainha", "klingel",
                 "kod", "klock", "klokke", "koodi", "summeri", "kood", "fonolukk", "kodas",
                 "kods", "domofon", "dzwon", "csengő", "kapukód", "sonerie", "zvon", "kód",
                 "portafon", "šifra", "домофон", "звон", "звън", "дзвін", "код", "κουδούνι",
                 "θυροτηλέφωνο", "κωδικός", "zil", "diyafon", "portkod", "portkode", "bel ",
                 "aanbellen", "дамафон", "дзвер", "durvīm", "dørtelefon", "門鐘", "门铃", "門禁",
                 "门禁", "비밀번호", "비번", "インターホン", "オートロック", "קוד", "אינטרקום",
                 "رمز", "كود", "انتركم")
_ACCESS_NEEDS = tuple(folded(w) for w in _ACCESS_NEEDS)
# An access word right before a quoted name: the name on the bell ("ringeklokke «Haugen»"),
# no title.
ACCESS_BEFORE = re.compile(rf"(?i:(?<!\w)(?:{_ACCESS_WORDS})(?!\w))[\s:\-\u2013]{{0,3}}$")


# -- the way to the door, told right after an address ------------------------------------
# "..., Ikeja, after the filling station, the blue gate opposite Mr Biggs", "Rumah pagar hitam
# depan surau": where a home stands, told by what is next to it, places it as the address
# does; in the rest of the address's sentence or the sentence after, it goes with it.
_WAY_WORDS = folded(
    r"opposite|behind|next\s+door|next\s+to|beside|across\s+from|across\s+the\s+(?:road|street)|"
    r"in\s+front\s+of|near\s+the|nearby|after\s+the|past\s+the|at\s+the\s+(?:corner|end)|"
    r"corner\s+of|turn\s+(?:left|right|in)|gate|entrance|facing|driveway|letterbox|mailbox|"
    r"round\s+the\s+back|at\s+the\s+back|side\s+door|front\s+door|back\s+door|doorbell|"
    r"buzzer|intercom|ring\s+the\s+bell|an\s+der\s+tür|klingel\w*|sonne[zr]|sonnette|"
    r"interphone|timbre|citofono|campanello|deurbel|aanbellen|ringeklokke|dørklokke|"
    r"domofon\w*|zvonek|csengő|sonerie|interfon|guard|security|lobby|lift|concierge|reception|"
    r"recepción|recepci[oó]n|portería|portaria|voordeur|langs\s+die|назди|під'їзд\w*|"
    r"подъезд\w*|სადარბაზო\w*|მუტქ|მუტქ\w*|մուտք\w*|경비실|관리실|"
    r"en\s+face|à\s+côté|derrière|près\s+d[eu]|au-dessus|au\s+coin|portail|porte|entrée|"
    r"après\s+l[ae]|devant|frente\s+a|enfrente|al\s+lado|detrás|junto\s+a|cerca\s+de|esquina|"
    r"portón|reja|puerta|entrada|arriba\s+de|encima\s+de|después\s+de|cuadra|edificio|"
    r"em\s+frente|ao\s+lado|"
    r"atrás|perto\s+d[aoe]|portão|porta|depois\s+d[aoe]|di\s+fronte|accanto|dietro|vicino|"
    r"angolo|cancello|portone|ingresso|gegenüber|neben\s+d\w+|hinter\s+d\w+|ecke|hoftor|"
    r"eingang|tegenover|naast\s+de|achter\s+de|hoek|poort|ingang|deur|mittemot|bredvid|bakom|"
    r"grind|ingång|ovanför|overfor|ved\s+siden\s+a[fv]|indgang|inngang|vastapäätä|vieressä|"
    r"takana|portti|vastas|kõrval|värav|pretī|blakus|vārti|priešais|šalia|vartai|naprzeciwko|"
    r"obok|brama|wejście|naproti|oproti|vedle|vedľa|brána|vchod|szemben|mellett|mögött|kapu|"
    r"bejárat|vizavi|lângă|în\s+spatele|poarta|poartă|intrare|iznad|ispod|pored|preko\s+puta|"
    r"nasuprot|pokraj|kapija|ulaz|nasproti|zraven|përballë|pranë|afër|hyrja|karş\u0131s\u0131\w*|"
    r"arkas\u0131\w*|kap\u0131s\u0131\w*|απέναντι|δίπλα|πίσω\s+από|είσοδος|πόρτα|"
    r"напротив|рядом|возле|около|подъезд|ворота|навпроти|поруч|біля|вхід|брама|срещу|спроти|"
    r"покрај|влез|капија|зградата|улаз|преко\s+пута|поред|вход|"
    r"ar\s+ôl|gyferbyn|ger\s+y|wrth\s+ymyl|tu\s+ôl|giât|gât|drws|ar\s+bwys|os\s+comhair|"
    r"in\s+aice|taobh\s+thiar|geata|á\s+móti|við\s+hliðina|bak\s+við|faċċata|ħdejn|bieb|"
    r"aurrean|ondoan|atzean|parean|davant|al\s+costat|darrere|a\s+prop|diante|ao\s+carón|"
    r"depan|belakang|sebelah|dekat|seberang|samping|pagar|pintu|selepas|berhadapan|"
    r"bertentangan|tapat\s+ng|katabi|likod\s+ng|malapit|karibu\s+na|mbele\s+ya|nyuma\s+ya|"
    r"mkabala|geti|lango|eduze|ngemuva|phambi|maqondana|esangweni|isango|oorkant|agter\s+die|"
    r"naby|hek|agagaarka|ka\s+soo\s+horjeeda|gadaasha|u\s+dhow|albaabka|legbe|iwaju|kusa\s+da|"
    r"gaban|ƙofar|kofar|n'akụkụ|n'ihu|አጠገብ|ፊት\s+ለፊት|ጀርባ|مقابل|بجانب|بجوار|خلف|قرب|أمام|"
    r"مدخل|بوابة|روبروی|کنار|پشت|نزدیک|جلوی|کے\s+سامنے|کے\s+پیچھے|ליד|מול|מאחורי|כניסה|שער|"
    r"सामने|के\s+पास|पीछे|बगल|समोर|जवळ|پاس|کے\s+ساتھ|دروازہ|پیچھے|সামনে|পাশে|পিছনে|কাছে|எதிரே|எதிரில்|அருகில்|பின்னால்|"
    r"ఎదురుగా|పక్కన|ಎದುರು|ಹತ್ತಿರ|എതിർവശ\w*|അടുത്ത്|સામે|પાસે|પાછળ\w*|ਪਿੱਛੇ|ਕੋਲ|ළඟ|පිටුපස|ਸਾਹਮਣੇ|ਨੇੜੇ|ඉදිරිපිට|අසල|"
    r"მოპირდაპირე|გვერდით|ახლოს|ჭიშკარ\w*|դիմաց|կողքին|մոտ|qarş\u0131s\u0131nda|yan\u0131nda|"
    r"arxas\u0131nda|qarshisida|yonida|orqasida|қарсы|жанында|эсрэг|хажууд|ойролцоо|đối\s+diện|"
    r"cạnh|gần|cổng")
_WAY = re.compile(rf"(?i:(?<!\w)(?:{_WAY_WORDS})(?!\w))"
                  # Scripts written without spaces: as they stand.
                  r"|对面|對面|旁边|旁邊|后面|後面|附近|门口|門口|隔壁|向かい|隣|裏手|近く|맞은편|옆|"
                  r"근처|ตรงข้าม|ข้างๆ|ใกล้|ประตู|ဘေး|ရှေ့|ទល់មុខ|ក្បែរ|ກົງກັນຂ້າມ|ໃກ້")
_CLAUSE_END = re.compile(r"[.!?\u3002\uff01\uff1f\u0964](?=\s|$)|\n")


def way_after(text: str, end: int) -> int:
    """Where an address that ends at `end` ends with the way to its door: the rest of its
    sentence if that tells the way, else (past a short rest: a town, a postcode) the next
    sentence if that does; each no longer than such a description is."""
    stop = _CLAUSE_END.search(text, end)
    rest_end = stop.start() if stop else len(text)
    if rest_end - end <= 160 and _WAY.search(text, end, rest_end):
        return rest_end
    if stop is None or rest_end - end > 60:
        return end
    after = _CLAUSE_END.search(text, stop.end())
    next_end = after.start() if after else len(text)
    if next_end - stop.end() <= 160 and _WAY.search(text, stop.end(), next_end):
        return next_end
    return end


class AddressRule:
    code = "contact.address"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        ends: dict[int, int] = {}  # each end once: a form's and a postcode's often agree
        for start, end in self._found(text):
            if end not in ends:
                ends[end] = way_after(text, end)
            yield start, ends[end]

    def _found(self, text: str) -> Iterator[tuple[int, int]]:
        _GATES.ask(text)
        if _DIGIT.search(text):  # every numbered form has a house number or a postcode
            lowered = text.lower()
            for pattern in _forms(text, lowered):
                for m in pattern.finditer(text):
                    if not _CARRIERS.search(m.group(0)):  # "Via Royal Mail 2 days"
                        yield _head(text, m.start()), _tail(text, m.end())
            for m in _ALONE.finditer(text):
                yield m.start(), m.end()
            for m in _EIRCODE.finditer(text):
                yield m.start(), m.end()
            if "gps" in lowered or "ghana" in lowered or "digital" in lowered:
                for m in _GHANA_GPS.finditer(text):
                    yield m.start("code"), m.end("code")
                # The code's own shape, further on in a text that names the system.
                for m in _GHANA_CODE.finditer(text) if _GHANA_NAMED.search(text) else ():
                    yield m.span()
            if "," in text:
                for m in _STREET_FLAT.finditer(text) if _STREET_FLAT.may_match(text) else ():
                    if not _NOT_STREET.match(m.group(0)):
                        yield m.start(), _tail(text, m.end())
                for m in _CODE_NUMBER.finditer(text):
                    yield m.start(), m.end()
                if ":" in text and _ADDRESS_LABEL.may_match(text):
                    for m in _ADDRESS_LABEL.finditer(text):
                        yield m.start("street"), _tail(text, m.end("street"))
            for m in _POSTCODE_LINE.finditer(text):
                yield m.start(), m.end()
            for m in _STREET_POSTCODE.finditer(text) if _COMMA_CODE.search(text) else ():
                if m.group("street")[0].isupper() and m.group("town")[0].isupper() \
                        and not _NOT_STREET.match(m.group("street")):
                    yield m.start(), m.end()
            for m in _POSTCODE_SAID.finditer(text) if _POSTCODE_SAID.may_match(text) and any(
                    word in lowered for word in _SAID_NEEDS) else ():
                yield m.start("code"), m.end("code")
            for m in _FIVE_DIGITS_TOWN.finditer(text):
                if _PLACE_BEFORE.search(text, max(0, m.start() - 6), m.start()):
                    yield m.start(), m.end()
        lowered_all = text.lower()
        if any(word in lowered_all for word in _ACCESS_NEEDS):
            for m in _ACCESS.finditer(text):
                yield m.start("value"), m.end("value")
        if "." in text:  # a position in degrees
            for m in _COORDINATES.finditer(text):
                yield m.start(), m.end()
        if "///" in text or "+" in text:  # a place code (a plus code needs no ".")
            for m in _PLACE_CODES.finditer(text):
                yield m.start(), m.end()
        lowered = text.lower()
        if (_DESCRIBED.may_match(text) or _DESCRIBED_EN.may_match(text)) and any(
                stem in lowered for stem in _DESCRIBE_STEMS):
            described = list(_DESCRIBED.finditer(text))
            described += [m for m in _DESCRIBED_EN.finditer(text) if _HOME_WORDS.search(
                text, max(0, m.start() - 80), m.end() + 80)]
            for m in described:
                if _CARRIERS.search(m.group(0)) or PUBLIC_BEFORE.search(
                        text, max(0, m.start() - 50), m.start()):
                    continue
                start, end = m.start(), _tail(text, m.end())
                after = _NUMBER_NEAR.match(text, end)
                if after:
                    end = after.end()
                before = _NUMBER_BEFORE.search(text[max(0, start - 50):start])
                if before:
                    start = max(0, start - 50) + before.start()
                yield start, end
