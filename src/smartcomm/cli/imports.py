"""`smartcomm import customers|receipts|products FILE` (filled in by its feature)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import CSV files.", no_args_is_help=True)
