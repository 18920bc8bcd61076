# ruff: noqa: RUF001  (full-width commas in the Chinese case)
"""A number given in pieces to be joined (relay/rules/pieces.py): the pieces go where the text
says to join them and speaks of calling or of digits; numbers that are only near "together"
stay."""

from __future__ import annotations

import pytest

from relay.config import RulesSettings
from relay.rules.pieces import PiecesRule
from relay.rules.text import TextRules
from tools.policy_report import squash

RULES = TextRules(RulesSettings(), "relay.test")

PIECES = [
    ("The three prices were $0.71, $823 and $4416 - put them together and call me.",
     "071823"),
    ("Mettez les chiffres bout à bout : 06, 12, 45 puis 78 90 et appelez-moi.", "4578"),
    ("Die Ziffern hintereinander: 0157 dann 338 dann 2046, ruf an.", "3382046"),
    ("Unisci i numeri: 347 - 55 - 19 - 882 e chiamami stasera.", "1988"),
    ("Junta las cifras: 611 y 20 y 44 y 97, llámame.", "2044"),
    ("Łączna kwota 512, potem 330 i 871 — połącz cyfry i zadzwoń.", "330871"),
    ("电话号码前三位是138，中间四位是0921，最后四位是6610", "09216610"),
]
KEPT = [
    "The two parcels (2.5 kg and 3.1 kg) ship together on Monday.",
    "We can combine shipping: items 12, 45 and 78 for 24,99 EUR in total.",
    "Put the two halves together; the screws are M4 x 12, torque 2.5 Nm.",
    "Die Teile 0 986 494 und 112 passen zusammen, Preis 49,90 EUR.",
    "Order 112-1234567-1234567 and order 112-7654321-7654321 ship together.",
]


@pytest.mark.parametrize(("text", "secret"), PIECES)
def test_pieces_to_join_are_removed(text: str, secret: str):
    new, findings = RULES.redact(text)
    assert findings and squash(secret) not in squash(new), new


@pytest.mark.parametrize("text", KEPT)
def test_numbers_that_are_only_together_stay(text: str):
    assert not list(PiecesRule().find(text))
    assert RULES.redact(text)[0] == text


def test_without_phone_rules_there_is_no_piece_reading():
    off = TextRules(RulesSettings(contact_phone="off"), "relay.test")
    assert off.pieces is None and RULES.pieces is not None
