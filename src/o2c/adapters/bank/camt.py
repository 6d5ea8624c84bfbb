"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification) into the neutral
statement model.

Untrusted XML: parsed with entity resolution, DTD loading and network access off; a file that
declares a DOCTYPE is refused. A file whose version has a vendored XSD (camt.053 .02/.04/.08,
camt.054 .02/.08) is validated against it before anything is read; other versions of the same
message (camt.053 .03/.05/.06/.07, camt.054 .03-.07) are read by namespace with the same code,
and what they lack is caught by the checks of the neutral model."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from o2c.domain.bank import BankFileError, Statement, StatementFile, StatementLine, compact_iban
from o2c.domain.money import quantum

_NS = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.(\d\d)$")
SCHEMAS = {"camt.053.001.02", "camt.053.001.04", "camt.053.001.08", "camt.054.001.02",
           "camt.054.001.08"}
SUPPORTED = {f"camt.053.001.{v:02d}" for v in range(2, 9)} | {
    f"camt.054.001.{v:02d}" for v in range(2, 9)}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=True, remove_comments=True)


@cache
def schema(version: str) -> etree.XMLSchema:
    source = resources.files("o2c.adapters.bank").joinpath("schemas", f"{version}.xsd")
    with resources.as_file(source) as path:
        return etree.XMLSchema(etree.parse(str(path), _parser()))


def looks_like_camt(content: bytes) -> bool:
    head = content[:4096]
    return b"urn:iso:std:iso:20022:tech:xsd:camt.05" in head


def parse(content: bytes, filename: str) -> StatementFile:
    try:
        tree = etree.fromstring(content, _parser()).getroottree()
    except etree.XMLSyntaxError as error:
        line = error.lineno if error.lineno else "?"
        raise BankFileError(filename, f"line {line}", f"not well-formed XML: {error.msg}"
                            ) from None
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise BankFileError(filename, "line 1", "a DOCTYPE (DTD or entity declarations) is not "
                                                "allowed in a bank file")
    root = tree.getroot()
    namespace = etree.QName(root).namespace or ""
    found = _NS.match(namespace)
    if etree.QName(root).localname != "Document" or found is None:
        raise BankFileError(filename, "/" + etree.QName(root).localname,
                            f"not an ISO 20022 camt.053/camt.054 document (namespace "
                            f"'{namespace}')")
    version = f"{found.group(1)}.001.{found.group(2)}"
    if version not in SUPPORTED:
        raise BankFileError(filename, "/Document", f"unsupported version {version}")
    validated = False
    if version in SCHEMAS:
        xsd = schema(version)
        if not xsd.validate(tree):
            logged: list[Any] = list(xsd.error_log)  # type: ignore[call-overload]
            first = logged[0] if logged else None
            path = _readable_path(tree, first.path) if first is not None else ""
            message = first.message if first is not None else "invalid"
            raise BankFileError(filename, f"line {first.line if first else '?'} {path}".strip(),
                                f"does not conform to {version}.xsd: {message}")
        validated = True
    ns = {"c": namespace}
    statements: list[Statement] = []
    container = "Stmt" if version.startswith("camt.053") else "Ntfctn"
    message = etree.QName(root[0]).localname if len(root) else "*"
    for s_index, stmt in enumerate(root.iterfind(f"c:*/c:{container}", ns), start=1):
        statements.append(_statement(stmt, ns, filename,
                                     f"/Document/{message}/{container}[{s_index}]"))
    if not statements:
        raise BankFileError(filename, "/Document", f"no {container} element")
    for statement in statements:
        statement.check_balances(filename)
    return StatementFile(filename, version, statements, schema_validated=validated)


def _readable_path(tree: etree._ElementTree, path: str | None) -> str:
    """/Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/... for the element an XSD error names."""
    if not path:
        return ""
    try:
        found = tree.xpath(path)
    except etree.XPathError:
        return path
    if not isinstance(found, list) or not found or not isinstance(found[0], etree._Element):
        return path
    steps = []
    node: etree._Element | None = found[0]
    while node is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            same = [n for n in parent if isinstance(n.tag, str)
                    and etree.QName(n).localname == name]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


