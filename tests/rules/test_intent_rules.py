# ruff: noqa: RUF001  (CJK punctuation and look-alike letters are what some of these are about)
"""The contact-intent layer (relay/rules/intent.py): in a clause that offers a way to reach
someone, a weaker shape is redacted; outside one, and for what is ordinary whatever the
clause says, nothing changes. Examples written for these tests (not from the corpus), in
several languages per form, to check the layer reads the kind of text and not cases."""

from __future__ import annotations

import pytest

from relay.config import RulesSettings
from relay.rules.filekinds import device_name
from relay.rules.text import TextRules
from tools.policy_report import squash

RULES = TextRules(RulesSettings(marketplace_domain="marketplace.example"), "relay.test")


def left(text: str) -> str:
    new, _ = RULES.redact(text)
    return squash(new)


OFFERED = [
    # Digits and number words mixed, in a clause about calling.
    ("Handy: null eins fünf zwei, 778 90 12 – ruf einfach an", "77890"),
    ("llámame al seis cuatro nueve, 32 noventa 18", "noventa18"),
    ("ring me on oh seven nine double one, 452 eighty", "452eighty"),
    ("bel gerust: nul zes, veertien 77 twaalf 03", "veertien77twaalf"),
    ("zadzwoń: sześćset, 112 czterdzieści 9", "112czterdzieści"),
    ("arayın lütfen: 0541 🔸 228 🔸 19 🔸 70", "22819"),
    ("お電話は ゼロハチゼロの 5521の ニーサンヨンゴー まで", "5521"),
    # Handles in a clause about writing or finding someone.
    ("mein Insta ist lenas_keramik, schreib mir da", "lenaskeramik"),
    ("find me on Vinted as velvet-attic-finds", "velvetatticfinds"),
    ("Sur Leboncoin, cherchez « Brocante du Moulin » et écrivez-moi", "brocantedumoulin"),
    ("busca mi tienda en Etsy: se llama TallerDeLunaAzul", "tallerdelunaazul"),
    ("加我V信 lq19880214 方便聊", "lq19880214"),
    ("escríbeme a carla ruiz 88 arroba gmail", "carlaruiz88"),
    ("e-mail: voornaam punt achternaam, dus kees punt bakker bij kpn", "keespuntbakker"),
    ("nimimerkki: mökki_mummo, laita viestiä", "mökkimummo"),
    # A street without its number, and a house number said in words.
    ("You can pick it up, the cottage at the end of Foxglove Close, by the pond", "foxgloveclose"),
    ("Abholung gern: am Ende vom Birnbaumweg, Hausnummer siebzehn", "birnbaumweg"),
    ("Abholung gern: am Ende vom Birnbaumweg, Hausnummer siebzehn", "siebzehn"),
    ("Puoi ritirarlo in via delle Rose, il portone verde", "viadellerose"),
    # A second batch, written after the layer was done, to check it (all passed first time).
    ("Chiamami pure al tre tre nove, 41 22 876, dopo le sei", "4122876"),
    ("Si tu préfères, texte-moi au zéro sept, 62 14 88 03", "62148803"),
    ("Meu insta é lojadapaula.arte, me chama lá", "lojadapaulaarte"),
    ("Szukaj mnie na OLX jako stary_zegarmistrz", "staryzegarmistrz"),
    ("Подзвоніть мені: 067 123 45 67", "0671234567"),
    ("Hívjon a 06 30 123 4567-es számon", "301234567"),
    ("Soita numeroon 040 123 4567 iltaisin", "0401234567"),
    ("LINEのIDは sakura-zakka です。追加してください", "sakurazakka"),
    ("Puedes pasar a recogerlo a la calle Mayor, número doce", "callemayor"),
    ("Hämta den på Ringvägen, portkoden är 1234", "ringvägen"),
    ("my email is the shop name without spaces at gmail: oldmillpottery", "oldmillpottery"),
    ("Search 'Harbour Lights Candles' on Facebook and message us", "harbourlightscandles"),
    ("Numaram sıfır beş yüz kırk iki, 318 77 90", "3187790"),
]


@pytest.mark.parametrize(("text", "secret"), OFFERED)
def test_a_detail_offered_in_a_contact_clause_goes(text: str, secret: str):
    assert squash(secret) not in left(text), text


