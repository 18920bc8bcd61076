"""Redact alone: the text rules over everything a reader sees (Subject, text, file names,
calendar invites), the HTML rules over HTML parts; each finding is noted, or refuses the
message when its rule says reject. What is on the platform stays byte for byte."""

from __future__ import annotations

import pytest
from support.parcels import parcel, parsed, rules, text, wire

from relay.errors import Reject
from relay.stages.redact import Redact

DOMAIN = "relay.example"
REMOVED = "[contact details removed]"


async def redacted(held, settings=None):
    await Redact(settings or rules(), DOMAIN)(held)
    return held


async def test_contact_details_are_replaced_and_each_kind_noted_once():
    body = ("Mail me at bob.buyer@gmail.com or bob@other.example, or call +44 7911 123456.\n"
            "Or see https://my-own-shop.example/deals\n")
    held = await redacted(parcel(text(body, subject="Call +44 7911 123456")))
    assert held.message.get_content() == (
        f"Mail me at {REMOVED} or {REMOVED}, or call {REMOVED}.\nOr see [link removed]\n")
    assert held.message["Subject"] == f"Call {REMOVED}"
    assert sorted(held.reasons) == ["contact.email", "contact.phone", "link.external"]


async def test_a_file_name_is_read_like_text():
    message = text("The list.\n")
    message.add_attachment(b"1\n", maintype="text", subtype="plain",
                           filename="call 07911 123456.txt")
    held = await redacted(parcel(message))
    assert next(held.message.iter_attachments()).get_filename() == f"call {REMOVED}.txt"
    assert held.reasons == ["contact.phone"]


async def test_a_rule_set_to_reject_refuses_whichever_finding_came_first():
    held = parcel(text("Tracking: https://my-own-shop.example/t, or call +44 7911 123456\n"))
    before = wire(held.message)
    with pytest.raises(Reject) as caught:
        await redacted(held, rules(contact_phone="reject"))
    assert caught.value.smtp_reply == (
        "550 5.7.1 contact.phone: the message contains a phone number; keep the conversation"
        " here")
    assert wire(held.message) == before


async def test_html_loses_scripts_and_trackers_and_an_empty_alternative_goes():
    message = text("The crack is on the left.\n")
    message.add_alternative('<img src="https://tracker.example/p.gif" width="1" height="1">'
                            "<script>document.location='https://x.example'</script>",
                            subtype="html")
    held = await redacted(parcel(message))
    assert [p.get_content_type() for p in held.message.walk()] == [
        "multipart/alternative", "text/plain"]
    assert sorted(held.reasons) == ["html.active", "image.tracker"]
    assert held.message.get_body().get_content() == "The crack is on the left.\n"


async def test_a_calendar_invite_is_scrubbed_property_by_property():
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
           "ORGANIZER;CN=Sally:mailto:sally.quill77@gmail.com\r\nGEO:51.5;-0.14\r\n"
           "LOCATION:12 Baker Street\\, London NW1 6XE\r\n"
           "SUMMARY:Pickup slot for order 112-1234567-1234567\r\n"
           "DTSTART:20261201T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    message = text("Pickup.\n")
    message.add_attachment(ics.encode(), maintype="text", subtype="calendar", filename="slot.ics")
    held = await redacted(parcel(message))
    invite = next(held.message.iter_attachments()).get_content()
    assert "sally.quill77" not in invite and "GEO" not in invite and "Baker" not in invite
    assert "SUMMARY:Pickup slot for order 112-1234567-1234567\r\n" in invite
    assert "DTSTART:20261201T100000Z\r\n" in invite and invite.startswith("BEGIN:VCALENDAR")
    assert sorted(held.reasons) == ["contact.address", "contact.email"]


async def test_what_is_on_the_platform_stays_byte_for_byte():
    body = ("Order 112-1234567-1234567 ships Monday; write to s1@relay.example\n"
            "Track it at https://www.ups.com/track?tracknum=1Z999AA10123456784 or\n"
            "https://relay.example/orders/112-1234567-1234567. Size 42, 3 pieces, 24.99 EUR.\n")
    message = text(body)
    message.add_alternative(f"<p>{body}</p>", subtype="html")
    held = parcel(message)
    before = wire(held.message)
    await redacted(held)
    assert held.reasons == []
    assert wire(held.message) == before


@pytest.mark.parametrize("after", [". Thanks, Bob\n", ".\nBest regards\n"])
async def test_an_alias_ending_a_sentence_stays_the_alias(after):
    """RewriteAddresses runs first: a party's own address there is its alias by now."""
    body = f"You can also write to me at s1@relay.example{after}"
    held = await redacted(parcel(text(body)))
    assert (held.message.get_content(), held.reasons) == (body, [])


async def test_lines_ended_by_crlf_on_the_wire_read_as_lines_and_stay_crlf():
    # An address broken before its "@" is one address whether the part's lines end in
    # "\n" or, as they arrive by SMTP, in "\r\n"; the edited part keeps CRLF.
    raw = (b"From: b@example.com\r\nSubject: invoice\r\nContent-Type: text/plain\r\n\r\n"
           b"Send the invoice to anneke_b.za74\r\n@telkomsa.net please.\r\nBye\r\n")
    held = await redacted(parcel(parsed(raw)))
    body = wire(held.message).split(b"\r\n\r\n", 1)[1]
    assert body == f"Send the invoice to {REMOVED} please.\r\nBye\r\n".encode()
    assert held.reasons == ["contact.email"]
