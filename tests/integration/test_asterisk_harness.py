"""The local Asterisk harness: instances start, isolate, restart and leave no trace."""

from __future__ import annotations

import os
import time
import uuid
import wave
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from switchboard.asterisk import AsteriskInstance
from switchboard.asterisk.readiness import ami_login_ok

pytestmark = pytest.mark.asterisk

StartAsterisk = Callable[[str], AsteriskInstance]  # the asterisk_factory fixture


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def ari_info(instance: AsteriskInstance) -> httpx.Response:
    return httpx.get(
        f"{instance.ari_url}/asterisk/info",
        auth=(instance.ari_user, instance.ari_password),
        timeout=5,
    )


def cdr_rows(instance: AsteriskInstance) -> list[str]:
    path = instance.cdr_csv_path
    return path.read_text().splitlines() if path.exists() else []


def test_instance_answers_on_ami_and_ari(clean_asterisk: AsteriskInstance) -> None:
    response = ari_info(clean_asterisk)
    assert response.status_code == 200
    assert "system" in response.json()
    assert ami_login_ok(
        clean_asterisk.host,
        clean_asterisk.ami_port,
        clean_asterisk.ami_user,
        clean_asterisk.ami_secret,
    )


def test_wrong_credentials_are_refused(clean_asterisk: AsteriskInstance) -> None:
    wrong = httpx.get(
        f"{clean_asterisk.ari_url}/asterisk/info",
        auth=(clean_asterisk.ari_user, "wrong"),
        timeout=5,
    )
    assert wrong.status_code == 401
    assert not ami_login_ok(
        clean_asterisk.host, clean_asterisk.ami_port, clean_asterisk.ami_user, "wrong"
    )


def test_settings_overrides_point_at_the_instance(clean_asterisk: AsteriskInstance) -> None:
    overrides = clean_asterisk.settings_overrides()
    assert overrides["ari_port"] == clean_asterisk.ari_port
    assert overrides["ami_secret"] == clean_asterisk.ami_secret
    assert overrides["asterisk_spool_dir"] == clean_asterisk.spool_dir
    env = clean_asterisk.env()
    assert env["SWITCHBOARD_ARI_PASSWORD"] == clean_asterisk.ari_password
    assert env["SWITCHBOARD_ASTERISK_CDR_CSV"] == str(clean_asterisk.cdr_csv_path)


def test_two_instances_run_at_once(
    clean_asterisk: AsteriskInstance, asterisk_factory: StartAsterisk
) -> None:
    second = asterisk_factory("second")
    assert second.ari_port != clean_asterisk.ari_port
    assert ari_info(second).status_code == 200
    assert ari_info(clean_asterisk).status_code == 200
    second.cli("channel originate Local/answer@sb-test application Wait 5")
    assert wait_for(lambda: second.channel_count() == 2)
    assert clean_asterisk.channel_count() == 0
    second.stop()
    assert clean_asterisk.is_running()
    assert ari_info(clean_asterisk).status_code == 200


def test_local_channel_call_reaches_the_test_context(clean_asterisk: AsteriskInstance) -> None:
    clean_asterisk.cli("channel originate Local/answer@sb-test application Wait 5")
    assert wait_for(lambda: "answer@sb-test" in clean_asterisk.cli("core show channels"))
    assert clean_asterisk.channel_count() == 2


def test_cdr_csv_gets_a_row_after_a_call(clean_asterisk: AsteriskInstance) -> None:
    before = len(cdr_rows(clean_asterisk))
    clean_asterisk.cli("channel originate Local/answer@sb-test application Wait 0.2")
    assert wait_for(lambda: len(cdr_rows(clean_asterisk)) > before)
    new_rows = cdr_rows(clean_asterisk)[before:]
    assert any('"answer","sb-test"' in row for row in new_rows)


def test_recording_shows_up_under_the_host_spool_dir(clean_asterisk: AsteriskInstance) -> None:
    name = uuid.uuid4().hex[:12]
    clean_asterisk.cli(
        f"channel originate Local/rec-{name}@sb-test application Playback demo-congrats"
    )
    path = clean_asterisk.recording_dir / f"harness-{name}.wav"
    assert wait_for(lambda: path.exists() and clean_asterisk.channel_count() == 0, timeout=15)
    with wave.open(str(path)) as recording:
        assert recording.getframerate() == 8000
        assert recording.getsampwidth() == 2
        assert recording.getnframes() > 0


def test_restart_waits_for_the_old_process(asterisk_factory: StartAsterisk) -> None:
    instance = asterisk_factory("restart")
    first_pid = instance.pid
    instance.restart()
    instance.restart()
    assert instance.is_running()
    assert instance.pid != first_pid
    assert ari_info(instance).status_code == 200
    assert "System uptime" in instance.uptime()


def test_another_process_finds_a_running_instance(asterisk_factory: StartAsterisk) -> None:
    instance = asterisk_factory("found")
    found = AsteriskInstance.load("found", base_dir=instance.base_dir)
    assert found.is_running()
    assert found.pid == instance.pid
    assert found.ami_secret == instance.ami_secret
    found.stop()
    assert not instance.is_running()


def test_stop_leaves_no_process_and_no_mount(
    asterisk_factory: StartAsterisk, asterisk_rootfs: Path
) -> None:
    instance = asterisk_factory("stopper")
    pid = instance.pid
    assert pid is not None
    instance.stop()
    assert not instance.is_running()
    assert not os.path.exists(f"/proc/{pid}")
    mounts = Path("/proc/mounts").read_text()
    assert str(asterisk_rootfs) not in mounts
    assert str(instance.base_dir) not in mounts
    assert not (instance.base_dir / "run" / "asterisk.ctl").exists()
