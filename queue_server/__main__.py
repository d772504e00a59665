"""`python -m queue_server --config FILE …` serves, like `hall serve`; with a command name, runs it."""

import sys

from .cli import app

if len(sys.argv) < 2 or sys.argv[1] not in (
    "serve",
    "check-config",
    "migrate",
    "backup",
    "restore",
    "example-config",
    "devices",
    "users",
    "--help",
):
    sys.argv.insert(1, "serve")
app()
