"""Why the relay refused a seller's message, in plain words: the reason codes of the rules
(docs/rules.md) as sentences for the web page."""

from __future__ import annotations

SENTENCES = {
    "contact.email": "E-mail addresses are not allowed in messages. Keep the conversation"
                     " here.",
    "contact.phone": "Phone numbers are not allowed in messages. Keep the conversation here.",
    "contact.address": "Postal addresses are not allowed in messages. The buyer's address is"
                       " on the order page.",
    "contact.social": "Social media profiles, messenger names and chat links are not allowed"
                      " in messages.",
    "link.external": "Links are allowed only to the marketplace and to carriers' tracking"
                     " pages.",
    "image.tracker": "Remote images (which can track the reader) are not allowed.",
    "html.active": "Scripts, forms and other active content are not allowed.",
    "style.emoji": "Emojis and animated images are not allowed.",
    "content.confirmation": "A message that only confirms the order or its shipment is not"
                            " allowed: the marketplace sends those itself.",
    "content.thanks_only": "A message that only says thank you is not allowed. Write when"
                           " there is something the buyer needs to know.",
    "content.promotion": "Promotions, coupons, newsletters and offers of other products are"
                         " not allowed.",
    "content.review_request": "Asking for a review or feedback is not allowed: the"
                              " marketplace asks buyers itself.",
    "optout": "This buyer has opted out of messages that are not needed for the order. You"
              " can answer a question of theirs, or send a critical message with a template"
              " marked important.",
    "optout.critical_limit": "This buyer has opted out, and you have sent them as many"
                             " important messages as are allowed for now.",
    "alias.closed": "This conversation is closed: it takes no more messages.",
    "sender.unregistered": "Your address may not write in this conversation.",
    "mime.malformed": "The message could not be read. Check the attached files.",
    "mime.depth": "The message is nested too deeply to be checked.",
    "mime.parts": "The message has too many parts.",
    "mime.encrypted": "Encrypted messages cannot be checked, so they are not sent.",
    "mime.headers": "The message's header is too large.",
    "mime.header_count": "The message's header has too many fields.",
    "loop": "The message seems to be looping between mail systems.",
}
ATTACHMENTS = {
    "attachment.count": "Too many files are attached.",
    "attachment.size": "The attached files are too large together.",
}
ATTACHMENT = ("One of the attached files is not allowed. Files may be PDF, PNG, JPEG, plain"
              " text, or Office documents without macros.")
UNKNOWN = "The message was not sent: it does not meet the marketplace's messaging rules."


def sentence(code: str) -> str:
    if code in SENTENCES:
        return SENTENCES[code]
    if code.startswith("attachment."):
        return ATTACHMENTS.get(code, ATTACHMENT)
    return UNKNOWN


def detail(code: str, reply: str) -> str | None:
    """The relay's own words after the code, where they name the seller's file: "setup.exe"
    is an executable program. Other refusals say no more than the sentence."""
    if not code.startswith("attachment."):
        return None
    _, found, rest = reply.partition(f"{code}: ")
    return rest.strip() or None if found else None

REMOVED = {
    "contact.email": "an e-mail address", "contact.phone": "a phone number",
    "contact.address": "a postal address", "contact.social": "a social media contact",
    "link.external": "a link", "image.tracker": "a remote image",
    "html.active": "active content", "style.emoji": "emojis",
}


def removed(codes: list[str]) -> str | None:
    """What the rules took out of a message delivered in part, in words: "a phone number and
    a link"."""
    found = list(dict.fromkeys(
        REMOVED.get(c) or ("a file" if c.startswith("attachment.") else "")
        for c in codes))
    found = [f for f in found if f]
    if not found:
        return None
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
