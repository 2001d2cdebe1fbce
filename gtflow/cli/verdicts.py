"""``gtflow verdicts migrate``: move a verdict table to keys that hold the job.

    gtflow [--backend aws] verdicts migrate [--verdict-table NAME]

Tables written before the job was part of the verdict key (``label<TAB>image``) are rewritten to
``job<TAB>label<TAB>image``. SQLite (local) migrates when opened; this command opens it and
reports; on AWS it rewrites the DynamoDB table's items (safe to rerun).
"""

from __future__ import annotations

import click

from gtflow.cli import pass_config
from gtflow.config import GtflowConfig

__all__ = ["command"]


@click.group("verdicts")
def command() -> None:
    """The verdict table of bulk QA and label verification jobs."""


@command.command("migrate")
@click.option("--verdict-table", default=None, help="AWS: the DynamoDB verdict table (default gtflow-verdicts).")
@pass_config
def migrate_cmd(config: GtflowConfig, verdict_table: str | None) -> None:
    """Put the job into every verdict key (tables written by earlier gtflow versions)."""
    from gtflow.backends import open_backend
    from gtflow.qa.job import open_table

    table = open_table(open_backend(config), table_name=verdict_table)
    moved = table.migrate() if hasattr(table, "migrate") else getattr(table, "migrated", 0)
    click.echo(f"{moved} verdicts moved to keys with their job ({table!r})")
