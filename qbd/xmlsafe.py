"""One hardened way to read untrusted XML: no DTD, no entities, no network, checked up front."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

PROLOG_LIMIT = 64 * 1024
"""How far the prolog may run before the root element; longer ones are refused, not guessed at."""

Source = bytes | str | IO[bytes]


class XmlRefused(ValueError):
    """The document is malformed or uses a feature we refuse (a DOCTYPE, entities)."""


def parser_options(*, huge: bool) -> dict[str, Any]:
    """Options for every parser we build; `huge_tree` only ever comes with these guards."""
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": huge,
    }


def parse_document(data: bytes | str, *, huge: bool = False) -> etree._Element:
    """Parse a whole document after refusing a DOCTYPE; any failure is an `XmlRefused`."""
    raw, encoding = _as_bytes(data)
    check_prolog(raw[:PROLOG_LIMIT], complete=len(raw) <= PROLOG_LIMIT)
    parser = etree.XMLParser(encoding=encoding, **parser_options(huge=huge))
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"malformed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise XmlRefused("the document has a DOCTYPE, which is refused")
    return root


def iter_end_events(
    source: Source, tags: tuple[str, ...], *, huge: bool = True
) -> Iterator[etree._Element]:
    """Stream `end` events for `tags`, refusing a DOCTYPE before parsing starts."""
    stream, encoding = _as_stream(source)
    head = stream.read(PROLOG_LIMIT)
    check_prolog(head, complete=len(head) < PROLOG_LIMIT)
    events = etree.iterparse(
        _Prefixed(head, stream),
        events=("end",),
        tag=tags,
        encoding=encoding,
        **parser_options(huge=huge),
    )
    try:
        for _event, element in events:
            yield element
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"malformed XML: {exc}") from None


def check_prolog(head: bytes, *, complete: bool) -> None:
    """Refuse a document whose prolog holds anything but the XML declaration, PIs and comments.

    This reads the prolog as text before libxml2 sees it: with `huge_tree` on, libxml2's own
    entity-amplification guard is off, so entity declarations must never reach it.
    """
    text = _decode_head(head)
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("<?", position):
            position = _skip_past(text, "?>", position, complete)
        elif text.startswith("<!--", position):
            position = _skip_past(text, "-->", position, complete)
        elif text.startswith("<!", position):
            raise XmlRefused("the document has a DOCTYPE or declaration, which is refused")
        elif text.startswith("<", position):
            return
        elif position >= len(text) and not complete:
            raise XmlRefused("the document's prolog is too long")
        else:
            raise XmlRefused("the document does not start with an XML element")


def _skip_past(text: str, marker: str, position: int, complete: bool) -> int:
    end = text.find(marker, position + 2)
    if end < 0:
        problem = "is unterminated" if complete else "is too long"
        raise XmlRefused(f"the document's prolog {problem}")
    return end + len(marker)


def _decode_head(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace")
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head.decode("utf-16-le", "replace").lstrip("\ufeff")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head.decode("utf-16-be", "replace").lstrip("\ufeff")
    # Every other encoding we accept is ASCII-compatible for the markup we look at.
    return head.decode("latin-1")


def _as_bytes(data: bytes | str) -> tuple[bytes, str | None]:
    if isinstance(data, str):
        # The text is already decoded: whatever encoding the declaration names no longer applies.
        return data.encode("utf-8"), "utf-8"
    return data, None


def _as_stream(source: Source) -> tuple[IO[bytes], str | None]:
    if isinstance(source, bytes | str):
        raw, encoding = _as_bytes(source)
        return io.BytesIO(raw), encoding
    return source, None


class _Prefixed:
    """A read-only stream that replays the prolog we already read, then the rest of the source."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                chunk, self._head = self._head, b""
            else:
                chunk, self._head = self._head[:size], self._head[size:]
            return chunk
        return self._rest.read(size)
