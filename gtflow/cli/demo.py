"""``gtflow demo``: the end-to-end human-in-the-loop demo on the local backend."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"), show_default=True)
@click.option("--reviewer", type=click.Choice(["simulated", "portal"]), default="simulated", show_default=True,
              help="simulated: answers from the synthetic truth through the portal's HTTP path; portal: you review in the browser.")
@click.option("--quick", is_flag=True, help="A smoke test of about a minute: every stage runs, on tiny models whose mAP means nothing.")
@click.option("--seed", default=7, show_default=True)
@click.option("--threshold", default=0.5, show_default=True, help="Route predictions whose top score is below this.")
@click.option("--mistakes", default=0.03, show_default=True, help="Simulated reviewer: rate of missed boxes and of circle/ellipse swaps.")
@click.option("--no-control", is_flag=True, help="Skip the control model (v0 trained on with no reviews).")
@click.option("--arms", default="random", show_default=True,
              help="Selection arms beside confidence routing, comma-separated ('none' for none): the same number "
                   "of pool images chosen this way, reviewed by the same simulated reviewer, trained on like v1.")
@click.option("--strategy", default=None, metavar="NAME",
              help="Also run a selection arm for this gtflow.selection strategy (top-score, uncertainty, "
                   "class-balanced, diversity) beside random selection; the report plots mAP per review.")
@click.option("--port", default=8765, show_default=True, help="Portal port for --reviewer portal (127.0.0.1 only).")
def command(workdir, reviewer, quick, seed, threshold, mistakes, no_control, arms, strategy, port):
    """Synthetic data -> v0 -> routing -> human review -> retrain v1 -> evaluation and report."""
    from rich.console import Console

    from gtflow.demo import DemoConfig, run_demo

    kw = dict(workdir=workdir, reviewer=reviewer, seed=seed, threshold=threshold, miss_rate=mistakes,
              swap_rate=mistakes, port=port,
              arms=tuple(a.strip() for a in arms.split(",") if a.strip() and a.strip() != "none"))
    if strategy:
        kw["arms"] = tuple(dict.fromkeys(("random", *kw["arms"], strategy)))  # the strategy beside random
    if no_control:
        kw["control"] = False
    cfg = DemoConfig.quick(**kw) if quick else DemoConfig(**kw)
    console = Console(stderr=True)
    summary = run_demo(cfg, console=console)
    m = summary["map50"]
    console.print("\nmAP@0.5 on the held-out set: " + ", ".join(
        f"{name} {arm['map50']:.3f}" + (f" ({arm['reviews']} reviews)" if arm["reviews"] else "")
        for name, arm in summary["arms"].items()))
    for line in summary["verdict"]:
        console.print(f"  {line}", highlight=False)
    console.print(f"routed {summary['routing']['routed']} of {summary['routing']['pool']} pool images; "
                  f"{summary['reviews']['done']} reviews; {summary['seconds']['total']:.0f} s in all")
    console.print(f"summary: {workdir / 'summary.json'}\nreport:  {workdir / 'report.html'}")
    click.echo(json.dumps({"map50": m, "summary": str(workdir / "summary.json")}))
    sys.exit(0)
