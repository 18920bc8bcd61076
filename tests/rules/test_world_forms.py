# ruff: noqa: RUF001  (Cyrillic and Greek text in the cases)
"""Forms of more languages and scripts (issue 14, after the third blind set): carriers'
tracking links and shipment numbers kept, addresses and number words removed. Written for
these rules, not taken from any blind set."""

from __future__ import annotations

import pytest

from relay.config import RulesSettings
from relay.rules.text import TextRules
from tools.policy_report import squash

RULES = TextRules(RulesSettings(), "relay.test")


def left(text: str) -> str:
    return squash(RULES.redact(text)[0])


def assert_removed(text: str, secret: str) -> None:
    new, findings = RULES.redact(text)
    assert findings, new
    assert squash(secret) not in squash(new), new


ORDINARY = [
    # Carriers' tracking links on hosts of every region, and their numbers in the text
    "Відправлення 59001234567890 вже у відділенні: https://novaposhta.ua/tracking/?cargo_number=59001234567890",
    "พัสดุของคุณ TH0123456789A https://track.thailandpost.co.th/?trackNumber=EF582716345TH",
    "Seuranta: https://www.posti.fi/fi/seuranta#/lahetys/JJFI65432100012345678",
    "Mã vận đơn 84512376590 — https://donhang.ghn.vn/?order_code=84512376590",
    "Η αποστολή σας 8304512267 παραδόθηκε. ACS Courier",
    "Ваше отправление 80082345678901 прибыло в пункт выдачи.",
    "A küldemény száma 12345678901, a csomag holnap érkezik.",
    "Zásilka 2045123987 byla doručena.",
    "Nomor resi JNE 0112345678901234, paket sudah dikirim.",
    "Coletul cu AWB 2345678901 a fost predat curierului FAN Courier.",
    "Lähetystunnus 1234567890123 on nyt noudettavissa.",
    "Forsendelsen 70712345678 er på vej med PostNord.",
    "Purolator 412345678901 — livré demain.",
    "Estafeta 7012345678 sale hoy.",
    "Ο κωδικός αποστολής είναι 4412098765.",
    "המשלוח שלך 7289013456 יצא לדרך.",
    "رقم الشحنة 33412098765 وصلت الشحنة.",
    "आपका पार्सल 98765432101 भेज दिया गया है।",
    "Sorry for the delay: the parcel left with ELTA 1234509876 today.",
    "Gyári szám: 4432 1098 7654, a garancia érvényes.",
    # A number that also stands in the allowed link is its tracking number
    "Tracking: 5544332211 (https://www.dhl.com/track?tracking-id=5544332211)",
]
CONTACTS = [
    # Query values on newly allowed carriers' hosts are still read
    ("https://www.jne.co.id/tracking?awb=123&hp=0813%2D5566%2D7788", "081355667788"),
    ("https://www.elta.gr/track?n=RR123&k=%36%39%34%35%31%32%33%34%35%36", "6945123456"),
    ("https://tracking.ghn.vn/?code=A1&sdt=0912345678", "0912345678"),
    # Calling in the clause: the shipment word does not keep a phone number
    ("Позвоните мне до отправления: 8 916 555 12 34", "89165551234"),
    ("התקשר אליי לגבי המשלוח: 052-8765432", "0528765432"),
    # Addresses in more scripts
    ("Заберите сами: ул. Садовая, д. 7, кв. 15, Москва", "Садовая"),
    ("Адреса: вул. Шевченка, 22, кв. 3, Львів", "Шевченка"),
    ("Στείλτε το: Οδός Πανεπιστημίου 40, Αθήνα", "Πανεπιστημίου 40"),
    ("Vino la Str. Avram Iancu nr. 9, ap. 4, Cluj", "Avram Iancu"),
    ("Ambil di Jl. Gatot Subroto No. 12, Bandung", "Gatot Subroto"),
    ("Gyere ide: Budapest, Andrássy út 61. 3. em. 2.", "Andrássy út 61"),
    ("תבוא לרחוב דיזנגוף 120, תל אביב", "דיזנגוף 120"),
    ("العنوان: شارع التحلية، مبنى 15، الرياض", "التحلية"),
    ("ที่อยู่ 45/2 ซอยลาดพร้าว 101 กรุงเทพ", "ลาดพร้าว"),
    ("Địa chỉ: số 15 ngõ 40 Tạ Quang Bửu, Hai Bà Trưng", "Tạ Quang Bửu"),
    ("मेरा पता: फ्लैट 12, गांधी नगर, जयपुर 302015", "302015"),
    # Number words of more languages
    ("Soita: nolla neljä viisi kuusi seitsemän kahdeksan yhdeksän nolla yksi", "0456789"),
    ("Ring: fire otte seks syv tre fem fire otte", "4867354"),
    ("Hívj: nulla hat harminc egy kettő három négy öt hat", "06301"),
    ("Sună-mă: zero șapte doi doi trei patru cinci șase", "0722"),
    ("Звоните: восемь девять один шесть пять пять пять один два три", "89165"),
    ("תתקשר: אפס חמש שתיים שמונה שבע שש חמש ארבע שלוש", "0528"),
    ("اتصل: صفر خمسة صفر، واحد اثنين ثلاثة، أربعة خمسة ستة سبعة", "050"),
    ("Gọi: không chín không tám bảy sáu năm bốn ba hai", "09087"),
    ("Telepon: nol delapan satu dua tiga empat lima enam tujuh", "08123"),
    ("फोन: नौ आठ सात छह पांच चार तीन दो एक शून्य", "98765"),
]


