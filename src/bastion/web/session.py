"""Who is at the browser: the session cookie, the CSRF check and the form body of a POST.

The cookie ``bastion_session`` carries the session token (:mod:`bastion.accounts.sessions`):
HttpOnly, SameSite=Strict, Secure when the request came over https. Every POST carries a hidden
``csrf`` field, the CSRF token derived from the session token. The login form has no session yet,
so it gets one of its own: a random pre-login token in the ``bastion_login`` cookie, whose CSRF
token the form sends back (a page on another site can neither read that cookie nor compute it).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends, Request, Response

from bastion.accounts.sessions import check_csrf, csrf_token
from bastion.accounts.users import UserInfo
from bastion.api.auth import get_bastion
from bastion.errors import SessionExpired, UnsupportedMedia, UploadTooLarge

SESSION_COOKIE = "bastion_session"
LOGIN_COOKIE = "bastion_login"
# The largest form: a 10,000-character rationale, percent-encoded (up to 9 bytes a character).
MAX_FORM_BYTES = 128 * 1024


@dataclass(frozen=True, slots=True)
class Form:
    fields: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


@dataclass(frozen=True, slots=True)
class WebSession:
    user: UserInfo
    token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path="/ui",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


async def read_form(request: Request) -> Form:
    """The url-encoded body of a POST, at most :data:`MAX_FORM_BYTES` (forms carry no files)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise UploadTooLarge(
                f"the form is larger than {MAX_FORM_BYTES} bytes", max_bytes=MAX_FORM_BYTES
            )
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind != "application/x-www-form-urlencoded":
        raise UnsupportedMedia("send the form as application/x-www-form-urlencoded")
    text = body.decode("utf-8", "replace")
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=200))


def current_session(request: Request) -> WebSession:
    """The signed-in user, or :class:`SessionExpired` (the pages answer it with the login page)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SessionExpired("not signed in")
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        user = bastion.sessions.resolve(session, token)
    return WebSession(user=user, token=token)


def checked_form(
    form: Annotated[Form, Depends(read_form)],
    web: Annotated[WebSession, Depends(current_session)],
) -> Form:
    """The form of a signed-in user's POST, once its CSRF token is checked."""
    check_csrf(web.token, form.get("csrf") or None)
    return form


SignedIn = Annotated[WebSession, Depends(current_session)]
PostedForm = Annotated[Form, Depends(checked_form)]
RawForm = Annotated[Form, Depends(read_form)]
