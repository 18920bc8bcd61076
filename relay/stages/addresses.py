"""Address rewrite: From/Reply-To become the author's alias, To the reader's real address,
and every registered real address of either party in the Subject, a filename or a text part
becomes that party's alias (quoted replies and signatures carry them)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from email import policy
from email.headerregistry import Address, BaseHeader
from email.message import Message

from relay.marketplace.conversations import Conversation, Role, address_key, ascii_domain
from relay.message.header_line import FREE_TEXT, set_text
from relay.message.text_parts import edit_filenames, edit_text_parts
from relay.pipeline.parcel import Parcel

# What may not stand right before a match: characters that would make it a longer local
# part. ASCII only, so an address glued to CJK or accented text still matches; and not all
# of RFC 5322's atext, since '*bold*', quotes and URLs put punctuation right before it.
_BEFORE = r"A-Za-z0-9._%+-"
# Nor right after: a longer domain ("example.com.au"); a file name ends the strict way.
_AFTER_STRICT = r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
_AFTER_LOOSE = r"(?![A-Za-z0-9-])"


def spellings(address: str) -> set[str]:
    """The ways a registered address can be written: as registered and with its A-label domain."""
    local, _, domain = address.rpartition("@")
    return {address.lower(), f"{local.lower()}@{ascii_domain(domain)}"}


@functools.lru_cache(maxsize=1024)
def _pattern(parties: tuple[tuple[str, tuple[str, ...]], ...],
             loose_end: bool) -> tuple[re.Pattern[str], dict[str, str], bool]:
    """The pattern of a conversation's registered addresses, the alias of each, and whether
    a match needs an "@"; made once per conversation (parties: each role's alias and
    addresses), not per message."""
    aliases: dict[str, str] = {}
    forms: set[str] = set()
    for alias, addresses in parties:
        for address in addresses:
            aliases[address_key(address)] = alias
            forms |= spellings(address)
    # Longest first, so one address inside another is not cut in half.
    alternatives = "|".join(re.escape(a) for a in sorted(forms, key=len, reverse=True))
    after = _AFTER_LOOSE if loose_end else _AFTER_STRICT
    pattern = re.compile(rf"(?<![{_BEFORE}])(?:{alternatives}){after}", re.IGNORECASE)
    # Every form holds an "@" (which no other character matches, case-blind or not): a text
    # without one holds none of them.
    return pattern, aliases, bool(forms) and all("@" in form for form in forms)


def replacer(conv: Conversation, loose_end: bool = False) -> Callable[[str], str]:
    roles: tuple[Role, ...] = ("buyer", "seller")
    pattern, aliases, need_at = _pattern(
        tuple((conv.alias(role), tuple(conv.addresses(role))) for role in roles), loose_end)

    def replace(text: str) -> str:
        if need_at and "@" not in text:
            return text
        # A case-insensitive match that is not the same mailbox (U+0131 matches 'i') stays.
        return pattern.sub(lambda m: aliases.get(address_key(m.group(0)), m.group(0)), text)

    return replace


def _rewrite_headers(
    part: Message, replace: Callable[[str], str], in_name: Callable[[str], str]
) -> None:
    # The free-text fields; the scrub left no comments or x-parameters in the others.
    for name in FREE_TEXT:
        value = part.get(name)
        if value is not None and (new := replace(str(value))) != str(value):
            set_text(part, name, new)
    edit_filenames(part, in_name)  # "bob@mail.example.pdf" is the address plus ".pdf"
    if part.is_multipart():  # text between MIME parts is shown by some clients
        for attr in ("preamble", "epilogue"):
            if getattr(part, attr):
                setattr(part, attr, replace(getattr(part, attr)))


def display_name(role: str, order_id: str) -> str:
    return f"{role.capitalize()} of order {order_id}"


@functools.lru_cache(maxsize=4096)
def _made(name: str, value: str, addr_spec: str | None = None) -> BaseHeader:
    """The header object `message[name] = value` (or = Address(value, addr_spec=...)) stores,
    made once per conversation rather than parsed again for each of its messages. Header
    objects are immutable: one serves every message."""
    made = policy.SMTP.header_factory(
        name, value if addr_spec is None else Address(value, addr_spec=addr_spec))
    assert isinstance(made, BaseHeader)
    return made


class RewriteAddresses:
    name = "rewrite_addresses"

    async def __call__(self, parcel: Parcel) -> None:
        message = parcel.message
        conv = parcel.conversation
        replace = replacer(conv)
        in_name = replacer(conv, loose_end=True)
        for part in message.walk():  # forwarded messages have Subjects too
            _rewrite_headers(part, replace, in_name)
        edit_text_parts(message, lambda text, _subtype: replace(text), parcel.text_files)

        alias = parcel.author_alias
        for name in ("From", "To", "Reply-To"):
            del message[name]
        message["From"] = _made("From", display_name(parcel.author, conv.order_id), alias)
        # A plain string: Address() refuses the non-ASCII local parts SMTPUTF8 allows. One
        # with a line break is refused as storing it would.
        recipient = parcel.recipient
        message["To"] = recipient if len(recipient.splitlines()) > 1 else _made("To", recipient)
        message["Reply-To"] = _made("Reply-To", "", alias)
