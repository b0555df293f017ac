"""Request and response bodies for assignment."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel

Strategy = Literal["round_robin", "weighted", "least_loaded", "territory", "specific_user"]
Fallback = Literal["unassigned", "user"]
MAX_MEMBERS = 50
MAX_WEIGHT = 100
MAX_RULES = 200
MAX_ENTRIES = 200


class MemberIn(WriteModel):
    user_id: uuid.UUID
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT,
                        description="Share of the weighted rotation (1-100)")


class TerritoryEntry(WriteModel):
    values: list[Any] = Field(min_length=1, max_length=500,
                              description="Values of the field that map to these users")
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_MEMBERS)


class Territory(WriteModel):
    field: str = Field(min_length=1, max_length=100,
                       description="A lead field (country, source, ...) or fields.<code>")
    entries: list[TerritoryEntry] = Field(min_length=1, max_length=MAX_ENTRIES)


class RuleCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    position: int | None = Field(default=None, ge=0, le=MAX_RULES,
                                 description="Place in the order (default: last)")
    condition: dict[str, Any] | None = Field(
        default=None, description="Rule-language condition; null matches every lead")
    strategy: Strategy
    members: list[MemberIn] = Field(default_factory=list, max_length=MAX_MEMBERS,
                                    description="Not for territory (its entries name users)")
    territory: Territory | None = None
    respect_working_hours: bool = True
    respect_capacity: bool = True
    fallback: Fallback = "unassigned"
    fallback_user_id: uuid.UUID | None = None


class RuleUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    enabled: bool | None = None
    condition: dict[str, Any] | None = None
    strategy: Strategy | None = None
    members: list[MemberIn] | None = Field(default=None, max_length=MAX_MEMBERS)
    territory: Territory | None = None
    respect_working_hours: bool | None = None
    respect_capacity: bool | None = None
    fallback: Fallback | None = None
    fallback_user_id: uuid.UUID | None = None


class MemberRead(ReadModel):
    user_id: uuid.UUID
    weight: int


class RuleRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    position: int
    enabled: bool
    condition: dict[str, Any] | None
    description: str | None = Field(default=None, description="The condition in words")
    strategy: str
    members: list[MemberRead]
    territory: dict[str, Any] | None
    respect_working_hours: bool
    respect_capacity: bool
    fallback: str
    fallback_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    version: int


class RulePage(Page[RuleRead]):
    pass


class RuleReorder(WriteModel):
    rule_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_RULES,
                                      description="Every rule, in the new order")


class AssignRequest(WriteModel):
    user_id: uuid.UUID | None = Field(description="The new owner (null: unassign)")
    reason: str | None = Field(default=None, max_length=500)


class AutoAssignRequest(WriteModel):
    reason: str | None = Field(default=None, max_length=500)


class CandidateRead(ReadModel):
    user_id: uuid.UUID
    name: str | None
    eligible: bool
    reasons: list[str] = Field(description="inactive, viewer_role, out_of_office, "
                                           "outside_working_hours, at_capacity, "
                                           "not_in_territory, excluded, not_a_user")
    weight: int
    open_leads: int | None
    capacity: int | None
    local_time: str | None = Field(description="The user's weekday and time now")


class RuleRef(ReadModel):
    id: uuid.UUID
    name: str
    position: int
    strategy: str


class RuleChecked(ReadModel):
    id: uuid.UUID
    name: str
    matched: bool
    description: str | None = None
    broken: str | None = None


class AssignmentRead(ReadModel):
    lead_id: uuid.UUID
    dry_run: bool
    outcome: str = Field(description="assigned, fallback_user, unassigned, no_rule, manual")
    changed: bool
    previous_owner_id: uuid.UUID | None
    owner_id: uuid.UUID | None = Field(description="The lead's owner after this (with "
                                                   "dry_run: what it would be). Nobody "
                                                   "eligible and no fallback: it keeps its "
                                                   "owner")
    rule: RuleRef | None
    rules_checked: list[RuleChecked]
    candidates: list[CandidateRead]
    lead_version: int | None = None


class SettingsRead(ReadModel):
    auto_assign_new_leads: bool = Field(description="Run the rules for every new lead "
                                                    "without an owner (API, import, profiles)")
    reassign_on_deactivation: bool = Field(description="Reassign a deactivated user's open "
                                                       "leads through the rules (a job)")


class SettingsUpdate(WriteModel):
    auto_assign_new_leads: bool | None = None
    reassign_on_deactivation: bool | None = None


class ReassignRequest(WriteModel):
    reason: str | None = Field(default=None, max_length=500)


class JobRead(ReadModel):
    id: uuid.UUID
    number: int
    kind: str
    status: str
    user_id: uuid.UUID | None
    import_job_id: uuid.UUID | None
    reason: str | None
    total: int | None
    processed: int
    assigned: int
    unassigned: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(Page[JobRead]):
    pass
