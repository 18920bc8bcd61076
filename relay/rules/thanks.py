"""content.thanks_only: a message that says only thank you, enjoy, or "here to help".

Every sentence of the author's own words must be a pleasantry, a greeting, a closing or a
name, and one must thank or offer help. "Thank you, but the item arrived broken" has more
in it than thanks, so it is not thanks-only.
"""

from __future__ import annotations

import re

from relay.rules.reading import Reading

code = "content.thanks_only"
reason = ("a message that only says thank you is not allowed; write when there is something"
          " about the order to say")

_FOR = (r"(?:\s+(?:so|very)?\s*much)?(?:\s+(?:again|once\s+again))?(?:\s+for\s+(?:your|the|"
        r"choosing|shopping|being|a)\s*[\w\s'-]{0,40})?")
_THANKS = (
    rf"(?:many\s+|big\s+|huge\s+|a\s+big\s+)?(?:thank\s*(?:s|you)|thx|ty|tysm){_FOR}"
    r"|(?:we|i)\s+(?:really\s+|truly\s+)?(?:appreciate|value)\s+(?:your|you|the)\b[\w\s'-]{0,40}"
    r"|(?:vielen\s+|herzlichen\s+)?dank(?:e)?(?:\s+(?:schön|sehr|vielmals))?(?:\s+für\s+[\w\s]{0,40})?"
    r"|merci(?:\s+beaucoup)?(?:\s+pour\s+[\w\s'\u2019]{0,40})?"
    r"|(?:muchas\s+)?gracias(?:\s+por\s+[\w\s]{0,40})?"
    r"|grazie(?:\s+mille)?(?:\s+per\s+[\w\s']{0,40})?"
    r"|(?:hartelijk\s+)?bedankt(?:\s+voor\s+[\w\s]{0,40})?"
)
_HELP = (
    r"(?:we\s*(?:'re|\s+are)|i\s*(?:'m|\s+am))\s+(?:always\s+)?(?:here|happy|glad)\s+to\s+help\b.*"
    r"|(?:please\s+)?(?:do\s+not|don't|dont)\s+hesitate\s+to\s+(?:contact|reach|message|ask|get)\b.*"
    r"|(?:please\s+)?(?:let\s+(?:us|me)\s+know|feel\s+free\s+to\s+(?:contact|reach|message|ask))"
    r"\s*(?:if|should|whenever)\b.*"
    r"|(?:we|i)\s+hope\s+you\s+(?:enjoy|like|love|are\s+happy\s+with)\b.*"
    r"|enjoy\s+your\s+(?:new\s+)?[\w\s-]{0,30}"
    r"|happy\s+shopping|have\s+a\s+(?:great|nice|good|wonderful|lovely)\s+(?:day|week|weekend|"
    r"evening)(?:\s+ahead)?|(?:we\s+)?look(?:ing)?\s+forward\s+to\s+[\w\s]{0,40}"
    r"|it\s+(?:was|is)\s+a\s+pleasure\b.*|(?:we\s+)?(?:wish|wishing)\s+you\b.*"
    r"|viel\s+spaß\s+(?:mit|damit)\b.*|bei\s+fragen\b.*|bonne\s+(?:journée|soirée)"
    r"|n'hésitez\s+pas\b.*|que\s+lo\s+disfrute.*|buona\s+giornata"
)
_GREETING = (r"(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hallo|liebe[rs]?|"
             r"sehr\s+geehrte[rs]?|bonjour|salut|cher|chère|hola|estimad[oa]|ciao|gentile|"
             r"buongiorno)(?:\s+[\w.'-]+){0,3}")
_CLOSING = (r"(?:best|kind|warm|many|with)?\s*(?:regards|wishes|greetings|thanks)|best|cheers|"
            r"sincerely|yours(?:\s+(?:truly|sincerely))?|take\s+care|all\s+the\s+best|"
            r"(?:mit\s+)?(?:freundlichen|besten|liebe)\s+grüßen?|lg|vg|mfg|cordialement|"
            r"bien\s+à\s+vous|saludos(?:\s+cordiales)?|un\s+saludo|cordiali\s+saluti|saluti|"
            r"met\s+vriendelijke\s+groet")
_PLEASANTRY = re.compile(rf"(?:{_THANKS}|{_HELP}|{_GREETING}|{_CLOSING})[\s,.!:;-]*",
                         re.IGNORECASE)
_GRATEFUL = re.compile(rf"^(?:{_THANKS}|{_HELP})", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+|(?<=,)\s+(?=[A-Z])")
_NAME_WORD = r"(?:[A-Z][\w'\u2019.-]*|&|and|the|team|von|van|de)"
_NAME = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}}[\s,.!]*$")


def _pleasant(sentence: str) -> bool:
    return bool(_PLEASANTRY.fullmatch(sentence)) or bool(_NAME.match(sentence))


def judge(reading: Reading) -> str | None:
    text = reading.text or reading.subject
    sentences = [s.strip(" \t-*") for s in _SENTENCES.split(text)]
    sentences = [s for s in sentences if s.strip(" .!,")]
    if not sentences or "?" in text:
        return None
    if not any(_GRATEFUL.match(s) for s in sentences):
        return None
    return reason if all(_pleasant(s) for s in sentences) else None
