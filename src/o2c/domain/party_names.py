"""Party names for matching payers to customers: one normal form (accents, case, dots,
abbreviations and legal forms) and a similarity that is the same on every run.

Pure standard library; the fuzzy scorer is passed in (the services give rapidfuzz's, in
`o2c.adapters.names`; `difflib_scorer` is the standard library's)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache

from o2c.domain.money import ZERO

# Legal forms, written without dots (normalise_name removes them first).
LEGAL_FORMS = frozenset({
    "gmbh", "ag", "kg", "ohg", "ug", "ev", "eg", "kgaa", "se", "sa", "sarl", "sas", "sasu",
    "eurl", "sci", "snc", "scs", "srl", "srls", "spa", "sapa", "scarl", "scrl",
    "sl", "slu", "sll", "scp", "bv", "nv", "vof", "cv", "ltd", "limited", "inc",
    "incorporated", "llc", "llp", "lp", "plc", "co", "corp", "corporation", "company", "cie",
    "oy", "oyj", "ab", "as", "asa", "aps", "kft", "zrt", "nyrt", "bt", "sro", "doo",
    "spzoo", "sadecv", "srldecv", "pty", "gbr", "kk", "lda",
    "unipessoal", "ltda", "the", "and", "und", "et", "y", "e"})
# Abbreviations written the same way whatever the payer's bank kept.
ABBREVIATIONS = {"fratelli": "flli", "frat": "flli", "f lli": "flli", "brothers": "bros",
                 "international": "intl", "internazionale": "intl", "industries": "ind",
                 "industrie": "ind", "industria": "ind", "compagnie": "cie", "societa": "soc",
                 "society": "soc", "societe": "soc", "sociedad": "soc", "gesellschaft": "ges",
                 "saint": "st", "sankt": "st", "santo": "st", "san": "st"}
_MULTI_FORMS = re.compile(r"\b(?:s\s?p\s?z\s?o\s?o|sa de cv|s de rl(?: de cv)?|s\s?a\s?s|"
                          r"s\s?p\s?a|s\s?r\s?l|s\s?n\s?c|s\s?a|b\s?v|n\s?v|f\s?lli)\b")


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """The one normal form of a party name for matching: accents and case folded, dots and
    punctuation gone, abbreviations written one way, legal forms and joining words dropped.
    "F.lli Rossi S.p.A." and "FRATELLI ROSSI SPA" both give "flli rossi"."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("ß", "ss").replace("&", " ").replace(".", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = _MULTI_FORMS.sub(lambda m: m.group(0).replace(" ", ""), text)
    words = [ABBREVIATIONS.get(w, w) for w in text.split()]
    kept = [w for w in words if w not in LEGAL_FORMS]
    return " ".join(kept or words)


NameScorer = Callable[[str, str], float]  # two normalised names -> similarity 0..100


def difflib_scorer(a: str, b: str) -> float:
    """The standard library's scorer (the services use rapidfuzz, `o2c.adapters.names`)."""
    return 100 * difflib.SequenceMatcher(None, a, b).ratio()


def name_similarity(a: str, b: str, scorer: NameScorer = difflib_scorer) -> Decimal:
    """How alike two party names are, 0..1 (two decimals). Numbers in the names must agree
    (branch or plant numbers tell customers apart); a payer name cut by the bank at 35
    characters is compared with the same length of the other."""
    na, nb = normalise_name(a), normalise_name(b)
    if not na or not nb:
        return ZERO
    if na == nb:
        return Decimal("1.00")
    digits_a = [w for w in na.split() if w.isdigit()]
    digits_b = [w for w in nb.split() if w.isdigit()]
    score = scorer(na, nb)
    if len(a.strip()) >= 30:  # perhaps cut by the bank at 35 characters: the last word too
        whole = na.rsplit(" ", 1)[0] if " " in na else na
        score = max(score, scorer(na, nb[: len(na)]) - 2, scorer(whole, nb[: len(whole)]) - 3)
    if digits_a != digits_b and not (len(a.strip()) >= 30 and not digits_a):
        score = min(score, 50.0)
    return Decimal(str(round(score / 100, 2)))


def similarity(a: str, b: str, scorer: NameScorer = difflib_scorer) -> Decimal:
    return name_similarity(a, b, scorer)


class NameIndex:
    """Customers by normalised name (exact hits are free) and by word: fuzzy matching only
    compares names sharing the query's rarest words, so it stays cheap with many customers.
    Deterministic: words and customers are visited in sorted order, never in set order."""

    def __init__(self, names: dict[int, str], scorer: NameScorer = difflib_scorer) -> None:
        self.names = names
        self.scorer = scorer
        self.exact: dict[str, list[int]] = {}
        self.by_token: dict[str, list[int]] = {}
        for customer_id in sorted(names):
            normal = normalise_name(names[customer_id])
            self.exact.setdefault(normal, []).append(customer_id)
            for token in sorted(set(normal.split())):
                self.by_token.setdefault(token, []).append(customer_id)

    def matches(self, name: str, floor: Decimal) -> list[tuple[int, Decimal]]:
        """The customers whose name is most like `name` (several when they tie), at or above
        `floor`; sorted by customer id."""
        normal = normalise_name(name)
        if not normal:
            return []
        exact = self.exact.get(normal)
        if exact is not None:
            return [(c, Decimal("1.00")) for c in exact]
        tokens = sorted(set(normal.split()))
        postings = sorted((len(self.by_token[t]), t) for t in tokens if t in self.by_token)
        if not postings:
            return []
        pool = set(self.by_token[postings[0][1]])
        for _, token in postings[1:]:
            if len(pool) <= 25:
                break
            narrower = pool.intersection(self.by_token[token])
            if not narrower:
                break
            pool = narrower
        if len(pool) > 200:
            return []
        scored = [(name_similarity(name, self.names[c], self.scorer), c) for c in sorted(pool)]
        top = max((s for s, _ in scored), default=ZERO)
        if top < floor:
            return []
        return [(c, s) for s, c in scored if s == top]

    def best(self, name: str, floor: Decimal) -> tuple[int, Decimal] | None:
        found = self.matches(name, floor)
        return found[0] if len(found) == 1 else None


