"""Kinds shared by the layers: a channel's kind (forecast, staffing, roster and scenario files
all speak of it) and leave's kind and status (scenario files, HR imports, the roster)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ChannelKind", "LeaveKind", "LeaveStatus"]


class ChannelKind(StrEnum):
    """How a channel's contacts are served."""

    voice = "voice"
    chat = "chat"
    deferred = "deferred"


class LeaveKind(StrEnum):
    annual = "annual"
    sick = "sick"
    training = "training"
    meeting = "meeting"
    unpaid = "unpaid"
    day_off_request = "day_off_request"
    other = "other"


class LeaveStatus(StrEnum):
    approved = "approved"
    requested = "requested"
