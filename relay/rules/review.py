"""content.review_request: asking for a (positive) review or feedback, asking to change or
remove one, or offering something for one."""

from __future__ import annotations

import re

from relay.rules.needs import Gated
from relay.rules.reading import Reading

code = "content.review_request"
reason = "asking for a review or feedback, or to change or remove one, is not allowed"

_REVIEW = r"(?:review|feedback|rating|stars?)"
_PATTERNS = Gated(re.compile(
    "|".join((
        r"\b(?:leave|give|write|post|submit|drop|share)\s+(?:us|me)?\s*(?:a|an|some|your)?\s*"
        r"(?:quick\s+|short\s+)?(?:positive|good|great|nice|glowing|5[-\s]?stars?|five[-\s]?stars?"
        r"|honest|favou?rable|kind)?\s*(?:product\s+)?(?:review|feedback|rating)\b",
        r"\b(?:change|update|revise|amend|edit|remove|delete|take\s+down|withdraw|retract|"
        r"reconsider|improve)\s+(?:your|the|that|this)\s+(?:negative\s+|bad\s+|low\s+|"
        r"[1-3][-\s]?star\s+|recent\s+)?(?:review|feedback|rating)\b",
        rf"\b(?:5|five)[-\s]?stars?\b.{{0,40}}\b{_REVIEW}|\b{_REVIEW}\b.{{0,40}}\b(?:5|five)[-\s]?stars?",
        r"\brate\s+(?:us|me|your\s+(?:experience|purchase|order)|the\s+(?:product|item|seller|"
        r"transaction))\b",
        r"\b(?:in\s+(?:exchange|return)\s+for|for)\s+(?:a|an|your)\s+(?:positive\s+|good\s+|"
        r"5[-\s]?star\s+|honest\s+)?(?:review|feedback|rating)\b",
        r"\b(?:would|will|'d)\s+(?:really\s+|greatly\s+|truly\s+)?appreciate\s+(?:it\s+if\s+you\s+"
        r"(?:could\s+)?(?:left|leave|gave|give|wrote|write)\s+)?(?:a|your|some)\s+(?:\w+\s+)?"
        r"(?:review|feedback|rating)\b",
        r"\bhow\s+would\s+you\s+rate\b",
        r"\b(?:you\s+can|you\s+could|please|feel\s+free\s+to|would\s+you|why\s+not)\s+"
        # "review the item", not "review the order details" (look them over)
        r"(?:\w+\s+){0,2}(?:review|rate)\s+(?:(?:the|your|this|our|my)\s+)?(?:item|product|"
        r"seller|purchase|experience|shop|store|us|me)\b",
        r"\b(?:a|your)\s+(?:quick\s+|short\s+|little\s+)?(?:positive\s+|good\s+|5[-\s]?star\s+)?"
        r"(?:review|feedback|rating)\b.{0,40}\b(?:would|means|helps?|makes?)\b",
        r"\b(?:positive|gute|5[-\s]?sterne)[-\s]?bewertung\b",
        r"\bbewertung\s+(?:abgeben|hinterlassen|schreiben|ändern|löschen|entfernen|anpassen)",
        r"\b(?:ihre|eine|die|deine)\s+(?:\w+\s+)?bewertung\b.{0,30}\b(?:ändern|löschen|entfernen|"
        r"abgeben|hinterlassen|zurückziehen)",
        r"\b(?:laisser|laissez|donner|donnez|écrire|écrivez|modifier|modifiez|supprimer|"
        r"supprimez|retirer|retirez)\s+(?:nous\s+)?(?:un|une|votre|l')\s*(?:bon\s+|petit\s+)?"
        r"(?:avis|évaluation|commentaire)",
        r"\b(?:dejar|déjenos|déjanos|dejanos|dejarnos|escribir|cambiar|eliminar|borrar|modificar|retirar)\s+"
        r"(?:una|su|tu|la)\s+(?:buena\s+|positiva\s+)?(?:reseña|valoraci[oó]n|opini[oó]n|"
        r"calificaci[oó]n)",
        r"\b(?:lasciare|lasciarci|lasciaci|scrivere|modificare|rimuovere|cancellare|"
        r"eliminare)\s+(?:una|la|tua|sua)\s+(?:buona\s+|positiva\s+)?(?:recensione|valutazione|"
        r"feedback)",
    )),
    re.IGNORECASE | re.DOTALL,
))


def judge(reading: Reading) -> str | None:
    if reading.direction != "seller_to_buyer":
        return None  # "I wanted to leave a review, but..." is a buyer, not a solicitation
    if _PATTERNS.search(reading.subject) or _PATTERNS.search(reading.text):
        return reason
    return None