@pytest.mark.parametrize("text", ORDINARY)
def test_shipment_talk_of_every_region_is_untouched(text):
    assert RULES.redact(text)[0] == text


@pytest.mark.parametrize(("text", "secret"), CONTACTS)
def test_contact_detail_of_more_languages_is_removed(text, secret):
    assert_removed(text, secret)


MORE_CONTACTS = [
    ("Nazovi me: nula devet osam sedam šest pet četiri tri dva", "četiri tri dva"),
    ("Обадете се: нула осем осем седем шест пет четири три", "седем шест пет"),
    ("Skambink: nulis aštuoni šeši septyni penki keturi trys", "penki keturi trys"),
    ("Tawagan mo ako: sero siyam isa pito tatlo dalawa apat lima", "tatlo dalawa apat"),
    ("Piga simu: sifuri saba mbili tatu nne tano sita", "tatu nne tano"),
    ("ফোন: শূন্য এক সাত এক দুই তিন চার পাঁচ", "দুই তিন চার"),
    ("Atvažiuok: Vilniaus g. 12-4, Vilnius", "Vilniaus g. 12"),
    ("Adrese: Brīvības iela 45, Rīga", "Brīvības iela 45"),
    ("Aadress: Pärnu mnt 7, Tallinn", "Pärnu mnt 7"),
    ("Dođi: ulica Grada Vukovara 45, Zagreb", "Vukovara 45"),
    ("آدرس: خیابان ولیعصر، کوچه نسترن، پلاک 12", "نسترن"),
    ("Позвони мне: сначала 916, потом 555, затем 12 и 34.", "916"),
    ("โทรมาได้ที่ ศูนย์แปดเก้า สองสามสี่ ห้าหกเจ็ดแปด นะคะ", "สองสามสี่"),
    # Handles announced in other scripts, a Mexican mobile with its old "1"
    ("תכתוב לי בטלגרם, שם משתמש: dani_k_store", "dani_k_store"),
    ("تواصل معي على سناب شات: ahmad.cars.uae", "ahmad.cars.uae"),
    ("Пишите в телеграм: ivan_petrov88", "ivan_petrov88"),
    ("Si quieres márcame al +52 1 33 1234 5678", "3312345678"),
    # E-mail providers written in other scripts
    ("راسلني على الإيميل: samir.haddad77 على جيميل، شكراً", "samir.haddad77"),
    ("המשתמש שלי בג'ימייל הוא dana.levi82", "dana.levi82"),
    ("อีเมลคือ somsak.k1990 แอท จีเมล ดอท คอม ค่ะ", "somsak.k1990"),
    ("Пишите на почту: olga.smirnova85 на гмейл", "olga.smirnova85"),
]
MORE_ORDINARY = [
    "Pošiljka 1234567890 je poslana.",
    "Zásielka 4455667788 bola doručená.",
    "Mua hàng năm 2025, ngày 14 tháng 3.",
    "Посылка 1234567890 пришла, спасибо!",
    "สามารถส่งได้ภายใน 3 วัน ราคา 450 บาท",
    # Order numbers after "č." / "br." between label and number, Czech "obj.", Slovenian,
    # Croatian and Vietnamese order words, a Chinese label glued to its number
    "Objednávka č. 2026110234 přišla poškozená.",
    "Reklamace obj. 2026110234 – prasklá podrážka",
    "Zamenjava velikosti - naročilo 20261201-55",
    "Narudžba br. 2026120451 je stigla.",
    "Hoàn tiền đơn 2612055521 - sản phẩm lỗi",
    "订单2026120388812 尺码不对，申请退换",
]


@pytest.mark.parametrize(("text", "secret"), MORE_CONTACTS)
def test_contact_detail_of_yet_more_languages_is_removed(text, secret):
    assert_removed(text, secret)


@pytest.mark.parametrize("text", MORE_ORDINARY)
def test_shipment_talk_of_more_languages_is_untouched(text):
    assert RULES.redact(text)[0] == text


