"""Templates sent with `relay send`, and the review request, through the relay's pipeline."""

from __future__ import annotations

import asyncio
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import samples
from conftest import BUYER, DOMAIN, ROOT, SELLER, run_cli

from relay.marketplace import buyers
from relay.store import records

SHIPPED = ROOT / "relay" / "default_templates"


def config_file(relay, tmp_path: Path, templates: Path = SHIPPED) -> Path:
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\ntemplates = "{templates}"\n'
                   f'[store]\npath = "{relay.config.store.path}"\n')
    return cfg


async def cli(cfg: Path, *args: str):
    return await asyncio.to_thread(run_cli, "--config", str(cfg), *args)


def sample_values(template_id: str) -> list[str]:
    data = tomllib.loads((SHIPPED / f"{template_id}.toml").read_text(encoding="utf-8"))
    return [f"{v}=the 3rd of May" for v in data["variables"]]


@pytest.mark.parametrize("template_id", sorted(p.stem for p in SHIPPED.glob("*.toml")))
async def test_each_shipped_template_goes_through_every_rule(relay, conv, capture, tmp_path,
                                                             template_id):
    data = tomllib.loads((SHIPPED / f"{template_id}.toml").read_text(encoding="utf-8"))
    cfg = config_file(relay, tmp_path)
    args = ["send", "--conversation", conv.id, "--template", template_id]
    for var in sample_values(template_id):
        args += ["--var", var]
    if data["attachments"]:
        pdf = tmp_path / "document.pdf"
        pdf.write_bytes(samples.pdf())
        args += ["--attach", str(pdf)]
    result = await cli(cfg, *args)
    assert result.returncode == 0, result.stderr
    got = (await capture.wait_for(1))[0]
    assert got.rcpt_tos == [BUYER]
    subject = str(got.message["Subject"])
    assert conv.order_id in subject or conv.order_id in got.message.get_body(
        ("plain",)).get_content()
    assert subject.startswith("[Important]") == data["critical"]
    row = (await records.summaries(relay.store, conv.id))[-1]
    # Nothing redacted or stripped: the shipped texts keep the rules.
    assert row["disposition"] == "delivered", row["reasons"]


async def test_the_buyers_language_is_used_with_english_as_fallback(relay, conv, capture,
                                                                    tmp_path):
    from relay.marketplace import templates

    cfg = config_file(relay, tmp_path)
    template = templates.load_all(SHIPPED)["shipping_delay"]
    values = dict(v.split("=", 1) for v in sample_values("shipping_delay"))
    args = ["send", "--conversation", conv.id, "--template", "shipping_delay",
            *[a for v in sample_values("shipping_delay") for a in ("--var", v)]]
    for n, (locale, language) in enumerate((("de-DE", "de"), ("pt-BR", "en")), start=1):
        assert (await cli(cfg, "buyers", "set", BUYER, "--locale", locale)).returncode == 0
        assert (await cli(cfg, *args)).returncode == 0
        expected = templates.render(template, locale, conv.order_id, values)
        assert expected.language == language
        assert str((await capture.wait_for(n))[n - 1].message["Subject"]) == expected.subject


@pytest.mark.parametrize(("extra", "error"), [
    (["--var", "nonsense=1"], "has no variable nonsense"),
    ([], "needs --var"),
    (["--var", "new_date=3 May\r\nBcc: x@evil.example"], "no line breaks"),
    (["--var", "new_date=3 May\x01"], None),
])
async def test_bad_variables_are_refused(relay, conv, tmp_path, extra, error):
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "delay.toml").write_text(
        'id = "delay"\ntype = "delay"\ncritical = false\nmax_length = 200\n'
        'attachments = false\nvariables = ["new_date"]\n'
        '[text.en]\nsubject = "Order $order_id ships on $new_date"\n'
        'body = "Hello $buyer_name,\\nit ships on $new_date."\n')
    cfg = config_file(relay, tmp_path, templates)
    base = ["send", "--conversation", conv.id, "--template", "delay"]
    if extra and extra[0] == "--var" and extra[1].startswith("nonsense"):
        extra = ["--var", "new_date=3 May", *extra]
    result = await cli(cfg, *base, *extra)
    if error is None:  # a control character is not a line break: sent as text
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2 and error in result.stderr, result.stderr
    assert await records.summaries(relay.store, conv.id) == []  # nothing half-sent


async def test_attachments_only_where_the_template_allows(relay, conv, tmp_path):
    cfg = config_file(relay, tmp_path)
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(samples.pdf())
    args = ["send", "--conversation", conv.id, "--template", "shipping_delay", "--attach",
            str(pdf), *[a for v in sample_values("shipping_delay") for a in ("--var", v)]]
    result = await cli(cfg, *args)
    assert result.returncode == 2 and "does not allow attachments" in result.stderr


