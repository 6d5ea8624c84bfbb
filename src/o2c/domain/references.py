"""ISO 11649 structured creditor references ("RF" references) for remittance information."""

from __future__ import annotations

import re

_ALNUM = re.compile(r"[^0-9A-Z]")


def _to_digits(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def creditor_reference(base: str) -> str:
    """RF + two check digits + `base` (up to 21 alphanumerics), compact form.

    The check digits make `base + "RF" + check` congruent to 1 modulo 97 (ISO 7064 MOD 97-10).
    """
    body = _ALNUM.sub("", base.upper())
    if not body:
        raise ValueError("a creditor reference needs at least one letter or digit")
    if len(body) > 21:
        raise ValueError(f"creditor reference body {body!r} is longer than 21 characters")
    check = 98 - int(_to_digits(body + "RF00")) % 97
    return f"RF{check:02d}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    compact = _ALNUM.sub("", reference.upper())
    if not compact.startswith("RF") or not 5 <= len(compact) <= 25:
        return False
    rearranged = compact[4:] + compact[:4]
    return int(_to_digits(rearranged)) % 97 == 1


def format_creditor_reference(reference: str) -> str:
    """Print form in groups of four: RF18 5390 0754 7034."""
    compact = _ALNUM.sub("", reference.upper())
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
