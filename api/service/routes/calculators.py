"""POST /staffing and POST /forecast: synchronous calculators (any role)."""

from __future__ import annotations

from fastapi import APIRouter

from api.service.calculators import compute_forecast, compute_staffing
from api.service.deps import AnyRole
from api.service.handlers import ERROR_RESPONSES
from api.service.schemas import ForecastRequest, ForecastResponse, StaffingRequest
from forecast.schema import ChannelPlan

router = APIRouter(tags=["calculators"], responses=ERROR_RESPONSES)


@router.post("/staffing", operation_id="computeStaffing", response_model=ChannelPlan)
def staffing(body: StaffingRequest, _: AnyRole) -> ChannelPlan:
    """Agents to schedule per interval (Erlang C/A, chat concurrency, deferred deadlines), with
    every intermediate: traffic, agents from the queueing model, after the occupancy cap, after
    shrinkage, and the service level, ASA and occupancy they achieve."""
    return compute_staffing(body)


@router.post("/forecast", operation_id="computeForecast", response_model=ForecastResponse)
def forecast(body: ForecastRequest, _: AnyRole) -> ForecastResponse:
    """Volume and handle time per interval for each queue of a contact history."""
    return compute_forecast(body)
