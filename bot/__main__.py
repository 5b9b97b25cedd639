"""`python -m bot` runs the server, like `costcodes serve`."""

from __future__ import annotations

import sys

from bot.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
