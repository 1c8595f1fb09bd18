"""Desk phones, browser phones and SIP trunks, written to ``pjsip_switchboard.conf``.

``pjsip.conf`` includes that file; after rewriting it the engine reloads
res_pjsip, which keeps calls in progress. Only the engine writes it.

A browser phone (``Endpoint.webrtc``) registers over the WebSocket transport
of Asterisk's HTTP server and carries DTLS-SRTP media with ICE: the endpoint
gets ``webrtc=yes`` and a DTLS certificate Asterisk generates when it loads
the configuration. Every value written comes from a validated row (names
match ``[A-Za-z0-9_-]``, caller ids are E.164, passwords printable ASCII).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.callflow.routes import NumberRoute
from switchboard.models import Endpoint, Trunk

log = logging.getLogger(__name__)

FILENAME = "pjsip_switchboard.conf"
# Texts (SIP MESSAGE) go to the engine over ARI, never into the DID dialplan:
# this context has no extension, so Asterisk's dialplan message handler declines.
MESSAGE_CONTEXT = "switchboard-messages"


class CommandRunner(Protocol):
    """The AMI operation used to reload PJSIP."""

    async def command(self, cli_command: str, *, timeout: float | None = None) -> str:
        """Run an Asterisk CLI command."""


def _section(name: str, lines: dict[str, str | int]) -> str:
    body = "\n".join(f"{key}={value}" for key, value in lines.items())
    return f"[{name}]\n{body}\n"


# What a browser needs beyond a desk phone: ``webrtc=yes`` turns on AVPF,
# DTLS-SRTP (fingerprint verified), ICE, rtcp-mux and replies over the
# transport the request came in on. Browsers offer PCMU/PCMA beside Opus.
_WEBRTC: dict[str, str | int] = {
    "webrtc": "yes",
    "dtls_auto_generate_cert": "yes",
    "allow": "ulaw,alaw",
}


def _endpoint_lines(ep: Endpoint) -> dict[str, str | int]:
    lines: dict[str, str | int] = {
        "type": "endpoint",
        "context": "switchboard-did",
        "message_context": MESSAGE_CONTEXT,
        "disallow": "all",
        "allow": "ulaw,alaw,g722",
        "auth": f"{ep.name}-auth",
        "aors": ep.name,
        "direct_media": "no",
        "rtp_symmetric": "yes",
        "force_rport": "yes",
        "rewrite_contact": "yes",
        "callerid": ep.caller_id or ep.name,
    }
    if ep.webrtc:
        lines.update(_WEBRTC)
    return lines


def render_pjsip(endpoints: Iterable[Endpoint], trunks: Iterable[Trunk]) -> str:
    """The configuration text for every endpoint and PJSIP trunk."""
    parts = ["; Written by the Switchboard engine from its database. Do not edit.\n"]
    for ep in sorted(endpoints, key=lambda e: e.name):
        parts.append(_section(ep.name, _endpoint_lines(ep)))
        parts.append(
            _section(
                f"{ep.name}-auth",
                {
                    "type": "auth",
                    "auth_type": "userpass",
                    "username": ep.name,
                    "password": ep.password,
                },
            )
        )
        parts.append(
            _section(ep.name, {"type": "aor", "max_contacts": 5, "remove_existing": "yes"})
        )
    for trunk in sorted(trunks, key=lambda t: t.name):
        # A carrier trunk may know only where calls come from (no host to send to yet).
        if trunk.kind != "pjsip" or not (trunk.host or trunk.inbound_match):
            continue
        host = f"{trunk.host}:{trunk.port}" if trunk.port else trunk.host
        endpoint: dict[str, str | int] = {
            "type": "endpoint",
            "context": "switchboard-did",
            "message_context": MESSAGE_CONTEXT,
            "disallow": "all",
            "allow": "ulaw,alaw",
            "aors": trunk.name,
            "direct_media": "no",
            "rtp_symmetric": "yes",
            "force_rport": "yes",
        }
        if trunk.username:
            endpoint["outbound_auth"] = f"{trunk.name}-auth"
            parts.append(
                _section(
                    f"{trunk.name}-auth",
                    {
                        "type": "auth",
                        "auth_type": "userpass",
                        "username": trunk.username,
                        "password": trunk.password or "",
                    },
                )
            )
        parts.append(_section(trunk.name, endpoint))
        aor: dict[str, str | int] = {"type": "aor"}
        if host:
            aor["contact"] = f"sip:{host}"
        parts.append(_section(trunk.name, aor))
        parts.append(
            _section(
                f"{trunk.name}-identify",
                {
                    "type": "identify",
                    "endpoint": trunk.name,
                    "match": trunk.inbound_match or trunk.host or "",
                },
            )
        )
        if trunk.register and trunk.username and trunk.host:
            parts.append(
                _section(
                    f"{trunk.name}-reg",
                    {
                        "type": "registration",
                        "outbound_auth": f"{trunk.name}-auth",
                        "server_uri": f"sip:{host}",
                        "client_uri": f"sip:{trunk.username}@{trunk.host}",
                        "retry_interval": 60,
                    },
                )
            )
    return "\n".join(parts)


class PjsipSync:
    """Rewrites the PJSIP include file when endpoints or trunks change."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        ami: CommandRunner,
        etc_dir: Path | None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._ami = ami
        self._path = etc_dir / FILENAME if etc_dir else None
        self._written: str | None = None
        # PJSIP endpoint names (phones and trunks) in the file Asterisk last loaded.
        self.endpoint_names: frozenset[str] = frozenset()

    async def sync(self, _routes: dict[str, NumberRoute] | None = None) -> bool:
        """Write and reload when the text changed; ``True`` when it did."""
        if self._path is None:
            return False
        async with self._sessionmaker() as session:
            endpoints = (await session.scalars(select(Endpoint))).all()
            trunks = (await session.scalars(select(Trunk))).all()
        text = render_pjsip(endpoints, trunks)
        if text == self._written:
            return False
        path = self._path
        current = await asyncio.to_thread(lambda: path.read_text() if path.exists() else "")
        if current != text:
            await asyncio.to_thread(path.write_text, text)
            await self._ami.command("module reload res_pjsip.so")
            log.info("pjsip configuration reloaded", extra={"endpoints": len(endpoints)})
        self._written = text
        self.endpoint_names = frozenset(
            [e.name for e in endpoints]
            + [t.name for t in trunks if t.kind == "pjsip" and (t.host or t.inbound_match)]
        )
        return True
