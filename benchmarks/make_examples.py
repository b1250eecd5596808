"""Regenerate examples/forecast_week.csv (deterministic): python -m benchmarks.make_examples."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from benchmarks.demand import generate

CHANNELS = (  # id, daily volume, AHT seconds (chat: measured at concurrency 3), seed
    ("phone", 5200, 290, 1),
    ("chat", 1800, 540, 2),
    ("messages", 900, 200, 3),
)


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "forecast_week.csv"
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["interval_start", "channel", "volume", "aht_seconds"])
        for channel, daily, aht, seed in CHANNELS:
            starts, vol, ah = generate(datetime(2026, 12, 7), 7, 15, daily, aht, seed)
            for s, v, h in zip(starts, vol, ah, strict=True):
                w.writerow([s.isoformat(timespec="minutes"), channel, int(v), f"{h:g}"])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
