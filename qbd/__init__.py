"""QuickBooks Desktop: qbXML, the Web Connector SOAP service and the .qwc file; no Slack, no DB."""
