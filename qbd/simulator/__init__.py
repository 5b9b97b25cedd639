"""A supported QuickBooks Desktop and Web Connector simulator for tests and the local sandbox."""

from __future__ import annotations

from qbd.simulator.model import SimAccount, SimItem
from qbd.simulator.quickbooks import COMPANY_FILE, COMPANY_NAME, FAULTS, QuickBooksSimulator
from qbd.simulator.schema import QbXmlParseError
from qbd.simulator.soapclient import SoapFaultAnswer
from qbd.simulator.webconnector import HCP_RESPONSE, UpdateReport, WebConnectorSimulator

__all__ = [
    "COMPANY_FILE",
    "COMPANY_NAME",
    "FAULTS",
    "HCP_RESPONSE",
    "QbXmlParseError",
    "QuickBooksSimulator",
    "SimAccount",
    "SimItem",
    "SoapFaultAnswer",
    "UpdateReport",
    "WebConnectorSimulator",
]