@cache
def _steps(path: str, namespace: str) -> tuple[str, ...]:
    """'c:A/c:B' -> ('{ns}A', '{ns}B'): one plain tag per find() stays in lxml's C code,
    while a path goes through its Python ElementPath (ten times slower on big files)."""
    return tuple(step.replace("c:", "{" + namespace + "}") for step in path.split("/"))


def _text(el: etree._Element | None, path: str, ns: dict[str, str]) -> str:
    for step in _steps(path, ns["c"]):
        if el is None:
            return ""
        el = el.find(step)
    if el is None or el.text is None:
        return ""
    return el.text.strip()


def _amount(el: etree._Element, filename: str, where: str) -> Decimal:
    try:
        return Decimal((el.text or "").strip())
    except InvalidOperation:
        raise BankFileError(filename, where, f"'{el.text}' is not an amount") from None


def _iso_date(text: str, filename: str, where: str) -> date | None:
    """The date of a <Dt> or the day of a <DtTm>; nothing when both are empty."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BankFileError(filename, where, f"'{text}' is not a date") from None


def _date(el: etree._Element | None, ns: dict[str, str], filename: str, where: str
          ) -> date | None:
    if el is None:
        return None
    return _iso_date(_text(el, "c:Dt", ns) or _text(el, "c:DtTm", ns), filename, where)


def _statement(stmt: etree._Element, ns: dict[str, str], filename: str, where: str
               ) -> Statement:
    acct = stmt.find("c:Acct", ns)
    iban = _text(acct, "c:Id/c:IBAN", ns) or _text(acct, "c:Id/c:Othr/c:Id", ns)
    if not iban:
        raise BankFileError(filename, f"{where}/Acct", "the statement names no account")
    currency = _text(acct, "c:Ccy", ns)
    opening = closing = forward = None
    closing_date = None
    for bal in stmt.iterfind("c:Bal", ns):
        code = _text(bal, "c:Tp/c:CdOrPrtry/c:Cd", ns)
        amt = bal.find("c:Amt", ns)
        if amt is None:
            continue
        value = _amount(amt, filename, f"{where}/Bal/Amt")
        if _text(bal, "c:CdtDbtInd", ns) == "DBIT":
            value = -value
        currency = currency or amt.get("Ccy", "")
        if code in ("OPBD", "PRCD") and opening is None:
            opening = value
        elif code == "CLBD":
            closing = value
            closing_date = _date(bal.find("c:Dt", ns), ns, filename, f"{where}/Bal/Dt")
        elif code == "FWAV" and forward is None:
            forward = value
    fr = _text(stmt, "c:FrToDt/c:FrDtTm", ns)[:10]
    to = _text(stmt, "c:FrToDt/c:ToDtTm", ns)[:10]
    statement = Statement(
        statement_id=_text(stmt, "c:Id", ns) or _text(stmt, "c:ElctrncSeqNb", ns),
        account_iban=compact_iban(iban), currency=currency, opening_balance=opening,
        closing_balance=closing, from_date=date.fromisoformat(fr) if fr else None,
        to_date=date.fromisoformat(to) if to else None, location=where,
        closing_date=closing_date, forward_balance=forward)
    for n_index, entry in enumerate(stmt.iterfind("c:Ntry", ns), start=1):
        statement.lines.extend(_entry(entry, ns, filename, f"{where}/Ntry[{n_index}]",
                                      statement.currency))
    if not statement.currency and statement.lines:
        statement.currency = statement.lines[0].currency
    return statement


class _Node:
    """An element and its children by local name, built in one pass: reading an entry's
    dozen fields from dicts is several times faster than a find() per field."""

    __slots__ = ("attrib", "kids", "text")

    def __init__(self, el: etree._Element, cut: int) -> None:
        self.text = (el.text or "").strip()
        self.attrib = el.attrib
        self.kids: dict[str, list[_Node]] = {}
        for child in el:
            tag = child.tag
            if isinstance(tag, str):
                self.kids.setdefault(tag[cut:], []).append(_Node(child, cut))

    def all(self, path: str) -> list[_Node]:
        nodes = [self]
        for step in _split(path):
            nodes = [kid for node in nodes for kid in node.kids.get(step, ())]
            if not nodes:
                break
        return nodes

    def get(self, path: str) -> _Node | None:
        node: _Node | None = self
        for step in _split(path):
            assert node is not None
            found = node.kids.get(step)
            if not found:
                return None
            node = found[0]
        return node

    def text_at(self, path: str) -> str:
        node = self.get(path)
        return node.text if node is not None else ""


@cache
def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _node_amount(node: _Node, filename: str, where: str) -> Decimal:
    try:
        return Decimal(node.text)
    except InvalidOperation:
        raise BankFileError(filename, where, f"'{node.text}' is not an amount") from None


def _node_date(node: _Node | None, filename: str, where: str) -> date | None:
    if node is None:
        return None
    return _iso_date(node.text_at("Dt") or node.text_at("DtTm"), filename, where)


def _entry(element: etree._Element, ns: dict[str, str], filename: str, where: str,
           currency: str) -> list[StatementLine]:
    entry = _Node(element, len(ns["c"]) + 2)
    amt = entry.get("Amt")
    if amt is None:
        raise BankFileError(filename, f"{where}/Amt", "entry without amount")
    amount = _node_amount(amt, filename, f"{where}/Amt")
    line_currency = str(amt.attrib.get("Ccy", "")) or currency
    sign = Decimal(-1) if entry.text_at("CdtDbtInd") == "DBIT" else Decimal(1)
    booked = (_node_date(entry.get("BookgDt"), filename, f"{where}/BookgDt")
              or _node_date(entry.get("ValDt"), filename, f"{where}/ValDt"))
    if booked is None:
        raise BankFileError(filename, f"{where}/BookgDt", "entry without booking date")
    value_date = _node_date(entry.get("ValDt"), filename, f"{where}/ValDt")
    code = "/".join(p for p in (entry.text_at("BkTxCd/Domn/Cd"),
                                entry.text_at("BkTxCd/Domn/Fmly/Cd"),
                                entry.text_at("BkTxCd/Domn/Fmly/SubFmlyCd")) if p)
    entry_ref = entry.text_at("NtryRef")
    bank_ref = entry.text_at("AcctSvcrRef")
    extra = entry.text_at("AddtlNtryInf")
    details = entry.all("NtryDtls/TxDtls")
    amounts = []
    for tx in details:
        tx_amt = tx.get("Amt") or tx.get("AmtDtls/TxAmt/Amt")
        amounts.append(None if tx_amt is None else _node_amount(tx_amt, filename, where))
    split = (len(details) > 1 and all(a is not None for a in amounts)
             and sum(a for a in amounts if a is not None) == amount)
    if not split:
        first_tx = details[0] if details else None
        return [_line(first_tx, where, booked, value_date, sign * amount, line_currency, code,
                      bank_ref, entry_ref, extra)]
    lines = []
    for t_index, (tx, tx_amount) in enumerate(zip(details, amounts, strict=True), start=1):
        assert tx_amount is not None
        lines.append(_line(tx, f"{where}/NtryDtls/TxDtls[{t_index}]", booked, value_date,
                           sign * tx_amount, line_currency, code, "", entry_ref, extra))
    return lines


def _line(tx: _Node | None, where: str, booked: date, value_date: date | None,
          amount: Decimal, currency: str, code: str, bank_ref: str, entry_ref: str,
          extra: str) -> StatementLine:
    incoming = amount > 0
    party = "Dbtr" if incoming else "Cdtr"
    name = iban = e2e = structured = referred = ultimate = instructed_currency = ""
    instructed: Decimal | None = None
    texts: list[str] = []
    if tx is not None:
        bank_ref = tx.text_at("Refs/AcctSvcrRef") or bank_ref
        e2e = tx.text_at("Refs/EndToEndId")
        if e2e.upper() == "NOTPROVIDED":
            e2e = ""
        # .02-.07: RltdPties/Dbtr/Nm; .08: RltdPties/Dbtr/Pty/Nm
        name = (tx.text_at(f"RltdPties/{party}/Nm")
                or tx.text_at(f"RltdPties/{party}/Pty/Nm"))
        iban = tx.text_at(f"RltdPties/{party}Acct/Id/IBAN")
        structured = " ".join(r.text for r in tx.all("RmtInf/Strd/CdtrRefInf/Ref") if r.text)
        referred = " ".join(r.text for r in tx.all("RmtInf/Strd/RfrdDocInf/Nb") if r.text)
        ultimate = (tx.text_at(f"RltdPties/Ultmt{party}/Nm")
                    or tx.text_at(f"RltdPties/Ultmt{party}/Pty/Nm"))
        texts = [u.text for u in tx.all("RmtInf/Ustrd") if u.text]
        instructed, instructed_currency = _instructed(tx, currency, abs(amount))
        info = tx.text_at("AddtlTxInf")
        if info:
            texts.append(info)
    if extra:
        texts.append(extra)
    return StatementLine(
        location=where, booking_date=booked, value_date=value_date, amount=amount,
        currency=currency, bank_reference=bank_ref, entry_reference=entry_ref,
        end_to_end_id=e2e, counterparty_name=name, counterparty_iban=compact_iban(iban),
        remittance=" ".join(texts)[:1000], structured_reference=structured,
        transaction_code=code, ultimate_debtor=ultimate, referred_documents=referred,
        instructed_amount=instructed, instructed_currency=instructed_currency)


def _instructed(tx: _Node, currency: str, booked: Decimal) -> tuple[Decimal | None, str]:
    """What the payer sent in another currency: AmtDtls/InstdAmt/Amt, or the booked amount
    through the bank's rate (CcyXchg: source currency, rate per unit currency)."""
    given = tx.get("AmtDtls/InstdAmt/Amt")
    if given is not None:
        other = str(given.attrib.get("Ccy", ""))
        if other and other != currency:
            try:
                return Decimal(given.text), other
            except InvalidOperation:
                return None, ""
    for path in ("AmtDtls/InstdAmt/CcyXchg", "AmtDtls/TxAmt/CcyXchg"):
        exchange = tx.get(path)
        if exchange is None:
            continue
        source, unit = exchange.text_at("SrcCcy"), exchange.text_at("UnitCcy")
        try:
            rate = Decimal(exchange.text_at("XchgRate"))
        except InvalidOperation:
            continue
        if not source or source == currency or rate <= 0:
            continue
        value = booked / rate if (unit or source) == source else booked * rate
        return value.quantize(quantum(source)), source
    return None, ""


