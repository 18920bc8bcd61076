"""The [rules] section: validated at load time, and each action switch honoured over SMTP."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import BUYER, SELLER, compose, make_config, open_conv, send

from relay.config import Config, RulesSettings, load
from relay.errors import ConfigError
from relay.rules.carriers import CARRIER_HOSTS
from relay.rules.text import allowed_hosts
from relay.store import records

# The rule keys and the actions each may take (the first is the default).
ACTIONS = {
    "contact_email": ("redact", "reject", "off"),
    "contact_phone": ("redact", "reject", "off"),
    "contact_address": ("redact", "reject", "off"),
    "contact_social": ("redact", "reject", "off"),
    "link_external": ("redact", "reject", "off"),
    "image_tracker": ("strip", "reject", "off"),
    "html_active": ("strip", "reject"),
    "style_emoji": ("strip", "reject", "off"),
    "attachment": ("reject", "strip", "off"),
    "content_confirmation": ("reject", "off"),
    "content_thanks_only": ("reject", "off"),
    "content_promotion": ("reject", "off"),
    "content_review_request": ("reject", "off"),
}
CARRIERS = ("ups.com", "fedex.com", "usps.com", "dhl.com", "dhl.de", "royalmail.com", "dpd.com",
            "dpd.co.uk", "dpd.de", "evri.com", "myhermes.co.uk", "myhermes.de", "hermesworld.com",
            "postnl.nl", "japanpost.jp", "kuronekoyamato.co.jp", "sagawa-exp.co.jp", "laposte.fr",
            "colissimo.fr", "chronopost.fr", "correos.es", "poste.it", "brt.it", "ctt.pt",
            "correios.com.br", "postnord.se", "postnord.dk", "posten.no", "bring.no", "inpost.pl",
            "pocztex.pl", "poczta-polska.pl", "gls-group.eu", "gls-group.com", "bpost.be",
            "post.ch", "post.at", "parcelforce.com", "canadapost-postescanada.ca",
            "auspost.com.au", "epost.go.kr", "cjlogistics.com", "sf-express.com", "dhl.nl",
            "dhl.fr", "dhl.es", "dhl.it", "dhl.co.uk", "tnt.com", "yodel.co.uk",
            "postnord.com", "yurticikargo.com", "araskargo.com.tr", "mngkargo.com.tr",
            "ptt.gov.tr", "cainiao.com", "zto.com", "ems.com.cn", "hanjin.com",
            "lotteglogis.com", "seino.co.jp", "dhl.se", "dhl.pl")


def env_name(key: str) -> str:
    return f"RELAY_RULES_{key.upper()}"


def rules_file(tmp_path: Path, **values: object) -> Path:
    """A config file with only a [rules] table; values as TOML (JSON literals are valid TOML)."""
    lines = ["[rules]"] + [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = tmp_path / "relay.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config_error(path: Path | None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(path, env or {})
    message = str(info.value)
    assert "\n" not in message, message
    return message


# -- defaults --------------------------------------------------------------------------------


def test_defaults():
    rules = load(None, {}).rules
    assert rules == RulesSettings()
    assert {key: getattr(rules, key) for key in ACTIONS} == {
        key: allowed[0] for key, allowed in ACTIONS.items()}
    assert rules.phone_regions == ("US", "GB", "DE", "FR", "IN", "JP", "CA", "AU")
    assert rules.marketplace_domain == ""
    # The carriers of the first list stay; every region's posts and couriers joined them.
    assert rules.carrier_link_hosts is True and rules.allowed_link_hosts == ()
    hosts = allowed_hosts(rules, "relay.test")
    assert set(CARRIERS) <= set(hosts)
    assert {"thailandpost.co.th", "posti.fi", "israelpost.co.il", "vnpost.vn", "estafeta.com",
            "fancourier.ro", "posta.hu", "jne.co.id", "novaposhta.ua", "elta.gr",
            "emiratespost.ae", "indiapost.gov.in", "nzpost.co.nz"} <= set(hosts)
    assert all(re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", h) for h in CARRIER_HOSTS)
    off = dataclasses.replace(rules, carrier_link_hosts=False, allowed_link_hosts=("x.example",))
    assert allowed_hosts(off, "relay.test") == ("relay.test", "", "x.example")
    assert rules.attachment_types == ("pdf", "png", "jpeg", "text", "office")
    assert (rules.attachment_max_total, rules.attachment_max_count) == (10_485_760, 5)


def test_empty_rules_table_gives_defaults(tmp_path):
    assert load(rules_file(tmp_path), {}) == Config()


# -- actions ---------------------------------------------------------------------------------

PAIRS = [(key, action) for key, allowed in ACTIONS.items() for action in allowed]


@pytest.mark.parametrize(("key", "action"), PAIRS, ids=[f"{k}={a}" for k, a in PAIRS])
def test_every_allowed_action_loads_from_file_and_env(tmp_path, key, action):
    assert getattr(load(rules_file(tmp_path, **{key: action}), {}).rules, key) == action
    assert getattr(load(None, {env_name(key): action}).rules, key) == action


@pytest.mark.parametrize("key", list(ACTIONS))
@pytest.mark.parametrize("bad", ["bogus", "REJECT", "", "block"])
def test_bad_action_in_file_names_the_key(tmp_path, key, bad):
    message = config_error(rules_file(tmp_path, **{key: bad}))
    assert message.startswith(f"rules.{key}:"), message
    assert repr(bad) in message
    # The message lists what is allowed.
    assert all(action in message for action in ACTIONS[key]), message


@pytest.mark.parametrize("key", list(ACTIONS))
def test_bad_action_from_env_names_the_key(key):
    message = config_error(None, {env_name(key): "bogus"})
    assert message.startswith(f"rules.{key}"), message
    assert "'bogus'" in message


def test_bad_action_from_env_names_the_variable():
    message = config_error(None, {"RELAY_RULES_CONTACT_EMAIL": "bogus"})
    assert message.startswith("rules.contact_email (from RELAY_RULES_CONTACT_EMAIL):"), message


def test_action_must_be_a_string(tmp_path):
    message = config_error(rules_file(tmp_path, contact_phone=1))
    assert message.startswith("rules.contact_phone:"), message


@pytest.mark.parametrize("source", ["file", "env"])
def test_html_active_has_no_off(tmp_path, source):
    if source == "file":
        message = config_error(rules_file(tmp_path, html_active="off"))
    else:
        message = config_error(None, {"RELAY_RULES_HTML_ACTIVE": "off"})
    assert message.startswith("rules.html_active"), message
    assert "'off'" in message


@pytest.mark.parametrize("key", ["content_confirmation", "content_thanks_only",
                                 "content_promotion", "content_review_request"])
@pytest.mark.parametrize("bad", ["redact", "strip"])
def test_content_rules_only_reject_or_off(tmp_path, key, bad):
    assert config_error(rules_file(tmp_path, **{key: bad})).startswith(f"rules.{key}:")


@pytest.mark.parametrize(("key", "bad"), [
    ("contact_email", "strip"), ("image_tracker", "redact"), ("style_emoji", "redact"),
    ("attachment", "redact"), ("html_active", "redact"),
])
def test_actions_of_another_rule_are_refused(tmp_path, key, bad):
    assert config_error(rules_file(tmp_path, **{key: bad})).startswith(f"rules.{key}:")


def test_unknown_rule_key_is_refused(tmp_path):
    assert config_error(rules_file(tmp_path, contact_fax="reject")).startswith(
        "rules.contact_fax: unknown setting")
    assert config_error(None, {"RELAY_RULES_CONTACT_FAX": "reject"}).startswith(
        "RELAY_RULES_CONTACT_FAX: unknown setting")


def test_rules_must_be_a_table(tmp_path):
    path = tmp_path / "relay.toml"
    path.write_text('rules = "strict"\n', encoding="utf-8")
    assert config_error(path).startswith("rules:")


# -- phone regions ---------------------------------------------------------------------------


def test_phone_regions_from_file(tmp_path):
    assert load(rules_file(tmp_path, phone_regions=["NL", "BE"]), {}).rules.phone_regions == (
        "NL", "BE")


@pytest.mark.parametrize(("value", "expected"), [
    ("US,GB", ("US", "GB")),
    (" US , GB ,DE", ("US", "GB", "DE")),
    ("JP", ("JP",)),
])
def test_phone_regions_from_env_are_comma_separated(value, expected):
    assert load(None, {"RELAY_RULES_PHONE_REGIONS": value}).rules.phone_regions == expected


def test_env_list_overrides_file(tmp_path):
    cfg = load(rules_file(tmp_path, phone_regions=["NL"]), {"RELAY_RULES_PHONE_REGIONS": "FR"})
    assert cfg.rules.phone_regions == ("FR",)


@pytest.mark.parametrize("region", ["XX", "UK", "USA", "ZZ"])
def test_unknown_region_is_refused(tmp_path, region):
    message = config_error(rules_file(tmp_path, phone_regions=["US", region]))
    assert message.startswith("rules.phone_regions:"), message
    assert repr(region) in message


def test_unknown_region_from_env_is_refused():
    message = config_error(None, {"RELAY_RULES_PHONE_REGIONS": "US,XX"})
    assert message.startswith("rules.phone_regions"), message
    assert "'XX'" in message


@pytest.mark.parametrize("toml", ["1", "true", '["US", 1]', "{ US = 1 }", "[[\"US\"]]"])
def test_phone_regions_must_be_a_list_of_strings(tmp_path, toml):
    path = tmp_path / "relay.toml"
    path.write_text(f"[rules]\nphone_regions = {toml}\n", encoding="utf-8")
    message = config_error(path)
    assert message.startswith("rules.phone_regions:"), message
    assert "expected a list of strings" in message


def test_phone_regions_as_a_toml_string_is_refused(tmp_path):
    message = config_error(rules_file(tmp_path, phone_regions="US"))
    assert message.startswith("rules.phone_regions:"), message
    assert "expected a list of strings" in message


# -- marketplace domain and link hosts -------------------------------------------------------


@pytest.mark.parametrize("value", ["shop.example", "marketplace.example.co.uk", "example", ""])
def test_marketplace_domain_accepts_dns_names(tmp_path, value):
    assert load(rules_file(tmp_path, marketplace_domain=value), {}).rules.marketplace_domain == (
        value)


@pytest.mark.parametrize("value", ["Shop.Example", "https://shop.example", "shop example",
                                   "shop.example/", "-shop.example", "shop..example",
                                   "*.shop.example"])
def test_marketplace_domain_rejects_other_text(tmp_path, value):
    message = config_error(rules_file(tmp_path, marketplace_domain=value))
    assert message.startswith("rules.marketplace_domain:"), message
    assert repr(value) in message


def test_marketplace_domain_from_env():
    assert load(None, {"RELAY_RULES_MARKETPLACE_DOMAIN": "shop.example"}).rules \
        .marketplace_domain == "shop.example"
    assert config_error(None, {"RELAY_RULES_MARKETPLACE_DOMAIN": "Shop.Example"}).startswith(
        "rules.marketplace_domain")


def test_allowed_link_hosts(tmp_path):
    cfg = load(rules_file(tmp_path, allowed_link_hosts=["track.example", "ups.com"]), {})
    assert cfg.rules.allowed_link_hosts == ("track.example", "ups.com")
    cfg = load(None, {"RELAY_RULES_ALLOWED_LINK_HOSTS": "a.example,b.example"})
    assert cfg.rules.allowed_link_hosts == ("a.example", "b.example")
    message = config_error(rules_file(tmp_path, allowed_link_hosts=["ups.com", "UPS.com"]))
    assert message.startswith("rules.allowed_link_hosts:"), message
    assert "'UPS.com'" in message
    assert config_error(rules_file(tmp_path, allowed_link_hosts="ups.com;fedex.com")).startswith(
        "rules.allowed_link_hosts:")


# -- attachment types and limits -------------------------------------------------------------


@pytest.mark.parametrize("value", [["pdf"], ["office", "text"], [],
                                   ["pdf", "png", "jpeg", "text", "office"]])
def test_attachment_types_accepts_a_subset(tmp_path, value):
    assert load(rules_file(tmp_path, attachment_types=value), {}).rules.attachment_types == (
        tuple(value))


@pytest.mark.parametrize("bad", ["gif", "PDF", "zip", "exe", "docx", "jpg"])
def test_attachment_types_rejects_other_kinds(tmp_path, bad):
    message = config_error(rules_file(tmp_path, attachment_types=["pdf", bad]))
    assert message.startswith("rules.attachment_types:"), message
    assert repr(bad) in message


def test_attachment_types_from_env():
    cfg = load(None, {"RELAY_RULES_ATTACHMENT_TYPES": "pdf,png"})
    assert cfg.rules.attachment_types == ("pdf", "png")
    assert config_error(None, {"RELAY_RULES_ATTACHMENT_TYPES": "pdf,gif"}).startswith(
        "rules.attachment_types")


def test_attachment_limits(tmp_path):
    cfg = load(rules_file(tmp_path, attachment_max_total=2048, attachment_max_count=1), {})
    assert (cfg.rules.attachment_max_total, cfg.rules.attachment_max_count) == (2048, 1)
    cfg = load(None, {"RELAY_RULES_ATTACHMENT_MAX_TOTAL": "4096",
                      "RELAY_RULES_ATTACHMENT_MAX_COUNT": "3"})
    assert (cfg.rules.attachment_max_total, cfg.rules.attachment_max_count) == (4096, 3)


@pytest.mark.parametrize(("key", "value"), [
    ("attachment_max_total", 0), ("attachment_max_total", -1), ("attachment_max_count", 0),
    ("attachment_max_count", 1.5), ("attachment_max_count", "five"),
])
def test_attachment_limits_must_be_positive_integers(tmp_path, key, value):
    assert config_error(rules_file(tmp_path, **{key: value})).startswith(f"rules.{key}:")


def test_type_error_from_env_names_the_variable():
    message = config_error(None, {"RELAY_RULES_ATTACHMENT_MAX_COUNT": "many"})
    assert message.startswith(
        "rules.attachment_max_count (from RELAY_RULES_ATTACHMENT_MAX_COUNT):"), message


# -- the switches, end to end over SMTP ------------------------------------------------------

PHONE_BODY = "Please call me on +44 20 7946 0958 about the parcel.\n"
EMAIL_BODY = "You can also write to bob.private@example.net about the parcel.\n"
EMOJI_BODY = "The mug arrived with a cracked handle \U0001F61E can you send a new one?\n"
PROMO_BODY = "Use code SAVE20 for 20% off your next order\n"
IMG = "https://cdn.example/x.png"


async def start(relay_factory, capture, tmp_path, **rules):
    config = make_config(tmp_path, capture.port).replace(rules=RulesSettings(**rules))
    relay = await relay_factory(config)
    return relay, await open_conv(relay)


async def last_record(relay, conv) -> dict:
    rows = await records.summaries(relay.store, conv.id)
    assert rows, "nothing was recorded"
    return rows[-1]


async def delivered(relay, capture, sender: str, alias: str, data: bytes):
    code, reply = await send(relay.smtp_port, sender, alias, data)
    assert code == 250, reply
    return (await capture.wait_for(1))[0].message


async def refused(relay, conv, capture, sender: str, alias: str, data: bytes, code: str) -> None:
    got, reply = await send(relay.smtp_port, sender, alias, data)
    assert got == 550, (got, reply)
    assert reply.startswith(f"5.7.1 {code}: "), reply
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"], row["delivery"]) == ("rejected", [code], None)
    await asyncio.sleep(0.05)
    assert capture.messages == []


def text_of(msg) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return part.get_content()


def html_message(sender: str, to: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = "Photo of the damage"
    msg["Date"] = "Thu, 26 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<html-{id(msg)}@{sender.split('@')[1]}>"
    msg.set_content("The box arrived crushed, see the photo.\n")
    msg.add_alternative(f'<html><body><p>The box arrived crushed, see the photo.</p>'
                        f'<img src="{IMG}" width="400" height="300" alt="photo"></body></html>\n',
                        subtype="html")
    return msg.as_bytes(policy=policy.SMTP)


async def test_phone_is_refused_when_contact_phone_is_reject(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, contact_phone="reject")
    await refused(relay, conv, capture, BUYER, conv.seller_alias,
                  compose(BUYER, conv.seller_alias, body=PHONE_BODY), "contact.phone")


async def test_phone_is_redacted_by_default(relay, conv, capture):
    msg = await delivered(relay, capture, BUYER, conv.seller_alias,
                          compose(BUYER, conv.seller_alias, body=PHONE_BODY))
    text = text_of(msg)
    assert "7946" not in text, text
    assert "about the parcel" in text
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted", ["contact.phone"])


async def test_phone_passes_when_contact_phone_is_off(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, contact_phone="off")
    msg = await delivered(relay, capture, BUYER, conv.seller_alias,
                          compose(BUYER, conv.seller_alias, body=PHONE_BODY))
    assert "+44 20 7946 0958" in text_of(msg)


async def test_email_address_is_kept_when_contact_email_is_off(relay_factory, capture,
                                                               tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, contact_email="off")
    msg = await delivered(relay, capture, SELLER, conv.buyer_alias,
                          compose(SELLER, conv.buyer_alias, body=EMAIL_BODY))
    assert text_of(msg) == EMAIL_BODY.replace("\n", "\r\n")
    assert "contact.email" not in (await last_record(relay, conv))["reasons"]


async def test_email_address_is_redacted_by_default(relay, conv, capture):
    msg = await delivered(relay, capture, SELLER, conv.buyer_alias,
                          compose(SELLER, conv.buyer_alias, body=EMAIL_BODY))
    assert "bob.private@example.net" not in text_of(msg)
    assert "contact.email" in (await last_record(relay, conv))["reasons"]


def html_of(msg) -> str:
    part = msg.get_body(("html",))
    assert part is not None, "the HTML alternative is gone"
    return part.get_content()


async def test_remote_image_is_kept_when_image_tracker_is_off(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, image_tracker="off")
    msg = await delivered(relay, capture, SELLER, conv.buyer_alias,
                          html_message(SELLER, conv.buyer_alias))
    assert f'src="{IMG}"' in html_of(msg)
    assert "image.tracker" not in (await last_record(relay, conv))["reasons"]


async def test_remote_image_is_stripped_by_default(relay, conv, capture):
    msg = await delivered(relay, capture, SELLER, conv.buyer_alias,
                          html_message(SELLER, conv.buyer_alias))
    assert "cdn.example" not in msg.as_string()
    html = html_of(msg)
    assert "The box arrived crushed" in html
    row = await last_record(relay, conv)
    assert row["disposition"] == "delivered_redacted"
    assert "image.tracker" in row["reasons"]


async def test_emoji_is_kept_when_style_emoji_is_off(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, style_emoji="off")
    msg = await delivered(relay, capture, BUYER, conv.seller_alias,
                          compose(BUYER, conv.seller_alias, body=EMOJI_BODY))
    assert "\U0001F61E" in text_of(msg)
    assert "style.emoji" not in (await last_record(relay, conv))["reasons"]


async def test_emoji_is_stripped_by_default(relay, conv, capture):
    msg = await delivered(relay, capture, BUYER, conv.seller_alias,
                          compose(BUYER, conv.seller_alias, body=EMOJI_BODY))
    text = text_of(msg)
    assert "\U0001F61E" not in text
    assert "cracked handle" in text and "new one?" in text
    assert "style.emoji" in (await last_record(relay, conv))["reasons"]


async def test_promotion_is_refused_by_default(relay, conv, capture):
    await refused(relay, conv, capture, SELLER, conv.buyer_alias,
                  compose(SELLER, conv.buyer_alias, body=PROMO_BODY), "content.promotion")


async def test_promotion_passes_when_content_promotion_is_off(relay_factory, capture,
                                                              tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, content_promotion="off")
    msg = await delivered(relay, capture, SELLER, conv.buyer_alias,
                          compose(SELLER, conv.buyer_alias, body=PROMO_BODY))
    assert "Use code SAVE20 for 20% off your next order" in text_of(msg)
    assert "content.promotion" not in (await last_record(relay, conv))["reasons"]