# After blind14k: the way in to an address, users and payment handles named by a label,
# quoted shop names in scripts without Latin capitals, a Hebrew hyphen, Nepal's numbers, a
# postcode label in Chinese, a carrier link's value in words. Written here, not taken from
# the set.
ACCESS_AND_NAMES = [
    ("Abholung: Lindenstraße 4, 04109 Leipzig. Türcode 7731.", "7731"),
    ("Ritiro: Corso Como 9, 20154 Milano. Campanello Ferretti.", "Ferretti"),
    ("Retrait au 4 rue Paradis, 13001 Marseille, interphone Garnier.", "Garnier"),
    ("Odbiór: ul. Długa 5, 31-147 Kraków, domofon 12.", "domofon 12"),
    ("Noudot: Aleksanterinkatu 20, 00100 Helsinki, ovikoodi 5521.", "5521"),
    ("Profiilini Toris.ee-s, kasutajanimi: vanad_raamatud_ee", "vanad_raamatud_ee"),
    ("Pay me on Venmo @Marta-Lopez-88 and I post it today.", "Marta-Lopez-88"),
    ("Swish till mig, eller Venmo: @dan-k-hall", "dan-k-hall"),
    ("На Авито мой магазин «Лавка у Петра», найдите его там.", "Лавка у Петра"),
    ("在闲鱼搜“小林的古着店”就能找到我。", "小林的古着店"),
    ("מספר: 052־3344556, תתקשר בערב", "3344556"),
    ("सम्पर्क: 01-5523412", "5523412"),
    ("收件地址：杭州市西湖区文三路90号 邮编310012", "310012"),
    ("Track: https://www.indiapost.gov.in/track?id=EK987654321IN&from=22%2C%20Gandhi%20Road"
     "%2C%20Adyar%2C%20Chennai%20600020", "Gandhi%20Road"),
]
ACCESS_ORDINARY = [
    "Ring the bell and I'll come down with the parcel.",
    "The doorbell is broken, please knock.",
    "The bell on the bike is a bit rusty, 12 months old.",
    "Bitte nicht klingeln, Baby schläft.",
    "I paid with PayPal yesterday, the receipt number is 4KX12345AB678.",
    "Can I pay with Venmo? The total is $45.",
    "在淘宝搜“蓝色台灯”就能看到同款，价格差不多。",
    "书名是“三体”，在淘宝买的，价格很便宜。",
    "Я купил книгу «Мастер и Маргарита», доставка была быстрой.",
    "Track: https://www.indiapost.gov.in/track?id=EK987654321IN&lang=en",
]


# After blind14l: a phone word glued to "numero" is no reference label, a carrier link's
# value escaped twice or in base64, "callback" in German; and what stays: a carrier's site
# named with its path, a street word that ends a line before a shipment number, "a 1-800
# number", an IMEI of 14 digits, a title in single quotes.
CALLBACKS = [
    ("Puhelinnumeroni on 040 123 4567, soita iltaisin.", "0401234567"),
    ("https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode="
     "00340434161094015902&rueckruf=0170%2F9876543", "9876543"),
    ("https://www.poste.it/cerca/index.html#/risultati-spedizioni/3UW1A23456789?avviso="
     "giulia.conti%2540tiscali.it", "giulia.conti"),
    ("https://www.dhl.com/in-en/home/tracking.html?tracking-id=1234567890&ref="
     "c3VuaWwuay43N0B5YWhvby5jb20%3D", "c3VuaWwuay43N0B5YWhvby5jb20"),
]
KEPT = [
    "Sendingen er levert, sporingsnummer 70730253350412345. Se posten.no/sporing for status.",
    "الموضوع: شحنتك في الطريق\n\nالشحنة 290012345678 خرجت للتوصيل.",
    "The other listing had a 1-800 number for Samsung support, but I want a refund.",
    "Can you check the IMEI 35 209 8110 476 23 before sending? I want to be sure.",
    "I read 'The House on Mango Street' in school, ISBN 978-0-679-73477-2.",
    "https://www.dhl.com/in-en/home/tracking.html?tracking-id=1234567890&ref=JJD0001234567890",
]


