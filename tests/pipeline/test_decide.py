"""The one decision step (relay.pipeline.decide) with a message in hand, and the stages that
report to it: the configured action, not the stage, says what a finding leads to."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from support.parcels import parcel, rules, text

from relay.errors import Reject
from relay.pipeline.decide import act
from relay.stages.attachments import CheckAttachments
from relay.stages.redact import Redact

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
       b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def with_gif() -> EmailMessage:
    message = text("A picture of the box.\n")
    message.add_attachment(GIF, maintype="image", subtype="gif", filename="box.gif")
    return message


@pytest.mark.parametrize("action, refused, noted, stripped", [
    ("reject", True, False, False), ("strip", False, True, True), ("off", False, False, False),
])
def test_act_follows_the_configured_action(action, refused, noted, stripped):
    held = parcel(text("hello\n"))
    calls = []
    try:
        act(held, rules(style_emoji=action), "style.emoji", "a GIF", strip=lambda: calls.append(1))
    except Reject as refusal:
        assert refused and refusal.code == "style.emoji"
        assert refusal.smtp_reply == "550 5.7.1 style.emoji: a GIF"
    else:
        assert not refused
    assert ("style.emoji" in held.reasons) == noted
    assert bool(calls) == stripped


async def test_redaction_refuses_only_when_the_rule_says_reject():
    body = "Write to me at bob.buyer@gmail.com please.\n"
    redacted = parcel(text(body))
    await Redact(rules(), "relay.example")(redacted)
    assert "bob.buyer@gmail.com" not in redacted.message.get_content()
    assert redacted.reasons == ["contact.email"]

    refused = parcel(text(body))
    with pytest.raises(Reject) as caught:
        await Redact(rules(contact_email="reject"), "relay.example")(refused)
    assert caught.value.code == "contact.email"
    assert "bob.buyer@gmail.com" in refused.message.get_content()  # nothing half-done kept


async def test_a_gif_is_stripped_or_refused_as_style_emoji_says():
    stripped = parcel(with_gif())
    await CheckAttachments(rules())(stripped)
    assert [p.get_content_type() for p in stripped.message.walk()] == [
        "multipart/mixed", "text/plain"]
    assert stripped.reasons == ["style.emoji"]

    with pytest.raises(Reject) as caught:
        await CheckAttachments(rules(style_emoji="reject"))(parcel(with_gif()))
    assert caught.value.code == "style.emoji" and '"box.gif"' in caught.value.reason
