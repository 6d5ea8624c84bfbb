"""The SaxonC schematron worker: a separate process (`python -m
o2c.adapters.einvoice.saxon_worker`) that compiles each XSLT once and transforms documents on
request. SaxonC crashes when shared across threads or forked workers, so it never runs inside
the application process.

Protocol on stdin/stdout, length-prefixed frames: request = path, NUL, XML bytes; answer = one
status byte (`0` ok, `1` error) followed by the SVRL (or the error text) in UTF-8."""

from __future__ import annotations

import os
import struct
import sys
from typing import Any, BinaryIO

_LENGTH = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def main() -> None:  # pragma: no cover - runs in the child process
    # Our answers go to a private copy of stdout; anything Saxon prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    from saxonche import PySaxonProcessor

    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        compiled: dict[str, Any] = {}
        while True:
            frame = read_frame(requests)
            if frame is None:
                return
            path_bytes, _, xml = frame.partition(b"\0")
            path = path_bytes.decode("utf-8")
            try:
                executable = compiled.get(path)
                if executable is None:
                    executable = compiled[path] = xslt.compile_stylesheet(stylesheet_file=path)
                node = proc.parse_xml(xml_text=xml.decode("utf-8"))
                result = executable.transform_to_string(xdm_node=node)
                if result is None:
                    raise RuntimeError("the transformation returned nothing")
                write_frame(answers, b"0" + result.encode("utf-8"))
            except Exception as exc:
                write_frame(answers, b"1" + f"{type(exc).__name__}: {exc}".encode())


if __name__ == "__main__":
    main()
