"""Identifiers for the demo's customers that pass the real checks: VAT ids with valid check
digits (IT, FR, ES, DE), Mexican RFCs, US EINs and IBANs, built from a seeded `Random`."""

from __future__ import annotations

import random
import string
import unicodedata

from schwifty import IBAN
from stdnum import luhn
from stdnum.es import cif
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.mx import rfc

# Valid EIN prefixes (IRS campus codes).
_EIN_PREFIXES = ("01", "10", "12", "20", "27", "30", "33", "41", "46", "52", "60", "74",
                 "80", "84", "91", "94")


def italian_vat_id(rng: random.Random) -> str:
    """Partita IVA: 7-digit number, 3-digit province office (001-100), Luhn check digit."""
    body = f"{rng.randint(1, 9_999_999):07d}{rng.randint(1, 100):03d}"
    return "IT" + body + luhn.calc_check_digit(body)


def french_vat_id(rng: random.Random) -> str:
    """TVA intracommunautaire: key (12 + 3 x (SIREN mod 97)) mod 97, then the SIREN, itself
    Luhn-checked."""
    base = f"{rng.randint(10_000_000, 99_999_999)}"
    siren = base + luhn.calc_check_digit(base)
    return f"FR{int(siren + '12') % 97:02d}{siren}"


def spanish_vat_id(rng: random.Random) -> str:
    """CIF of a company (A: S.A., B: S.L.): 7 digits and a numeric control digit."""
    letter = rng.choice("AB")
    digits = f"{rng.randint(0, 9_999_999):07d}"
    return "ES" + letter + digits + cif.calc_check_digits(letter + digits)[0]


def german_vat_id(rng: random.Random) -> str:
    """USt-IdNr.: 8 digits (not starting with 0) and an ISO 7064 MOD 11,10 check digit."""
    body = f"{rng.randint(1, 9)}{rng.randint(0, 9_999_999):07d}"
    return "DE" + body + mod_11_10.calc_check_digit(body)


def mexican_rfc(rng: random.Random, name: str) -> str:
    """RFC of a company: three letters of its name, its founding date, a homoclave and the
    check digit."""
    letters = [ch for ch in _ascii(name).upper() if ch.isalpha()]
    letters += ["X"] * 3
    founded = f"{rng.randint(85, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    homoclave = rng.choice("ABCDEFGHJKLMNPRSTUVW") + rng.choice("123456789ABCDEFGH")
    body = "".join(letters[:3]) + founded + homoclave
    return body + rfc.calc_check_digit(body)


_VOWELS = "AEIOU"
_MONTHS = "ABCDEHLMPRST"
_TOWNS = ("F257", "A944", "F205", "H501", "L219", "D612")  # Modena, Bologna, Milano ...


def _letters(word: str, first_name: bool) -> str:
    letters = [ch for ch in _ascii(word).upper() if ch.isalpha()]
    consonants = [ch for ch in letters if ch not in _VOWELS]
    if first_name and len(consonants) > 3:
        consonants = [consonants[0], consonants[2], consonants[3]]
    return "".join(consonants + [ch for ch in letters if ch in _VOWELS] + ["X"] * 3)[:3]


def codice_fiscale(rng: random.Random, first: str, last: str) -> str:
    """An Italian person's codice fiscale: surname and name letters, birth date, town of
    birth (Belfiore code) and the check letter."""
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    body = (_letters(last, False) + _letters(first, True) + f"{rng.randint(50, 99):02d}"
            + rng.choice(_MONTHS) + f"{day:02d}" + rng.choice(_TOWNS))
    return body + codicefiscale.calc_check_digit(body)


def office_code(rng: random.Random, length: int) -> str:
    """An SdI recipient code (7) or public administration office code (6)."""
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def us_ein(rng: random.Random) -> str:
    return f"{rng.choice(_EIN_PREFIXES)}-{rng.randint(0, 9_999_999):07d}"


def business_tax_id(country: str, rng: random.Random, name: str) -> str:
    if country == "IT":
        return italian_vat_id(rng)
    if country == "FR":
        return french_vat_id(rng)
    if country == "ES":
        return spanish_vat_id(rng)
    if country == "DE":
        return german_vat_id(rng)
    if country == "MX":
        return mexican_rfc(rng, name)
    if country == "US":
        return us_ein(rng)
    raise ValueError(f"the demo has no tax ids for {country}")


def iban(country: str, bank_code: str, rng: random.Random) -> str:
    """An IBAN at `bank_code` with a random account number of the right length."""
    lengths = {"IT": 12, "FR": 11, "ES": 10, "DE": 10}
    account = "".join(str(rng.randint(0, 9)) for _ in range(lengths[country]))
    return str(IBAN.generate(country, bank_code=bank_code, account_code=account).compact)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slug(text: str) -> str:
    """`Trattoria Da Mario S.r.l.` -> `trattoria-da-mario-srl`, for e-mail domains."""
    words = "".join(ch if ch.isalnum() else " " for ch in _ascii(text).lower()).split()
    # cut at 48 characters, never leaving a hyphen before the dot of the domain
    return "-".join(words)[:48].rstrip("-")
