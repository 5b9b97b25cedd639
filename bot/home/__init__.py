"""The App Home tab: what it shows and how it stays current."""
