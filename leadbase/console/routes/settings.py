"""``/app/settings``: lists and their fields (a field builder over the field engine's
types and templates), users and roles, API keys (the secret shown once) — the lists,
fields, users and apikeys services, with the API's roles: everyone reads lists, fields and
users; admins change them; API keys are for admins only."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from leadbase.apikeys import service as apikeys
from leadbase.apikeys.schemas import ApiKeyCreate
from leadbase.console import i18n
from leadbase.console.deps import AdminConsoleScope, ConsoleScope
from leadbase.console.nav import NavItem, add
from leadbase.console.render import PREFIX, redirect, render, workspace_formats
from leadbase.fields import service as fields
from leadbase.fields.schemas import FieldCreate, FieldType
from leadbase.fields.templates import TEMPLATES
from leadbase.kit.errors import AppError
from leadbase.kit.pagination import PageParams
from leadbase.lists import service as lists
from leadbase.lists.schemas import ListCreate
from leadbase.users import service as users
from leadbase.users.schemas import UserCreate, UserUpdate

router = APIRouter()
add(NavItem("nav.settings", PREFIX + "/settings", order=90))
ROLES = ("owner", "admin", "manager", "agent", "viewer")
KEY_ROLES = ("admin", "manager", "agent", "viewer")
FIELD_TYPES = [t for t in get_args(FieldType) if t not in ("CALCULATED", "LEAD")]
ALL = PageParams(page=1, per_page=200, cursor=None, count="exact")


def _message(exc: AppError | ValidationError) -> str:
    if isinstance(exc, AppError):
        extra = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.errors or [])
        return exc.detail + (f" ({extra})" if extra else "")
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                     for e in exc.errors()[:5])


async def _lists_page(request: Request, scope: ConsoleScope, list_id: uuid.UUID | None,
                      problem: str | None = None, status: int = 200) -> Response:
    rows, _ = await lists.list_lists(scope.session, ctx=scope.ctx, params=ALL)
    chosen = next((r for r in rows if r["id"] == list_id), None) or next(
        (r for r in rows if r["is_default"]), rows[0] if rows else None)
    found: list[dict[str, Any]] = []
    if chosen is not None:
        found, _ = await fields.list_fields(scope.session, ctx=scope.ctx,
                                            list_id=chosen["id"], active=None)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "settings/lists.html", {
        "tab": "lists", "lists": rows, "chosen": chosen, "fields": found,
        "types": FIELD_TYPES, "templates": TEMPLATES, "problem": problem,
        "is_admin": scope.ctx.principal.at_least("admin")}, workspace=ws, status=status)


@router.get("/settings")
async def lists_page(request: Request, scope: ConsoleScope,
                     list_id: Annotated[uuid.UUID | None, Query()] = None) -> Response:
    return await _lists_page(request, scope, list_id)


@router.post("/settings/lists")
async def create_list(request: Request, scope: AdminConsoleScope,
                      name: Annotated[str, Form(max_length=400)] = "",
                      description: Annotated[str, Form(max_length=4000)] = "") -> Response:
    try:
        row = await lists.create_list(scope.session, ctx=scope.ctx, body=ListCreate(
            name=name, description=description or None))
    except (AppError, ValidationError) as exc:
        return await _lists_page(request, scope, None, _message(exc), 422)
    return redirect(request, f"{PREFIX}/settings?list_id={row['id']}")


@router.post("/settings/fields")
async def create_field(request: Request, scope: AdminConsoleScope,
                       list_id: Annotated[uuid.UUID, Form()],
                       name: Annotated[str, Form(max_length=400)] = "",
                       type: Annotated[str, Form(max_length=20)] = "",
                       template_code: Annotated[str, Form(max_length=40)] = "",
                       input_mask: Annotated[str, Form(max_length=200)] = "",
                       required: Annotated[str, Form(max_length=5)] = "") -> Response:
    """A field from a template (its type, mask and rules) or from a type."""
    values: dict[str, Any] = {"list_id": list_id, "required": required == "true"}
    for key, value in (("name", name), ("type", type), ("template_code", template_code),
                       ("input_mask", input_mask)):
        if value.strip():
            values[key] = value.strip()
    try:
        await fields.create_field(scope.session, ctx=scope.ctx,
                                  body=FieldCreate.model_validate(values))
    except (AppError, ValidationError) as exc:
        return await _lists_page(request, scope, list_id, _message(exc), 422)
    return redirect(request, f"{PREFIX}/settings?list_id={list_id}")


async def _users_page(request: Request, scope: ConsoleScope, problem: str | None = None,
                      status: int = 200) -> Response:
    rows, total = await users.list_users(scope.session, ctx=scope.ctx, params=ALL,
                                         role=None, is_active=None, q=None)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "settings/users.html", {
        "tab": "users", "users": rows, "total": total, "roles": ROLES, "problem": problem,
        "is_admin": scope.ctx.principal.at_least("admin")}, workspace=ws, status=status)


@router.get("/settings/users")
async def users_page(request: Request, scope: ConsoleScope) -> Response:
    return await _users_page(request, scope)


@router.post("/settings/users")
async def create_user(request: Request, scope: AdminConsoleScope,
                      email: Annotated[str, Form(max_length=320)] = "",
                      name: Annotated[str, Form(max_length=400)] = "",
                      password: Annotated[str, Form(max_length=256)] = "",
                      role: Annotated[str, Form(max_length=20)] = "agent") -> Response:
    try:
        await users.create_user(scope.session, ctx=scope.ctx, body=UserCreate.model_validate(
            {"email": email, "name": name, "password": password, "role": role}))
    except (AppError, ValidationError) as exc:
        return await _users_page(request, scope, _message(exc), 422)
    return redirect(request, f"{PREFIX}/settings/users")


@router.post("/settings/users/{user_id}/role")
async def change_role(request: Request, user_id: uuid.UUID, scope: AdminConsoleScope,
                      role: Annotated[str, Form(max_length=20)]) -> Response:
    try:
        await users.update_user(scope.session, ctx=scope.ctx, user_id=user_id,
                                body=UserUpdate.model_validate({"role": role}),
                                expected_version=None)
    except (AppError, ValidationError) as exc:
        if isinstance(exc, AppError) and exc.status == 404:
            raise
        return await _users_page(request, scope, _message(exc), 422)
    return redirect(request, f"{PREFIX}/settings/users")


async def _keys_page(request: Request, scope: AdminConsoleScope,
                     created: dict[str, Any] | None = None, problem: str | None = None,
                     status: int = 200) -> Response:
    rows, _ = await apikeys.list_keys(scope.session, ctx=scope.ctx, params=ALL)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "settings/keys.html", {
        "tab": "keys", "keys": rows, "created": created, "roles": KEY_ROLES,
        "problem": problem, "is_admin": True}, workspace=ws, status=status)


@router.get("/settings/api-keys")
async def keys_page(request: Request, scope: AdminConsoleScope) -> Response:
    return await _keys_page(request, scope)


@router.post("/settings/api-keys")
async def create_key(request: Request, scope: AdminConsoleScope,
                     name: Annotated[str, Form(max_length=400)] = "",
                     role: Annotated[str, Form(max_length=20)] = "manager",
                     read_only: Annotated[str, Form(max_length=5)] = "") -> Response:
    """Create a key and show its secret on this answer only (never stored in clear)."""
    try:
        created = await apikeys.create_key(scope.session, ctx=scope.ctx,
                                           body=ApiKeyCreate.model_validate({
                                               "name": name, "role": role, "scopes":
                                               ["read"] if read_only == "true"
                                               else ["read", "write"]}))
    except (AppError, ValidationError) as exc:
        return await _keys_page(request, scope, problem=_message(exc), status=422)
    return await _keys_page(request, scope, created=created, status=201)


@router.post("/settings/api-keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: uuid.UUID,
                     scope: AdminConsoleScope) -> Response:
    await apikeys.revoke_key(scope.session, ctx=scope.ctx, key_id=key_id)
    return redirect(request, f"{PREFIX}/settings/api-keys")


i18n.register({
    "en": {
        "nav.settings": "Settings", "set.title": "Settings", "set.lists": "Lists and fields",
        "set.users": "Users and roles", "set.keys": "API keys", "set.name": "Name",
        "set.description": "Description", "set.add_list": "Add list",
        "set.fields": "Fields of {name}", "set.code": "Code", "set.type": "Type",
        "set.required": "Required", "set.mask": "Input mask", "set.template": "Template",
        "set.no_template": "None (choose a type)", "set.add_field": "Add field",
        "set.no_fields": "No custom fields yet.", "set.default": "default",
        "set.leads": "Leads", "set.email": "Email", "set.password": "Password (8+)",
        "set.role": "Role", "set.active": "Active", "set.add_user": "Add user",
        "set.change_role": "Change role", "set.save": "Save", "set.prefix": "Prefix",
        "set.scopes": "Scopes", "set.last_used": "Last used", "set.create_key": "Create key",
        "set.read_only": "Read only", "set.revoke": "Revoke",
        "set.secret_once": "Copy this key now: it is shown only once.",
        "set.no_keys": "No API keys.", "set.yes": "yes", "set.no": "no",
        "set.created": "Created",
        "role.owner": "Owner", "role.admin": "Admin", "role.manager": "Manager",
        "role.agent": "Agent", "role.viewer": "Viewer",
    },
    "es": {
        "nav.settings": "Ajustes", "set.title": "Ajustes", "set.lists": "Listas y campos",
        "set.users": "Usuarios y roles", "set.keys": "Claves de API", "set.name": "Nombre",
        "set.description": "Descripción", "set.add_list": "Agregar lista",
        "set.fields": "Campos de {name}", "set.code": "Código", "set.type": "Tipo",
        "set.required": "Obligatorio", "set.mask": "Máscara", "set.template": "Plantilla",
        "set.no_template": "Ninguna (elija un tipo)", "set.add_field": "Agregar campo",
        "set.no_fields": "Aún no hay campos propios.", "set.default": "predeterminada",
        "set.leads": "Prospectos", "set.email": "Correo", "set.password": "Contraseña (8+)",
        "set.role": "Rol", "set.active": "Activo", "set.add_user": "Agregar usuario",
        "set.change_role": "Cambiar rol", "set.save": "Guardar", "set.prefix": "Prefijo",
        "set.scopes": "Permisos", "set.last_used": "Último uso",
        "set.create_key": "Crear clave", "set.read_only": "Solo lectura",
        "set.revoke": "Revocar",
        "set.secret_once": "Copie esta clave ahora: solo se muestra una vez.",
        "set.no_keys": "No hay claves de API.", "set.yes": "sí", "set.no": "no",
        "set.created": "Creada",
        "role.owner": "Propietario", "role.admin": "Administrador", "role.manager": "Gerente",
        "role.agent": "Agente", "role.viewer": "Observador",
    },
})
