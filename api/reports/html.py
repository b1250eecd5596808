"""report.html: one self-contained page (inline SVG plots, inline CSS, no scripts or links)."""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.pipeline.outcome import Outcome
from api.reports import tables
from api.scenario.yamlsrc import display_path
from solver.schema import ShiftAssignment

CHANNEL_COLOURS = ("#2f6fdf", "#1f9d6a", "#e08a1e", "#9b59b6", "#c0392b", "#16a2b8")
SHIFT_COLOURS = (
    "#dcebff",
    "#ffe7c7",
    "#dff5e1",
    "#f5ddf2",
    "#fff6bf",
    "#e0e0f8",
    "#d9f2f2",
    "#f7dede",
)
ACTIVITY_COLOURS = {
    "briefing": "#7f8c8d",
    "break": "#ffffff",
    "lunch": "#f4d03f",
    "training": "#8e44ad",
    "meeting": "#8e44ad",
    "idle": "#bdc3c7",
}
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def channel_colours(o: Outcome) -> dict[str, str]:
    return {
        c.id: CHANNEL_COLOURS[i % len(CHANNEL_COLOURS)]
        for i, c in enumerate(o.prepared.scenario.channels)
    }


def _svg(fig: Any) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return Markup(text)


def _times(o: Outcome) -> list[Any]:
    s = o.prepared.scenario
    return [s.slot_time(t) for t in range(s.n_slots + 1)]


def _axis(ax: Any, o: Outcome) -> None:
    s = o.prepared.scenario
    ax.xaxis.set_major_locator(mdates.DayLocator())  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d"))  # type: ignore[no-untyped-call]
    if s.horizon.days <= 3:
        ax.xaxis.set_minor_locator(mdates.HourLocator(byhour=range(0, 24, 3)))  # type: ignore[no-untyped-call]
    ax.grid(True, which="major", axis="x", color="#bbb", lw=0.6)
    ax.grid(True, which="major", axis="y", color="#eee", lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(_times(o)[0], _times(o)[-1])


def coverage_plot(o: Outcome) -> Markup:
    """Required vs scheduled agents per interval, one panel per channel."""
    plt.rcParams["svg.fonttype"] = "none"
    s = o.prepared.scenario
    colours = channel_colours(o)
    n = len(s.channels)
    fig, axes = plt.subplots(n, 1, figsize=(11, 2.3 * n), sharex=True, squeeze=False)
    x = _times(o)
    for ax, ch in zip(axes[:, 0], s.channels, strict=True):
        c = o.channels[ch.id]
        sched = np.append(c.scheduled, c.scheduled[-1])
        req = np.append(c.required, c.required[-1])
        ax.fill_between(
            x, 0, sched, step="post", color=colours[ch.id], alpha=0.35, lw=0, label="scheduled"
        )
        ax.step(x, sched, where="post", color=colours[ch.id], lw=0.9)
        label = "level-loaded plan" if ch.kind.value == "deferred" else "required"
        ax.step(x, req, where="post", color="#222", lw=1.1, label=label)
        under = np.append(c.under, c.under[-1]) if ch.kind.value != "deferred" else None
        if under is not None and under.any():
            ax.fill_between(
                x,
                sched,
                sched + under,
                step="post",
                color="#d62728",
                alpha=0.35,
                lw=0,
                label="short",
            )
        ax.set_ylabel(f"{ch.id}\nagents", fontsize=9)
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
            ncol=3,
            borderaxespad=0.1,
        )
        _axis(ax, o)
    fig.tight_layout()
    return _svg(fig)


def service_level_plot(o: Outcome) -> Markup:
    """Projected service level per interval (on-time share for deferred work) and the target."""
    plt.rcParams["svg.fonttype"] = "none"
    s = o.prepared.scenario
    colours = channel_colours(o)
    n = len(s.channels)
    fig, axes = plt.subplots(n, 1, figsize=(11, 1.9 * n), sharex=True, squeeze=False)
    x = np.array(_times(o)[:-1]) + timedelta(minutes=s.horizon.interval_minutes / 2)
    for ax, ch in zip(axes[:, 0], s.channels, strict=True):
        c = o.channels[ch.id]
        sl = np.asarray(c.service_level, dtype=float)
        ax.plot(x, sl * 100, marker=".", ms=2.5, lw=0.8, color=colours[ch.id])
        if c.target is not None:
            ax.axhline(
                c.target * 100, ls="--", color="#444", lw=0.9, label=f"target {c.target:.0%}"
            )
            ax.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=8,
                frameon=False,
                borderaxespad=0.1,
            )
        ax.set_ylim(-3, 103)
        what = "on time %" if ch.kind.value == "deferred" else "SL %"
        ax.set_ylabel(f"{ch.id}\n{what}", fontsize=9)
        _axis(ax, o)
    fig.tight_layout()
    return _svg(fig)


def _pct(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f} %"


