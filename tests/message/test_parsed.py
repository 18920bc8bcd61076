"""A message's header fields are parsed once per value (relay.message.parsed), and read as
the stdlib reads them."""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.parser import BytesParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from relay.message.header_line import set_value
from relay.message.parsed import parse

RAW = (b"From: Bob <bob@example.com>\r\nTo: alias@relay.test\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
       b"Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
       b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
       b"--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
       b"Content-Disposition: attachment; filename=\"a.pdf\"\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n")


def test_a_field_read_again_is_not_parsed_again():
    message = parse(RAW)
    assert message["Content-Type"] is message["Content-Type"]
    text, _ = message.get_payload()
    assert text["Content-Type"] is text["Content-Type"]
    # Every part shares the message's factory: the same value is one object.
    assert text.policy.header_factory is message.policy.header_factory


def test_what_is_read_is_what_the_stdlib_reads():
    ours, theirs = parse(RAW), BytesParser(policy=policy.SMTP).parsebytes(RAW)
    for mine, stdlib in zip(ours.walk(), theirs.walk(), strict=True):
        assert mine.get_content_type() == stdlib.get_content_type()
        assert mine.get_params() == stdlib.get_params()
        assert mine.get_filename() == stdlib.get_filename()
        assert mine.get_content_charset() == stdlib.get_content_charset()
        assert mine.get_payload(decode=True) == stdlib.get_payload(decode=True)
        for name, value in mine.items():
            assert (name, value) in list(stdlib.items())
    assert ours["Subject"] == "café"
    assert ours["From"].addresses == theirs["From"].addresses
    assert ours["Date"].datetime == theirs["Date"].datetime


def test_a_field_written_anew_is_read_anew():
    message = parse(RAW)
    assert message.get_content_type() == "multipart/mixed"
    set_value(message, "Content-Type", 'multipart/alternative; boundary="c"')
    assert message.get_content_type() == "multipart/alternative"
    message["Reply-To"] = Address(addr_spec="alias@relay.test")  # stored as given
    assert message["Reply-To"].addresses[0].addr_spec == "alias@relay.test"


def test_a_field_that_cannot_be_read_fails_at_every_read():
    message = parse(b"From: a@b.example\r\nContent-Disposition: attachment;"
                    b" filename*=undefined''x\r\n\r\nhi\r\n")
    for _ in range(2):  # mime_structure relies on it
        with pytest.raises(UnicodeError):
            message.get("Content-Disposition")


def test_common_mime_fields_are_parsed_once_for_every_message():
    one, two = parse(RAW), parse(RAW)
    assert one.get_payload()[0]["Content-Type"] is two.get_payload()[0]["Content-Type"]
    assert one["MIME-Version"] is two["MIME-Version"]
    # Not what names a person or a file, and not what varies from message to message.
    assert one["Subject"] is not two["Subject"] and one["From"] is not two["From"]
    pdf_one, pdf_two = one.get_payload()[1], two.get_payload()[1]
    assert pdf_one["Content-Type"] is not pdf_two["Content-Type"]
    assert pdf_one["Content-Transfer-Encoding"] is pdf_two["Content-Transfer-Encoding"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([
    "text/plain", "multipart/mixed", ";", " ", "charset=", "utf-8", '"', "boundary=", "b",
    "name=", "a.pdf", "*", "0", "*=", "utf-8''%41", "'", "=", "\\\\", "(c)", "é", "\t",
    "format=flowed", "NAME", "x"]), max_size=12).map("".join))
@example(";b*")  # the stdlib's own parser fails on it (IndexError in get_parameter)
def test_parameters_are_read_as_the_stdlib_reads_them(value):
    raw = (f"Content-Type: {value}\r\nContent-Disposition: {value}\r\n\r\nhi\r\n"
           .encode("utf-8", "surrogateescape"))
    try:
        theirs = BytesParser(policy=policy.SMTP).parsebytes(raw)
    except Exception as error:  # where the stdlib cannot parse it, ours fails the same way
        with pytest.raises(type(error)):
            parse(raw)
        return
    for _ in range(2):  # the second time from what was kept
        ours = parse(raw)

        def read(message, how):
            try:
                return how(message)
            except Exception as error:  # the same error, or the same value
                return type(error)

        for how in (lambda m: m.get_params(), lambda m: m.get_params(unquote=False),
                    lambda m: m.get_param("charset"), lambda m: m.get_filename(),
                    lambda m: m.get_boundary(), lambda m: m.get_content_charset(),
                    lambda m: m.get_params(header="content-disposition")):
            assert read(ours, how) == read(theirs, how)
