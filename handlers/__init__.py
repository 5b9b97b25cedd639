"""Slack listeners, one module per surface; `handlers.registry.register_all` binds them to an app.

Deliberately empty: listeners import their siblings through this package, so anything imported
here would be imported back by them (an import cycle).
"""
