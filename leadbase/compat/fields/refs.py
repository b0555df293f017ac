"""Integer ids ↔ rows, through the services: the document's ids are our rows' ``number``.

An id in the URL (path or query) that names nothing in the caller's workspace is a 404;
an id in a body that names nothing is a 422 naming the attribute. Lookups are cached
for the request, both ways (number → row, row id → number)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from leadbase.auth.deps import RequestScope
from leadbase.codelists import service as codelists_service
from leadbase.fields import service as fields_service
from leadbase.fields import validation_rules
from leadbase.kit.errors import NotFound, ValidationFailed
from leadbase.lists import service as lists_service
from leadbase.lists.sections import service as sections_service

Row = dict[str, Any]

_WHAT = {"campaign": ("Campaign", "LIST_NOT_FOUND"),
         "section": ("Lead field section", "SECTION_NOT_FOUND"),
         "nomenclator": ("Nomenclator", "CODE_LIST_NOT_FOUND"),
         "lead_field": ("Lead field", "FIELD_NOT_FOUND"),
         "rule": ("Validation rule", "RULE_NOT_FOUND"),
         "item": ("Nomenclator item", "ITEM_NOT_FOUND")}


def not_found(kind: str, number: int, attribute: str | None) -> Exception:
    label, code = _WHAT[kind]
    if attribute is None:
        return NotFound(f"{label} not found", code=code)
    return ValidationFailed(f"{attribute}: {label.lower()} {number} not found", code=code)


class Refs:
    """The request's resolver (session and context of its scope)."""

    def __init__(self, scope: RequestScope) -> None:
        self.session = scope.session
        self.ctx = scope.ctx
        self._by_number: dict[tuple[str, int], Row] = {}
        self._numbers: dict[tuple[str, uuid.UUID], int | None] = {}

    def remember(self, kind: str, row: Row) -> Row:
        self._by_number[(kind, row["number"])] = row
        self._numbers[(kind, row["id"])] = row["number"]
        return row

    async def _get(self, kind: str, number: int, attribute: str | None,
                   load: Callable[[], Awaitable[Row | None]]) -> Row:
        key = (kind, number)
        if key not in self._by_number:
            try:
                row = await load()
            except NotFound:
                row = None
            if row is None:
                raise not_found(kind, number, attribute)
            self.remember(kind, row)
        return self._by_number[key]

    async def _number(self, kind: str, row_id: uuid.UUID | None,
                      load: Callable[[uuid.UUID], Awaitable[Row]]) -> int | None:
        if row_id is None:
            return None
        key = (kind, row_id)
        if key not in self._numbers:
            try:
                self.remember(kind, await load(row_id))
            except NotFound:
                self._numbers[key] = None  # gone (a deleted list, section or code list)
        return self._numbers[key]

    # -- number → row ---------------------------------------------------------------------

    async def campaign(self, number: int, attribute: str | None = None) -> Row:
        return await self._get("campaign", number, attribute, lambda: lists_service.get_by_number(
            self.session, ctx=self.ctx, number=number))

    async def section(self, number: int, attribute: str | None = None) -> Row:
        return await self._get("section", number, attribute,
                               lambda: sections_service.get_by_number(
                                   self.session, ctx=self.ctx, number=number))

    async def nomenclator(self, number: int, attribute: str | None = None) -> Row:
        return await self._get("nomenclator", number, attribute,
                               lambda: codelists_service.get_by_number(
                                   self.session, ctx=self.ctx, number=number))

    async def lead_field(self, number: int, attribute: str | None = None) -> Row:
        """A field of a live campaign (a field of a deleted campaign is out of sight)."""
        row = await self._get("lead_field", number, attribute,
                              lambda: fields_service.get_field_by_number(
                                  self.session, ctx=self.ctx, number=number))
        if await self.campaign_number(row["list_id"]) is None:
            raise not_found("lead_field", number, attribute)
        return row

    async def rule(self, number: int) -> Row:
        row = await self._get("rule", number, None, lambda: validation_rules.get_rule_by_number(
            self.session, ctx=self.ctx, number=number))
        await self.lead_field_number(row["field_id"], required=True)
        return row

    async def item(self, nomenclator: Row, number: int) -> Row:
        row = await self._get("item", number, None, lambda: codelists_service.get_item_by_number(
            self.session, ctx=self.ctx, number=number))
        if row["code_list_id"] != nomenclator["id"]:
            raise not_found("item", number, None)
        return row

    # -- row id → number ------------------------------------------------------------------

    async def campaign_number(self, list_id: uuid.UUID | None) -> int | None:
        return await self._number("campaign", list_id, lambda i: lists_service.get_list(
            self.session, ctx=self.ctx, list_id=i))

    async def section_number(self, section_id: uuid.UUID | None) -> int | None:
        return await self._number("section", section_id, lambda i: sections_service.get_section(
            self.session, ctx=self.ctx, section_id=i))

    async def nomenclator_number(self, code_list_id: uuid.UUID | None) -> int | None:
        return await self._number("nomenclator", code_list_id,
                                  lambda i: codelists_service.get_code_list(
                                      self.session, ctx=self.ctx, code_list_id=i))

    async def lead_field_number(self, field_id: uuid.UUID,
                                required: bool = False) -> int | None:
        number = await self._number("lead_field", field_id, lambda i: fields_service.get_field(
            self.session, ctx=self.ctx, field_id=i))
        if required and number is None:
            raise NotFound("Lead field not found", code="FIELD_NOT_FOUND")
        return number
