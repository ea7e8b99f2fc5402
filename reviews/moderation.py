"""The automatic checks a review, question or answer passes before it is public. A text that
trips one is saved but held for staff (`ContentStatus.HELD`) with the reason; nothing is
refused outright, so a false positive costs a moderator's click, not a customer's words."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# a scheme, a www. host or a bare domain with a common top-level domain
_LINK = re.compile(
    r"(?:https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|io|ru|cn|biz|info|xyz|shop|top|link|ly)\b)",
    re.IGNORECASE,
)
# kept short and plain on purpose: a word list is a first filter, reports and staff do the rest
PROFANITY = frozenset(
    {"fuck", "fucking", "shit", "bullshit", "cunt", "asshole", "bitch", "motherfucker", "dick"}
)
_WORD = re.compile(r"[a-z]+")
# texts shorter than this are too common ("Great product!") to call repeated
REPEAT_MIN_CHARS = 40


def text_normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return " ".join("".join(c for c in folded if c.isalnum() or c.isspace()).split())


def text_fingerprint(*parts: str) -> str:
    """The hash of the normalised text, or '' when it is too short to call a repeat."""
    normalised = text_normalise(" ".join(parts))
    if len(normalised) < REPEAT_MIN_CHARS:
        return ""
    return hashlib.sha256(normalised.encode()).hexdigest()


def hold_reason(*parts: str) -> str:
    """Why the text must wait for a moderator ('' when it may be published)."""
    text = " ".join(parts)
    if _LINK.search(text):
        return "Contains a link"
    words = set(_WORD.findall(unicodedata.normalize("NFKD", text).casefold()))
    if words & PROFANITY:
        return "Contains profanity"
    return ""