def days_ago(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


async def test_the_review_request_window_and_once_per_order(relay, conv, capture, tmp_path):
    cfg = config_file(relay, tmp_path)
    ask = ["review-request", "--conversation", conv.id]
    none = await cli(cfg, *ask)
    assert none.returncode == 2 and "no delivery date" in none.stderr
    for day, expected in ((4, "too early"), (31, "too late")):
        marked = await cli(cfg, "conversations", "delivered", conv.id, days_ago(day))
        assert marked.returncode == 0
        result = await cli(cfg, *ask)
        assert result.returncode == 2 and expected in result.stderr
    assert (await cli(cfg, "conversations", "delivered", conv.id, days_ago(10))).returncode == 0
    sent = await cli(cfg, *ask)
    assert sent.returncode == 0, sent.stderr
    got = (await capture.wait_for(1))[0]
    assert "review" in got.message.get_content() and got.rcpt_tos == [BUYER]
    row = (await records.summaries(relay.store, conv.id))[-1]
    assert (row["disposition"], row["reasons"]) == ("delivered", ["review_request.sent"])
    again = await cli(cfg, *ask)
    assert again.returncode == 2 and "already sent" in again.stderr


async def test_no_review_request_to_an_opted_out_buyer(relay, conv, tmp_path):
    cfg = config_file(relay, tmp_path)
    await buyers.set_optout(relay.store, BUYER, DOMAIN, True)
    assert (await cli(cfg, "conversations", "delivered", conv.id, days_ago(10))).returncode == 0
    result = await cli(cfg, "review-request", "--conversation", conv.id)
    assert result.returncode == 2 and "opted out" in result.stderr


async def test_a_seller_cannot_send_the_review_request_text_itself(relay, conv):
    from conftest import compose, send

    from relay.marketplace import review_request

    body = review_request.BODY.replace("$order_id", conv.order_id)
    data = compose(SELLER, conv.buyer_alias, subject="Your experience", body=body)
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias, data)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 content.review_request")


# invoice puts $invoice_number into its Subject.
@pytest.mark.parametrize(("args", "error"), [
    (["--var", "invoice_number=7", "--var", "order_id=[Important]"], "set by the relay"),
    (["--var", "invoice_number=[Important] 7"], "is not critical"),
    (["--var", "invoice_number=A\x0bB"], "no line breaks"),
    (["--var", "invoice_number=A\u2028B"], "no line breaks"),
])
async def test_variables_cannot_reach_past_the_template(relay, conv, tmp_path, args, error):
    cfg = config_file(relay, tmp_path)
    result = await cli(cfg, "send", "--conversation", conv.id, "--template", "invoice", *args)
    assert result.returncode == 2 and error in result.stderr, result.stderr


async def test_bad_input_is_one_line_and_exit_2(relay, conv, tmp_path):
    cfg = config_file(relay, tmp_path, templates=tmp_path / "missing")
    listed = await cli(cfg, "templates", "list")
    assert listed.returncode == 2 and listed.stderr.startswith("relay: config error: templates")
    cfg = config_file(relay, tmp_path)
    weird = tmp_path / "inv\nX-Evil: 1.pdf"
    weird.write_bytes(samples.pdf())
    attach = await cli(cfg, "send", "--conversation", conv.id, "--template", "invoice",
                       "--var", "invoice_number=7", "--attach", str(weird))
    assert attach.returncode == 2 and "file name" in attach.stderr
    future = await cli(cfg, "conversations", "delivered", conv.id, "9999-12-31")
    assert future.returncode == 2 and "future" in future.stderr
    far = await cli(cfg, "messages", "list", "--until", "9999-12-31")
    assert far.returncode == 2 and "out of range" in far.stderr
    nobody = await cli(cfg, "metrics", "response-time", "--seller", "nope")
    assert nobody.returncode == 2 and "not a valid e-mail address" in nobody.stderr
    for result in (listed, attach, future, far, nobody):
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


def test_arguments_that_are_no_utf8_are_refused():
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "relay.cli", "buyers", "show",
                             os.fsdecode(b"\xff@example.com")], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 2 and "valid UTF-8" in result.stderr


async def test_the_review_request_is_no_answer_to_the_buyer(relay, conv, capture, tmp_path):
    from conftest import compose, send

    from relay.marketplace import message_center

    cfg = config_file(relay, tmp_path)
    asked = compose(BUYER, conv.seller_alias, body="Does it come with a charger?")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, asked))[0] == 250
    assert (await cli(cfg, "conversations", "delivered", conv.id, days_ago(6))).returncode == 0
    assert (await cli(cfg, "review-request", "--conversation", conv.id)).returncode == 0
    waiting = await message_center.query(relay.store, message_center.Filters(
        seller=SELLER, needs_response=True))
    assert len(waiting) == 1 and waiting[0]["direction"] == "buyer_to_seller"
