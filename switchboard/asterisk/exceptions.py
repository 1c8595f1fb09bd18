"""Typed errors of the local Asterisk harness.

Each error carries a stable ``error_id``, a human message and details, so the
CLI can print one line and tests can assert on the kind of failure.
"""

from __future__ import annotations

from typing import Any


class AsteriskHarnessError(Exception):
    """Base of every harness error."""

    error_id = "asterisk-harness-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotRootError(AsteriskHarnessError):
    """The harness needs root (debootstrap, chroot, mount namespaces)."""

    error_id = "asterisk-harness-not-root"


class DebootstrapMissingError(AsteriskHarnessError):
    """``debootstrap`` is not installed and could not be installed."""

    error_id = "asterisk-rootfs-debootstrap-missing"


class RootfsBuildError(AsteriskHarnessError):
    """Building the Debian rootfs failed (network, mirror, disk)."""

    error_id = "asterisk-rootfs-build-failed"


class RootfsMissingError(AsteriskHarnessError):
    """No usable rootfs at the configured path."""

    error_id = "asterisk-rootfs-missing"


class ConfigRenderError(AsteriskHarnessError):
    """A configuration template could not be rendered."""

    error_id = "asterisk-config-render-failed"


class InstanceNotFoundError(AsteriskHarnessError):
    """No instance state (``instance.json``) under the base directory."""

    error_id = "asterisk-instance-not-found"


class InstanceStartError(AsteriskHarnessError):
    """Asterisk did not start or did not become ready in time."""

    error_id = "asterisk-instance-start-failed"


class InstanceNotRunningError(AsteriskHarnessError):
    """An operation needs a running Asterisk and there is none."""

    error_id = "asterisk-instance-not-running"


class AlreadyRunningError(AsteriskHarnessError):
    """An instance with this base directory is already running."""

    error_id = "asterisk-instance-already-running"


class CliCommandError(AsteriskHarnessError):
    """``asterisk -rx`` failed."""

    error_id = "asterisk-cli-failed"


class ResetError(AsteriskHarnessError):
    """Channels or bridges survived a reset."""

    error_id = "asterisk-reset-failed"
