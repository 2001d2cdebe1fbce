"""The ``gtflow`` command.

Each command group lives in its own module ``gtflow/cli/<name>.py`` (``lambda_.py`` for
``gtflow lambda``) and exposes ``command``, a click command or group. Modules are found and
imported only when their command is used, so ``gtflow manifest`` never imports torch.

Exit codes: 0 success, 1 problems found or the operation failed, 2 usage errors.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import click

from gtflow.config import GtflowConfig
from gtflow.errors import GtflowError, UsageError

__all__ = ["main", "cli", "pass_config", "console", "err_console"]


def console() -> Any:
    from rich.console import Console

    return Console()


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _print_error(exc: Exception) -> None:
    # soft_wrap keeps "PATH:LINE: field: message" on one line whatever the terminal width,
    # and the message is printed as text, never as rich markup.
    from rich.text import Text

    err_console().print(Text("error: ", style="red") + Text(str(exc)), soft_wrap=True, highlight=False)


def _module_names() -> dict[str, str]:
    names = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        names[info.name.rstrip("_").replace("_", "-")] = info.name
    return names


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_module_names()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is not None:
            return found
        module = _module_names().get(name)
        if module is None:
            return None
        mod = importlib.import_module(f"{__name__}.{module}")
        cmd: click.Command = mod.command
        return cmd

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _print_error(exc)
            ctx.exit(2)
        except GtflowError as exc:
            _print_error(exc)
            ctx.exit(1)


pass_config = click.make_pass_decorator(GtflowConfig)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--backend", type=click.Choice(["local", "aws"]), default=None, help="Backend (env GTFLOW_BACKEND; default local).")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Local store root (env GTFLOW_ROOT; default ./gtflow-data).")
@click.option("--region", default=None, help="AWS region (env GTFLOW_REGION / AWS_REGION).")
@click.version_option(package_name="gtflow")
@click.pass_context
def cli(ctx: click.Context, backend: str | None, root: str | None, region: str | None) -> None:
    """Human-in-the-loop labeling in Ground Truth and A2I formats, on AWS or on one machine."""
    from pathlib import Path

    try:
        ctx.obj = GtflowConfig.from_env(backend=backend, root=Path(root) if root else None, region=region)
    except GtflowError as exc:
        raise click.UsageError(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="gtflow")


if __name__ == "__main__":  # pragma: no cover
    main()
