"""A number given in pieces for the reader to join: "Prices for the 3 lamps: $415, $555,
$2671. Put them together and you'll reach me", "unisci le cifre per chiamarmi", "前三位是139,
中间四位是0815, 最后四位是2980" (the first three digits, the middle four, the last four).

Each piece is an ordinary number (a price, a year, a size); what makes them a phone number is
being told to join them. Where a paragraph says so, and speaks of calling or of digits, the
digit groups around the words that say it, seven to fifteen digits together, go. Like the
intent layer's findings these are weak: the contact model keeps them out of sentences it
reads as plainly ordinary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relay.rules.needs import Gated
from relay.rules.phone import PHONE_WORDS, _mask_order_ids
from relay.rules.view import folded

# Join them, put them together, read them in a row, in the languages the rules read. Gated:
# most texts hold none of its words, and the scan of its hundred-odd branches is then skipped.
_JOIN = Gated(re.compile(
    r"(?i)(?<!\w)(?:put\s+(?:them|these|those|it\s+all|the\s+\w+)\s+together|together|"
    r"join(?:ed)?|combine[ds]?|in\s+a\s+row|one\s+after\s+(?:the\s+)?(?:other|another)|"
    r"back\s+to\s+back|"
    r"zusammen\w*|hintereinander|aneinander\w*|"
    r"bout\s+à\s+bout|à\s+la\s+suite|les\s+uns\s+après\s+les\s+autres|"
    r"junt(?:a|as|os|ar|e|en)|seguid[oa]s|de\s+corrido|"
    r"unisci|unite|unire|uniscile|di\s+fila|in\s+fila|"
    r"samen|achter\s+elkaar|aan\s+elkaar|"
    r"razem|po\s+kolei|połącz\w*|"
    r"spoj\w*|sastav\w*|skupaj|"
    r"yan\s+yana|birleştir\w*|"
    r"ghép(?:\s+lại)?|gộp\s+lại|gabung\w*|sambung\w*|"
    r"efter\s+varandra|etter\s+hverandre|efter\s+hinanden|peräkkäin|egymás\s+után|"
    r"una\s+după\s+alta|"
    # In parts: "mi cel por partes: primero 310, luego 456"
    r"por\s+partes|en\s+partes|em\s+partes|in\s+(?:two\s+|three\s+)?(?:parts|pieces|bits)|"
    r"en\s+morceaux|in\s+teilen|a\s+pezzi|per\s+parti|in\s+stukjes|po\s+kawałku|"
    # Join in the languages of South Asia, the Middle East, South-East Asia and Africa
    r"जोड़\s*कर|जोड़कर|जोड़ो|जोड़ें|जोड़\s*लो|মিলিয়ে|জুড়ে|சேர்த்து|కలిపి|జోడించి|"
    r"جوڑ\s*کر|جوڑیں|ملا\s*کر|کنار\s+هم|پشت\s+سر\s+هم|مع\s+بعض|ورا\s+بعض|جنب\s+بعض|"
    r"ברצף|ביחד|ต่อกัน|รวมกัน|pagsamahin|pagdugtungin|\w*unganish\w*|pamoja|"
    # (Cyrillic and Greek as the view folds them: the rules read its text)
    + folded(r"подряд|вместе|соедин\w*|разом|підряд|поспіль|μαζί|στη\s+σειρά|") +
    # Halves and parts: "first half 90004, second half 31877"
    r"first\s+half|second\s+half|other\s+half|(?:first|second|last)\s+part|"
    r"primera\s+mitad|segunda\s+mitad|otra\s+mitad|première\s+moitié|deuxième\s+moitié|"
    r"seconde\s+moitié|autre\s+moitié|erste\s+hälfte|zweite\s+hälfte|andere\s+hälfte|"
    r"primeira\s+metade|segunda\s+metade|outra\s+metade|prima\s+metà|seconda\s+metà|"
    r"altra\s+metà|eerste\s+helft|tweede\s+helft|ilk\s+yar\u0131\w*|ikinci\s+yar\u0131\w*|"
    r"nửa\s+đầu|nửa\s+sau|separuh\w*|setengah\s+pertama|bagian\s+pertama|nusu|"
    + folded(r"половин\w*|μισό|") +
    r"సగం|பாதி|অর্ধেক|आधा|आधे|पहला\s+हिस्सा|दूसरा\s+हिस्सा|آدھا|پہلا\s+حصہ|"
    r"النصف|نصف|חצי|ครึ่ง|半分|一半|前半|後半|반쪽|"
    r"一起|连起来|連起來|拼起来|拼在一起|つなげ\w*|並べ\w*|합치\w*|이어\s*붙\w*|붙여\w*|"
    # Chinese "the first three digits", "the last four", "the middle four"
    r"(?:前|后|後|最后|最後|中间|中間)[一二三四五六七八九\d]位)(?!\w)"
    r"|(?:前|后|後|最后|最後|中间|中間)[一二三四五六七八九\d]位"))
# The paragraph must speak of calling (the phone rule's words) or of digits.
_DIGITS = re.compile(
    r"(?i)(?<!\w)(?:digits?|figures|numbers|cifr[ae]s?|cifre|chiffres|ziffern?|zahlen|"
    r"nummern|números|numeri|cijfers|cyfry|číslic\w*|číslo|broj\w*|rakam\w*|số|"
    r"numer\w*|numbers?|zap|zalo|"
    + folded(r"цифр\w*|номер\w*|ψηφί\w*|αριθμ\w*|") +
    r"nambari|namba|nomor|angka|नंबर|नम्बर|अंक|নম্বর|நம்பர்|எண்|నంబర్|నెంబర్|نمبر|رقم|"
    r"מספר|ספרות|หมายเลข|เบอร์)(?!\w)|数字|号码|號碼|番号|숫자|번호")
_PIECE = re.compile(r"\d+(?:[.,]\d+)?")
_BLANK = re.compile(r"\n[ \t\r]*\n")
_BEFORE, _AFTER = 300, 150


class PiecesRule:
    code = "contact.phone"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not any(c.isdigit() for c in text):
            return
        joins = list(_JOIN.finditer(text))
        if not joins:
            return
        plain = _mask_order_ids(text)  # an order number is no piece
        done: set[int] = set()
        for join in joins:
            start, end = max(0, join.start() - _BEFORE), min(len(text), join.end() + _AFTER)
            for blank in _BLANK.finditer(text, start, join.start()):
                start = blank.end()
            if (after := _BLANK.search(text, join.end(), end)) is not None:
                end = after.start()
            if not (PHONE_WORDS.search(text, start, end) or _DIGITS.search(text, start, end)):
                continue
            pieces = [m for m in _PIECE.finditer(plain, start, end)]
            digits = sum(sum(c.isdigit() for c in m.group()) for m in pieces)
            if len(pieces) >= 2 and 7 <= digits <= 15:
                for m in pieces:
                    if m.start() not in done:
                        done.add(m.start())
                        yield m.start(), m.end()