# Written for the forms the training sets after blind14m showed (not their texts).
LOCAL_FORMS = [
    ("Tafadhali njoo dukani: 27 شارع القصر العيني, القاهرة", "27 شارع القصر العيني"),
    ("אפשר לאסוף: רחוב דיזנגוף 50, חנות 12, תל אביב", "חנות 12"),
    ("Pickup from our godown, C-17 Sector 63, Noida, after 11.", "C-17 Sector 63"),
    ("Venez à la boutique, Rue 22 x Avenue Lamine Gueye, Dakar.", "Rue 22 x Avenue Lamine Gueye"),
    ("Щодо оплати: мій номер нуль дев'ять п'ять 1 2 три 4 5 сім 7, дзвоніть.",
     "нуль дев'ять п'ять 1 2 три 4 5 сім 7"),
    ("เรื่องกล่องบุบ ติดต่อกลับ 089-441-2270 นะคะ", "089-441-2270"),
    ("My number in two halves: first half 07911, second half 123456, call after six.",
     "123456"),
    ("Mi número por partes: primero 311, luego 582, y al final 4417. Llámame.", "582"),
    # In an allowed link's fragment or query, after a word or with a trunk "0"
    ("Tracking: https://www.dhl.com/bd-en/home/tracking.html?tracking-id=1234567890"
     "#01712345678 - the number at the end is mine.", "01712345678"),
    ("https://posta.hu/nyomkovetes/nyitooldal?searchvalue=RB123456789HU#hivj:06301234567",
     "06301234567"),
    ("https://www.aramex.com/ae/en/track/results?ShipmentNumber=44123456789"
     "&note=wa%3A%2B971501234567", "%2B971501234567"),
    ("Coletul: https://www.fancourier.ro/awb-tracking/?tracking=2345678901234&m=0722123456",
     "0722123456"),
    ("Mitt swishnummer är 070-312 44 89 om du vill betala direkt.", "070-312 44 89"),
    ("Traccia: https://www.poste.it/cerca/index.html#/risultati-spedizioni/RR123456785IT"
     "?rif=3398812045", "3398812045"),
    ("Imam i oglas na Njuškalu, korisnik stari_sat_77, tamo je jeftinije.", "stari_sat_77"),
    ("Пошаљите рачун на мејл: petar.nikolic у гмаил, знате наставак.", "petar.nikolic"),
    ("ஆர்டர் 5521 – 12/4 கோவில் வீதி, யாழ்ப்பாணம் க்கு அனுப்பவும்", "12/4 கோவில் வீதி"),
    ("Namba yangu: ya kwanza 0712, ya pili 345 na ya mwisho 678. Ziunganishe, nipigie.",
     "345"),
    # Payment apps keyed by a phone, calling in more languages, dots said in them
    ("Ik stuur je een Tikkie, kan ik die naar 0687341290 sturen?", "0687341290"),
    ("Easypaisa kar dein is number pe: 0300 7741236, shukriya.", "0300 7741236"),
    ("Sifariş hazırdır, zəng edin 050 123 45 67 nömrəmə.", "050 123 45 67"),
    ("অর্ডার করতে ফোন: ০১৭১১২২৩৩৪৪", "০১৭১১২২৩৩৪৪"),
    ("Хат жіберіңіз: dukenim[нүкте]almaty (at) mail[нүкте]kz", "dukenim"),
    ("E-poçtum: bakumarket nöqtə 2024 @ mail nöqtə az", "bakumarket"),
    ("Sendingin: https://posturinn.is/finna-sendingu/?q=RS123456789IS&simi=8471234",
     "8471234"),
    ("Cari toko saya di Tokopedia, username: batik_solo88", "batik_solo88"),
    ("Ho altre cose su Daraz, utente lahore.crafts, scrivimi lì.", "lahore.crafts"),
    # ... but not when a home or "my" comes between the carrier and the street
    ("Send it with DPD to my house on calle Alcalá please.", "calle Alcalá"),
    ("Lo lascio al fermopoint, poi vieni a casa mia in piazza Dalmazia 4.", "piazza Dalmazia 4"),
    # The way in, in more languages and quoted; read on the view (Cyrillic folded)
    ("Hent den hos meg, Markveien 12, ringeklokke «Berntsen», andre etasje.", "Berntsen"),
    ("Самовывоз: ул. Ленина, д. 5, кв. 7, домофон 7К, после шести.", "7К"),
    ("Ophalen kan op de Lange Nieuwstraat 40, bel aan bij Dekker.", "Dekker"),
    # Number words of more languages; letters that stand for digits
    ("Bel my gerus: nul agt twee, vyf vyf vyf, een twee drie vier.",
     "nul agt twee, vyf vyf vyf, een twee drie vier"),
    ("Ku kira ni: sifiri takwas sifiri shida, biyar biyar biyu, ɗaya ɗaya tara sifiri.",
     "sifiri takwas sifiri shida"),
    ("დამირეკეთ: ხუთი ხუთი ცხრა, ერთი ორი, სამი ოთხი, ხუთი ექვსი.", "ხუთი ხუთი ცხრა"),
    ("ይደውሉልኝ፦ ዜሮ ዘጠኝ አንድ አንድ፣ ሁለት ሶስት፣ አራት አምስት፣ ስድስት ሰባት", "ዜሮ ዘጠኝ አንድ"),
    ("If the courier is lost, call me: 3l4-555-O127 any time.", "3l4-555-O127"),
    ("για την παράδοση καλέστε με στο 69Ο 44Ι 27Ι5", "69Ο 44Ι 27Ι5"),
    # An "@" in a word without a domain's dot; bare domains of more countries; Icelandic
    ("Pay me on UPI instead: meera.k91@oksbi, no fee.", "meera.k91@oksbi"),
    ("Backwards so the site misses it: moc.liamg@70nahk.rimi", "moc.liamg@70nahk.rimi"),
    ("Fill in the form: forms.gle/Ab12Cd34Ef and I'll reply there.", "forms.gle/Ab12Cd34Ef"),
    ("Cheaper on our own site: tbilisi-honey.ge", "tbilisi-honey.ge"),
    ("sendu mér á: jon.gunn (hjá) simnet (punktur) is", "jon.gunn"),
    # A page or shop named after the platform and a word for page, shop or search
    ('More on our FB page, just search "Lola\'s Cake Stands Cebu".', "Lola's Cake Stands Cebu"),
    ("Kaspi-дегі дүкенімізде бар, «ToyLand Astana» деп іздеңіз.", "ToyLand Astana"),
    ("තවත් මෝස්තර අපේ Facebook පිටුවේ: Galle Lace Studio", "Galle Lace Studio"),
    # Contact details in an allowed link's query: a profile's path, a number glued to words
    ("https://www.ups.com/track?tracknum=1Z7X9A046812233445&ref=olx.pl%2Fprofil%2Fjan_k",
     "olx.pl%2Fprofil%2Fjan_k"),
    ("https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number01=438512345670"
     "&biko=%E9%80%A3%E7%B5%A1%E5%85%88090-1234-5678", "090-1234-5678"),
    # More marketplaces and payment apps; a mobile after a word of calling in a language that
    # names no country
    ("It's also on Trade Me, member name tauranga_toys_22, same price.", "tauranga_toys_22"),
    ("Pay direct to my Opay 8123449071 make we avoid the charges.", "8123449071"),
    ("آگهی‌های بیشتر در دیوار، فروشگاه «لوازم خانگی رضایی»", "لوازم خانگی رضایی"),
    ("Telpon aku 0812 4455 7788 pas wis tekan.", "0812 4455 7788"),
]
LOCAL_ORDINARY = [
    "Voraussichtliche Zustellung nach 80331 München am Donnerstag zwischen 10 und 14 Uhr.",
    "Prazo estimado: 5 dias úteis para Curitiba, CEP 80010-000.",
    "GST bill no. TN/24-25/003318 for order 8812-3391, total ₹3,540.00.",
    "Atsiimti siuntą galite iki 2024-03-22 paštomate.",
    "המידה 38? אני בדרך כלל 38.5, מספר הזמנה 5512-8830.",
    "Comanda dumneavoastră nr. 100244718 a fost predată curierului.",
    "掛號號碼 RR204819330TW https://postserv.post.gov.tw/pstmail/main_mail.html?MAILNO=RR204819330TW",
    "Tra cứu: https://khachhang.giaohangtietkiem.vn/web/tra-cuu?code=S1882301.HN12.B4.789456123",
    "The sector 5 warehouse sends 2 sector 18 parts on Monday.",
    "GLS: https://gls-group.com/HR/hr/pracenje-posiljke?match=12345678901",
    "https://www.royalmail.com/track-your-item#/tracking-results/QF123456785GB",
    "Waybill 40098761234: https://www.aramex.co.za/tools/track/?l=40098761234",
    "Guten Tag, in der Beschreibung stand „inkl. 2 Akkus“. Schicken Sie den zweiten nach?",
    # A shipment's word after its number; more posts' and couriers' sites
    "Bağlama gəlmədi, 4386692627 izləmə nömrəsi iki gündür yenilənmir.",
    "ပါဆယ် မရောက်သေးပါ၊ ခြေရာခံနံပါတ် 3395058732 ကို စစ်ပေးပါ။",
    "Faktur 8811794011 sudah saya lampirkan, totalnya Rp122.820.",
    "Track karein: https://www.mulphilog.com/tracking?cn=42005451185",
    "ट्र्याक गर्नुहोस्: https://nepalcanmove.com/track?id=NCM2699428",
    "Sekite: https://www.lpexpress.lt/en/track/?parcel=CE383358202LT",
    "Je la mettrai sur Avito si personne ne la prend avant vendredi.",
    # A street named as where a post office, a pickup point or a station is; dates with a
    # space after their dots
    "Podemos quedar en la oficina de Correos de la calle Aragón, junto a la entrada.",
    "Posso ritirare io al Fermopoint dell'edicola in via Roma? Il codice arriva da BRT?",
    "Kunnen we afspreken bij het PostNL-punt in de Albert Heijn op het Stationsplein?",
    "Dodání 26. 3. 2025, předpokládaný termín 24.–26. 3. 2025.",
    "The monitor does 4K@60Hz over HDMI; buy 2@5.99 and get a third free.",
    'I saw the "Air Max 90" on Instagram last week, is yours the same colour?',
    "Ring the bell twice, the courier said; the parcel is at the depot.",
    "Prices: 1 299,00 €, $1,299.00, ₹1,25,000 and 45.000 kr. for the set.",
]



