"""The messaging rules over SMTP, end to end: what the reader's inbox gets, what the author's
client is told, and what the record keeps."""

from __future__ import annotations

import html
import json
import re
from email import policy
from email.message import EmailMessage

import pytest
from conftest import BUYER, DATA, SELLER, compose, send
from support.record import assert_never_queued

from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

MARKER = "[contact details removed]"


async def last_record(relay, conv) -> dict:
    return (await records.summaries(relay.store, conv.id))[-1]


async def delivered(relay, capture, data: bytes, sender: str, alias: str):
    code, reply = await send(relay.smtp_port, sender, alias, data)
    assert code == 250, reply
    return (await capture.wait_for(1))[0]


def alternative(sender: str, to: str, text: str, markup: str, subject: str = "Your order",
                **headers: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    msg.add_alternative(markup, subtype="html")
    return msg.as_bytes()


def visible(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


@pytest.mark.parametrize(("body", "secret", "code"), [
    ("Mail me: sally.shop42@gmail.com", "sally.shop42", "contact.email"),
    ("sally dot shop42 at gmail dot com", "shop42", "contact.email"),
    # Full-width letters: what NFKC folds to "sally@gmail.com".
    ("\uff53\uff41\uff4c\uff4c\uff59\uff20\uff47\uff4d\uff41\uff49\uff4c\uff0e\uff43\uff4f\uff4d",
     "\uff53\uff41\uff4c\uff4c\uff59", "contact.email"),
    ("sal\u200bly&#64;gmail.com", "gmail.com", "contact.email"),
    ("Call me on +49 176 12345678 after six", "12345678", "contact.phone"),
    ("four one five five five five two six seven one", "four one five", "contact.phone"),
    ("Send it to 221B Baker Street, London NW1 6XE", "Baker Street", "contact.address"),
    ("my insta is @sally_shop", "@sally_shop", "contact.social"),
    ("Ping me at t.me/sallyshop", "t.me/sallyshop", "contact.social"),
    ("Cheaper at www.sallyshop.com", "sallyshop.com", "link.external"),
    ("Photos: http://photos.example/abc", "photos.example", "link.external"),
])
async def test_contact_details_are_redacted_in_both_directions(relay, conv, capture, body,
                                                               secret, code):
    for sender, alias in ((BUYER, conv.seller_alias), (SELLER, conv.buyer_alias)):
        capture.messages.clear()
        text = f"About the blue mug. {body}. Thanks, and where is it?\n"
        got = await delivered(relay, capture, compose(sender, alias, body=text), sender, alias)
        content = got.message.get_content()
        assert secret not in content
        marker = "[link removed]" if code == "link.external" else MARKER
        assert marker in content and content.startswith("About the blue mug.")
        row = await last_record(relay, conv)
        assert (row["disposition"], row["reasons"]) == ("delivered_redacted", [code])


async def test_subject_and_file_names_are_redacted_too(relay, conv, capture):
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"] = BUYER, conv.seller_alias
    msg["Subject"] = "Call 0176 12345678 about order 112-1234567-1234567"
    msg.set_content("The invoice is attached; is the VAT on it right?\n")
    msg.add_attachment((DATA / "invoice.pdf.bin").read_bytes(), maintype="application",
                       subtype="pdf", filename="invoice sally.shop42@gmail.com.pdf")
    got = await delivered(relay, capture, msg.as_bytes(), BUYER, conv.seller_alias)
    assert got.message["Subject"] == f"Call {MARKER} about order 112-1234567-1234567"
    attachment = got.message.get_payload()[1]
    assert attachment.get_filename() == f"invoice {MARKER}.pdf"
    assert b"12345678" not in got.data and b"shop42" not in got.data


async def test_on_platform_details_survive_untouched(relay, conv, capture):
    body = (f"Write to {conv.seller_alias} or track it at"
            " https://www.ups.com/track?tracknum=1Z999AA10123456784 . Order 112-1234567-1234567,"
            " $24.99, 26.11.2026 14:30, 32x40 cm, ISBN 978-3-16-148410-0.\n")
    got = await delivered(relay, capture, compose(BUYER, conv.seller_alias, body=body), BUYER,
                          conv.seller_alias)
    assert got.message.get_content().replace("\r\n", "\n") == body
    assert (await last_record(relay, conv))["disposition"] == "delivered"


@pytest.mark.parametrize("name", ["marketing_newsletter", "transactional_shipping",
                                  "outlook_reply", "gmail_reply", "active_content",
                                  "plain_order_question"])
async def test_realistic_html_keeps_its_text_and_loses_its_trackers(relay, relay_factory,
                                                                    capture, tmp_path, name):
    from conftest import make_config, open_conv

    from relay.config import RulesSettings

    # Promotions and confirmations are refused by default; here only the HTML rules count.
    config = make_config(tmp_path / "h", capture.port)
    rules = RulesSettings(marketplace_domain="marketplace.example", content_promotion="off",
                          content_confirmation="off", content_thanks_only="off",
                          content_review_request="off")
    relay = await relay_factory(config.replace(rules=rules))
    conv = await open_conv(relay)
    source = (DATA / "html" / f"{name}.html").read_text(encoding="utf-8")
    spec = json.loads((DATA / "html" / f"{name}.json").read_text(encoding="utf-8"))
    data = alternative(SELLER, conv.buyer_alias, "See the HTML part.", source)
    got = await delivered(relay, capture, data, SELLER, conv.buyer_alias)
    parts = {p.get_content_type(): p for p in got.message.walk()}
    markup = parts["text/html"].get_content()
    shown = visible(markup)
    for phrase in spec["keep"]:
        assert phrase in shown or phrase in visible(re.sub(r"<[^>]+>", "", markup)), phrase
    for gone in spec["gone"]:
        assert gone.lower() not in markup.lower(), gone
    assert not re.search(r"<img[^>]+src=\"(?!cid:)", markup)  # no remote image of any kind
    assert not re.search(r"\son\w+=|<script|<iframe|<form|<style|url\(", markup, re.I)


async def test_html_tracker_removal_is_recorded(relay, conv, capture):
    markup = ('<p>Your parcel <img src="https://trk.example/o.gif" width="1" height="1">'
              ' left today.<script>x()</script></p><a href="https://shop.example/more">More</a>')
    data = alternative(BUYER, conv.seller_alias, "Your parcel left today.", markup,
                       subject="Where is it?")
    got = await delivered(relay, capture, data, BUYER, conv.seller_alias)
    assert b"trk.example" not in got.data and b"shop.example" not in got.data
    row = await last_record(relay, conv)
    assert set(row["reasons"]) == {"html.active", "image.tracker", "link.external"}


async def test_an_html_part_left_empty_still_delivers_the_text(relay, conv, capture):
    markup = '<img src="https://cdn.example/banner.png"><script>track()</script>'
    data = alternative(BUYER, conv.seller_alias, "Is the lamp still available in blue?", markup)
    got = await delivered(relay, capture, data, BUYER, conv.seller_alias)
    types = [p.get_content_type() for p in got.message.walk() if not p.is_multipart()]
    assert types == ["text/plain"]
    assert "still available in blue" in got.message.get_body(("plain",)).get_content()


async def test_emojis_are_stripped_from_subject_text_and_html(relay, conv, capture):
    data = alternative(BUYER, conv.seller_alias,
                       "Is it blue \U0001F499? Size 42 \U0001F44D\U0001F3FD",
                       "<p>Is it blue \U0001F499? Sony\u00ae headphones \U0001F1E9\U0001F1EA</p>",
                       subject="Colour \u2764\ufe0f question")
    got = await delivered(relay, capture, data, BUYER, conv.seller_alias)
    text = got.message.get_body(("plain",)).get_content()
    markup = got.message.get_body(("html",)).get_content()
    assert got.message["Subject"] == "Colour question"  # a header keeps no run of spaces
    assert text.rstrip() == "Is it blue ? Size 42"
    assert "Sony\u00ae headphones" in markup and "\U0001F1E9" not in markup
    assert "style.emoji" in (await last_record(relay, conv))["reasons"]


@pytest.mark.parametrize(("sender", "subject", "body", "headers", "code"), [
    (SELLER, "Special offer", "Use code SAVE20 for 20% off your next order!", {},
     "content.promotion"),
    (SELLER, "News", "Our autumn collection is in.", {"List-Unsubscribe": "<mailto:u@x.example>"},
     "content.promotion"),
    (SELLER, "Thank you!",
     "Thank you for your order! We hope you enjoy it.\n\nBest regards,\nSally", {},
     "content.thanks_only"),
    (SELLER, "A favour", "Please leave us a 5-star review if you are happy!", {},
     "content.review_request"),
    (SELLER, "Your order has shipped", "Your order has been shipped and is on its way.", {},
     "content.confirmation"),
])
async def test_prohibited_messages_are_refused_with_the_reason(relay, conv, capture, sender,
                                                               subject, body, headers, code):
    alias = conv.buyer_alias if sender == SELLER else conv.seller_alias
    data = compose(sender, alias, subject=subject, body=body, **headers)
    got_code, reply = await send(relay.smtp_port, sender, alias, data)
    assert (got_code, reply.split(":")[0]) == (550, f"5.7.1 {code}")
    assert len(reply) > len(code) + 20  # a reason a person can read
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", [code])
    await assert_never_queued(relay, row["id"])
    assert capture.messages == []


@pytest.mark.parametrize(("sender", "body"), [
    (BUYER, "Thank you, but the item arrived broken. Can I get a replacement?"),
    (SELLER, "You can return it within 30 days; the label is attached."),
])
async def test_near_misses_are_delivered(relay, conv, capture, sender, body):
    alias = conv.buyer_alias if sender == SELLER else conv.seller_alias
    got = await delivered(relay, capture, compose(sender, alias, body=body), sender, alias)
    assert got.message.get_content().strip() == body


async def test_a_shipping_answer_is_a_reply_only_to_a_real_question(relay, conv, capture):
    question = compose(BUYER, conv.seller_alias, body="Has it shipped yet?")
    asked = await delivered(relay, capture, question, BUYER, conv.seller_alias)
    answer = "Yes, your order has been shipped yesterday, tracking 1Z999AA10123456784."
    made_up = compose(SELLER, conv.buyer_alias, body=answer,
                      In_Reply_To="<made-up@seller-host.example>")
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias, made_up)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 content.confirmation")
    real = compose(SELLER, conv.buyer_alias, body=answer, In_Reply_To=asked.message["Message-ID"])
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias, real)
    assert code == 250, reply
    got = (await capture.wait_for(2))[1]
    assert got.message.get_content().strip() == answer


