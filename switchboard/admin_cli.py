"""Operator commands: ``switchboard tenants|users|keys ...``.

They call the same services as the API, against the database of the settings
(``SWITCHBOARD_DATABASE_URL`` or the SQLite file in the state directory),
migrating it first so a fresh install can be set up with these commands alone.
``--json`` prints machine-readable output.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.config import Settings
from switchboard.models import ApiKey, Tenant, User
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.services import api_keys as key_service
from switchboard.services import tenants as tenant_service
from switchboard.services import users as user_service
from switchboard.services.exceptions import ServiceError
from switchboard.services.roles import Role, parse_role

T = TypeVar("T")

tenants_app = typer.Typer(help="Create and list tenants.", no_args_is_help=True)
users_app = typer.Typer(help="Create and list a tenant's users.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id.")]


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction; service errors exit with status 1."""

    async def _main() -> T:
        settings = Settings()
        if not settings.database_url:
            settings.state_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(_main())
    except ServiceError as exc:
        where = f" ({exc.field})" if exc.field else ""
        typer.echo(f"error: {exc.message}{where}", err=True)
        raise typer.Exit(1) from None


def _role(value: str) -> Role:
    role = parse_role(value)
    if role is None:
        raise typer.BadParameter("role must be admin, agent or read-only")
    return role


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, default=str, indent=2))
        return
    for row in rows:
        typer.echo("  ".join(str(row.get(c) if row.get(c) is not None else "-") for c in columns))


def _tenant_row(t: Tenant) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "account_sid": t.account_sid,
        "timezone": t.timezone,
        "plan": t.plan,
        "max_numbers": t.max_numbers,
        "voice_minutes_limit": t.voice_minutes_limit,
        "recording_storage_mb": t.recording_storage_mb,
    }


def _user_row(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "tenant_id": u.tenant_id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "is_active": u.is_active,
    }


def _key_row(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "tenant_id": k.tenant_id,
        "name": k.name,
        "prefix": k.prefix,
        "role": k.role,
        "user_id": k.user_id,
        "revoked_at": k.revoked_at,
        "last_used_at": k.last_used_at,
    }


@tenants_app.command("create")
def tenants_create(
    name: Annotated[str, typer.Argument(help="Business name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    plan: Annotated[str, typer.Option(help="Plan label.")] = "growth",
    max_numbers: Annotated[int | None, typer.Option(help="Phone numbers allowed.")] = None,
    voice_minutes: Annotated[int | None, typer.Option(help="Voice minutes allowed.")] = None,
    storage_mb: Annotated[int | None, typer.Option(help="Recording storage in MB.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a tenant and print it."""

    async def work(session: AsyncSession) -> Tenant:
        return await tenant_service.create_tenant(
            session,
            name=name,
            timezone=timezone,
            plan=plan,
            max_numbers=max_numbers,
            voice_minutes_limit=voice_minutes,
            recording_storage_mb=storage_mb,
        )

    tenant = _run(work)
    _emit([_tenant_row(tenant)], as_json, ["id", "name", "account_sid", "timezone", "plan"])


@tenants_app.command("list")
def tenants_list(as_json: JsonFlag = False) -> None:
    """List every tenant."""
    rows = _run(tenant_service.list_tenants)
    _emit([_tenant_row(t) for t in rows], as_json, ["id", "name", "account_sid", "plan"])


@users_app.command("create")
def users_create(
    tenant: TenantOpt,
    email: Annotated[str, typer.Option(help="Sign-in email.")],
    role: Annotated[str, typer.Option(help="admin, agent or read-only.")] = "agent",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None,
        typer.Option(help="Password (prompted when --prompt-password is given)."),
    ] = None,
    prompt_password: Annotated[bool, typer.Option(help="Ask for the password.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a user in a tenant."""
    parsed = _role(role)
    if prompt_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> User:
        return await user_service.create_user(
            session, tenant, email=email, name=name, role=parsed, password=password
        )

    user = _run(work)
    _emit([_user_row(user)], as_json, ["id", "email", "role"])


@users_app.command("list")
def users_list(tenant: TenantOpt, as_json: JsonFlag = False) -> None:
    """List a tenant's users."""

    async def work(session: AsyncSession) -> list[User]:
        await tenant_service.get_tenant(session, tenant)
        page = await user_service.list_users(session, tenant, page=1, limit=200)
        return list(page.items)

    _emit([_user_row(u) for u in _run(work)], as_json, ["id", "email", "role", "is_active"])


@keys_app.command("create")
def keys_create(
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="Label.")] = "",
    role: Annotated[str, typer.Option(help="admin, agent or read-only.")] = "admin",
    user: Annotated[str | None, typer.Option(help="User id the key acts for.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API key and print it: this is the only time it is shown."""
    parsed = _role(role)

    async def work(session: AsyncSession) -> key_service.CreatedKey:
        return await key_service.create_key(
            session, tenant, name=key_service.validate_key_name(name), role=parsed, user_id=user
        )

    created = _run(work)
    row = {**_key_row(created.row), "key": created.key}
    if as_json:
        _emit([row], True, [])
    else:
        typer.echo(f"id:   {created.row.id}\nrole: {created.row.role}\nkey:  {created.key}")
        typer.echo("Store the key now: it cannot be shown again.", err=True)


@keys_app.command("list")
def keys_list(tenant: TenantOpt, as_json: JsonFlag = False) -> None:
    """List a tenant's API keys (prefixes only)."""

    async def work(session: AsyncSession) -> list[ApiKey]:
        await tenant_service.get_tenant(session, tenant)
        page = await key_service.list_keys(session, tenant, page=1, limit=200)
        return list(page.items)

    _emit(
        [_key_row(k) for k in _run(work)], as_json, ["id", "prefix", "role", "name", "revoked_at"]
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id.")],
    tenant: TenantOpt,
    as_json: JsonFlag = False,
) -> None:
    """Revoke an API key; it stops working at once."""

    async def work(session: AsyncSession) -> ApiKey:
        return await key_service.revoke_key(session, tenant, key_id)

    _emit([_key_row(_run(work))], as_json, ["id", "prefix", "revoked_at"])
