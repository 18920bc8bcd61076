"""content.promotion: coupons, discounts on a next order, "our other products", newsletters,
sales, and anything sent as bulk mail (List-Unsubscribe, List-Id, Precedence: bulk).

A seller answering a buyer about a return or a price on this order is not promoting: the
patterns name what only marketing says.
"""

from __future__ import annotations

import re

from relay.rules.needs import Gated
from relay.rules.reading import Reading

code = "content.promotion"
reason = "promotions, coupons, newsletters and offers of other products are not allowed"

_PATTERNS = re.compile(
    "|".join((
        r"\b(?:coupon|promo(?:tion(?:al)?)?|discount|voucher|gift)[\s-]*codes?\b",
        r"\b(?:use|enter|apply)\s+(?:the\s+)?code\s+[A-Z0-9]{4,}",
        r"\d+\s*%\s*off\s+(?:on\s+)?(?:your|the)?\s*next\s+(?:order|purchase)",
        r"\bnext\s+(?:order|purchase)\b.{0,40}\b(?:discount|%\s*off|coupon|voucher)",
        r"\b(?:check\s+out|browse|visit|see|explore|discover|take\s+a\s+look\s+at|have\s+a\s+look"
        r"\s+at)\s+(?:our|my)\s+(?:other|new|latest|full|entire|whole|complete)\s+(?:products|"
        r"items|listings|range|collection|catalog(?:ue)?|store|shop|selection|arrivals)",
        r"\b(?:our|my)\s+other\s+(?:products|items|listings)\b",
        r"\bnews\s?letter\b",
        r"\b(?:sign\s+up|subscribe)\s+(?:to|for)\s+(?:our|my)\b",
        r"\blimited[-\s]time\s+(?:offer|deal|sale)",
        r"\b(?:flash|clearance|summer|winter|holiday|spring|black\s+friday|cyber\s+monday)\s+"
        r"(?:sale|deals?)\b",
        r"\bbuy\s+(?:one|1|two|2)\s*,?\s*get\s+(?:one|1)",
        r"\b(?:special|exclusive)\s+(?:offer|deal|discount)s?\b",
        r"\bfollow\s+us\s+on\s+(?:instagram|facebook|twitter|tiktok|pinterest|youtube|social)",
        r"\bnew\s+arrivals\b",
        r"\bcustomers\s+who\s+(?:bought|purchased|ordered)\b.{0,60}\balso\s+(?:bought|loved|liked)",
        r"\badd\s+(?:them|it|these|this)\s+to\s+your\s+(?:collection|cart|basket|order)\b",
        # A coupon code with what it saves: "10 % Rabatt mit dem Code TREUE10"
        r"(?:%|\boff\b|rabatt|réduction|remise|descuento|sconto|save|spare)\b.{0,40}"
        r"\b(?:code|código|codice|gutschein)\s*:?\s*(?-i:[A-Z]{3,}[0-9]{1,4})\b",
        r"\b(?:code|código|codice|gutschein)\s*:?\s*(?-i:[A-Z]{3,}[0-9]{1,4})\b.{0,40}"
        r"(?:%|\boff\b|rabatt|réduction|remise|descuento|sconto|save|spare)",
        r"(?:rabatt|%)\b.{0,30}\bnächste(?:n)?\s+(?:bestellung|einkauf)",
        r"(?:réduction|%|remise)\b.{0,30}\bprochaine\s+commande",
        r"(?:descuento|%)\b.{0,30}\bpr[oó]xim[ao]\s+(?:compra|pedido)",
        r"(?:sconto|%)\b.{0,30}\bprossimo\s+(?:ordine|acquisto)",
        r"\b(?:sconto|rabatt|réduction|descuento|discount)\b.{0,30}\b(?:tutto\s+il\s+catalogo|"
        r"gesamte[sn]?\s+sortiment|tout\s+le\s+catalogue|todo\s+el\s+catálogo|entire\s+"
        r"(?:store|shop|catalog(?:ue)?)|whole\s+(?:store|shop))",
        r"\b(?:nos\s+nouveautés|le\s+nostre\s+novità|unsere\s+neuheiten|nuestras\s+novedades)",
        r"\b(?:offerta\s+esclusiva|offre\s+exclusive|exklusive[rs]?\s+(?:rabatt|angebot)|"
        r"oferta\s+exclusiva)",
        r"\b(?:gutschein|rabatt)code\b",
        r"\b(?:unsere|unseren)\s+(?:anderen|weiteren|neuen)\s+(?:produkte|artikel|angebote)\b",
        r"\bnächste(?:n)?\s+(?:bestellung|einkauf)\b.{0,40}(?:rabatt|%|gutschein)",
        r"\bcode\s+(?:promo|de\s+r[ée]duction)\b",
        r"\bbon\s+de\s+r[ée]duction\b",
        r"\bnos\s+autres\s+(?:produits|articles)\b",
        r"\bprochaine\s+commande\b.{0,40}(?:r[ée]duction|%|remise)",
        r"\bc[oó]digo\s+(?:de\s+)?(?:descuento|promocional|cup[oó]n)\b",
        r"\bnuestros\s+otros\s+productos\b",
        r"\bpr[oó]xim[ao]\s+(?:compra|pedido)\b.{0,40}(?:descuento|%)",
        r"\bcodice\s+(?:sconto|promozionale|coupon)\b",
        r"\bi\s+nostri\s+altri\s+prodotti\b",
        r"\bprossimo\s+(?:ordine|acquisto)\b.{0,40}(?:sconto|%)",
    )),
    re.IGNORECASE | re.DOTALL,
)


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_ANY_PATTERN = Gated(_PATTERNS)  # a text none of whose sentences can match costs nothing


def _pitches(text: str) -> bool:
    """A marketing pattern in a sentence that is not a question: "did you use a discount
    code at checkout?" asks about the order."""
    if not _ANY_PATTERN.may_match(text):
        return False
    return any(_PATTERNS.search(s) for s in _SENTENCE.findall(text) if not s.endswith("?"))


def judge(reading: Reading) -> str | None:
    if reading.direction != "seller_to_buyer":
        return None  # a buyer quoting a code or asking for a discount is not marketing
    if reading.bulk or _pitches(reading.subject) or _pitches(reading.text):
        return reason
    return None
