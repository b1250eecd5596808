"""Typed inputs and outputs of the forecast and staffing layer (pydantic v2 models)."""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.enums import ChannelKind

__all__ = [
    "ChannelKind",
    "ChannelPlan",
    "IntervalForecast",
    "Projection",
    "StaffingTargets",
]


class StaffingTargets(BaseModel):
    """Service targets of one channel; they turn a forecast into a number of agents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ChannelKind = Field(ChannelKind.voice, description="voice, chat or deferred")
    service_level: float | None = Field(
        0.8,
        gt=0.0,
        le=1.0,
        description="Share of contacts answered within answer_seconds (voice, chat); "
        "None for no service-level target",
    )
    answer_seconds: float = Field(20.0, ge=0.0, description="Answer-time threshold, seconds")
    max_occupancy: float = Field(
        1.0, gt=0.0, le=1.0, description="Cap on the share of time agents are busy (1: no cap)"
    )
    max_asa_seconds: float | None = Field(
        None, gt=0.0, description="Cap on the average speed of answer, seconds"
    )
    shrinkage: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="Share of paid time lost to absence, meetings etc.; the number to schedule "
        "is the productive number divided by (1 - shrinkage)",
    )
    concurrency: int = Field(
        1,
        ge=1,
        le=20,
        description="Contacts one agent holds at once (chat). The handle time is the one "
        "measured at this concurrency",
    )
    patience_seconds: float | None = Field(
        None,
        gt=0.0,
        description="Mean caller patience; when set, Erlang A (with abandonment) replaces Erlang C",
    )
    deadline_minutes: float | None = Field(
        None,
        gt=0.0,
        le=31 * 1440,
        description="Deferred work: each item handled within this many minutes (at most 31 days)",
    )
    overnight_deadline: time | None = Field(
        None,
        description="Deferred work arriving while nobody works is due by this time of day",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        if self.kind is ChannelKind.deferred:
            if self.deadline_minutes is None:
                raise ValueError("deadline_minutes: required for a deferred channel")
            if self.patience_seconds is not None:
                raise ValueError("patience_seconds: applies to voice and chat, not deferred work")
        else:
            if self.deadline_minutes is not None or self.overnight_deadline is not None:
                raise ValueError(
                    "deadline_minutes/overnight_deadline: apply to deferred channels only "
                    f"(this channel is {self.kind.value})"
                )
            if self.service_level is None and self.max_asa_seconds is None:
                raise ValueError(
                    "service_level: a voice or chat channel needs a service level "
                    "or max_asa_seconds"
                )
        if self.concurrency > 1 and self.kind is not ChannelKind.chat:
            raise ValueError(
                f"concurrency: applies to chat channels only (this is {self.kind.value})"
            )
        return self


class IntervalForecast(BaseModel):
    """Volume and average handle time per interval of one channel."""

    model_config = ConfigDict(extra="forbid")

    interval_start: list[datetime] = Field(description="Local start of each interval")
    volume: list[float] = Field(description="Contacts arriving in each interval (>= 0)")
    aht_seconds: list[float] = Field(
        description="Average handle time per interval, seconds (> 0 where volume > 0)"
    )
    interval_minutes: int = Field(gt=0, le=1440, description="Length of every interval")

    @model_validator(mode="after")
    def _check(self) -> Self:
        n = len(self.interval_start)
        if len(self.volume) != n or len(self.aht_seconds) != n:
            raise ValueError(
                f"interval_start, volume and aht_seconds must have the same length "
                f"(got {n}, {len(self.volume)}, {len(self.aht_seconds)})"
            )
        for i, (v, h) in enumerate(zip(self.volume, self.aht_seconds, strict=True)):
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"volume[{i}]: expected a number >= 0, got {v}")
            if not math.isfinite(h) or h < 0 or (v > 0 and h == 0):
                raise ValueError(f"aht_seconds[{i}]: expected a number > 0, got {h}")
        return self


class ChannelPlan(BaseModel):
    """Staffing plan of one channel, with its intermediates, one value per interval.

    ``agents_required`` is the number to schedule. Performance columns (service level, ASA,
    occupancy, abandonment) are what ``agents_after_occupancy`` productive agents achieve; they
    are None where no contacts arrive.
    """

    channel: str = Field(description="Channel id")
    kind: ChannelKind
    interval_minutes: int
    interval_start: list[datetime]
    volume: list[float]
    aht_seconds: list[float]
    traffic_erlangs: list[float] = Field(description="Offered load: volume x AHT / interval")
    agents_erlang: list[int] = Field(
        description="Productive agents from the queueing model (or deadlines, for deferred work)"
    )
    agents_after_occupancy: list[int] = Field(description="After the occupancy cap")
    agents_required: list[int] = Field(description="After shrinkage: the number to schedule")
    service_level: list[float | None]
    asa_seconds: list[float | None]
    occupancy: list[float | None]
    abandonment: list[float | None]
    backlog_items: list[float | None] = Field(
        description="Deferred work: items waiting at the end of each interval"
    )


class Projection(BaseModel):
    """Projected performance of a given number of agents per interval."""

    channel: str
    kind: ChannelKind
    interval_start: list[datetime]
    agents: list[float] = Field(description="Agents on duty given (before shrinkage)")
    productive_agents: list[int] = Field(description="After shrinkage")
    service_level: list[float | None]
    asa_seconds: list[float | None]
    occupancy: list[float | None]
    abandonment: list[float | None]
    backlog_items: list[float | None]
    overall_service_level: float | None = Field(
        description="Volume-weighted service level over the whole period"
    )
    overall_abandonment: float | None = Field(description="Volume-weighted abandonment")
