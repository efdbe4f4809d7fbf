"""Look at a CSV file before DuckDB reads it: empty, or lines longer than the limit (issue 13).

DuckDB's CSV reader fails the whole file on one over-long line (after reading it into memory, and with the
wrong line number), and reports an empty file as a column "column0". `scan` streams the file once in
1 MiB chunks (bounded memory, C-speed `find`/`count`) and finds both; `copy_without` writes a copy without
the over-long lines so that the rest of the file loads, and the staging step records each of those lines
as a reject with its line number and the limit it broke.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK = 1 << 20
#: Longest CSV line accepted (bytes); the reader's own max_line_size is set just above it.
MAX_LINE_BYTES = max(CHUNK, int(os.environ.get("ICP_MCP_MAX_CSV_LINE_BYTES", str(8 * CHUNK))))
PREVIEW = 200


@dataclass
class LongLine:
    line: int  # 1-based physical line number (the header is line 1)
    length: int  # bytes, without the line break
    preview: str


@dataclass
class Scan:
    empty: bool
    long: list[LongLine] = field(default_factory=list)


def _open(path: str) -> BinaryIO:
    return gzip.open(path, "rb") if path.lower().endswith(".gz") else open(path, "rb")  # type: ignore[return-value]


def scan(path: str, limit: int = MAX_LINE_BYTES) -> Scan:
    """One streaming pass: is the file empty (nothing but whitespace / BOM), which lines exceed `limit`."""
    assert limit >= CHUNK, "a line inside one chunk is never over the limit"
    found: list[LongLine] = []
    line, length, preview, content = 1, 0, b"", False
    with _open(path) as fh:
        while chunk := fh.read(CHUNK):
            if not content:
                content = bool(chunk.lstrip(b"\xef\xbb\xbf \t\r\n"))
            first = chunk.find(b"\n")
            if first == -1:
                if length < PREVIEW:
                    preview += chunk[: PREVIEW - length]
                length += len(chunk)
                continue
            if length < PREVIEW:
                preview += chunk[: min(first, PREVIEW - length)]
            length += first
            if length > limit:
                found.append(LongLine(line, length, preview.decode("utf-8", "replace")))
            line += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            preview = chunk[last + 1: last + 1 + PREVIEW]
            length = len(chunk) - last - 1
    if length > limit:
        found.append(LongLine(line, length, preview.decode("utf-8", "replace")))
    return Scan(empty=not content, long=found)


def copy_without(path: str, lines: list[int], out: str) -> None:
    """Copy `path` (uncompressed) to `out` leaving out the given physical lines, in bounded memory."""
    skip = set(lines)
    line = 1
    with _open(path) as src, open(out, "wb") as dst:
        while chunk := src.read(CHUNK):
            breaks = chunk.count(b"\n")
            if not any(line <= n <= line + breaks for n in skip):  # the usual chunk: copied whole
                dst.write(chunk)
                line += breaks
                continue
            start = 0
            while start < len(chunk):
                end = chunk.find(b"\n", start)
                stop = len(chunk) if end == -1 else end + 1
                if line not in skip:
                    dst.write(chunk[start:stop])
                if end == -1:
                    break
                line += 1
                start = stop
