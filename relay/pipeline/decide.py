"""Decide, then act: a stage that finds something reports it here as a reason code and why;
this one step maps it, with the action the rules configure for that code, to what happens:

- reject: the message is refused (`Reject`: a 5xx naming the code and why);
- strip: the part is removed (the stage says how, `strip`), and the reason noted;
- redact: the stage has already replaced the text; the reason is noted;
- off: nothing.

Stages never choose between these themselves, so a rule's action means the same everywhere."""

from __future__ import annotations

from collections.abc import Callable

from relay.config import RulesSettings
from relay.errors import Reject
from relay.pipeline.parcel import Parcel


def act(parcel: Parcel, rules: RulesSettings, code: str, why: str,
        strip: Callable[[], None] | None = None) -> None:
    action = rules.action(code)
    if action == "reject":
        raise Reject(code, why)
    if action == "off":
        return
    if action == "strip" and strip is not None:
        strip()
    parcel.note(code)


def refuses(rules: RulesSettings, code: str) -> bool:
    """Whether a finding of `code` refuses the message (a stage that only refuses, such as
    the content rules, skips a rule that would not)."""
    return rules.action(code) == "reject"
