"""A sweep's tables: ``sweep.csv`` (one row per variant) and ``sweep.html`` (the same table, the
non-dominated variants marked, and a plot of cost against service level, fairness as colour)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path
from typing import Any

from api.scenario.csvio import write_csv
from api.sweep.rows import Row, measures
from api.sweep.spec import SweepPlan

__all__ = ["channels", "sweep_header", "sweep_rows", "write_sweep_csv", "write_sweep_html"]

MEASURES = (
    "objective",
    "gap",
    "paid_hours",
    "agents_scheduled",
    "agents_total",
)


def channels(rows: list[Row]) -> list[str]:
    out: list[str] = []
    for r in rows:
        for ch in r.summary.get("service_level_target") or {}:
            if ch not in out:
                out.append(ch)
    return out


def sweep_header(plan: SweepPlan, rows: list[Row]) -> list[str]:
    return [
        "variant",
        *plan.axes,
        "status",
        "reason",
        "pareto",
        *MEASURES,
        *[f"service_level.{ch}" for ch in channels(rows)],
        "service_level",
        "under_cover_agent_hours",
        "over_cover_agent_hours",
        "fairness_spread",
        "wall_time_s",
        "resumed",
        "scenario_sha256",
    ]


def _cell(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def sweep_rows(plan: SweepPlan, rows: list[Row]) -> list[list[str]]:
    chs = channels(rows)
    out = []
    for r in rows:
        s = r.summary
        sl = s.get("service_level") or {}
        out.append(
            [
                r.variant,
                *[_cell(r.values.get(a)) for a in plan.axes],
                r.status,
                r.reason,
                _cell(r.pareto),
                *[_cell(s.get(k)) for k in MEASURES],
                *[_cell(sl.get(ch)) for ch in chs],
                _cell(measures(r)["service_level"]),
                _cell(s.get("under_cover_agent_hours")),
                _cell(s.get("over_cover_agent_hours")),
                _cell(s.get("fairness_spread")),
                _cell(s.get("wall_time_s")),
                _cell(r.resumed),
                _cell(s.get("scenario_sha256")),
            ]
        )
    return out


def write_sweep_csv(path: Path, plan: SweepPlan, rows: list[Row]) -> None:
    write_csv(path, sweep_header(plan, rows), sweep_rows(plan, rows))


def _plot(rows: list[Row]) -> str:
    """Cost against service level, fairness spread as colour; the front circled and joined."""
    # start-up time: matplotlib loads only when a sweep's report is written
    import matplotlib

    matplotlib.use("Agg")
    # start-up time, as above
    import matplotlib.pyplot as plt

    pts = [(k, measures(r)) for k, r in enumerate(rows, 1) if r.solved]
    pts = [(k, m) for k, m in pts if m["cost"] is not None and m["service_level"] is not None]
    if not pts:
        return ""
    plt.rcParams["svg.fonttype"] = "none"
    fig, ax = plt.subplots(figsize=(8, 5))
    xs = [float(m["cost"] or 0) for _, m in pts]
    ys = [100 * float(m["service_level"] or 0) for _, m in pts]
    cs = [m["fairness"] if m["fairness"] is not None else 0.0 for _, m in pts]
    sc = ax.scatter(xs, ys, c=cs, cmap="viridis_r", s=46, zorder=3)
    fig.colorbar(sc, ax=ax, label="fairness spread (lower is fairer)")
    front = [(x, y) for (k, _), x, y in zip(pts, xs, ys, strict=True) if rows[k - 1].pareto]
    if front:
        ax.scatter(
            [x for x, _ in front],
            [y for _, y in front],
            s=150,
            facecolors="none",
            edgecolors="#c0392b",
            linewidths=1.6,
            zorder=4,
            label="non-dominated (cost, service level, fairness)",
        )
        # the front of cost against service level alone, as a line
        best: list[tuple[float, float]] = []
        for x, y in sorted(zip(xs, ys, strict=True)):
            if not best or y > best[-1][1] + 1e-9:
                best.append((x, y))
        ax.step(
            [x for x, _ in best],
            [y for _, y in best],
            where="post",
            color="#c0392b",
            alpha=0.6,
            zorder=2,
            label="front of cost against service level",
        )
        ax.legend(loc="lower right", fontsize=8)
    for (k, _), x, y in zip(pts, xs, ys, strict=True):
        ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xlabel("cost: paid hours")
    ax.set_ylabel("service level, volume-weighted (%)")
    ax.grid(alpha=0.3)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def write_sweep_html(path: Path, info: dict[str, Any], plan: SweepPlan, rows: list[Row]) -> None:
    e = html.escape
    header = sweep_header(plan, rows)
    shown = [h for h in header if h not in ("scenario_sha256", "agents_total")]
    body = []
    for k, (r, cells) in enumerate(zip(rows, sweep_rows(plan, rows), strict=True), 1):
        values = dict(zip(header, cells, strict=True))
        cls = "front" if r.pareto else ("bad" if not r.solved else "")
        link = (
            f"<a href='{e(r.variant)}/report.html'>{e(r.variant)}</a>"
            if r.summary
            else e(r.variant)
        )
        tds = [f"<td class='num'>{k}</td>", f"<td>{link}</td>"]
        for h in shown[1:]:
            v = values[h]
            if h == "pareto":
                v = "&#9733;" if r.pareto else ""
                tds.append(f"<td class='num'>{v}</td>")
                continue
            num = h not in ("status", "reason") and h not in plan.axes
            tds.append(f"<td class='{'num' if num else ''}'>{e(v)}</td>")
        body.append(f"<tr class='{cls}'>{''.join(tds)}</tr>")
    solved = sum(1 for r in rows if r.solved)
    failed = [r for r in rows if not r.solved]
    front = sum(1 for r in rows if r.pareto)
    plot = _plot(rows)
    heads = "".join(f"<th>{e(h)}</th>" for h in ["#", *shown])
    text = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep: {e(plan.name)}</title>
<style>
body {{ font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #1d2733; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border-bottom: 1px solid #d9dee4; padding: 4px 8px; text-align: left; }}
th {{ background: #eef1f4; vertical-align: bottom; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.front td {{ background: #fdf2e9; font-weight: bold; }}
tr.bad td {{ color: #c0392b; }}
.note {{ color: #6b7785; }}
</style></head><body>
<h1>Sweep: {e(plan.name)}</h1>
<p>Base scenario <code>{e(str(plan.base))}</code>, from <code>{e(plan.source)}</code>:
{len(rows)} variants, {solved} solved, {len(failed)} failed{
        f", {info['resumed']} kept from an earlier run" if info.get("resumed") else ""
    }. Run on {e(str(info.get("cluster", "")))}, {info.get("parallel")} at a time with
{info.get("workers")} solver thread(s) each, in {info.get("wall_time_s")} s.</p>
<p><b>{front} non-dominated variant(s)</b> (&#9733;, highlighted): no other variant is at least as
good on cost (paid hours, lower is better), service level (volume-weighted over the voice and chat
channels, higher is better) and fairness spread (weekend, night, late and holiday shifts, max - min
across each contract's agents, summed; lower is better), and better on one.</p>
{plot}
<p class="note">Each variant's own report: <code>VARIANT/report.html</code> beside this file.
objective is the solver's weighted cost; gap is to its lower bound.</p>
<table><tr>{heads}</tr>
{"".join(body)}
</table></body></html>
"""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
