"""Roles of users and API keys, ordered: admin > agent > read-only."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a principal may do; each role includes the ones below it."""

    ADMIN = "admin"
    AGENT = "agent"
    READ_ONLY = "read-only"

    @property
    def rank(self) -> int:
        """Higher is more powerful."""
        return _RANK[self]

    def includes(self, other: Role) -> bool:
        """Whether this role may do what ``other`` may."""
        return self.rank >= other.rank


_RANK = {Role.READ_ONLY: 0, Role.AGENT: 1, Role.ADMIN: 2}


def parse_role(value: str) -> Role | None:
    """The role named ``value`` (``readonly``/``read_only`` accepted), or ``None``."""
    normalized = value.strip().lower().replace("_", "-")
    if normalized == "readonly":
        normalized = "read-only"
    try:
        return Role(normalized)
    except ValueError:
        return None
