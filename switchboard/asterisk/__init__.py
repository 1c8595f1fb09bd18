"""Local Asterisk harness: a Debian sid rootfs and isolated Asterisk instances.

Used by ``switchboard asterisk``, by the integration test fixtures and by the
demo to run real Asterisk 22 instances side by side on one machine.
"""

from switchboard.asterisk.exceptions import AsteriskHarnessError
from switchboard.asterisk.instance import AsteriskInstance
from switchboard.asterisk.ports import InstancePorts, free_ports
from switchboard.asterisk.rootfs import ensure_rootfs

__all__ = [
    "AsteriskHarnessError",
    "AsteriskInstance",
    "InstancePorts",
    "ensure_rootfs",
    "free_ports",
]
