"""One policy for every outbound HTTP fetch: voice URLs, ``<Play>``, callbacks, recordings.

Every URL a tenant can put in front of Switchboard (a number's voice URL and
fallback, ``Redirect``/``action`` URLs, ``<Play>`` media, status, recording and
transcription callbacks, a provider's ``RecordingUrl``) is fetched from inside
the operator's network. Without a guard a tenant reads the host's loopback
services, the cloud metadata address or the office LAN through it.

:class:`FetchPolicy` is the rule: schemes ``http`` and ``https`` only, and
never an address that is loopback, private, link-local, shared (CGNAT),
multicast, reserved or unspecified — IPv4 or IPv6, IPv4 inside IPv6 (mapped,
6to4, Teredo, NAT64) included — unless the operator's allow-list
(``SWITCHBOARD_FETCH_ALLOW``: CIDRs, addresses, host names) names it.

:class:`GuardedClient` is the only HTTP client that fetches for tenants. Its
transport checks the scheme of every request (redirects included: each hop is
a request) and its network backend resolves each host name itself and
connects to the very address it checked, so a name that resolves to a public
address for a check and to ``127.0.0.1`` for the connection (DNS rebinding)
gains nothing. A refusal raises :class:`FetchRefused`, an ``httpx``
transport error with ``error_id`` ``fetch-refused``: callers that already
handle network failures handle it, and those that must not retry (the
outbox) recognise it. Environment proxies are ignored (``trust_env=False``):
a proxy would be the address checked, not the target.

This module sits low in the layers (only ``config`` below it), so the engine,
the outbox and the services all build on it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from switchboard.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_MAX_REDIRECTS = 5
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Loopback as an allow-list entry: what local development and the test suite set.
LOOPBACK = ("127.0.0.0/8", "::1/128")


class FetchRefused(httpx.TransportError):
    """The fetch policy refused a URL or the address a host name resolved to.

    ``error_id`` is ``fetch-refused``; ``reason`` says why in a few words
    (``scheme ftp``, ``127.0.0.1 is loopback``), ``url`` is what was asked.
    """

    error_id = "fetch-refused"

    def __init__(self, reason: str, *, url: str = "") -> None:
        where = f" ({url})" if url else ""
        super().__init__(f"refused by the fetch policy: {reason}{where}")
        self.reason = reason
        self.url = url


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client behind the Teredo relay
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address (``None`` when it is)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            reason = why_not_public(inner)
            return f"{address} carries {inner}, which {reason}" if reason else None
    for name, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flag:
            return f"is {name}"
    if not address.is_global:
        return "is not a public address"
    return None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Which URLs and addresses outbound fetches may reach.

    Attributes:
        networks: Allow-listed networks (any address in one is allowed).
        hosts: Allow-listed host names (lower case; connected to by name).
    """

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> FetchPolicy:
        """A policy from allow-list entries: CIDRs, addresses or host names.

        Raises:
            ValueError: An entry is none of these.
        """
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            label = entry.rstrip(".")
            if not label or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-." for c in label):
                raise ValueError(f"fetch allow-list entry {raw!r} is not a CIDR, address or host")
            hosts.add(label)
        return cls(networks=tuple(networks), hosts=frozenset(hosts))

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """The operator's policy (``SWITCHBOARD_FETCH_ALLOW``)."""
        return cls.from_entries(settings.fetch_allow)

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` is an allow-listed name (connected to whatever it resolves to)."""
        return host.lower().rstrip(".") in self.hosts

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` may not be reached, or ``None`` when it may."""
        if any(address in network for network in self.networks):
            return None
        reason = why_not_public(address)
        return f"{address} {reason}" if reason else None

    def check_url(self, url: str | httpx.URL) -> None:
        """Refuse a URL whose scheme is not http(s), that has no host, or names a refused address.

        A host name is checked later, against the address it resolves to, when
        the connection is made (:class:`GuardedClient`); this check makes a
        literal address fail before any connection is tried.

        Raises:
            FetchRefused: The URL may not be fetched.
        """
        parsed = httpx.URL(url) if isinstance(url, str) else url
        if parsed.scheme not in ALLOWED_SCHEMES:
            raise FetchRefused(f"scheme {parsed.scheme or '(none)'!r}", url=str(parsed))
        host = parsed.host
        if not host:
            raise FetchRefused("no host", url=str(parsed))
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return
        reason = self.refusal(address)
        if reason is not None:
            raise FetchRefused(reason, url=str(parsed))


# -- the transport ------------------------------------------------------------------------


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves every host itself and connects only to addresses the policy allows."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._policy.host_allowed(host):
            return await self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address,
                socket_options=socket_options,
            )
        addresses = await _resolve(host, port, timeout)
        allowed = [a for a in addresses if self._policy.refusal(a) is None]
        if not allowed:
            reasons = "; ".join(
                reason for a in addresses if (reason := self._policy.refusal(a)) is not None
            )
            raise FetchRefused(f"{host} resolves to refused addresses: {reasons}")
        last: Exception | None = None
        for address in allowed:  # the checked address itself, never the name again
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise FetchRefused("unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[IPAddress, None] = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            # Drop an IPv6 zone ("fe80::1%eth0"); the address decides.
            seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), None)
    return list(seen)


class PolicyTransport(httpx.AsyncHTTPTransport):
    """``httpx``'s transport with the policy at both ends: the URL and the socket."""

    def __init__(self, policy: FetchPolicy, *, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx builds its connection pool without a way to pass a network
        # backend; this pool is the same one with ours (tests check it is used).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )
        self.policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a disallowed URL, then send through the guarded pool."""
        try:
            self.policy.check_url(request.url)
        except FetchRefused as exc:
            exc.request = request
            raise
        try:
            return await super().handle_async_request(request)
        except FetchRefused as exc:
            exc.url = exc.url or str(request.url)
            exc.request = request
            raise


class _CheckedTransport(httpx.AsyncBaseTransport):
    """A given transport (a test's fake network) behind the policy's URL check."""

    def __init__(self, policy: FetchPolicy, inner: httpx.AsyncBaseTransport) -> None:
        self.policy = policy
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a disallowed URL, then let the inner transport answer."""
        try:
            self.policy.check_url(request.url)
        except FetchRefused as exc:
            exc.request = request
            raise
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


class GuardedClient(httpx.AsyncClient):
    """The HTTP client for every fetch a tenant can steer, bound to a :class:`FetchPolicy`.

    Components that fetch for tenants (the voice app, the media cache, the
    outbox, the recording fetcher) take only this type, so no plain client
    can slip past the policy. ``transport`` is for tests that fake the
    network (``httpx.MockTransport``): URLs are still checked, sockets are
    the fake's.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        timeout: float | httpx.Timeout = 15.0,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        limits: httpx.Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            transport=(
                PolicyTransport(policy, limits=limits) if transport is None
                else _CheckedTransport(policy, transport)
            ),
            trust_env=False,
            timeout=timeout,
            max_redirects=max_redirects,
        )
        self.policy = policy


def require_guarded(client: object, user: str) -> GuardedClient:
    """``client`` if it is a :class:`GuardedClient`; a component's constructor calls this.

    Raises:
        TypeError: ``client`` would fetch without the policy.
    """
    if not isinstance(client, GuardedClient):
        raise TypeError(f"{user} fetches tenants' URLs and needs a GuardedClient")
    return client
