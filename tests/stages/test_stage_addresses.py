"""RewriteAddresses alone: From and Reply-To become the author's alias, To the reader's real
address; a registered address of either party, wherever a reader sees it, becomes that
party's alias. Other addresses are Redact's, and stay."""

from __future__ import annotations

from support.parcels import BUYER, SELLER, conversation, parcel, text

from relay.stages.addresses import RewriteAddresses

BUYER_ALIAS, SELLER_ALIAS = "b1@relay.example", "s1@relay.example"


async def rewritten(held):
    await RewriteAddresses()(held)
    assert held.reasons == []  # an alias for an address is no finding
    return held.message


async def test_the_envelope_headers_name_aliases_and_the_reader():
    message = await rewritten(parcel(text("Hello\n", From=f"Bob <{BUYER}>", To=SELLER_ALIAS,
                                          Reply_To="bob.private@example.org")))
    assert message["From"] == f"Buyer of order 112-1234567-1234567 <{BUYER_ALIAS}>"
    assert message["To"] == SELLER
    assert message["Reply-To"] == BUYER_ALIAS
    assert len(message.get_all("From")) == len(message.get_all("Reply-To")) == 1

    answer = await rewritten(parcel(text("Hi\n", From=SELLER), to="buyer"))
    assert answer["From"] == f"Seller of order 112-1234567-1234567 <{SELLER_ALIAS}>"
    assert (answer["To"], answer["Reply-To"]) == (BUYER, SELLER_ALIAS)


async def test_a_chosen_notification_address_is_the_one_written_to():
    held = parcel(text("Hello\n"))
    held.deliver_to = "orders@seller-desk.example"
    assert (await rewritten(held))["To"] == "orders@seller-desk.example"


async def test_registered_addresses_become_aliases_in_subject_body_and_file_names():
    message = text(f"Write to {BUYER.upper()} or to {SELLER}.\n", subject=f"From {BUYER}")
    message.add_attachment(b"1\n", maintype="text", subtype="plain", filename=f"{BUYER}.txt")
    message = await rewritten(parcel(message))
    assert message["Subject"] == f"From {BUYER_ALIAS}"
    assert message.get_body().get_content() == f"Write to {BUYER_ALIAS} or to {SELLER_ALIAS}.\n"
    assert next(message.iter_attachments()).get_filename() == f"{BUYER_ALIAS}.txt"


async def test_an_international_domain_matches_in_either_form():
    conv = conversation(buyers=("anna@bücher.example",))
    body = "Mail anna@bücher.example or anna@xn--bcher-kva.example\n"
    message = await rewritten(parcel(text(body), conv=conv, mail_from="anna@bücher.example"))
    assert message.get_content() == f"Mail {BUYER_ALIAS} or {BUYER_ALIAS}\n"


async def test_other_addresses_and_longer_ones_are_left_as_written():
    body = (f"Not mine: friend@example.org, x{BUYER}, {BUYER}.au, {SELLER}-shop.example\n")
    message = await rewritten(parcel(text(body)))
    assert message.get_content() == body


async def test_text_between_mime_parts_is_rewritten_too():
    message = text("See below.\n")
    message.add_attachment(b"1\n", maintype="text", subtype="plain", filename="a.txt")
    message.preamble = f"Sent by {SELLER}\n"
    message = await rewritten(parcel(message, to="buyer"))
    assert message.preamble == f"Sent by {SELLER_ALIAS}\n"