# -- writing (fixtures, the demo simulator and the bench) --------------------------------------


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _amt(amount: Decimal, currency: str) -> str:
    return f'<Amt Ccy="{currency}">{abs(amount).quantize(quantum(currency))}</Amt>'


def write(statements: list[Statement], version: str = "camt.053.001.08",
          message_id: str = "O2C-DEMO", created: str = "2026-01-01T18:00:00") -> bytes:
    """A camt.053 document (.02, .04 or .08) for these statements; valid against the XSD."""
    v = int(version[-2:])
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:'
           f'tech:xsd:{version}"><BkToCstmrStmt><GrpHdr><MsgId>{_esc(message_id)}</MsgId>'
           f"<CreDtTm>{created}</CreDtTm></GrpHdr>"]
    for statement in statements:
        cur = statement.currency
        out.append(f"<Stmt><Id>{_esc(statement.statement_id)}</Id><CreDtTm>{created}</CreDtTm>")
        if statement.from_date and statement.to_date:
            out.append(f"<FrToDt><FrDtTm>{statement.from_date}T00:00:00</FrDtTm>"
                       f"<ToDtTm>{statement.to_date}T23:59:59</ToDtTm></FrToDt>")
        out.append(f"<Acct><Id><IBAN>{statement.account_iban}</IBAN></Id><Ccy>{cur}</Ccy>"
                   "</Acct>")
        for code, value, on in (("OPBD", statement.opening_balance, statement.from_date),
                                ("CLBD", statement.closing_balance, statement.to_date)):
            if value is None:
                continue
            out.append(f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_amt(value, cur)}"
                       f"<CdtDbtInd>{'DBIT' if value < 0 else 'CRDT'}</CdtDbtInd>"
                       f"<Dt><Dt>{on or statement.lines[0].booking_date}</Dt></Dt></Bal>")
        for line in statement.lines:
            out.append(_write_entry(line, v))
        out.append("</Stmt>")
    out.append("</BkToCstmrStmt></Document>\n")
    return "".join(out).encode()


