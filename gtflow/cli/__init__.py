"""The ``gtflow`` command.

Each command group lives in its own module ``gtflow/cli/<name>.py`` (``lambda_.py`` for
``gtflow lambda``) and exposes ``command``, a click command or group. Modules are found and
imported only when their command is used, so ``gtflow manifest`` never imports torch.

Exit codes: 0 success, 1 problems found or the operation failed, 2 usage errors.

One clean error path: a gtflow error, an AWS client error (no credentials, no endpoint,
throttling after retries, access denied), a file that cannot be read or decoded, or input nested
too deep becomes one line on stderr (``error: PATH:LINE: field: message`` or
``error: AWS s3 GetObject: AccessDenied: ...``) and exit 1 (2 for usage errors), never a
traceback; ``-v`` adds the traceback of an unexpected error. Warnings are logged to stderr
(``-q``: errors only; ``-v``: progress too; ``-vv``: debug), redacted like every gtflow log.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
from typing import Any

import click

from gtflow.config import GtflowConfig
from gtflow.errors import GtflowError, UsageError

__all__ = ["main", "cli", "pass_config", "console", "err_console", "configure_logging"]


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


def _aws_message(exc: BaseException) -> str | None:
    """One line for a botocore error, naming the operation; None for anything else."""
    mod = type(exc).__module__
    if not mod.startswith("botocore"):
        return None
    op = getattr(exc, "operation_name", None)
    if op is None:
        from gtflow.store.s3 import last_operation

        op = last_operation[0] if last_operation else None
    where = f"AWS {op}" if op else "AWS"
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict) and resp.get("Error"):
        err = resp["Error"]
        code, msg = err.get("Code", type(exc).__name__), err.get("Message", "")
        hint = {"AccessDenied": "check the IAM policy of these credentials",
                "AccessDeniedException": "check the IAM policy of these credentials",
                "ThrottlingException": "throttled after retries; run again later",
                "Throttling": "throttled after retries; run again later",
                "SlowDown": "throttled after retries; run again later"}.get(str(code))
        return f"{where}: {code}: {msg}" + (f" ({hint})" if hint else "")
    name = type(exc).__name__
    hint = {"NoCredentialsError": "configure AWS credentials (aws configure, AWS_PROFILE) or use --backend local",
            "NoRegionError": "pass --region or set AWS_REGION",
            "EndpointConnectionError": "check the region, the endpoint URL and the network"}.get(name)
    return f"{where}: {name}: {exc}" + (f" ({hint})" if hint else "")


def _clean_message(exc: BaseException) -> str | None:
    """One line for an error that comes from bad input or the environment, not from a bug."""
    aws = _aws_message(exc)
    if aws is not None:
        return aws
    if isinstance(exc, RecursionError):
        return "input nested too deeply (more levels than gtflow reads)"
    if isinstance(exc, UnicodeDecodeError):
        return f"cannot decode the input as {exc.encoding} at byte {exc.start} (pass --encoding where offered)"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    if isinstance(exc, MemoryError):
        return "out of memory"
    return None


def _print_line(text: str) -> None:
    from rich.text import Text

    err_console().print(Text("error: ", style="red") + Text(text), soft_wrap=True, highlight=False)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """gtflow's log records on stderr, one line each, redacted."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        from gtflow.logs import RedactingFilter

        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        record.levelname = record.levelname.lower()
        self.stream = sys.stderr  # follow redirection (tests, CliRunner)
        super().emit(record)


def configure_logging(verbosity: int) -> None:
    """Warnings (``verbosity`` 0), errors only (-1), info (1), debug (2+) from gtflow to stderr."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logger = logging.getLogger("gtflow")
    for h in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(h)
    handler = _Handler()
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)


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
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # bad input or environment: one line; a bug: one line, -v for the traceback
            msg = _clean_message(exc)
            if msg is None:
                msg = f"unexpected {type(exc).__name__}: {exc} (a gtflow bug; run with -v for the traceback)"
                if ctx.find_root().params.get("verbose"):
                    import traceback

                    traceback.print_exc(file=sys.stderr)
            _print_line(msg)
            ctx.exit(1)


pass_config = click.make_pass_decorator(GtflowConfig)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--backend", type=click.Choice(["local", "aws"]), default=None, help="Backend (env GTFLOW_BACKEND; default local).")
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Local store root (env GTFLOW_ROOT; default ./gtflow-data).")
@click.option("--region", default=None, help="AWS region (env GTFLOW_REGION / AWS_REGION).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.version_option(package_name="gtflow")
@click.pass_context
def cli(ctx: click.Context, backend: str | None, root: str | None, region: str | None, verbose: int,
        quiet: bool) -> None:
    """Human-in-the-loop labeling in Ground Truth and A2I formats, on AWS or on one machine."""
    from pathlib import Path

    configure_logging(-1 if quiet else verbose)
    try:
        ctx.obj = GtflowConfig.from_env(backend=backend, root=Path(root) if root else None, region=region)
    except GtflowError as exc:
        raise click.UsageError(str(exc)) from exc


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="gtflow")


if __name__ == "__main__":  # pragma: no cover
    main()
