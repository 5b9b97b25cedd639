from __future__ import annotations

import pytest

from qbd.companyfile import CompanyFile, company_name
from qbd.simulator import HCP_RESPONSE

NORTHWIND = CompanyFile(r"C:\Company\Northwind.qbw", "Northwind Builders")


def test_the_company_name_comes_from_the_hcp_response() -> None:
    assert company_name(HCP_RESPONSE) == "Northwind Builders"
    assert company_name("") is None
    assert company_name("<QBXML/>") is None
    assert company_name("<!DOCTYPE x><QBXML/>") is None  # refused, not guessed at


def test_the_same_file_is_found_under_another_spelling() -> None:
    assert NORTHWIND.same_as(CompanyFile("c:/company/NORTHWIND.QBW ", "northwind builders"))
    assert NORTHWIND.same_as(CompanyFile(r"C:\Company\Northwind.qbw"))  # name unknown


@pytest.mark.parametrize(
    "other",
    [
        CompanyFile(r"C:\Company\Sample.qbw", "Northwind Builders"),  # a copy elsewhere
        CompanyFile(r"C:\Company\Northwind.qbw", "Sample Construction Co"),  # file replaced
    ],
)
def test_another_path_or_company_is_another_file(other: CompanyFile) -> None:
    assert not NORTHWIND.same_as(other)


def test_it_travels_as_json_and_reads_as_words() -> None:
    assert CompanyFile.decode(NORTHWIND.encode()) == NORTHWIND
    assert NORTHWIND.label == r"Northwind Builders (C:\Company\Northwind.qbw)"
    assert CompanyFile(r"C:\x.qbw").label == r"C:\x.qbw"
    with pytest.raises(ValueError):
        CompanyFile.decode('{"name": "x"}')