def _write_entry(line: StatementLine, v: int) -> str:
    incoming = line.amount > 0
    side = "CRDT" if incoming else "DBIT"
    status = "<Sts><Cd>BOOK</Cd></Sts>" if v >= 8 else "<Sts>BOOK</Sts>"
    parts = ["<Ntry>"]
    if line.entry_reference:
        parts.append(f"<NtryRef>{_esc(line.entry_reference)}</NtryRef>")
    parts.append(f"{_amt(line.amount, line.currency)}<CdtDbtInd>{side}</CdtDbtInd>{status}"
                 f"<BookgDt><Dt>{line.booking_date}</Dt></BookgDt>"
                 f"<ValDt><Dt>{line.value_date or line.booking_date}</Dt></ValDt>")
    if line.bank_reference:
        parts.append(f"<AcctSvcrRef>{_esc(line.bank_reference)}</AcctSvcrRef>")
    domain, family, sub = ([*(line.transaction_code or "PMNT/RCDT/ESCT").split("/"), "", ""])[:3]
    parts.append(f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd>"
                 f"<SubFmlyCd>{sub or 'OTHR'}</SubFmlyCd></Fmly></Domn></BkTxCd>")
    parts.append("<NtryDtls><TxDtls>")
    if line.end_to_end_id:
        parts.append(f"<Refs><EndToEndId>{_esc(line.end_to_end_id)}</EndToEndId></Refs>")
    instructed = ""
    if line.instructed_amount is not None and line.instructed_currency:
        rate = (abs(line.amount) / line.instructed_amount).quantize(Decimal("0.0000000001"))
        instructed = (f"<InstdAmt>{_amt(line.instructed_amount, line.instructed_currency)}"
                      f"<CcyXchg><SrcCcy>{line.instructed_currency}</SrcCcy>"
                      f"<TrgtCcy>{line.currency}</TrgtCcy><UnitCcy>{line.instructed_currency}"
                      f"</UnitCcy><XchgRate>{rate.normalize():f}</XchgRate></CcyXchg></InstdAmt>")
    if v >= 3:
        parts.append(f"{_amt(line.amount, line.currency)}<CdtDbtInd>{side}</CdtDbtInd>")
        if instructed:
            parts.append(f"<AmtDtls>{instructed}</AmtDtls>")
    else:
        parts.append(f"<AmtDtls>{instructed}<TxAmt>{_amt(line.amount, line.currency)}</TxAmt>"
                     "</AmtDtls>")
    if line.counterparty_name or line.counterparty_iban:
        party = "Dbtr" if incoming else "Cdtr"
        name = _esc(line.counterparty_name[:140])
        who = f"<Nm>{name}</Nm>" if name else ""
        if v >= 8:
            who = f"<Pty>{who}</Pty>"
        parts.append(f"<RltdPties><{party}>{who}</{party}>")
        if line.counterparty_iban:
            parts.append(f"<{party}Acct><Id><IBAN>{line.counterparty_iban}</IBAN></Id>"
                         f"</{party}Acct>")
        if line.ultimate_debtor and incoming:
            ultimate = f"<Nm>{_esc(line.ultimate_debtor[:140])}</Nm>"
            if v >= 8:
                ultimate = f"<Pty>{ultimate}</Pty>"
            parts.append(f"<UltmtDbtr>{ultimate}</UltmtDbtr>")
        parts.append("</RltdPties>")
    if line.remittance or line.structured_reference or line.referred_documents:
        parts.append("<RmtInf>")
        if line.remittance:
            parts.append(f"<Ustrd>{_esc(line.remittance[:140])}</Ustrd>")
        for number in line.referred_documents.split():
            parts.append("<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>"
                         f"<Nb>{_esc(number[:35])}</Nb></RfrdDocInf></Strd>")
        if line.structured_reference:
            parts.append("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                         f"<Ref>{_esc(line.structured_reference)}</Ref></CdtrRefInf></Strd>")
        parts.append("</RmtInf>")
    parts.append("</TxDtls></NtryDtls></Ntry>")
    return "".join(parts)
