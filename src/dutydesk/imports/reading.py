"""Reading an input as a stream of lines: counted (for the progress bar), bounded per line,
decoded line by line so a bad byte costs one row, not the file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Protocol

from pydantic import ValidationError

from dutydesk.imports.records import MAX_LINE_BYTES, ImportRecord, Rejected, Row

_CHUNK = 1 << 16
BOM = b"\xef\xbb\xbf"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class CountingReader:
    """A binary stream that reports how many bytes were read so far."""

    def __init__(self, stream: Readable, progress: Callable[[int], None] | None = None) -> None:
        self.stream = stream
        self.progress = progress
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


def byte_lines(stream: Readable, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | None]:
    """The input's lines without their line ends; ``None`` for a line over ``limit`` bytes
    (whose bytes are skipped, never held). Memory stays at one chunk plus one line."""
    pending = bytearray()
    too_long = False
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not too_long:
                    pending += chunk[start:]
                    if len(pending) > limit:
                        too_long, pending = True, bytearray()
                break
            if too_long:
                yield None
            else:
                pending += chunk[start:end]
                yield None if len(pending) > limit else bytes(pending).rstrip(b"\r")
            pending, too_long = bytearray(), False
            start = end + 1
    if too_long:
        yield None
    elif pending:
        yield bytes(pending).rstrip(b"\r")


def decode(raw: bytes, line: int) -> str:
    """One line as UTF-8 (a BOM on the first line is dropped); anything else is refused."""
    if line == 1 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "save the file as UTF-8 and import it again"
        ) from exc


def validation_reason(exc: ValidationError) -> tuple[str | None, str]:
    """A record's errors (the first three), as (first field, words)."""
    parts: list[str] = []
    fields: list[str] = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "is not a field of the import format (see the README's import section)"
        elif error.get("type") == "missing":
            message = "is required"
        fields.append(where)
        parts.append(f"{where}: {message}" if where else message)
    return (fields[0] or None) if fields else None, "; ".join(parts)


def record_row(line: int, data: object) -> Row:
    """A parsed JSON value checked against the import format."""
    if not isinstance(data, dict):
        return Row(line, rejected=Rejected(line, "each line must be one JSON object"))
    try:
        return Row(line, ImportRecord.model_validate(data))
    except ValidationError as exc:
        field, reason = validation_reason(exc)
        ext = data.get("external_id")
        return Row(line, rejected=Rejected(line, reason, str(ext) if ext else None, field))


def jsonl_rows(lines: Iterable[bytes | None]) -> Iterator[Row]:
    """JSON Lines: one ticket per line; blank lines are ignored."""
    for number, raw in enumerate(lines, start=1):
        if raw is None:
            yield Row(number, rejected=Rejected(number, f"line is over {MAX_LINE_BYTES} bytes"))
            continue
        try:
            text = decode(raw, number)
        except ValueError as exc:
            yield Row(number, rejected=Rejected(number, str(exc)))
            continue
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Row(
                number,
                rejected=Rejected(number, f"not valid JSON: {exc.msg} at column {exc.colno}"),
            )
            continue
        yield record_row(number, data)


def lines_of(
    source: IO[bytes] | Iterable[str] | Iterable[bytes] | str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes | None]:
    """Lines from a binary stream, or an iterable of lines (str or bytes) given in-process."""
    if hasattr(source, "read"):
        yield from byte_lines(CountingReader(source, progress))  # type: ignore[arg-type]
        return
    assert not isinstance(source, str)
    for item in source:
        raw = item.encode() if isinstance(item, str) else item
        raw = raw.rstrip(b"\r\n")
        yield None if len(raw) > MAX_LINE_BYTES else raw
