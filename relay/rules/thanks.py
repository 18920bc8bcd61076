"""content.thanks_only: a message that says only thank you, enjoy, or "here to help".

Every sentence of the author's own words must be a pleasantry, a greeting, a closing or a
name, and one must thank or offer help. "Thank you, but the item arrived broken" has more
in it than thanks, so it is not thanks-only.
"""

from __future__ import annotations

import re

from relay.rules.needs import Gated
from relay.rules.reading import Reading

code = "content.thanks_only"
reason = ("a message that only says thank you is not allowed; write when there is something"
          " about the order to say")

_FOR = (r"(?:\s+(?:so|very)?\s*much)?(?:\s+(?:again|once\s+again))?(?:\s+for\s+(?:your|the|"
        r"choosing|shopping|being|a)\s*[\w\s'-]{0,40})?")
_WANT_TO_SAY = r"(?:(?:i|we)\s+)?(?:just\s+)?(?:wanted|want|would\s+like)\s+to\s+(?:say\s+)?"
_THANKS = (
    rf"(?:{_WANT_TO_SAY})?(?:many\s+|big\s+|huge\s+|a\s+big\s+)?(?:thank\s*(?:s|you)|thx|ty|"
    rf"tysm){_FOR}"
    r"|(?:we|i)\s+(?:really\s+|truly\s+)?(?:appreciate|value)\s+(?:your|you|the)\b[\w\s'-]{0,40}"
    r"|(?:vielen\s+|herzlichen\s+)?dank(?:e)?(?:\s+(?:schön|sehr|vielmals))?"
    r"(?:\s+für\s+[\w\s]{0,40})?"
    r"|merci(?:\s+beaucoup)?(?:\s+pour\s+[\w\s'\u2019]{0,40})?"
    r"|(?:muchas\s+)?gracias(?:\s+por\s+[\w\s]{0,40})?"
    r"|grazie(?:\s+mille)?(?:\s+per\s+[\w\s']{0,40})?"
    r"|(?:hartelijk\s+)?bedankt(?:\s+voor\s+[\w\s]{0,40})?"
)
_ANY_QUESTION = (r"(?:any(?:thing)?|questions?)\s*(?:questions?|problems?|issues?|concerns?|help|"
                 r"else|at\s+all)?")
_HELP = (
    r"(?:we|i|our\s+team|the\s+team)\s*(?:'re|'m|\s+are|\s+am|\s+is)\s+(?:always\s+)?(?:here|"
    r"happy|glad|available)\s+(?:to\s+help|for\s+you)\b[^.!?\d]{0,40}"
    r"|(?:please\s+)?(?:do\s+not|don't|dont)\s+hesitate\s+to\s+(?:contact|reach|message|ask|get)"
    r"\b[^.!?\d]{0,40}"
    rf"|(?:please\s+|just\s+)?(?:let\s+(?:us|me)\s+know|feel\s+free\s+to\s+(?:contact|reach|"
    rf"message|ask))\s*(?:if|should|whenever)\s+you\s+(?:have|need)\s+{_ANY_QUESTION}"
    rf"|if\s+you\s+(?:have|need)\s+{_ANY_QUESTION}[\s,]*(?:(?:just|please|simply)\s+)?"
    r"(?:let\s+(?:us|me)\s+know|contact\s+us|reach\s+out|ask|message\s+us)?"
    r"|(?:we|i)\s+hope\s+you\s+(?:enjoy|like|love|are\s+happy\s+with)\b[^.!?\d]{0,40}"
    r"|enjoy\s+your\s+(?:new\s+)?[\w\s-]{0,30}"
    r"|it\s+means\s+(?:the\s+world|a\s+lot|so\s+much)\b[^.!?\d]{0,50}"
    r"|happy\s+shopping|have\s+a\s+(?:great|nice|good|wonderful|lovely)\s+(?:day|week|weekend|"
    r"evening)(?:\s+ahead)?|(?:we\s+)?look(?:ing)?\s+forward\s+to\s+[\w\s]{0,40}"
    r"|it\s+(?:was|is)\s+a\s+pleasure\b[^.!?\d]{0,40}|(?:we\s+)?(?:wish|wishing)\s+you\b"
    r"[^.!?\d]{0,40}"
    r"|wir\s+wünschen\s+ihnen\b[^.!?\d]{0,50}|viel\s+spaß\s+(?:mit|damit)\b[^.!?\d]{0,30}"
    r"|bei\s+fragen\b[^.!?\d]{0,50}|bonne\s+(?:journée|soirée)"
    r"|n['\u2019]hésitez\s+pas\b[^.!?\d]{0,60}|nous\s+espérons\b[^.!?\d]{0,50}"
    r"|esperamos\s+que\b[^.!?\d]{0,40}|que\s+lo\s+disfrute[^.!?\d]{0,20}"
    r"|si\s+tienes?\s+(?:cualquier|alguna)\s+(?:duda|pregunta)\b[^.!?\d]{0,50}"
    r"|speriamo\s+che\b[^.!?\d]{0,40}|per\s+qualsiasi\s+(?:domanda|dubbio)\b[^.!?\d]{0,50}"
    r"|siamo\s+a\s+(?:tua|sua|vostra)\s+disposizione[^.!?\d]{0,20}|buona\s+giornata"
)
_GREETING = (r"(?:hi|hello|hey|dear|welcome|good\s+(?:morning|afternoon|evening)|hallo|liebe[rs]?|"
             r"sehr\s+geehrte[rs]?|bonjour|salut|cher|chère|hola|estimad[oa]|ciao|gentile|"
             r"buongiorno)(?:\s+[\w.'-]+){0,3}")
_CLOSING = (r"(?:best|kind|warm|many|with)?\s*(?:regards|wishes|greetings|thanks)|best|cheers|"
            r"sincerely|yours(?:\s+(?:truly|sincerely))?|take\s+care|all\s+the\s+best|"
            r"(?:mit\s+)?(?:freundlichen|besten|liebe)\s+grüßen?|lg|vg|mfg|cordialement|"
            r"bien\s+à\s+vous|saludos(?:\s+cordiales)?|un\s+saludo|cordiali\s+saluti|saluti|"
            r"met\s+vriendelijke\s+groet")
_ONE = rf"(?:{_THANKS}|{_HELP}|{_GREETING}|{_CLOSING})[\s,.!:;-]*"
# A sentence may string several together: "Welcome, and thank you for your order!"
_PLEASANTRY = re.compile(rf"{_ONE}(?:(?:and|und|et|y|e)\s+{_ONE})*", re.IGNORECASE)
_GRATEFUL = Gated(re.compile(rf"^(?:{_THANKS}|{_HELP})", re.IGNORECASE))
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+|(?<=,)\s+(?=[A-Z])")
_NAME_WORD = r"(?:[A-Z][\w'\u2019.-]*|&|and|the|team|von|van|de)"
_NAME = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}[\s,.!]*$")


def _pleasant(sentence: str) -> bool:
    return bool(_PLEASANTRY.fullmatch(sentence)) or bool(_NAME.match(sentence))


def judge(reading: Reading) -> str | None:
    text = reading.text or reading.subject
    if "?" in text or not _GRATEFUL.may_match(text):
        return None  # a question, or no sentence of it can thank (each is a part of it)
    sentences = [s.strip(" \t-*¡¿") for s in _SENTENCES.split(text)]
    sentences = [s for s in sentences if s.strip(" .!,")]
    if not sentences:
        return None
    if not any(_GRATEFUL.match(s) for s in sentences):
        return None
    return reason if all(_pleasant(s) for s in sentences) else None
