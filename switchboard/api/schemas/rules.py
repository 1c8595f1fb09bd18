"""Forwarding-rule models for ``/api/v1`` (snake_case).

The words and bounds are the call-flow vocabulary's
(:mod:`switchboard.callflow.rules`), so the schema cannot drift from the
validator and the compiler; the schema checks the shape of a body, the rule
service checks the rule as a whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from switchboard.callflow.rules import (
    DAYS,
    HHMM,
    MAX_TARGETS,
    NAME_MAX,
    PRIORITY_MAX,
    PRIORITY_MIN,
    RING_TIMEOUT_MAX,
    RING_TIMEOUT_MIN,
    TARGETS_DESCRIPTION,
    Condition,
    Day,
    Strategy,
)
from switchboard.models import ForwardingRule

__all__ = ["Condition", "Day", "RuleFields", "RuleIn", "RuleList", "RuleOut", "Strategy",
           "WindowIn"]


class WindowIn(BaseModel):
    """A weekly window in the tenant's time zone; ``end`` is exclusive."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(min_length=1, max_length=len(DAYS))
    start: str = Field(pattern=HHMM, examples=["09:00"])
    end: str = Field(pattern=HHMM, examples=["17:30"])


class RuleFields(BaseModel):
    """Fields of a rule (all optional: PATCH semantics)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=NAME_MAX)
    priority: int | None = Field(default=None, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    enabled: bool | None = None
    strategy: Strategy | None = None
    targets: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_TARGETS,
        description=TARGETS_DESCRIPTION,
        examples=[["+15551234567", "endpoint:desk-1"]],
    )
    ring_timeout: int | None = Field(
        default=None, ge=RING_TIMEOUT_MIN, le=RING_TIMEOUT_MAX,
        description="Seconds each target rings (default: the server's default_ring_timeout)",
    )
    condition: Condition | None = None
    schedule: list[WindowIn] | None = Field(default=None, min_length=1)

    def values(self) -> dict[str, Any]:
        """The fields given; ``schedule: null`` clears the schedule."""
        values = self.model_dump(exclude_unset=True)
        return {k: v for k, v in values.items() if v is not None or k == "schedule"}


class RuleIn(RuleFields):
    """A new rule: targets are required."""

    targets: list[str] = Field(
        min_length=1, max_length=MAX_TARGETS, description=TARGETS_DESCRIPTION,
        examples=[["+15551234567", "endpoint:desk-1"]],
    )


class RuleOut(BaseModel):
    """A forwarding rule."""

    id: str
    number_id: str
    name: str
    priority: int
    enabled: bool
    strategy: str
    targets: list[str]
    ring_timeout: int
    condition: str
    schedule: list[dict[str, Any]] | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: ForwardingRule) -> RuleOut:
        """The view of a rule row."""
        return cls(
            id=r.id, number_id=r.number_id, name=r.name, priority=r.priority,
            enabled=r.enabled, strategy=r.strategy, targets=list(r.targets),
            ring_timeout=r.ring_timeout, condition=r.condition, schedule=r.schedule,
            created_at=r.created_at, updated_at=r.updated_at,
        )


class RuleList(BaseModel):
    """Rules in evaluation order."""

    items: list[RuleOut]
