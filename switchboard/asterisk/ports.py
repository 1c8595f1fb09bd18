"""Network ports of one Asterisk instance, and finding free ones."""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
RTP_BLOCK = 200


@dataclass(frozen=True)
class InstancePorts:
    """The ports one instance listens on (all on loopback)."""

    ari: int
    ami: int
    sip: int
    rtp_start: int
    rtp_end: int


def tcp_port_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a TCP listener could bind ``host:port`` now."""
    return _bindable(socket.SOCK_STREAM, host, port)


def udp_port_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a UDP socket could bind ``host:port`` now."""
    return _bindable(socket.SOCK_DGRAM, host, port)


def free_ports(host: str = LOOPBACK) -> InstancePorts:
    """Pick currently free ports for a new instance.

    ARI and AMI are TCP ports from the kernel's ephemeral range; SIP is a UDP
    port free at the same number. RTP gets a random block; Asterisk skips RTP
    ports already taken, so overlapping blocks between instances are harmless.
    """
    ari = _kernel_port(socket.SOCK_STREAM, host)
    ami = _kernel_port(socket.SOCK_STREAM, host)
    while ami == ari:
        ami = _kernel_port(socket.SOCK_STREAM, host)
    sip = _kernel_port(socket.SOCK_DGRAM, host)
    while sip in (ari, ami):
        sip = _kernel_port(socket.SOCK_DGRAM, host)
    rtp_start = random.randrange(20000, 30000, 2)
    return InstancePorts(
        ari=ari, ami=ami, sip=sip, rtp_start=rtp_start, rtp_end=rtp_start + RTP_BLOCK
    )


def busy_ports(ports: InstancePorts, host: str = LOOPBACK) -> list[str]:
    """Human descriptions of the instance's listening ports already in use."""
    busy = []
    if not tcp_port_free(ports.ari, host):
        busy.append(f"ARI/HTTP tcp/{ports.ari}")
    if not tcp_port_free(ports.ami, host):
        busy.append(f"AMI tcp/{ports.ami}")
    if not udp_port_free(ports.sip, host):
        busy.append(f"SIP udp/{ports.sip}")
    return busy


def _kernel_port(kind: socket.SocketKind, host: str) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _bindable(kind: socket.SocketKind, host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True
