"""Bank files in, one neutral statement model out (`o2c.domain.bank`).

`parse_file` picks the reader from the content (or the format named) and rejects a bad file
whole with a `BankFileError` saying which file, where and why."""

from __future__ import annotations

from o2c.domain.bank import BankFileError, StatementFile

FORMATS = ("camt", "mt940", "ofx", "csv")


def detect(content: bytes) -> str:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"urn:iso:std:iso:20022:tech:xsd:" in head:
        return "camt"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        if b"<OFX" in content[:8192].upper():
            return "ofx"
        return "camt"  # other XML: the camt reader says why it is not a statement
    if b"OFXHEADER" in head[:200]:
        return "ofx"
    if b":20:" in head and (b":25:" in head or b":60F:" in head or b":60M:" in head):
        return "mt940"
    return "csv"


def parse_file(content: bytes, filename: str, format: str | None = None,
               csv_profile: str | None = None) -> StatementFile:
    kind = (format or detect(content)).lower()
    if kind.startswith("camt"):
        from o2c.adapters.bank import camt

        return camt.parse(content, filename)
    if kind in ("mt940", "mt-940", "swift"):
        from o2c.adapters.bank import mt940

        return mt940.parse(content, filename)
    if kind == "ofx":
        from o2c.adapters.bank import ofx

        return ofx.parse(content, filename)
    if kind == "csv":
        from o2c.adapters.bank import csv as csv_reader

        return csv_reader.parse(content, filename, csv_profile)
    raise BankFileError(filename, "", f"unknown format '{kind}'; use one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "BankFileError", "detect", "parse_file"]
