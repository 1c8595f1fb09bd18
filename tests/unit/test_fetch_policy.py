"""The outbound fetch policy: which addresses a tenant's URL may reach (issue 14.5).

The table tests are the rule; the client tests fetch from real HTTP servers
on loopback (what an attacker aims at) and check that a refused fetch never
reaches them, whatever the URL looks like, and that redirects are held to the
same rule.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest

from switchboard import fetch_policy
from switchboard.config import Settings
from switchboard.fetch_policy import FetchPolicy, FetchRefused, GuardedClient, require_guarded

REFUSED = [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.251", "240.0.0.1", "255.255.255.255", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",
    "2002:7f00:1::1",  # 6to4 around 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo around 127.0.0.1
    "2001:db8::1",  # documentation
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert FetchPolicy().refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert FetchPolicy().refusal(ipaddress.ip_address(address)) is None


def test_the_allow_list_names_networks_addresses_and_hosts() -> None:
    policy = FetchPolicy.from_entries(["127.0.0.0/8", "::1", "10.9.8.7", "Media.Local."])
    assert policy.refusal(ipaddress.ip_address("127.1.2.3")) is None
    assert policy.refusal(ipaddress.ip_address("::1")) is None
    assert policy.refusal(ipaddress.ip_address("10.9.8.7")) is None
    assert policy.refusal(ipaddress.ip_address("10.9.8.6")) is not None
    assert policy.host_allowed("media.local") and not policy.host_allowed("other.local")
    with pytest.raises(ValueError):
        FetchPolicy.from_entries(["http://x/"])


def test_settings_read_a_comma_or_space_separated_allow_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_FETCH_ALLOW", "127.0.0.0/8, ::1 media.local")
    policy = FetchPolicy.from_settings(Settings())
    assert policy.hosts == {"media.local"} and len(policy.networks) == 2
    monkeypatch.delenv("SWITCHBOARD_FETCH_ALLOW")
    assert FetchPolicy.from_settings(Settings()) == FetchPolicy()  # nothing by default


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "http:///nohost",
    "http://127.0.0.1/", "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
])
def test_check_url_refuses_schemes_and_literal_addresses(url: str) -> None:
    with pytest.raises(FetchRefused):
        FetchPolicy().check_url(url)


# -- real fetches -----------------------------------------------------------------------


class _Server:
    """A loopback HTTP server that counts the requests it served."""

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        owner = self
        self.hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.hits.append(self.path)
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"the secret"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def secret() -> Iterator[_Server]:
    server = _Server("127.0.0.1")
    yield server
    server.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001",
                                  "127.1", "[::ffff:127.0.0.1]"])
async def test_a_loopback_service_is_never_reached_however_it_is_spelled(
    secret: _Server, host: str
) -> None:
    async with GuardedClient(FetchPolicy()) as client:
        with pytest.raises(FetchRefused) as caught:
            await client.get(f"http://{host}:{secret.port}/secret")
    assert caught.value.error_id == "fetch-refused"
    assert isinstance(caught.value, httpx.HTTPError)  # handled where network errors are
    assert secret.hits == []


async def test_the_allow_list_lets_local_development_through(secret: _Server) -> None:
    async with GuardedClient(FetchPolicy.from_entries(fetch_policy.LOOPBACK)) as client:
        r = await client.get(f"http://127.0.0.1:{secret.port}/ok")
    assert r.status_code == 200 and secret.hits == ["/ok"]


async def test_an_allow_listed_host_name_is_reached_by_name(secret: _Server) -> None:
    async with GuardedClient(FetchPolicy.from_entries(["localhost"])) as client:
        r = await client.get(f"http://localhost:{secret.port}/named")
    assert r.status_code == 200 and secret.hits == ["/named"]


async def test_a_redirect_to_a_refused_host_is_not_followed(secret: _Server) -> None:
    # The entry point is allowed (127.0.0.2 only); it redirects to the secret on 127.0.0.1.
    entry = _Server("127.0.0.2", redirect_to=f"http://127.0.0.1:{secret.port}/secret")
    try:
        async with GuardedClient(FetchPolicy.from_entries(["127.0.0.2/32"])) as client:
            with pytest.raises(FetchRefused):
                await client.get(f"http://127.0.0.2:{entry.port}/start", follow_redirects=True)
    finally:
        entry.close()
    assert entry.hits == ["/start"] and secret.hits == []


async def test_a_redirect_to_another_scheme_is_not_followed(secret: _Server) -> None:
    entry = _Server("127.0.0.2", redirect_to="file:///etc/passwd")
    try:
        async with GuardedClient(FetchPolicy.from_entries(["127.0.0.2/32"])) as client:
            with pytest.raises(httpx.HTTPError):
                await client.get(f"http://127.0.0.2:{entry.port}/start", follow_redirects=True)
    finally:
        entry.close()


async def test_the_connection_goes_to_the_address_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name is resolved once, checked, and the checked address is dialled."""
    answers = iter([[ipaddress.ip_address("8.8.4.4")], [ipaddress.ip_address("127.0.0.1")]])

    async def resolve(host: str, port: int, timeout: float | None) -> list:
        return next(answers)

    dialled: list[str] = []

    async def connect_tcp(self: object, host: str, port: int, **kwargs: object) -> object:
        dialled.append(host)
        raise httpcore.ConnectError("stop here")

    monkeypatch.setattr(fetch_policy, "_resolve", resolve)
    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", connect_tcp)
    async with GuardedClient(FetchPolicy()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("http://rebind.example/")
    assert dialled == ["8.8.4.4"]  # never the name, never a second resolution


async def test_a_name_resolving_to_refused_addresses_only_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int, timeout: float | None) -> list:
        return [ipaddress.ip_address("10.0.0.5"), ipaddress.ip_address("fd00::5")]

    monkeypatch.setattr(fetch_policy, "_resolve", resolve)
    async with GuardedClient(FetchPolicy()) as client:
        with pytest.raises(FetchRefused, match="10.0.0.5 is private"):
            await client.get("http://intranet.example/")


async def test_environment_proxies_are_ignored(
    secret: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{secret.port}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{secret.port}")
    async with GuardedClient(FetchPolicy()) as client:
        with pytest.raises(FetchRefused):
            await client.get(f"http://127.0.0.1:{secret.port}/via-proxy")
    assert secret.hits == []


def test_components_refuse_a_plain_client() -> None:
    with pytest.raises(TypeError):
        require_guarded(httpx.AsyncClient(), "the outbox")


async def test_a_faked_network_still_has_its_urls_checked() -> None:
    fake = httpx.MockTransport(lambda request: httpx.Response(200, text="fake"))
    async with GuardedClient(FetchPolicy(), transport=fake) as client:
        assert (await client.get("http://customer.test/voice")).text == "fake"
        with pytest.raises(FetchRefused):
            await client.get("http://169.254.169.254/latest/meta-data")
