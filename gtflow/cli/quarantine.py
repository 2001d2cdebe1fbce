"""``gtflow quarantine``: see the records stages left out, and re-admit them after a fix.

    gtflow quarantine list    (--config RETRAIN.yaml | --prefix s3://...) [--status S] [--stage S] [--json]
    gtflow quarantine show    ID (--config ... | --prefix ...) [--json]
    gtflow quarantine release ID (--config ... | --prefix ...)

``--config`` takes a retrain config and uses its ``state_prefix`` (where ``gtflow retrain``
quarantines answers); ``--prefix`` names any quarantine's prefix. A released record is used
again by the next run of its stage. Exit codes: 0 done, 1 failed, 2 usage (no such id).
"""

from __future__ import annotations

import json
from typing import Any

import click

from gtflow.cli import console, pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command"]


def _quarantine(config: GtflowConfig, config_file: str | None, prefix: str | None) -> Any:
    from gtflow.quarantine import Quarantine

    if (config_file is None) == (prefix is None):
        raise UsageError("give --config RETRAIN.yaml or --prefix s3://... (one of them)")
    if config_file is not None:
        from gtflow.pipeline.entry import store_for
        from gtflow.pipeline.retrain import RetrainConfig

        rcfg = RetrainConfig.from_file(config_file)
        return Quarantine(store_for(rcfg, config), rcfg.state_prefix)
    from gtflow.backends import open_backend

    return Quarantine(open_backend(config).store, str(prefix))


def _where(f: Any) -> Any:
    f = click.option("--prefix", default=None, help="The quarantine's prefix (s3://bucket/state).")(f)
    f = click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False), default=None,
                     help="A retrain config: its state_prefix.")(f)
    return f


@click.group("quarantine")
def command() -> None:
    """Records left out of a run (bad answers, unreadable files): list, show, release."""


@command.command("list")
@_where
@click.option("--status", type=click.Choice(["quarantined", "released", "readmitted"]), default=None)
@click.option("--stage", default=None, help="Only this stage's records (retrain, collect, from-a2i, ...).")
@click.option("--json", "as_json", is_flag=True)
@pass_config
def list_cmd(config: GtflowConfig, config_file: str | None, prefix: str | None, status: str | None,
             stage: str | None, as_json: bool) -> None:
    """The quarantined records, oldest first."""
    entries = _quarantine(config, config_file, prefix).list(status=status, stage=stage)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    c = console()
    for e in entries:
        c.print(f"{e.id}  {e.status:<11} {e.stage:<9} {e.quarantined_at}  {e.source}", highlight=False, soft_wrap=True)
    c.print(f"{len(entries)} records", highlight=False)


@command.command("show")
@click.argument("entry_id", metavar="ID")
@_where
@click.option("--json", "as_json", is_flag=True)
@pass_config
def show_cmd(config: GtflowConfig, entry_id: str, config_file: str | None, prefix: str | None, as_json: bool) -> None:
    """One record: where it came from, why it was left out, when."""
    e = _quarantine(config, config_file, prefix).get(entry_id)
    if as_json:
        click.echo(json.dumps(e.to_dict(), indent=2))
        return
    for key, value in e.to_dict().items():
        if value not in (None, {}):
            click.echo(f"{key}: {value}")


@command.command("release")
@click.argument("entry_id", metavar="ID")
@_where
@pass_config
def release_cmd(config: GtflowConfig, entry_id: str, config_file: str | None, prefix: str | None) -> None:
    """Re-admit a record after fixing its source: the next run of its stage reads it again."""
    e = _quarantine(config, config_file, prefix).release(entry_id)
    click.echo(f"released {e.id} ({e.stage}: {e.source}); the next run uses it again")
