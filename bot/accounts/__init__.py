"""The chart of GL accounts: synced from QuickBooks, searched by the picker."""
