"""Address rewrite: From/Reply-To become the author's alias, To the reader's real address,
and every registered real address of either party in the Subject or a text part becomes
that party's alias (quoted replies and signatures carry them)."""

from __future__ import annotations

import re
from email.headerregistry import Address

from relay.conversations import Conversation
from relay.pipeline import Parcel
from relay.rewrite.text import edit_text_parts


def _pattern(conv: Conversation) -> tuple[re.Pattern[str], dict[str, str]]:
    aliases = {a.casefold(): conv.buyer_alias for a in conv.buyers}
    aliases.update({a.casefold(): conv.seller_alias for a in conv.sellers})
    # Longest first, so one address inside another is not cut in half.
    alternatives = "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
    # Not a piece of a longer address: no address characters or a further label around it.
    return re.compile(rf"(?<![\w.+%-])(?:{alternatives})(?![\w-]|\.\w)", re.IGNORECASE), aliases


def display_name(role: str, order_id: str) -> str:
    return f"{role.capitalize()} of order {order_id}"


class RewriteAddresses:
    name = "rewrite_addresses"

    async def __call__(self, parcel: Parcel) -> None:
        message = parcel.message
        conv = parcel.conversation
        pattern, aliases = _pattern(conv)

        def replace(text: str, _subtype: str = "plain") -> str:
            return pattern.sub(lambda m: aliases[m.group(0).casefold()], text)

        for part in message.walk():  # forwarded messages have Subjects too
            for name in ("Subject", "Content-Description"):
                value = part.get(name)
                if value is not None and replace(str(value)) != str(value):
                    part.replace_header(name, replace(str(value)))
            if part.is_multipart():  # text between MIME parts is shown by some clients
                for attr in ("preamble", "epilogue"):
                    if getattr(part, attr):
                        setattr(part, attr, replace(getattr(part, attr)))
        edit_text_parts(message, replace)

        alias = parcel.author_alias
        for name in ("From", "To", "Reply-To"):
            del message[name]
        message["From"] = Address(display_name(parcel.author, conv.order_id), addr_spec=alias)
        # A plain string: Address() refuses the non-ASCII local parts SMTPUTF8 allows.
        message["To"] = parcel.recipient
        message["Reply-To"] = Address(addr_spec=alias)
