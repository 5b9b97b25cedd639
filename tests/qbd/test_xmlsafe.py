"""The hardened reader refuses a DOCTYPE however it is dressed up, before libxml2 parses it."""

from __future__ import annotations

import io

import pytest

from qbd.xmlsafe import PROLOG_LIMIT, XmlRefused, check_prolog, iter_end_events, parse_document

DOCTYPE = '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'


@pytest.mark.parametrize(
    "document",
    [
        DOCTYPE.encode(),
        ('<?xml version="1.0"?>\n<!-- note -->\n<?pi x?>\n' + DOCTYPE).encode(),
        ("\ufeff" + DOCTYPE).encode("utf-8"),
        ('<?xml version="1.0" encoding="utf-16"?>' + DOCTYPE).encode("utf-16"),
        ('<?xml version="1.0" encoding="utf-16"?>' + DOCTYPE).encode("utf-16-be"),
        DOCTYPE,
    ],
)
def test_doctype_is_refused_in_any_encoding(document: bytes | str) -> None:
    with pytest.raises(XmlRefused, match="DOCTYPE"):
        parse_document(document)
    with pytest.raises(XmlRefused, match="DOCTYPE"):
        list(iter_end_events(document, ("a",)))


def test_an_endless_prolog_is_refused_rather_than_scanned() -> None:
    document = b"<!--" + b"x" * PROLOG_LIMIT + b"-->" + DOCTYPE.encode()

    with pytest.raises(XmlRefused, match="too long"):
        parse_document(document)
    with pytest.raises(XmlRefused, match="too long"):
        list(iter_end_events(io.BytesIO(document), ("a",)))


def test_a_doctype_after_the_root_is_malformed_not_expanded() -> None:
    with pytest.raises(XmlRefused, match="malformed"):
        parse_document(b"<a/>" + DOCTYPE.encode())


@pytest.mark.parametrize("head", [b"", b"hello", b"\x4c\x6f\xa7\x94"])
def test_documents_that_do_not_start_with_markup_are_refused(head: bytes) -> None:
    with pytest.raises(XmlRefused):
        check_prolog(head, complete=True)


def test_ordinary_prologs_pass() -> None:
    check_prolog(
        b'<?xml version="1.0"?><!-- hi --><?qbxml version="13.0"?>\n<QBXML/>', complete=True
    )
    root = parse_document("<?xml version='1.0' encoding='latin-1'?><a>é</a>")
    assert root.text == "é"


def test_a_stream_is_replayed_whole_after_the_prolog_check() -> None:
    body = b"".join(b"<i>%d</i>" % n for n in range(20_000))
    document = io.BytesIO(b'<?xml version="1.0"?><a>' + body + b"</a>")

    values = [element.text for element in iter_end_events(document, ("i",))]

    assert values == [str(n) for n in range(20_000)]


def test_huge_text_needs_huge_tree() -> None:
    document = b"<a>" + b"x" * (11 * 1024 * 1024) + b"</a>"

    with pytest.raises(XmlRefused):
        parse_document(document)
    assert len(parse_document(document, huge=True).text or "") == 11 * 1024 * 1024
