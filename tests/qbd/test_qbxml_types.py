"""Status helpers and qbXML version negotiation: never send a version above the one reported."""

from __future__ import annotations

import pytest

from qbd.qbxml.types import QbXmlVersion, Status, negotiate


@pytest.mark.parametrize("code", [3170, 3175, 3176, 3180, 3200])
def test_busy_and_stale_statuses_are_retryable(code: int) -> None:
    status = Status(code, "Error", "busy")

    assert status.retryable
    assert not status.ok


@pytest.mark.parametrize("code", [1, 500, 3100, 3140, 9999])
def test_other_statuses_are_not_retryable(code: int) -> None:
    assert not Status(code, "Warn", "x").retryable


def test_zero_is_ok() -> None:
    assert Status(0, "Info", "Status OK").ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13.0", QbXmlVersion(13, 0)),
        ("2.1", QbXmlVersion(2, 1)),
        ("CA3.0", QbXmlVersion(3, 0)),
        ("8", QbXmlVersion(8)),
    ],
)
def test_versions_parse(text: str, expected: QbXmlVersion) -> None:
    assert QbXmlVersion.parse(text) == expected


def test_versions_order_numerically() -> None:
    assert QbXmlVersion.parse("2.1") < QbXmlVersion.parse("13.0") < QbXmlVersion.parse("13.1")
    assert str(QbXmlVersion(13, 0)) == "13.0"


def test_garbage_is_not_a_version() -> None:
    with pytest.raises(ValueError):
        QbXmlVersion.parse("thirteen")


@pytest.mark.parametrize(
    ("major", "minor", "expected"),
    [(13, 0, "13.0"), (16, 0, "13.0"), (12, 0, "12.0"), (13, 1, "13.0"), (2, 1, "2.1")],
)
def test_negotiate_never_exceeds_the_reported_version(
    major: int, minor: int, expected: str
) -> None:
    assert negotiate(major, minor) == expected


def test_negotiate_picks_a_supported_version_at_or_below_the_ceiling() -> None:
    supported = [QbXmlVersion(11, 0), QbXmlVersion(12, 0), QbXmlVersion(14, 0)]

    assert negotiate(16, 0, supported=supported) == "12.0"
    assert negotiate(16, 0, wanted="14.0", supported=supported) == "14.0"
    assert negotiate(11, 5, supported=supported) == "11.0"


def test_negotiate_refuses_a_missing_version() -> None:
    with pytest.raises(ValueError):
        negotiate(0, 0)