def _grid(o: Outcome) -> dict[str, Any]:
    s = o.prepared.scenario
    days = [s.horizon.start + timedelta(days=d) for d in range(s.horizon.days)]
    shift_colour = {
        t.id: SHIFT_COLOURS[i % len(SHIFT_COLOURS)] for i, t in enumerate(s.shift_types)
    }
    ch_colour = channel_colours(o)
    by_agent: dict[str, dict[int, ShiftAssignment]] = defaultdict(dict)
    for sh in o.result.assignments:
        by_agent[sh.agent_id][sh.day] = sh
    leave_days: dict[str, dict[int, str]] = defaultdict(dict)
    granted = {d.leave_index for d in o.result.leave_decisions if d.granted}
    refused = {d.leave_index for d in o.result.leave_decisions if not d.granted}
    for i, lv in enumerate(o.prepared.problem.leave):
        if not lv.whole_days:
            continue
        for d in lv.days():
            if not 0 <= d < s.horizon.days:
                continue
            if lv.status.value == "requested":
                if i in granted:
                    leave_days[lv.agent_id][d] = f"{lv.kind.value.replace('_', ' ')} (granted)"
                elif i in refused:
                    leave_days[lv.agent_id].setdefault(d, "request refused")
            else:
                leave_days[lv.agent_id][d] = lv.kind.value.replace("_", " ")
    rows = []
    for agent in sorted(s.agents, key=lambda a: (a.team, a.id)):
        cells: list[dict[str, Any]] = []
        paid = 0
        for d in range(s.horizon.days):
            a = by_agent[agent.id].get(d)
            note = leave_days[agent.id].get(d, "")
            if a is None:
                cells.append(
                    {
                        "kind": "leave" if note and "refused" not in note else "off",
                        "text": note or "off",
                    }
                )
                continue
            paid += a.paid_minutes
            start, end = s.minute_time(a.start), s.minute_time(a.end)
            segs = []
            for x in tables.shift_activities(o, a):
                lo = (x.start - start) / (end - start)
                hi = (x.end - start) / (end - start)
                kind = x.activity
                colour = (
                    ch_colour.get(x.channel, "#bdc3c7")
                    if kind == "work"
                    else ACTIVITY_COLOURS.get(kind, "#999")
                )
                segs.append(
                    {
                        "left": round(100 * lo, 2),
                        "width": round(100 * (hi - lo), 2),
                        "colour": colour,
                        "kind": kind,
                        "title": f"{x.start:%H:%M}-{x.end:%H:%M} {kind} {x.channel}".strip(),
                    }
                )
            breaks = " · ".join(
                f"{'lunch' if b.lunch else 'break'} {s.minute_time(b.start):%H:%M}"
                for b in a.breaks
            )
            cells.append(
                {
                    "kind": "shift",
                    "type": a.shift_type,
                    "colour": shift_colour.get(a.shift_type, "#eee"),
                    "times": f"{start:%H:%M}–{end:%H:%M}",
                    "breaks": breaks,
                    "segments": segs,
                    "note": note if "refused" in note else "",
                }
            )
        rows.append({"agent": agent, "cells": cells, "paid": f"{paid / 60:g}"})
    return {"days": days, "rows": rows, "shift_colour": shift_colour}


def roster_grid(o: Outcome) -> dict[str, Any]:
    """The agents x days grid of a solved roster: days, rows (agent, cells: shift with its type,
    times, breaks and activity segments, leave or off; paid hours) and the shift colours (the
    report's grid; the web workspace shows the same)."""
    return _grid(o)


def render_report(o: Outcome, summary: dict[str, Any]) -> str:
    """The page as a string."""
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    s = o.prepared.scenario
    solved = o.result.status.value in ("optimal", "feasible")
    by_rule = tables.penalties_by_rule(o)
    total = sum(v["cost"] for v in by_rule.values()) or 1.0
    examples = tables.penalty_examples(o)
    penalties = [
        {
            "rule": k,
            "label": tables.RULE_LABELS.get(k, k),
            "count": v["count"],
            "cost": v["cost"],
            "share": v["cost"] / total,
            "examples": examples.get(k, []),
        }
        for k, v in by_rule.items()
    ]
    channels = []
    for ch in s.channels:
        c = o.channels[ch.id]
        d = o.prepared.demand[ch.id]
        channels.append(
            {
                "id": ch.id,
                "kind": ch.kind.value,
                "source": d.source,
                "volume": f"{d.total_volume:,.0f}",
                "target": _pct(c.target)
                if c.target is not None
                else f"{ch.deadline_minutes:g} min"
                + (f", overnight by {ch.overnight_deadline}" if ch.overnight_deadline else ""),
                "sl": _pct(c.overall_service_level) if solved else "–",
                "ok": solved
                and c.target is not None
                and c.overall_service_level is not None
                and c.overall_service_level >= c.target,
                "colour": channel_colours(o)[ch.id],
            }
        )
    leave = [dict(zip(tables.LEAVE_HEADER, r, strict=True)) for r in tables.leave_rows(o)]
    template = env.get_template("report.html.j2")
    return template.render(
        s=s,
        o=o,
        r=o.result,
        summary=summary,
        solved=solved,
        scenario_file=display_path(o.prepared.loaded.path),
        channels=channels,
        penalties=penalties,
        grid=_grid(o) if solved else None,
        coverage_svg=coverage_plot(o) if solved else None,
        sl_svg=service_level_plot(o) if solved else None,
        leave=leave,
        explanation=tables.explanation(o),
        activity_colours=ACTIVITY_COLOURS,
        pct=_pct,
    )


def write_report(path: Path, o: Outcome, summary: dict[str, Any]) -> None:
    path.write_text(render_report(o, summary), encoding="utf-8")
