"""Reports of a bulk QA analysis: a table (terminal, Markdown, CSV) and an HTML page with plots.

The HTML report is one self-contained file (jinja2 with autoescape on; plots drawn with
matplotlib's Agg canvas and inlined as PNG ``data:`` URIs), so it opens from disk with no
network.

    >>> from gtflow.qa.records import Verdict
    >>> from gtflow.qa.analysis import analyse
    >>> print(to_markdown(analyse([Verdict("a", "cat", 91, 1, 0)], edges=[90, 100])).splitlines()[2])
    | cat | [90, 100] | 1 | 1 | 0 | 0 | 1 | 100.0 % | 91.0 |
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import io
from collections.abc import Mapping, Sequence
from typing import Any

from gtflow.qa.analysis import Analysis, Stats, _num
from gtflow.qa.thresholds import Threshold, break_even_precision

__all__ = ["table_rows", "to_markdown", "to_csv", "print_table", "to_html", "accuracy_plot_png", "COLUMNS"]

COLUMNS = ("class", "bucket", "total", "confirmed", "disconfirmed", "split", "correct", "% correct", "mean confidence")
ALL = "all"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f} %"


def _f(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}"


def _row(cls: str, bucket: str, s: Stats) -> list[str]:
    return [cls, bucket, str(s.total), str(s.confirmed), str(s.disconfirmed), str(s.split),
            str(s.correct), _pct(s.accuracy), _f(s.mean_confidence)]


def table_rows(analysis: Analysis) -> list[list[str]]:
    """One row per class and bucket, then the class total (bucket ``all``); then the same for
    every class together (class ``all``), whose last row carries the class average."""
    rows: list[list[str]] = []
    for label, c in analysis.classes.items():
        rows.extend(_row(label, b.range_label, b) for b in c.buckets)
        rows.append(_row(label, ALL, c.summary))
    rows.extend(_row(ALL, b.range_label, b) for b in analysis.overall)
    rows.append(_row(ALL, ALL, analysis.summary))
    return rows


def to_markdown(analysis: Analysis) -> str:
    """A GitHub-flavoured Markdown table; class names are text, never markup (``|``, emphasis,
    links, code and HTML escaped)."""
    def cell(s: str, i: int) -> str:
        s = s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
        if i == 0:  # the class name comes from the data
            s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for ch in "*_[]()`#!~":
                s = s.replace(ch, "\\" + ch)
        return s

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(cell(c, i) for i, c in enumerate(r)) + " |" for r in table_rows(analysis)]
    lines.append("")
    lines.append(f"Rule: {analysis.rule.value}. Class average (macro) accuracy: {_pct(analysis.macro_accuracy) or 'n/a'}."
                 f" Unreviewed: {analysis.unreviewed}. Out of range: {analysis.out_of_range}.")
    return "\n".join(lines) + "\n"


def _csv_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP: prefix ``'``)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(analysis: Analysis) -> str:
    """CSV with numeric cells (accuracy as a fraction 0..1); a class name that a spreadsheet would
    take for a formula (``=``, ``+``, ``-``, ``@``) is prefixed with ``'``."""
    buf = io.StringIO()
    w = csv.writer(buf)  # RFC 4180 \r\n: fields holding \r or \n get quoted
    w.writerow(["class", "bucket", "total", "confirmed", "disconfirmed", "split", "correct", "accuracy", "mean_confidence"])

    def emit(cls: str, bucket: str, s: Stats) -> None:
        w.writerow([_csv_text(cls), bucket, s.total, s.confirmed, s.disconfirmed, s.split, s.correct,
                    "" if s.accuracy is None else round(s.accuracy, 6),
                    "" if s.mean_confidence is None else round(s.mean_confidence, 6)])

    for label, c in analysis.classes.items():
        for b in c.buckets:
            emit(label, b.range_label, b)
        emit(label, ALL, c.summary)
    for b in analysis.overall:
        emit(ALL, b.range_label, b)
    emit(ALL, ALL, analysis.summary)
    return buf.getvalue()


