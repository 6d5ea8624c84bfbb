"""Small helpers shared by the XML writers and readers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from o2c.domain.money import plain, round_amount

# Untrusted XML: no entities, no network, no huge trees.
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                              remove_blank_text=True)


class UntrustedXML(ValueError):
    pass


def parse_untrusted(data: bytes) -> etree._Element:
    """Parse without entities or network; a document type declaration is refused (e-invoices
    have none, and entities are the usual way in for XXE and billion-laughs)."""
    root = etree.fromstring(data, parser=SAFE_PARSER)
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise UntrustedXML("a DOCTYPE is not accepted in an e-invoice")
    return root


def amount(value: Decimal, currency: str) -> str:
    """An amount with the currency's decimals (never more than 2 for EN 16931)."""
    return format(round_amount(value, currency), "f")


def number(value: Decimal) -> str:
    """Quantities, prices and rates: exact, without exponent or trailing zeros."""
    return str(plain(value))


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def sub(parent: etree._Element, tag: str, text: str | None = None,
        **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # schematron rule id (BR-CO-15) or "XSD"
    flag: str  # fatal | warning | error
    message: str
    location: str = ""  # XPath of the failing node
    value: str = ""  # the text found there (truncated)

    @property
    def fields(self) -> list[str]:
        return re.findall(r"\b(?:BT|BG)-\d+\b", self.message)

    @property
    def path(self) -> str:
        """The location without namespace noise: /CrossIndustryInvoice[1]/..."""
        path = re.sub(r"\[namespace-uri\(\)='[^']*'\]", "", self.location).replace("*:", "")
        return re.sub(r"Q\{[^}]*\}", "", path)

    def __str__(self) -> str:
        where = f" at {self.path}" if self.location else ""
        value = f" (value {self.value!r})" if self.value else ""
        fields = f" [{', '.join(dict.fromkeys(self.fields))}]" if self.fields else ""
        return f"{self.rule}{fields}: {self.message}{where}{value}"
