"""Fixtures for integration tests against a real local Asterisk.

``asterisk`` starts one instance per test session (building the rootfs on
first use, which takes about a minute), on free loopback ports in a temporary
directory, and stops it at the end. ``clean_asterisk`` hands a test that same
instance with no channel or bridge left; ``asterisk_factory`` starts extra instances for
one test (several at once, restarts, stop checks). Mark tests that use them
``@pytest.mark.asterisk``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.asterisk.exceptions import InstanceStartError
from switchboard.config import Settings


def _progress(line: str) -> None:
    print(f"[asterisk rootfs] {line}", file=sys.stderr)


@pytest.fixture(scope="session")
def asterisk_rootfs() -> Path:
    """The shared Debian sid rootfs (built once, cached outside the repository)."""
    settings = Settings()
    return ensure_rootfs(settings.rootfs_cache, settings.debian_mirror or None, _progress)


def _start_instance(name: str, base_dir: Path, rootfs: Path) -> AsteriskInstance:
    # Free ports are picked before Asterisk binds them; another test session on
    # this machine can take one in between, so retry with fresh ports.
    for attempt in range(3):
        instance = AsteriskInstance.create(
            name, base_dir=base_dir, ports=free_ports(), rootfs=rootfs
        )
        try:
            instance.start(timeout=60)
        except InstanceStartError:
            if attempt == 2:
                raise
        else:
            return instance
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def asterisk(
    asterisk_rootfs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsteriskInstance]:
    """One running Asterisk for the whole session; stopped at the end."""
    instance = _start_instance("test", tmp_path_factory.mktemp("asterisk"), asterisk_rootfs)
    try:
        yield instance
    finally:
        instance.stop()


def _cleaned(instance: AsteriskInstance) -> AsteriskInstance:
    """``instance`` running, with every channel hung up and every bridge gone."""
    if not instance.is_running():  # a test stopped it: bring it back
        instance.start(timeout=60)
    instance.reset(timeout=10)
    return instance


@pytest.fixture
def clean_asterisk(asterisk: AsteriskInstance) -> AsteriskInstance:
    """The session's Asterisk, running, with every channel hung up and every bridge gone."""
    return _cleaned(asterisk)


@pytest.fixture(scope="module")
def own_asterisk(
    asterisk_rootfs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsteriskInstance]:
    """An Asterisk for one module only, e.g. so its fallback CDRs reach no other test's engine."""
    instance = _start_instance("own", tmp_path_factory.mktemp("asterisk-own"), asterisk_rootfs)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def clean_own_asterisk(own_asterisk: AsteriskInstance) -> AsteriskInstance:
    """The module's own Asterisk, running, with no channel or bridge left."""
    return _cleaned(own_asterisk)


StartAsterisk = Callable[[str], AsteriskInstance]


@pytest.fixture
def asterisk_factory(
    asterisk_rootfs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartAsterisk]:
    """Start extra instances by name (own directory, free ports); all stopped after the test."""
    started: list[AsteriskInstance] = []

    def start(name: str) -> AsteriskInstance:
        instance = _start_instance(
            name, tmp_path_factory.mktemp(f"asterisk-{name}"), asterisk_rootfs
        )
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
