"""A small ISO Schematron to XSLT 3.0 compiler, for the schematron files we vendor as source
(the Peppol BIS Billing 3.0 rules) and validate against in their compiled form.

It covers what those files use: `ns`, schema-, pattern- and rule-level `let`, inline
`xsl:function`s, `pattern`/`rule`/`assert`/`report` with `id`, `flag` and `value-of`/`name`
in the message text. Each pattern becomes a mode; within a pattern a node fires at most the
first rule whose context it matches (rules get descending priorities), as ISO Schematron
requires. The output is SVRL (`schematron-output`, `fired-rule`, `failed-assert`,
`successful-report` with `location` as an XPath 3 `path()`), what `validation.py` reads.

Run as a module to compile: `python -m o2c.adapters.einvoice.schematron in.sch out.xslt`.
A test compiles each vendored `.sch` again and compares with the vendored `.xslt`."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
SVRL = "http://purl.oclc.org/dsdl/svrl"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


class SchematronError(ValueError):
    """The schematron uses something this compiler does not support."""


def _x(tag: str) -> str:
    return f"{{{XSL}}}{tag}"


def _s(tag: str) -> str:
    return f"{{{SVRL}}}{tag}"


def _variable(parent: etree._Element, let: etree._Element) -> None:
    name, value = let.get("name"), let.get("value")
    if name is None:
        raise SchematronError(f"let without a name at line {let.sourceline}")
    variable = etree.SubElement(parent, _x("variable"), name=name)
    if value is not None:
        variable.set("select", value)
    else:  # a let with content instead of @value
        for child in let:
            variable.append(copy.deepcopy(child))


def _message(parent: etree._Element, source: etree._Element) -> None:
    """The assert's text with its value-of / name children as XSLT instructions."""
    text = etree.SubElement(parent, _s("text"))
    text.text = source.text
    for child in source:
        if child.tag == f"{{{SCH}}}value-of":
            node = etree.SubElement(text, _x("value-of"), select=child.get("select", "."))
        elif child.tag == f"{{{SCH}}}name":
            node = etree.SubElement(text, _x("value-of"),
                                    select=f"name({child.get('path', '.')})")
        elif child.tag == f"{{{SCH}}}emph" or child.tag == f"{{{SCH}}}span":
            node = etree.SubElement(text, _x("text"))
            node.text = child.text or ""
        else:
            raise SchematronError(f"unsupported <{etree.QName(child).localname}> in a message "
                                  f"at line {child.sourceline}")
        node.tail = child.tail


def _check(template: etree._Element, check: etree._Element) -> None:
    test = check.get("test")
    if test is None:
        raise SchematronError(f"assert/report without a test at line {check.sourceline}")
    is_assert = check.tag == f"{{{SCH}}}assert"
    result = _s("failed-assert") if is_assert else _s("successful-report")
    if is_assert:
        choose = etree.SubElement(template, _x("choose"))
        etree.SubElement(choose, _x("when"), test=test)
        holder = etree.SubElement(choose, _x("otherwise"))
    else:
        holder = etree.SubElement(template, _x("if"), test=test)
    out = etree.SubElement(holder, result, test=test)
    for attribute in ("id", "flag", "role"):
        if check.get(attribute) is not None:
            out.set(attribute, check.get(attribute, ""))
    location = etree.SubElement(out, _x("attribute"), name="location")
    etree.SubElement(location, _x("value-of"), select="path(.)")
    _message(out, check)


def compile_schematron(source: bytes) -> bytes:
    schema = etree.fromstring(source, parser=_PARSER)
    if schema.tag != f"{{{SCH}}}schema":
        raise SchematronError("not an ISO schematron schema")
    if schema.find(f"{{{SCH}}}include") is not None or \
            schema.find(f"{{{SCH}}}phase") is not None:
        raise SchematronError("include and phase are not supported")
    nsmap: dict[str | None, str] = {"xsl": XSL, "svrl": SVRL}
    for ns in schema.iterfind(f"{{{SCH}}}ns"):
        nsmap[ns.get("prefix")] = ns.get("uri", "")
    # Prefixes the inline functions use (declared on the function elements themselves).
    for function in schema.iterfind(_x("function")):
        for prefix, uri in (function.nsmap or {}).items():
            if prefix and prefix not in nsmap:
                nsmap[prefix] = uri
    root = etree.Element(_x("stylesheet"), nsmap=nsmap,  # type: ignore[arg-type]
                         version="3.0")
    root.set("exclude-result-prefixes",
             " ".join(p for p in nsmap if p is not None and p not in ("xsl", "svrl")))
    etree.SubElement(root, _x("output"), method="xml", indent="no", encoding="UTF-8")
    patterns = schema.findall(f"{{{SCH}}}pattern")
    for child in schema:
        if child.tag == _x("function"):
            root.append(copy.deepcopy(child))
        elif child.tag == f"{{{SCH}}}let":
            _variable(root, child)
    # Pattern-level lets are global too: rule contexts (match patterns) may use them.
    for pattern in patterns:
        for let in pattern.findall(f"{{{SCH}}}let"):
            _variable(root, let)
    main = etree.SubElement(root, _x("template"), match="/")
    output = etree.SubElement(main, _s("schematron-output"))
    title = schema.findtext(f"{{{SCH}}}title")
    if title:
        output.set("title", title.strip())
    for number, pattern in enumerate(patterns, start=1):
        mode = f"M{number}"
        active = etree.SubElement(output, _s("active-pattern"))
        active.set("id", pattern.get("id") or mode)
        etree.SubElement(output, _x("apply-templates"), select="/", mode=mode)
        rules = pattern.findall(f"{{{SCH}}}rule")
        for position, rule in enumerate(rules):
            context = rule.get("context")
            if context is None or rule.get("abstract") == "true":
                raise SchematronError(f"abstract or context-less rule at line "
                                      f"{rule.sourceline}")
            template = etree.SubElement(root, _x("template"), match=" ".join(context.split()),
                                        mode=mode, priority=str(1000 + len(rules) - position))
            fired = etree.SubElement(template, _s("fired-rule"))
            fired.set("context", " ".join(context.split()))
            for child in rule:
                if child.tag == f"{{{SCH}}}let":
                    _variable(template, child)
                elif child.tag in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    _check(template, child)
                else:
                    raise SchematronError(f"unsupported <{etree.QName(child).localname}> in a"
                                          f" rule at line {child.sourceline}")
            etree.SubElement(template, _x("apply-templates"), select="*", mode=mode)
        etree.SubElement(root, _x("template"), match="text()", mode=mode, priority="-1")
        fallback = etree.SubElement(root, _x("template"), match="@*|node()", mode=mode,
                                    priority="-2")
        etree.SubElement(fallback, _x("apply-templates"), select="*", mode=mode)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def main(argv: list[str]) -> None:  # pragma: no cover - a maintainer's tool
    source, target = Path(argv[0]), Path(argv[1])
    target.write_bytes(compile_schematron(source.read_bytes()))


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
