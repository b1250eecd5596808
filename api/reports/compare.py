"""Side-by-side comparison of what-if scenarios: KPIs with deltas against the first, as CSV and
one self-contained HTML page."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.scenario.csvio import write_csv

__all__ = ["Metric", "comparison_rows", "metrics", "write_comparison"]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    better: int  # +1 higher is better, -1 lower is better, 0 neutral


def metrics(summaries: list[dict[str, Any]]) -> list[Metric]:
    channels: list[str] = []
    for s in summaries:
        for ch in s.get("service_level_target", {}):
            if ch not in channels:
                channels.append(ch)
    out = [
        Metric("status", "status", "", 0),
        Metric("objective", "objective", "", -1),
        Metric("gap", "gap to bound", "share", -1),
        Metric("under_cover_agent_hours", "under cover", "agent-hours", -1),
        Metric("over_cover_agent_hours", "over cover", "agent-hours", -1),
    ]
    for ch in channels:
        out.append(Metric(f"service_level.{ch}", f"service level {ch}", "share", +1))
    out += [
        Metric("required_agent_hours", "required (voice, chat)", "agent-hours", 0),
        Metric("paid_hours", "paid hours", "hours", 0),
        Metric("shifts", "shifts", "", 0),
        Metric("agents_scheduled", "agents scheduled", "", 0),
        Metric("agents_total", "agents", "", 0),
        Metric("leave.granted", "leave requests granted", "", +1),
        Metric("leave.requested", "leave requests", "", 0),
        Metric("wall_time_s", "solve time", "s", 0),
    ]
    return out


def _get(summary: dict[str, Any], key: str) -> Any:
    value: Any = summary
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return None if math.isnan(float(x)) else float(x)


def _fmt(x: Any, unit: str) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    v = float(x)
    if unit == "share":
        return f"{v:.4f}"
    return f"{v:.2f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def _labels(summaries: list[dict[str, Any]]) -> list[str]:
    names = [str(_get(s, "scenario.name") or f"scenario {i + 1}") for i, s in enumerate(summaries)]
    out = []
    for i, n in enumerate(names):
        if names.count(n) > 1:
            n = f"{n} ({Path(str(_get(summaries[i], 'scenario.file'))).stem})"
        out.append(n)
    return out


def comparison_rows(summaries: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: metric, unit, each scenario's value, then the delta of each against the
    first."""
    labels = _labels(summaries)
    header = ["metric", "unit", *labels, *[f"delta {x}" for x in labels[1:]]]
    rows = []
    for m in metrics(summaries):
        values = [_get(s, m.key) for s in summaries]
        base = _num(values[0])
        deltas = []
        for v in values[1:]:
            x = _num(v)
            deltas.append("" if x is None or base is None else _fmt(x - base, m.unit))
        rows.append([m.key, m.unit, *[_fmt(v, m.unit) for v in values], *deltas])
    return header, rows


def _html(summaries: list[dict[str, Any]], files: list[str]) -> str:
    labels = _labels(summaries)
    ms = metrics(summaries)
    e = html.escape
    head = "".join(
        f"<th class='num'>{e(x)}<div class='f'>{e(f)}</div></th>"
        for x, f in zip(labels, files, strict=True)
    )
    head += "".join(f"<th class='num'>&Delta; {e(x)}</th>" for x in labels[1:])
    body = []
    for m in ms:
        values = [_get(s, m.key) for s in summaries]
        base = _num(values[0])
        cells = "".join(f"<td class='num'>{e(_fmt(v, m.unit))}</td>" for v in values)
        for v in values[1:]:
            x = _num(v)
            if x is None or base is None:
                cells += "<td></td>"
                continue
            d = x - base
            cls = ""
            if m.better and abs(d) > 1e-9:
                cls = "good" if d * m.better > 0 else "bad"
            sign = "+" if d > 0 else ""
            cells += f"<td class='num {cls}'>{sign}{e(_fmt(d, m.unit))}</td>"
        unit = f" <span class='u'>({e(m.unit)})</span>" if m.unit else ""
        body.append(f"<tr><td>{e(m.label)}{unit}</td>{cells}</tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>What-if comparison</title>
<style>
body {{ font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px; color: #1d2733; }}
table {{ border-collapse: collapse; }}
th, td {{ border-bottom: 1px solid #d9dee4; padding: 6px 12px; text-align: left; }}
th {{ background: #eef1f4; vertical-align: bottom; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.good {{ color: #1e8449; font-weight: bold; }} .bad {{ color: #c0392b; font-weight: bold; }}
.u, .f {{ color: #6b7785; font-size: 11px; font-weight: normal; }}
</style></head><body>
<h1>What-if comparison</h1>
<p>Deltas against the first scenario ({e(labels[0])}); green is better, red is worse. Each
scenario's own report: <code>SCENARIO/report.html</code> beside this file.</p>
<table><tr><th>metric</th>{head}</tr>
{"".join(body)}
</table></body></html>
"""


def write_comparison(out_dir: Path, summaries: list[dict[str, Any]], files: list[str]) -> None:
    header, rows = comparison_rows(summaries)
    write_csv(out_dir / "comparison.csv", header, rows)
    (out_dir / "comparison.html").write_text(_html(summaries, files), encoding="utf-8")