ORDINARY = [
    # The same cue words, with ordinary numbers and words around them.
    "Please call DHL with tracking 00340434161234567890 if it does not arrive.",
    "Ich rufe morgen beim Kundendienst an, Rechnungsnummer 2026-004417 liegt vor.",
    "Le téléphone a l'IMEI 35 209108 471923 6, numéro de série C39XK2QJ.",
    "My delivery window says Nov 26, 2026 between 2:30 pm and 6:00 pm.",
    "Did they contact you? The tracking shows 'delivery exception'.",
    "The product line has two versions, the 'Classic' and the 'Main Street' edition.",
    "The parcel was left at the wrong door (number 14 instead of 41).",
    "Die Bestätigungs-E-Mail zu Bestellung 305-0048219-7720935 kam nie an.",
    "Ist das die Ausgabe mit ISBN 978-3-446-25795-0 oder die ältere 3-446-21234-5?",
    "发票号码 04401234，开票日期 2024-06-05。",
    "Seznam dílů\nDíl č. 44 118 209 - kryt\nModel: TX-9",
    "Mail me the label for RMA-TR-240613-0092 please, the box is ready.",
    "Please text me when the courier is close; the parcel number is 00340434161234567890.",
    "Je vous appelle demain pour la facture n° 2026-004417, merci.",
    "I live in a flat on the 3rd floor, so please ask the courier to ring the bell twice.",
    "Mijn adres is hetzelfde als bij de bestelling, dus dat klopt.",
    "Meine Adresse ist unverändert.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_with_the_same_words_is_unchanged(text: str):
    new, findings = RULES.redact(text)
    assert new == text, findings


@pytest.mark.parametrize(("name", "kept"), [
    ("IMG_20240503_142211.jpg", True), ("20240503_142211.jpg", True),
    ("KakaoTalk_20240611_101112.jpg", True), ("IMG-20240503-WA0012.jpg", True),
    ("WhatsApp Image 2024-05-03 at 14.22.11.jpeg", True), ("DSC_0042.JPG", True),
    ("call_01761234567.jpg", False), ("0176 2345678.jpg", False), ("anna_k87.jpg", False),
])
def test_device_file_names_are_told_from_typed_ones(name: str, kept: bool):
    assert device_name(name) is kept


# A sentence that offers contact but carries no detail, per language (written for this test).
CUE_SENTENCES = {
    "en": "If anything is wrong, just call me or message me here.",
    "de": "Falls etwas nicht passt, rufen Sie mich an oder schreiben Sie mir hier.",
    "fr": "Si quelque chose ne va pas, appelez-moi ou écrivez-moi ici.",
    "es": "Si algo va mal, llámame o escríbeme por aquí.",
    "it": "Se c'è qualcosa che non va, chiamami o scrivimi qui.",
    "pt": "Se algo estiver errado, me liga ou me escreve aqui.",
    "nl": "Je kunt het ook ophalen, ik woon vlakbij, of bel me even.",
    "pl": "Można też odebrać osobiście, proszę dzwonić.",
    "sv": "Du kan också hämta den, ring mig bara.",
    "tr": "Bir sorun olursa beni arayın ya da buradan yazın.",
    "ja": "何かあればお電話か、こちらでメッセージください。",
    "zh": "有问题请打电话或在这里留言，也可以自取。",
    "ko": "문제가 있으면 전화하거나 여기로 연락 주세요.",
}


@pytest.mark.slow
def test_ordinary_messages_with_a_contact_sentence_added_stay_nearly_all_unchanged():
    """The corpus's ordinary messages, each with such a sentence before and after it: what
    the layer redacts there is a false positive. The rules without the layer change 3 of
    about 1,900 such texts (a carrier's number the phone rule reads as a phone once calling
    is spoken of); with it, 7 as measured when this was written."""
    from tools.policy_report import CORPUS, load
    without = TextRules(RulesSettings(marketplace_domain="marketplace.example"), "relay.test")
    without.intent = None
    total = changed = 0
    for path in sorted(CORPUS.glob("*benign.jsonl")):
        for case in load(path.name):
            if case["where"] not in ("body", "body-qp", "body-base64", "forwarded", "subject"):
                continue
            text = case["text"]
            if RULES.redact(text)[1]:
                continue
            sentence = CUE_SENTENCES.get(case.get("lang", ""), CUE_SENTENCES["en"])
            for variant in (f"{sentence} {text}", f"{text}\n{sentence}"):
                total += 1
                found = RULES.find(variant)
                if not found:  # nothing found at all: the layer added nothing either
                    continue
                by_layer = {(f.start, f.end) for f in found} - {
                    (f.start, f.end) for f in without.find(variant)}
                changed += bool(by_layer)
    assert total > 1500
    assert changed / total <= 0.005, f"{changed}/{total}"
