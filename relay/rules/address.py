"""contact.address: street addresses and post boxes (US, UK, DE, FR, and ES/IT/NL forms).

A street needs a house number next to a street word ("221B Baker Street", "Hauptstraße 5",
"12 rue de Rivoli"); the postcode and town after it go with it, on the same line or the next.
A UK postcode or a US state and ZIP code is an address line on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Repeats are bounded throughout: "A-A-A-..." must not cost quadratic time.
_NAME = r"[A-ZÄÖÜÉÈ][\w'\u2019.\-]{0,30}"
_STREET_EN = (r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Estate|"
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
_STREETS = (
    # 221B Baker Street, 1600 Pennsylvania Avenue NW, 55 Main St., Apt 4B
    rf"\b\d{{1,6}}[A-Za-z]?\s+(?:(?:[NSEW]|NE|NW|SE|SW)\.?\s+)?"
    rf"(?:(?:{_NAME}|\d{{1,3}}(?:st|nd|rd|th))\s+){{1,4}}(?:{_STREET_EN})\b\.?"
    rf"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?{_UNIT}",
    rf"\b\d{{1,6}}[a-z]?\s+(?:[a-z][\w'-]{{0,30}}\s+){{1,3}}(?:{_STREET_EN_LOWER})\b{_UNIT}",
    # Hauptstraße 5, Berliner Str. 12, Lindenallee 3a
    r"(?<![\w\-])[A-ZÄÖÜ][\wäöüß\-]{0,40}(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|"
    r"chaussee|steig|pfad|markt|straat|laan|plein|gracht|kade|singel)\s+\d{1,4}\s?[a-zA-Z]?\b",
    r"(?<![\w\-])[A-ZÄÖÜ][\wäöüß\-]{1,40}\s+(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|"
    r"Chaussee)\s+\d{1,4}\s?[a-zA-Z]?\b",
    # Am Markt 3, 80331 München: only with its postcode, "Am Montag 3 Pakete" is not one.
    rf"\b(?:Am|An der|Im|In der|Auf der|Zum|Zur|Unter den)\s+{_NAME}\s+\d{{1,4}}[a-z]?"
    rf"(?=,?\s*\n?\s*{_EU_POSTCODE})",
    # 12 rue de Rivoli, 5 bis avenue des Champs-Élysées
    r"\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|"
    r"impasse|quai|route|cours|passage|square|faubourg)\s+(?:(?:de la|de l'|des|du|de|d'|l'|"
    r"la|le|les)\s*)?[A-ZÉÈÀ][\w'\u2019\-]{0,30}(?:[\s\-]+(?:[A-ZÉÈÀ][\w'\u2019\-]{0,30}|de|du|des|"
    r"la|le)){0,5}",
    # Calle Mayor 5, Via Roma 10, Piazza San Marco 1
    r"\b(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Carrer|Via|Viale|Piazza|Corso|Largo|Vicolo|"
    r"Rua|ul\.|ulica|Aleja)\s+(?:(?:de la|del|de|dei|della|di)\s+)?[A-ZÁÉÍÓÚŁŚŻ][\w'\u2019\-]{1,30}"
    r"(?:\s+[A-ZÁÉÍÓÚŁŚŻ][\w'\u2019\-]{1,30}){0,3},?\s+(?:n\.?\s?|nº\s?)?\d{1,4}[a-zA-Z]?"
    r"(?:/\d{1,4})?\b",
    # Unit 7, Riverside Industrial Estate / Flat 12, 4th Cross, MG Road
    rf"\b(?:Unit|Flat|Apt\.?|Apartment|Suite|House|Plot|Door)\s+(?:No\.?\s*)?\d{{1,5}}[A-Z]?,"
    rf"[ \w.'-]{{3,60}}?\b(?:{_STREET_EN}|Cross|Main|Nagar|Marg|Layout|Colony|Park)\b",
    # 1-2-3 Jingumae, Shibuya-ku, Tokyo 150-0001
    r"\b\d{1,4}(?:-\d{1,4}){1,3},?\s+[A-Z][a-z]+(?:,\s*[A-Z][a-z]+-(?:ku|shi|ken|cho|machi|"
    r"gun))+(?:,\s*[A-Z][a-z]+)?",
    # Post boxes and pick-up stations, with their town
    r"(?i:\b(?:p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|postbus|boîte postale|b\.p\.|"
    r"apartado de correos|apartado postal|casella postale|skrytka pocztowa|packstation|"
    r"postfiliale|postnummer))\s*\d(?:[\d ]{0,10}\d)?",
)
# One pattern per form: in one alternation the first form to match would hide a longer one.
_STREET = tuple(re.compile(rf"(?:{form}){_TAIL}") for form in _STREETS)
_ALONE = re.compile(rf"{_UK_POSTCODE}|{_US_ZIP}|{_CA_POSTCODE}|{_AU_POSTCODE}")
_CARRIERS = re.compile(r"\b(?:Royal Mail|DHL|UPS|FedEx|USPS|DPD|GLS|Hermes|Evri)\b")


_DIGIT = re.compile(r"\d")


class AddressRule:
    code = "contact.address"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not _DIGIT.search(text):
            return  # every form has a house number, a postcode or a box number
        for pattern in _STREET:
            for m in pattern.finditer(text):
                if not _CARRIERS.search(m.group(0)):  # "Via Royal Mail 2 days"
                    yield m.start(), m.end()
        for m in _ALONE.finditer(text):
            yield m.start(), m.end()
