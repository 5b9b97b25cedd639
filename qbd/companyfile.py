"""Which QuickBooks company file the Web Connector has open: path plus company name (DESIGN §5).

ListIDs mean something in one company file only, so the file the chart of accounts came from is
remembered and compared with the one open before anything is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from qbd.xmlsafe import XmlRefused, parse_document


@dataclass(frozen=True, slots=True)
class CompanyFile:
    """A company file as the Web Connector names it."""

    path: str
    name: str | None = None
    """The company name from CompanyQuery in strHCPResponse, when it came."""

    def same_as(self, other: CompanyFile) -> bool:
        """The same file: Windows paths compare without case; names too, when both are known."""
        if _path_key(self.path) != _path_key(other.path):
            return False
        if self.name is None or other.name is None:
            return True
        return self.name.strip().casefold() == other.name.strip().casefold()

    @property
    def label(self) -> str:
        """E.g. ``Northwind Builders (C:\\…\\Northwind.qbw)``."""
        if self.name:
            return f"{self.name} ({self.path})" if self.path else self.name
        return self.path or "an unnamed company file"

    def encode(self) -> str:
        return json.dumps({"path": self.path, "name": self.name}, sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> CompanyFile:
        raw = json.loads(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("path"), str):
            raise ValueError("not a company file")
        name = raw.get("name")
        return cls(raw["path"], name if isinstance(name, str) else None)


def _path_key(path: str) -> str:
    return path.strip().replace("/", "\\").casefold()


def company_name(hcp_response: str) -> str | None:
    """The company's name in strHCPResponse (CompanyQueryRs/CompanyRet/CompanyName), if any."""
    if not hcp_response.strip():
        return None
    try:
        root = parse_document(hcp_response)
    except XmlRefused:
        return None
    name = root.findtext(".//CompanyRet/CompanyName")
    return name.strip() if name and name.strip() else None
