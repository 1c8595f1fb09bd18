"""Where each carrier's SIP signalling lives: the PJSIP trunk add-phone generates.

A carrier number connected with ``add-phone`` needs a SIP trunk so its calls
reach Asterisk (and ours leave through it). Each carrier documents two
things, and only what it documents is used here:

* **termination host** — where we send calls out. Telnyx has one public
  host, ``sip.telnyx.com``. Twilio Elastic SIP Trunking and Plivo Zentrunk
  give every trunk its own domain (``<name>.pstn.twilio.com`` or a localized
  ``<name>.pstn.<edge>.twilio.com``; ``<trunk id>.zt.plivo.com``), which the
  admin supplies (``sipHost``); it is checked against that documented form.
* **signalling sources** — where the carrier's INVITEs come from, for PJSIP
  ``identify``: Twilio's regional signalling gateways (eight /30 ranges,
  twilio.com/docs/sip-trunking/ip-addresses), Telnyx's signalling addresses
  per region (as listed for carrier allow-lists; Telnyx points at
  sip.telnyx.com for the current set). Plivo's signalling addresses were not
  found in its documentation, so a Plivo trunk only matches its own host
  unless the admin gives ``sipInboundMatch``.

What is missing (and not given by an earlier request for the same account)
becomes a note on the trunk (``setup_note``), never an invented host.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.services.exceptions import BadRequest

TWILIO_SIGNALLING = (
    "54.172.60.0/30",  # North America, Virginia
    "54.244.51.0/30",  # North America, Oregon
    "54.171.127.192/30",  # Europe, Ireland
    "35.156.191.128/30",  # Europe, Frankfurt
    "54.65.63.192/30",  # Asia Pacific, Tokyo
    "54.169.127.128/30",  # Asia Pacific, Singapore
    "54.252.254.64/30",  # Asia Pacific, Sydney
    "177.71.206.192/30",  # South America, Sao Paulo
)
TELNYX_HOST = "sip.telnyx.com"
TELNYX_SIGNALLING = (
    "192.76.120.10",
    "64.16.250.10",  # North America (US)
    "192.76.120.31",
    "64.16.250.13",  # North America (Canada)
    "185.246.41.140",
    "185.246.41.141",  # Europe
    "103.115.244.145",
    "103.115.244.146",  # Australia
)
_TWILIO_HOST = re.compile(r"^[a-z0-9][a-z0-9\-]*\.pstn(\.[a-z0-9\-]+)?\.twilio\.com$")
_PLIVO_HOST = re.compile(r"^[0-9]+\.zt\.plivo\.com$")
_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,255}$")
_MATCH_MAX = 1000


@dataclass(frozen=True)
class SipRequest:
    """What an admin may add to an add-phone request about the SIP side (all optional)."""

    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    inbound_match: Sequence[str] = ()


@dataclass(frozen=True)
class CarrierTrunk:
    """The SIP side of a carrier trunk, ready for a ``Trunk`` row.

    ``inbound_match`` is None when no signalling source is known (PJSIP then
    matches ``host``); ``host_note``/``match_note`` say what the admin has to
    add while the host or the signalling sources are unknown.
    """

    host: str | None
    port: int | None
    username: str | None
    password: str | None
    inbound_match: str | None
    host_note: str | None
    match_note: str | None


def carrier_trunk(integration: str, sip: SipRequest) -> CarrierTrunk:
    """The PJSIP trunk settings of ``integration`` (twilio, telnyx, plivo, sip), as documented.

    Raises:
        BadRequest: a given host is not of the carrier's documented form, a
            match entry is not an IP, network or host name, or a password was
            given without a username (``field`` names the request field).
    """
    host = sip.host.strip().lower() if sip.host else None
    if host is not None and not _HOST.match(host):
        raise BadRequest("sipHost must be a host name", field="sipHost")
    if sip.port is not None and not 1 <= sip.port <= 65535:
        raise BadRequest("sipPort must be 1-65535", field="sipPort")
    if sip.password and not sip.username:
        raise BadRequest("sipPassword needs sipUsername", field="sipUsername")
    given = [_match_entry(m) for m in sip.inbound_match]
    host_note = match_note = None
    if integration == "twilio":
        if host is not None and not _TWILIO_HOST.match(host):
            raise BadRequest(
                "a Twilio termination host is <trunk>.pstn.twilio.com "
                "(or <trunk>.pstn.<edge>.twilio.com)",
                field="sipHost",
            )
        host_note = (
            "Twilio gives each Elastic SIP trunk its own termination host "
            "(<trunk>.pstn.twilio.com): add it as sipHost to place calls out"
        )
        match = given or list(TWILIO_SIGNALLING)
    elif integration == "telnyx":
        host = host or TELNYX_HOST
        match = given or list(TELNYX_SIGNALLING)
    elif integration == "plivo":
        if host is not None and not _PLIVO_HOST.match(host):
            raise BadRequest(
                "a Plivo Zentrunk termination host is <trunk id>.zt.plivo.com", field="sipHost"
            )
        host_note = (
            "Plivo gives each Zentrunk trunk its own domain "
            "(<trunk id>.zt.plivo.com): add it as sipHost"
        )
        match_note = (
            "Plivo's signalling addresses are not in its documentation: "
            "add them as sipInboundMatch so its calls are recognised"
        )
        match = given
    elif integration == "sip":
        host_note = "a generic SIP trunk needs its carrier's host: add it as sipHost"
        match = given
    else:
        raise BadRequest("no carrier trunk for integration " + integration, field="integration")
    inbound = ",".join(match) or None
    if inbound is not None and len(inbound) > _MATCH_MAX:
        raise BadRequest("sipInboundMatch is too long", field="sipInboundMatch")
    return CarrierTrunk(
        host=host,
        port=sip.port,
        username=sip.username,
        password=sip.password,
        inbound_match=inbound,
        host_note=host_note,
        match_note=match_note,
    )


def _match_entry(value: str) -> str:
    entry = value.strip()
    try:
        if "/" in entry:
            return str(ipaddress.ip_network(entry, strict=False))
        return str(ipaddress.ip_address(entry))
    except ValueError:
        pass
    if _HOST.match(entry) and any(c.isalpha() for c in entry):
        return entry.lower()
    raise BadRequest(
        f"{value!r} is not an IP address, network or host name", field="sipInboundMatch"
    )