async def test_a_removed_gif_takes_its_inline_image_with_it(relay, conv, capture):
    import samples

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = BUYER, conv.seller_alias, "The crack"
    msg.set_content("The crack is on the left side.")
    msg.add_alternative('<p>The crack:<img src="cid:gif1@x"> and <img src="cid:png1@x"></p>',
                        subtype="html")
    html_part = msg.get_payload()[1]
    html_part.add_related(samples.gif(), "image", "gif", cid="<gif1@x>")
    html_part.add_related(samples.png(), "image", "png", cid="<png1@x>")
    got = await delivered(relay, capture, msg.as_bytes(), BUYER, conv.seller_alias)
    markup = got.message.get_body(("html",)).get_content()
    kinds = [p.get_content_type() for p in got.message.walk()]
    assert "image/gif" not in kinds and "image/png" in kinds
    assert markup.count("<img") == 1  # the PNG's, its link renamed with its Content-ID
    png = next(p for p in got.message.walk() if p.get_content_type() == "image/png")
    assert f'cid:{png["Content-ID"].strip("<>")}' in markup


async def test_an_out_of_office_with_precedence_bulk_is_no_newsletter(relay, conv, capture):
    data = compose(SELLER, conv.buyer_alias, subject="Out of office",
                   body="I am away until Monday 30 November and will answer then.",
                   Auto_Submitted="auto-replied", Precedence="bulk")
    got = await delivered(relay, capture, data, SELLER, conv.buyer_alias)
    assert "away until Monday" in got.message.get_content()
    assert (await last_record(relay, conv))["reasons"] == ["auto_reply"]
