"""qbXML requests and responses as pure functions over frozen dataclasses."""
