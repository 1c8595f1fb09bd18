"""Sign-in, sign-out and the tenant switcher."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from switchboard.api.deps import DbSession, RateLimiterDep, SettingsDep
from switchboard.api.ratelimit import check_sign_in
from switchboard.security import credential_stamp
from switchboard.services import users as user_service
from switchboard.services.exceptions import RateLimited
from switchboard.web.app import ConsoleRoute
from switchboard.web.auth import (
    ACCOUNTS_COOKIE,
    LOGIN_CSRF_COOKIE,
    ActingViewer,
    clear_session_cookies,
    decode_accounts,
    encode_accounts,
    issue_session,
    new_login_csrf,
    set_session_cookies,
)
from switchboard.web.render import page

router = APIRouter(prefix="/console", route_class=ConsoleRoute)


def _safe_next(target: str | None) -> str:
    # Only our own pages: never an absolute URL or a scheme-relative one.
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console/"


def _login_form(request: Request, *, error: str = "", email: str = "", next_url: str = "",
                status_code: int = 200) -> Response:
    token = new_login_csrf()
    response = page(request, "login.html", None, title="Sign in", error=error, email=email,
                    next_url=next_url, login_csrf=token, status_code=status_code)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        path="/console/login", max_age=3600)
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "") -> Response:  # noqa: A002
    """The sign-in form."""
    return _login_form(request, next_url=_safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    session: DbSession,
    settings: SettingsDep,
    limiter: RateLimiterDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    """Check the credentials, start a session and go to the page asked for."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_form(request, error="The form expired; please sign in again.",
                           email=email, next_url=_safe_next(next), status_code=403)
    try:  # per e-mail and per client address, as the API's sign-in
        await check_sign_in(limiter, settings, email=email,
                            client=request.client.host if request.client else None)
    except RateLimited:
        return _login_form(request, error="Too many attempts. Wait a minute and try again.",
                           email=email, next_url=_safe_next(next), status_code=429)
    users = await user_service.matching_accounts(session, email, password)
    if not users:
        return _login_form(request, error="Wrong email or password.", email=email,
                           next_url=_safe_next(next), status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookies(request, response, settings, issue_session(settings, users[0]),
                        encode_accounts(settings, users) if len(users) > 1 else "")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


@router.post("/logout")
async def logout(viewer: ActingViewer) -> Response:
    """End the session."""
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookies(response)
    return response


@router.post("/switch-tenant")
async def switch_tenant(
    request: Request,
    viewer: ActingViewer,
    session: DbSession,
    settings: SettingsDep,
    user_id: Annotated[str, Form(max_length=64)],
) -> Response:
    """Move to another account the sign-in matched, if it is still active and unchanged."""
    for account_user, tenant_id, stamp in decode_accounts(
            settings, request.cookies.get(ACCOUNTS_COOKIE)):
        if account_user != user_id:
            continue
        user = await user_service.get_active_user(session, user_id)
        if (user is not None and user.tenant_id == tenant_id
                and hmac.compare_digest(stamp, credential_stamp(user.password_hash))):
            response = RedirectResponse("/console/", status_code=303)
            set_session_cookies(request, response, settings, issue_session(settings, user), None)
            return response
    response = RedirectResponse("/console/login", status_code=303)
    clear_session_cookies(response)
    return response
