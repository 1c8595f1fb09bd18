r"""Refuse NUL characters anywhere in a request (400), once for every route.

PostgreSQL text cannot hold U+0000 (SQLite can), so a NUL reaching a query is
a 500 on one backend and a stored oddity on the other. No field of this API
has a use for it, so the app refuses it at the edge: in the path, the query
string, and the body (NUL bytes, a JSON ``\u0000`` escape, or ``%00`` in a form).
"""

from __future__ import annotations

import re

from fastapi import Request

from switchboard.services.exceptions import BadRequest

# ``\u0000`` preceded by an even number of backslashes is a JSON NUL escape;
# after an odd number it is literal text ("\\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_MESSAGE = "NUL characters are not allowed"


async def reject_nul_characters(request: Request) -> None:
    """App-wide dependency: 400 when the path, query or body carries a NUL."""
    if "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    ):
        raise BadRequest(_MESSAGE)
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return
    try:
        body = await request.body()  # cached by Starlette: the route reads it again
    except RuntimeError:
        # A route with form parameters: FastAPI parsed the form (which Starlette
        # caches) before this dependency ran, and the raw stream is gone.
        form = await request.form()
        if any("\x00" in key or (isinstance(value, str) and "\x00" in value)
               for key, value in form.multi_items()):
            raise BadRequest(_MESSAGE) from None
        return
    is_form = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    )
    if b"\x00" in body or _JSON_NUL.search(body) or (is_form and b"%00" in body):
        raise BadRequest(_MESSAGE)
