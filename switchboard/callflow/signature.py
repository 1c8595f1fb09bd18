"""Webhook signatures in the provider's ``X-Twilio-Signature`` scheme.

The signature is ``Base64(HMAC-SHA1(auth_token, url + name1 + value1 + ...))``
over the full URL (query string included, so GET parameters are already
covered) followed by every POST parameter, sorted by name. A name that occurs
several times contributes each of its values, sorted, as the provider's own
validator libraries do: a receiver that validates with them accepts what we
sign.

Validation also tries the URL with and without the scheme's default port
(``:443`` / ``:80``), because proxies and frameworks disagree on whether the
port is part of the URL the application sees; the provider's libraries do the
same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
"""POST parameters: a mapping (a value may be a list) or ``(name, value)`` pairs."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _grouped(params: Params | None) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    if params is None:
        return grouped
    pairs: Iterable[tuple[str, str | Sequence[str]]]
    pairs = params.items() if isinstance(params, Mapping) else params
    for name, value in pairs:
        values = grouped.setdefault(name, [])
        if isinstance(value, str):
            values.append(value)
        else:
            values.extend(value)
    return grouped


def signing_payload(url: str, params: Params | None = None) -> bytes:
    """The exact bytes that are signed: the URL, then sorted names and values.

    Args:
        url: The full URL requested, with its query string.
        params: The form-encoded POST parameters (``None`` or empty for GET).

    Returns:
        The UTF-8 payload fed to HMAC-SHA1.
    """
    parts = [url]
    grouped = _grouped(params)
    for name in sorted(grouped):
        for value in sorted(set(grouped[name])):
            parts.append(name)
            parts.append(value)
    return "".join(parts).encode()


def compute_signature(auth_token: str, url: str, params: Params | None = None) -> str:
    """Compute the ``X-Twilio-Signature`` header value for a request.

    Args:
        auth_token: The tenant's auth token, the HMAC key.
        url: The full URL requested, with its query string.
        params: The form-encoded POST parameters (``None`` or empty for GET).

    Returns:
        The Base64-encoded HMAC-SHA1 signature.
    """
    digest = hmac.new(auth_token.encode(), signing_payload(url, params), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _port_variants(url: str) -> list[str]:
    """The URL as given, without its default port, and with it."""
    variants = [url]
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default is None or not parts.hostname:
        return variants
    try:
        port = parts.port
    except ValueError:
        return variants
    userinfo, _, _ = parts.netloc.rpartition("@")
    prefix = f"{userinfo}@" if userinfo else ""
    host = parts.netloc[len(prefix) :]
    if port is None:
        with_port = f"{prefix}{host}:{default}"
        variants.append(urlunsplit(parts._replace(netloc=with_port)))
    elif port == default:
        without = f"{prefix}{host.rsplit(':', 1)[0]}"
        variants.append(urlunsplit(parts._replace(netloc=without)))
    return variants


def validate_signature(
    auth_token: str, url: str, params: Params | None, header: str | None
) -> bool:
    """Check a received ``X-Twilio-Signature`` header.

    Args:
        auth_token: The tenant's auth token.
        url: The full URL the request was made to, with its query string.
        params: The form-encoded POST parameters received (``None`` for GET).
        header: The header value received, or ``None`` when it was missing.

    Returns:
        ``True`` when the header matches the URL as given, or the URL with or
        without the scheme's default port. Comparisons are constant-time.
    """
    if not header:
        return False
    expected = header.encode()
    valid = False
    for candidate in _port_variants(url):
        signature = compute_signature(auth_token, candidate, params).encode()
        # No early exit: every variant is always computed and compared.
        valid |= hmac.compare_digest(signature, expected)
    return valid
