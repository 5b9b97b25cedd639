"""The database: engines and sessions, the tables, values kept once."""
