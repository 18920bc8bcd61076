"""Which numbering plans a text's language suggests, beyond the configured regions.

A Korean message quoting "010-2345-6789" is a Korean mobile number, which no plan in the
default regions accepts. Scripts say it cheaply (Hangul: KR, kana: JP, Han: CN/TW/HK...);
for Latin-script languages a handful of common words does. Asked only when a candidate failed
the configured regions, so ordinary messages never pay for it.
"""

from __future__ import annotations

import re

_SCRIPTS = (
    (re.compile(r"[\uac00-\ud7a3]"), ("KR",)),
    (re.compile(r"[\u3040-\u30ff]"), ("JP",)),
    (re.compile(r"[\u4e00-\u9fff]"), ("CN", "TW", "HK", "SG")),
    (re.compile(r"[\u0400-\u04ff]"), ("RU", "UA", "BY", "KZ")),
    (re.compile(r"[\u0e00-\u0e7f]"), ("TH",)),
    (re.compile(r"[\u0370-\u03ff]"), ("GR", "CY")),
    (re.compile(r"[\u0600-\u06ff]"), ("SA", "AE", "EG", "MA")),
    (re.compile(r"[\u0590-\u05ff]"), ("IL",)),
    (re.compile(r"[\u0600-\u06ff]"), ("PK", "IR")),  # Urdu and Persian write it too
    (re.compile(r"[\u0900-\u097f]"), ("IN", "NP")),
    (re.compile(r"[\u0980-\u09ff]"), ("BD", "IN")),
    (re.compile(r"[\u0b80-\u0bff]"), ("IN", "LK", "SG", "MY")),
    (re.compile(r"[\u0a00-\u0aff\u0c00-\u0d7f]"), ("IN",)),
    (re.compile(r"[\u0d80-\u0dff]"), ("LK",)),
    (re.compile(r"[\u10a0-\u10ff]"), ("GE",)),
    (re.compile(r"[\u0530-\u058f]"), ("AM",)),
    (re.compile(r"[\u1200-\u137f]"), ("ET",)),
    (re.compile(r"[\u1000-\u109f]"), ("MM",)),
    (re.compile(r"[\u1780-\u17ff]"), ("KH",)),
)
# A few words each language uses in almost every message, and the plans of its countries.
_WORDS = {
    ("BR", "PT"): "você voce não nao obrigado obrigada olá encomenda meu minha celular número "
                  "telefone ligue está também muito pedido zap manda oi passo desconto frete",
    ("ES", "MX", "AR", "CO", "CL", "PE"): "hola gracias pedido usted envío mi número teléfono "
                                          "llámame llamame está también muy por favor celular",
    ("IT",): "ciao grazie ordine numero chiamami il della sono anche molto buongiorno cellulare",
    ("NL", "BE"): "hallo bedankt bestelling mijn het een niet bel nummer graag ook ik je jij "
                  "wel naar sturen dan kan stuur",
    ("SE", "FI"): "hej tack och jag är inte ring mitt nummer också beställning",
    ("DK", "NO"): "hej tak jeg ikke og mitt mit nummer ring bestilling ringe ringer hvis noget "
                  "venlig hilsen til det på velkommen nogen også",
    ("PL",): "dzień dobry dziękuję zamówienie mój numer proszę jest też bardzo zadzwoń",
    ("TR",): "merhaba teşekkür sipariş numaram benim ve bir numara ara lütfen",
    ("AT", "CH"): "hallo danke bestellung meine nummer ruf bitte auch sehr und",
    ("BE", "CH", "LU"): "bonjour merci commande mon numéro appelez aussi très avec",
    ("CZ", "SK"): "dobrý den deň děkuji ďakujem objednávka číslo moje moje prosím volejte "
                  "volajte zavolejte zavolajte mám záujem jsem som",
    ("HU",): "jó napot köszönöm rendelés számom telefonszám kérem hívjon vagyok",
    ("RO", "MD"): "bună buna mulțumesc multumesc comanda număr numărul meu sunați rog",
    ("HR", "SI", "RS", "BA", "ME"): "dobar dan hvala narudžba broj moj pozdrav molim nazovite "
                                    "pozdravljeni naročilo številka pokličite lahko",
    ("EE",): "tere aitäh tellimus number helistage palun minu",
    ("FI",): "hei moi kiitos tilaus numero numeroni puhelin puhelinnumero puhelinnumeroni soita "
             "soittakaa minun minulle terveisin myös",
    ("IS",): "takk sæl sæll pöntun númer númerið símanúmer símanúmerið hringdu minn mitt",
    ("LV",): "labdien paldies pasūtījums numurs zvaniet lūdzu mans sveiki uz pārdevējs "
             "pircējs zvana zvanu tālrunis",
    ("LT",): "laba diena ačiū užsakymas numeris skambinkite prašau mano",
    ("VN",): "chào cảm ơn đơn hàng số điện thoại gọi cho em anh chị",
    ("ID", "MY"): "halo terima kasih pesanan nomor hubungi saya telepon sudah",
    ("PH",): "salamat po ang ng numero ko tawagan",
    ("KE", "TZ", "UG"): "habari asante namba yangu piga simu oda",
    ("AZ",): "salam sifariş nömrə nömrəm nömrəsi zəng edin təşəkkür hörmətlə bağlama",
    ("UZ",): "salom rahmat buyurtma raqam raqamim raqamga qo'ng'iroq qiling iltimos",
    ("PK",): "aap mera meri hai hain karein karo bhej diya shukriya assalam alaikum",
    ("NG",): "abeg oga una wetin naija pls e don sharp",
    ("ZA",): "sanibona ngiyabonga baie dankie goeie groete asseblief",
}
# Names that point to a country: a messenger of its own, the country or its people.
_NAMES = {
    "KR": "kakao kakaotalk naver korea korean coreano coreana coréen coréenne koreanisch "
          "koreaans seoul busan",
    "JP": "japan japanese japón japon japonés japonais japanisch giappone tokyo osaka line",
    "CN": "wechat weixin china chinese chinois chino chinesisch cina shanghai beijing",
    "BR": "brasil brazil brésil brasilien zap whatsapp",
    "MX": "méxico mexico mexique mexiko cdmx",
    "IT": "italia italy italie italien",
    "ES": "españa spain espagne spanien",
    "PT": "portugal",
    "NL": "nederland netherlands holland",
    "SE": "sverige sweden suède schweden",
    "PL": "polska poland pologne polen",
    "TR": "türkiye turkey turquie türkei",
}
_NAME_SETS = {region: frozenset(words.split()) for region, words in _NAMES.items()}
_WORD_SETS = {regions: frozenset(words.split()) for regions, words in _WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")


def suggested(text: str) -> tuple[str, ...]:
    """Regions whose plans fit the text's script or language, most likely first."""
    found: list[str] = []
    if not text.isascii():
        for pattern, regions in _SCRIPTS:
            if pattern.search(text):
                found.extend(regions)
    words = {w.lower() for w in _WORD.findall(text[:4000])}
    found.extend(region for region, names in _NAME_SETS.items() if words & names)
    scored = sorted(((len(words & vocabulary), regions)
                     for regions, vocabulary in _WORD_SETS.items()), reverse=True)
    for score, regions in scored:
        if score >= 2:
            found.extend(regions)
    return tuple(dict.fromkeys(found))
