"""What text a document can carry. Every name, note and reference may end up in an XML
e-invoice or a PDF; XML 1.0 cannot hold control characters, lone surrogates or the
non-characters U+FFFE/U+FFFF, so such text is refused where it enters, not when a document
fails to render months later."""

from __future__ import annotations

import re

# Everything outside XML 1.0's Char production (tab, line feed and carriage return allowed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def unsafe_character(text: str) -> str | None:
    """The first character of `text` that no document can carry, or None."""
    found = _NOT_XML.search(text)
    return None if found is None else found.group()


def describe(character: str) -> str:
    return f"U+{ord(character):04X}"
