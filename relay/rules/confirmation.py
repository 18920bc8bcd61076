"""content.confirmation: order and shipping confirmations the marketplace already sends.

Only unprompted ones: a seller answering the buyer's "has it shipped?" (a reply) may say so.
"""

from __future__ import annotations

import re

from relay.rules.needs import Gated
from relay.rules.reading import Reading

code = "content.confirmation"
reason = "order and shipping confirmations come from the marketplace; do not send them"

_PATTERNS = Gated(re.compile(
    "|".join((
        r"\byour\s+(?:order|purchase|package|parcel|item|items|shipment)(?:\s+[^.!?\n]{0,60}?)?\s+"
        r"(?:has|have|was|were|is|are)\s+(?:now\s+|just\s+|been\s+|successfully\s+|officially\s+)*"
        r"(?:shipped|dispatched|sent|confirmed|received|processed|packed|on\s+(?:its|their)\s+way|"
        r"out\s+for\s+delivery|handed\s+(?:over\s+)?to)",
        r"\bthis\s+is\s+to\s+confirm\b",
        r"\border\s+(?:#?\s*[\w-]+\s+)?(?:has\s+)?(?:left\s+(?:our|the)\s+(?:warehouse|workshop)|"
        r"is\s+on\s+its\s+way)",
        r"\b(?:su|tu)\s+pedido(?:\s+#?\s*[\w-]+)?\s+(?:ha\s+sido|fue|está)\s+(?:\w+\s+){0,2}"
        r"(?:enviado|confirmado|recibido|despachado|en\s+camino)",
        r"\bwe\s+(?:have\s+|'ve\s+)?(?:just\s+|successfully\s+)?(?:received|confirmed|processed|"
        r"shipped|dispatched)\s+your\s+(?:order|purchase|payment)",
        # "the order confirmation said ..." is a buyer quoting one: only when handed over
        r"\b(?:here\s+is|this\s+is|attached\s+is|please\s+find)\s+(?:your|the)\s+"
        r"(?:order|shipping|shipment|dispatch|purchase)\s+confirmation\b",
        r"\b(?:ihre|deine)\s+bestellung\s+(?:wurde|ist)\s+(?:\w+\s+){0,2}(?:versandt|versendet|"
        r"verschickt|bestätigt|eingegangen|unterwegs)",
        r"\b(?:bestell|versand|auftrags)bestätigung\b",
        r"\bwir\s+haben\s+(?:ihre|deine)\s+bestellung\s+(?:erhalten|versandt|verschickt|bestätigt)",
        r"\bvotre\s+commande\s+(?:a\s+été|est)\s+(?:\w+\s+){0,2}(?:expédiée|envoyée|confirmée|"
        r"reçue|en\s+route)",
        r"\bconfirmation\s+de\s+(?:commande|l'expédition|livraison|votre\s+commande)",
        r"\bnous\s+avons\s+(?:bien\s+)?(?:reçu|expédié)\s+votre\s+commande",
        r"\bsu\s+pedido\s+(?:ha\s+sido|fue|está)\s+(?:\w+\s+){0,2}(?:enviado|confirmado|"
        r"recibido|despachado|en\s+camino)",
        r"\bconfirmaci[oó]n\s+de\s+(?:pedido|env[ií]o|compra)",
        r"\bhemos\s+(?:recibido|enviado)\s+su\s+pedido",
        r"\bil\s+(?:suo|tuo)\s+ordine\s+(?:è|e')\s+stato\s+(?:\w+\s+){0,2}(?:spedito|confermato|"
        r"ricevuto|evaso)",
        r"\bconferma\s+(?:d'ordine|dell'ordine|di\s+spedizione|della\s+spedizione)",
        r"\babbiamo\s+(?:ricevuto|spedito)\s+il\s+(?:suo|tuo)\s+ordine",
    )),
    re.IGNORECASE,
))


_SUBJECT = Gated(re.compile(
    r"^\s*(?:\[[^\]]*\]\s*)?(?:(?:your\s+)?(?:order|shipping|shipment|dispatch|purchase|delivery)"
    r"\s+confirmation\b|(?:your\s+)?order\b[^:]{0,40}[\s:-]+(?:dispatched|shipped|confirmed)\s*!?$)",
    re.IGNORECASE))


# A message that asks the buyer something or reports a problem is about the order, even
# when it says the order shipped: "... shipped, but one lamp is delayed. Shall I refund it?"
_MORE_THAN_STATUS = Gated(re.compile(
    r"\?|\b(?:but|however|unfortunately|sorry|delay(?:ed)?|damaged?|broken|wrong|missing|"
    r"problem|issue|refund|return(?:ed)?|back|aber|leider|verspätet|beschädigt|falsch|"
    r"mais|malheureusement|retard|endommagé|pero|lamentablemente|retraso|dañado|ma|purtroppo|"
    r"ritardo|danneggiato)\b",
    re.IGNORECASE,
))


def judge(reading: Reading) -> str | None:
    if reading.is_reply or reading.direction != "seller_to_buyer":
        return None
    if _MORE_THAN_STATUS.search(reading.text):
        return None
    if _SUBJECT.search(reading.subject) or _PATTERNS.search(reading.subject) \
            or _PATTERNS.search(reading.text):
        return reason
    return None