# After blind14r (written for these rules, in other words than that set's): the way to the
# door told after an address, codes that name one building, a street told by its flat, the
# name searched for on a platform or a directory, registry numbers, bank accounts and payment
# aliases.
FOUND_AFTER_R = [
    ("Collect from 27 Orchard Lane, Bicester. It's the white cottage opposite the church.",
     "white cottage opposite the church"),
    ("Ven a Calle Río Lerma 45, Cuauhtémoc, el portón negro junto a la farmacia.",
     "portón negro junto a la farmacia"),
    ("Deliver to Ashgrove, Ballymore Eustace, Co. Kildare W91 K2T6 please.", "W91 K2T6"),
    ("My GhanaPost GPS is AK-039-5028, near the junction.", "AK-039-5028"),
    ("Navigatie: 2512 CK, huisnummer 14-A, bovenste bel.", "2512 CK, huisnummer 14"),
    ("Pošaljite na Maksimirska 88, drugi kat, stan 4, Zagreb.", "Maksimirska 88"),
    ("Tarneaadress: Pikk 12-3, Tallinn", "Pikk 12-3"),
    ("הקוד בכניסה 4512, קומה שנייה.", "4512"),
    ("Na Bazoši nájdete ďalšie, hľadajte pod menom Peter Dreva Nitra.", "Peter Dreva Nitra"),
    ("It's on Facebook Marketplace too. Search for Aoife Brennan and message me there.",
     "Aoife Brennan"),
    ("More photos on Instagram, I'm there as kofi.leather_accra", "kofi.leather_accra"),
    ("Больше фото в моём инстаграме: masha_knits_msk", "masha_knits_msk"),
    ("ביד2 חפשו את המשתמש 'רהיטים של דנה'", "רהיטים של דנה"),
    ("Фэйсбүүкээс «Наран Тавилга» гэж хайгаарай.", "Наран Тавилга"),
    ("微信搜小程序“王记鞋铺”就能找到。", "王记鞋铺"),
    ("JustDial-ல Lakshmi Tailors Coimbatore தேடுங்க", "Lakshmi Tailors Coimbatore"),
    ("Sama borð á Bland, notandanafn sigrunselur.", "sigrunselur"),
    ("Find us by KVK 68750110 in the Chamber's register.", "68750110"),
    ("Vårt org.nr 556677-8899 finns på allabolag.", "556677-8899"),
    ("Transfiere a mi cuenta, RUT 12.345.678-5.", "12.345.678-5"),
    ("Meu CPF é 123.456.789-09 para o Pix.", "123.456.789-09"),
    ("Send the money to account no. 0123456789 at GTBank instead.", "0123456789"),
    ("Überweis einfach auf mein Konto 1234 5678 90.", "1234 5678 90"),
    ("Mi alias de Mercado Pago es SOFI.MATE.RIO, pasame el tuyo.", "SOFI.MATE.RIO"),
    ("Pay me direct: DE89 3704 0044 0532 0130 00, no fees that way.", "DE89 3704 0044"),
    ("Mokėkite pavedimu į sąskaitą LT55 7300 0101 2345 6789.", "LT55 7300 0101 2345 6789"),
    ("Envíelo a Calle 72 Bis No. 10-34, Chapinero.", "Calle 72 Bis No. 10-34"),
    ("Jual juga kat Mudah, nama pengguna kedaibasikal.", "kedaibasikal"),
    ("Имам још на Купујем продајем, тражи 'Радионица Јовић'.", "Радионица Јовић"),
]
FOUND_AFTER_S = [
    # payment cards, wallets, accounts and whose they are
    ("Skip the fee, pay onto my card 5168 7420 1111 2222 instead.", "5168 7420 1111 2222"),
    ("Просто переведите на карту 2202-2061-0000-1111, без комиссии.", "2202-2061-0000-1111"),
    ("Swish:a till mig istället, numret är 070 123 45 67.", "070 123 45 67"),
    ("Vipps meg heller på 912 34 567, så slipper vi gebyret.", "912 34 567"),
    ("Maksa MobilePaylla: 0401234567, niin säästetään kulut.", "0401234567"),
    ("Send it by bKash instead: 01712-345678, personal.", "01712-345678"),
    ("Pay by EcoCash to 077 123 4567 - Tendai Moyo, then cancel here.",
     "Tendai Moyo"),
    ("Transfer ke BRI 0123 0100 1234 567 atas nama Siti Rahma ya kak.", "Siti Rahma"),
    ("Send to account 0045 6678 9012 (Kwame Mensah Ventures) at the bank.",
     "Kwame Mensah Ventures"),
    ("Pagá a la cuenta de Banorte, CLABE 072180001122334455, sin comisión.",
     "072180001122334455"),
    ("Lánið á reikning 0515-26-100200 og millifærðu í dag.", "0515-26-100200"),
    ("Uplatite na moj račun 205-0000000654321-88 i otkažite porudžbinu.",
     "205-0000000654321-88"),
    ("Bank in to CIMB 8001 2345 6789 and send me the slip.", "8001 2345 6789"),
    # contact details glued into a carrier link's query
    ("Track it: https://www.royalmail.com/track-your-item?trackNumber=AB123456789GB"
     "&src=sms07700900123", "07700900123"),
    ("https://www.dpd.co.uk/apps/tracking/?parcel=15501234567890&note=tel-07911123456",
     "07911123456"),
    ("An Post: https://www.anpost.com/Track?item=LA123456789IE&fon=0861234567",
     "0861234567"),
    # numbers in words
    ("Appelez-moi au zéro septante-six, nonante-huit, huitante, septante-deux.",
     "nonante-huit, huitante, septante-deux"),
    ("Wac lambarkan: eber toddoba siddeed, shan lix afar, saddex kow laba sagaal.",
     "shan lix afar, saddex kow laba sagaal"),
    ("Antsoy amin'ny: aotra valo efatra, sivy dimy roa, telo fito enina, iray.",
     "sivy dimy roa, telo fito enina"),
    ("Rufft mech un: null siwen fënnef, aacht néng dräi, véier zwee eent.",
     "aacht néng dräi, véier zwee eent"),
    ("打電話畀我，六二三四 五六七八，收工後得閒。", "六二三四 五六七八"),
    # the way to the door told after an address the model took whole
    ("Deliver to Block 7, Flat 3B, Parklands Road, Westlands, Nairobi. "
     "Ask the watchman at the gate for Achieng.", "Achieng"),
    ("GhanaPost GPS, AS-221-4477, is the fastest way to find us.", "AS-221-4477"),
    # meeting to pay in cash off the platform
    ("Cancel it here; we can meet at the Shell garage on Main Road and I'll pay you cash.",
     "Shell garage on Main Road"),
    ("Lass uns am Bahnhof Altona treffen, ich zahle bar in die Hand, dann stornieren wir.",
     "Bahnhof Altona"),
    ("Nos vemos en el Oxxo de la esquina de Insurgentes y te pago en efectivo.",
     "Oxxo de la esquina de Insurgentes"),
    ("Tukutane Kenyatta Market Jumamosi, nitakulipa pesa taslimu.", "Kenyatta Market"),
    # a name after "by the name" in a script without capitals, where a platform is named
    ("لقيتني على حراج باسم معرض النخبة للجوالات، كلمني هناك.", "معرض النخبة للجوالات"),
    ("در دیوار به اسم مبل فروشی کرج هستم.", "مبل فروشی کرج"),
    ("В OLX ме търсете с името Мебели Стара Загора, там има още.", "Мебели Стара Загора"),
    # letters for digits where Zulu or Xhosa asks to be called
    ("Ndifowunele kwa O71 234 56l8 xa ufikile.", "O71 234 56l8"),
]
FOUND_AFTER_T = [
    # names and numbers in a carrier link's query, whatever the key
    ("https://www.dpd.com/de/de/empfangen/sendungsverfolgung/?parcel=01234567890123"
     "&empf=Klaus%20Becker&hinweis=Hinterhaus", "Klaus%20Becker"),
    ("https://www.poczta-polska.pl/sledzenie/?numer=RR123456789PL&adresat=Jan+Kowalski",
     "Jan+Kowalski"),
    ("https://track.aftership.com/thailand-post/EF111222333TH?rcv=%E0%B8%99%E0%B8%A0%E0%B8%B2",
     "%E0%B8%99%E0%B8%A0%E0%B8%B2"),
    ("https://www.bluedart.com/tracking?trackNo=70011122233&rcvmob=9811122233", "9811122233"),
    # the account's holder or recipient, named with its word; bank codes; national shapes
    ("Bitte direkt überweisen an IBAN DE12 5001 0517 0648 4898 90, Kontoinhaberin Petra Maier.",
     "Petra Maier"),
    ("Stort het bedrag op NL20 INGB 0001 2345 67 t.n.v. K. van Dam, scheelt kosten.",
     "K. van Dam"),
    ("Pay by bank transfer instead: sort code 40-11-62, account 71234567, thanks.", "40-11-62"),
    ("Direct deposit works too, BSB 733-000 account 123456789.", "733-000"),
    ("NEFT karo: A/c 50100234567890, IFSC HDFC0001234, naam Ramesh Gupta.", "HDFC0001234"),
    ("Pošlete to na účet 2701234567/2010, ušetříme na poplatcích.", "2701234567/2010"),
    ("Utalja át ide: 10402142-50526766-12341006, kérem.", "10402142-50526766-12341006"),
    ("Uplata na račun 265-1100310012345-67 je najbrže, bez provizije.",
     "265-1100310012345-67"),
    ("Send via GCash na lang: 0917 555 1234 M. Santos para walang fee.", "M. Santos"),
    ("โอนพร้อมเพย์ 089-123-4567 ชื่อ วิไล ได้เลยค่ะ", "วิไล"),
    ("حوّل على كليك CliQ، الاسم المستعار AHMADSHOP7، وخلصنا.", "AHMADSHOP7"),
    # cash at a handover; Lithuanian tens; the way to the door in more scripts
    ("Zahlung bar bei der Übergabe am Hauptbahnhof, Gleis 3, dann ohne die Plattform.",
     "Hauptbahnhof, Gleis 3"),
    ("Skambinkite: šeši devyni du, trisdešimt keturi, penkiasdešimt šeši.",
     "trisdešimt keturi, penkiasdešimt"),
    ("Use Ghana Post GPS please, the code is on my gate: GE-231-5567.", "GE-231-5567"),
]
FOUND_AFTER_U = [
    ("Ring Tomasz at 512 884 301 when you are outside.", "Tomasz"),
    ("Shayela uThandi ku-082 555 1234 uma ufika.", "Thandi"),
    ("Send it to card 5375 4141 9988 7766, Olena Shevchenko, today please.", "Olena Shevchenko"),
    ("Bank transfer: account 0123456789, IFSC ICIC0001234, name: Priya Nair Stores.",
     "Priya Nair Stores"),
    ("https://www.posta.sk/sledovanie?cislo=RR123456789SK&kontakt=0905123456", "0905123456"),
    ("https://www.dpd.com/tracking?parcel=0123456789&empfaenger=Anna%20Schmid%200151234567",
     "Anna%20Schmid"),
    ("Collect at Blk 88 Tampines St 81, #05-123. Ask the guard at the lobby for Mei Ling.",
     "Mei Ling"),
    # crypto wallets where crypto is spoken of
    ("Pay in USDT (TRC20) to TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE and skip the fee.",
     "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"),
    ("Bitcoin works too: bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1qar0srrr7xfkvy5l643"),
    ("ETH to 0x52908400098527886E0F7030069857D2E4169EE7 please.",
     "0x52908400098527886E0F7030069857D2E4169EE7"),
]
KEPT_AFTER_T = [
    "https://www.dhl.com/de-de/home/tracking.html?tracking-id=1234567890&submit=1&lang=de",
    "https://www.laposte.fr/outils/suivre-vos-envois?code=6A18723456789&type=Colissimo%20Expert",
    "Wir haben Ihre Reklamation unter Vorgangsnummer 2025-04417 erfasst.",
    "Les dates possibles pour la remise en main propre : 06/04 ou 12/04.",
    "Paid by card through the platform; the bank reference is 2024-0611-7781.",
    "The sort order of the parts list is by code 4711-2 then 4711-3.",
    "Paid with EVC Plus, transaction number 24051288123. When will it ship?",
    # found by blind14v's ordinary messages: "o"/"un" as articles, a date or a code after a
    # street-like word, a label read as a number word
    "Prefiero la devolución de $12.750 o un cupón, lo que sea más fácil.",
    "Consegna prevista con Bring 22.05.2025, ordine 4471.",
    "Levering via de vervoerder, Referentie 7NLPK0098765432 op de doos.",
    "Aufkleber am Karton: 00340434161094042557, das ist die Sendungsnummer.",
    "Tracking 1Z999AA10123456784 and order 3MBH2Z9QXKT4RYWPL7VN5JC8D; no crypto payments here.",
    "Call the courier hotline if the parcel is late; the number is on the label.",
]
KEPT_AFTER_S = [
    "The card in the box says serial 4402 1234 5678 9012; is that the warranty number?",
    "Paid with my card through the checkout, receipt 2024 0611 0000 1234 attached.",
    "Tracking 9400 1118 9922 3456 7890 12 shows it at the depot.",
    "IMEI 356938035643809 matches the box, card and charger included.",
    "A bit late: parcel 00340434161234567890 is at the depot.",
    "Bit-Set 32-tlg., Art.-Nr. 4006825 567890, 12,49 EUR.",
    "UPI reference 414523887120, refund of 2,450 sent to your bank account.",
    "Could we meet at the post office on the High Street, by the cash machine?",
    "The courier takes cash on delivery; he meets every train at the station.",
    "You can collect it at the shop on Saturday, we meet the buyer's deadline.",
    "Refunded to the card ending 4242 (Visa); it shows in 3-5 days.",
]
KEPT_AFTER_R = [
    "Rhif tracio Royal Mail: QF123456785GB, anfonwyd ddoe.",
    "Orders CY-2024-1187 and BG-2025-3321 left the warehouse on Monday.",
    "Ref D02 4411 arrived; the T80 lamp is next.",
    "VAT 21% included; the order total is 124.50 EUR.",
    "Your account is ready; order 12345678 ships Monday.",
    "Lo dejo en el punto de despacho de Andreani de Av. Cabildo si hace falta.",
    "The lamp is 27 cm tall, opposite corners are padded for the trip.",
    "Tracking JD014600003828120012 has not moved since Monday.",
    "搜“蓝色台灯”就有同款，是这个吗？",
    'The user "Anna Berg" on here asked me to confirm the serial number first.',
]
# Ordinary, yet the intent layer guesses a name in it ("профил нь ...") and the model trained
# with blind14t and corpus14zz (2026-12-07) does not hold the guess back: a known regression.
MODEL_NOW_TAKES = [
    "Бараат OLX-д байгаа, профил нь хувийн.",
]


@pytest.mark.parametrize(("text", "secret"),
                         ACCESS_AND_NAMES + CALLBACKS + LOCAL_FORMS + FOUND_AFTER_R
                         + FOUND_AFTER_S + FOUND_AFTER_T + FOUND_AFTER_U)
def test_forms_the_last_blind_sets_showed_are_removed(text, secret):
    assert_removed(text, secret)


@pytest.mark.parametrize("text", ACCESS_ORDINARY + KEPT + LOCAL_ORDINARY + KEPT_AFTER_R
                         + KEPT_AFTER_S + KEPT_AFTER_T)
def test_what_those_forms_resemble_is_untouched(text):
    assert RULES.redact(text)[0] == text



@pytest.mark.xfail(strict=True, reason="known regression: the retrained model reads these as "
                   "passing a name and no longer holds the intent layer's guess back")
@pytest.mark.parametrize("text", MODEL_NOW_TAKES)
def test_what_the_retrained_model_now_takes(text):
    assert RULES.redact(text)[0] == text
