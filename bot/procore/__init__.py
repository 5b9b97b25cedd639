"""The Procore link (DESIGN §8): cost codes arrive from Procore, their QuickBooks ListIDs go back.

`client` speaks Procore's REST API, `source` is the seam a different source of cost codes would
plug into, `reconcile` brings Procore's list in through the import's rules, `webhook` and
`deliveries` keep it current between reconciles, `outbox` writes the ListIDs back, and `link`
assembles them for the server and the CLI.
"""