def print_table(analysis: Analysis, console: Any = None) -> None:
    """Print the table to a terminal with rich."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    table = Table(title=f"Bulk QA verdicts (rule: {analysis.rule.value})")
    for name in COLUMNS:
        table.add_column(name, justify="left" if name in ("class", "bucket") else "right")
    last = None
    for r in table_rows(analysis):
        if last is not None and r[0] != last:
            table.add_section()
        last = r[0]
        table.add_row(*(escape(c) for c in r), style="bold" if r[1] == ALL else None)
    console.print(table)
    console.print(f"class average accuracy: {_pct(analysis.macro_accuracy) or 'n/a'}; "
                  f"unreviewed: {analysis.unreviewed}; out of range: {analysis.out_of_range}")


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def accuracy_plot_png(analysis: Analysis, labels: Sequence[str] | None = None,
                      thresholds: Mapping[str, Threshold] | None = None) -> str:
    """Accuracy against confidence (bucket midpoints), one line per class, as a PNG data URI.

    Uses matplotlib's object API with the Agg canvas (no pyplot state, no display).
    """
    from matplotlib.figure import Figure

    labels = list(analysis.classes) if labels is None else list(labels)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(1, 1, 1)
    mids = [(b.low + b.high) / 2 for b in analysis.overall]
    for label in labels:
        c = analysis.classes[label]
        xs = [m for m, b in zip(mids, c.buckets, strict=True) if b.total]
        ys = [100 * (b.accuracy or 0.0) for b in c.buckets if b.total]
        line = ax.plot(xs, ys, marker="o", label=label)[0]
        t = thresholds.get(label) if thresholds else None
        if t is not None and t.threshold is not None:
            ax.axvline(t.threshold, color=line.get_color(), linestyle=":", linewidth=1)
    for e in analysis.buckets.edges:
        ax.axvline(e, color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_xlabel("model confidence (bucket midpoint)")
    ax.set_ylabel("% correct")
    ax.set_ylim(-2, 102)
    ax.set_xlim(analysis.buckets.edges[0], analysis.buckets.edges[-1])
    if len(labels) <= 12:
        ax.legend(loc="lower right", fontsize="small")
    ax.set_title("Accuracy vs confidence" + (f" — {labels[0]}" if len(labels) == 1 else ""))
    return _png(fig)


def _class_plot_png(analysis: Analysis, label: str, threshold: Threshold | None) -> str:
    from matplotlib.figure import Figure

    c = analysis.classes[label]
    fig = Figure(figsize=(4.2, 2.8))
    ax = fig.add_subplot(1, 1, 1)
    names = [b.range_label for b in c.buckets]
    x = list(range(len(names)))
    conf = [b.confirmed for b in c.buckets]
    split = [b.split for b in c.buckets]
    dis = [b.disconfirmed for b in c.buckets]
    ax.bar(x, conf, color="#4c9a2a", label="confirmed")
    ax.bar(x, split, bottom=conf, color="#f0b400", label="split")
    ax.bar(x, dis, bottom=[a + b for a, b in zip(conf, split, strict=True)], color="#c0392b", label="disconfirmed")
    ax.set_xticks(x, names, fontsize="x-small")
    ax.set_ylabel("images")
    ax2 = ax.twinx()
    pts = [(i, 100 * b.accuracy) for i, b in enumerate(c.buckets) if b.accuracy is not None]
    if pts:
        ax2.plot([p[0] for p in pts], [p[1] for p in pts], color="black", marker="o")
    ax2.set_ylim(-2, 102)
    ax2.set_ylabel("% correct")
    title = label
    if threshold is not None:
        title += f" (threshold {threshold.threshold:g})" if threshold.threshold is not None else " (always route)"
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="xx-small", loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    return _png(fig)


def to_html(
    analysis: Analysis,
    *,
    thresholds: Mapping[str, Mapping[str, Threshold]] | None = None,
    cost_ratio: float | None = None,
    title: str = "Bulk label QA report",
    source: str = "",
    max_class_plots: int = 200,
) -> str:
    """A self-contained HTML report: the summary, the table, the thresholds per method and
    the plots. ``thresholds`` maps a method name to its per-class result."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("gtflow.qa", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    env.filters["pct"] = _pct
    env.filters["num"] = _f
    env.filters["edge"] = _num
    thresholds = thresholds or {}
    shown = next(iter(thresholds.values()), None)
    labels = list(analysis.classes)
    class_plots = [(label, _class_plot_png(analysis, label, shown.get(label) if shown else None))
                   for label in labels[:max_class_plots]]
    return env.get_template("report.html.j2").render(
        title=title,
        source=source,
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        a=analysis,
        rows=table_rows(analysis),
        columns=COLUMNS,
        thresholds=thresholds,
        cost_ratio=cost_ratio,
        break_even=break_even_precision(cost_ratio) if cost_ratio else None,
        overview_png=accuracy_plot_png(analysis, labels, shown),
        class_plots=class_plots,
        omitted=max(0, len(labels) - max_class_plots),
    )
