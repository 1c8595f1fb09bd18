"""The local Asterisk harness: instances start, isolate, restart and leave no trace."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import websockets.sync.client

from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.asterisk.exceptions import InstanceStartError, RootfsBuildError
from switchboard.asterisk.readiness import ami_login_ok
from tests.eventually import eventually_blocking

pytestmark = pytest.mark.asterisk

StartAsterisk = Callable[[str], AsteriskInstance]  # the asterisk_factory fixture


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


def test_asterisk_threads_run_in_realtime_scheduling(clean_asterisk: AsteriskInstance) -> None:
    # asterisk.conf's highpriority: every thread, also those started for calls later.
    assert clean_asterisk.pid is not None
    threads = [int(task.name) for task in Path(f"/proc/{clean_asterisk.pid}/task").iterdir()]
    assert len(threads) > 10
    policies = {os.sched_getscheduler(tid) & ~os.SCHED_RESET_ON_FORK for tid in threads}
    assert policies == {os.SCHED_RR}
    assert os.sched_getparam(clean_asterisk.pid).sched_priority == 10


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
    eventually_blocking(lambda: second.channel_count() == 2)
    assert clean_asterisk.channel_count() == 0
    second.stop()
    assert clean_asterisk.is_running()
    assert ari_info(clean_asterisk).status_code == 200


def test_local_channel_call_reaches_the_test_context(clean_asterisk: AsteriskInstance) -> None:
    clean_asterisk.cli("channel originate Local/answer@sb-test application Wait 5")
    eventually_blocking(lambda: "answer@sb-test" in clean_asterisk.cli("core show channels"))
    assert clean_asterisk.channel_count() == 2


def test_cdr_csv_gets_a_row_after_a_call(clean_asterisk: AsteriskInstance) -> None:
    before = len(cdr_rows(clean_asterisk))
    clean_asterisk.cli("channel originate Local/answer@sb-test application Wait 0.2")
    eventually_blocking(lambda: len(cdr_rows(clean_asterisk)) > before)
    new_rows = cdr_rows(clean_asterisk)[before:]
    assert any('"answer","sb-test"' in row for row in new_rows)


def test_recording_shows_up_under_the_host_spool_dir(clean_asterisk: AsteriskInstance) -> None:
    name = uuid.uuid4().hex[:12]
    clean_asterisk.cli(
        f"channel originate Local/rec-{name}@sb-test application Playback demo-congrats"
    )
    path = clean_asterisk.recording_dir / f"harness-{name}.wav"
    eventually_blocking(lambda: path.exists() and clean_asterisk.channel_count() == 0, timeout=15)
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


def test_reset_hangs_up_channels_and_destroys_bridges(clean_asterisk: AsteriskInstance) -> None:
    auth = (clean_asterisk.ari_user, clean_asterisk.ari_password)
    created = httpx.post(f"{clean_asterisk.ari_url}/bridges", auth=auth, timeout=5)
    assert created.status_code == 200
    clean_asterisk.cli("channel originate Local/answer@sb-test application Wait 30")
    eventually_blocking(lambda: clean_asterisk.channel_count() == 2)
    clean_asterisk.reset()
    assert clean_asterisk.channel_count() == 0
    assert httpx.get(f"{clean_asterisk.ari_url}/bridges", auth=auth, timeout=5).json() == []


def test_did_call_enters_the_stasis_app_with_its_number(clean_asterisk: AsteriskInstance) -> None:
    url = (
        f"ws://{clean_asterisk.host}:{clean_asterisk.ari_port}/ari/events"
        f"?app={clean_asterisk.ari_app}&api_key={clean_asterisk.ari_user}:"
        f"{clean_asterisk.ari_password}"
    )
    with websockets.sync.client.connect(url, open_timeout=5) as events:
        clean_asterisk.cli("channel originate Local/+15550001@switchboard-did application Wait 5")
        deadline = time.monotonic() + 10
        start = None
        while start is None and time.monotonic() < deadline:
            event = json.loads(events.recv(timeout=10))
            if event["type"] == "StasisStart":
                start = event
    assert start is not None
    assert start["args"][:2] == ["inbound", "+15550001"]
    assert start["channel"]["dialplan"]["context"] == "switchboard-did"


def test_engine_pjsip_file_is_loaded_and_kept_across_restarts(
    asterisk_factory: StartAsterisk,
) -> None:
    instance = asterisk_factory("pjsip")
    instance.write_config(
        "pjsip_switchboard.conf",
        "[desk-101]\ntype = endpoint\ncontext = sb-test\ndisallow = all\nallow = ulaw\n",
    )
    instance.reload_pjsip()
    eventually_blocking(lambda: "desk-101" in instance.cli("pjsip show endpoints"))
    instance.restart()
    assert "desk-101" in instance.cli("pjsip show endpoints")


def test_a_taken_port_is_a_clear_start_error(asterisk_rootfs: Path, tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = dataclasses.replace(free_ports(), ari=taken)
        instance = AsteriskInstance.create(
            "squat", base_dir=tmp_path / "squat", ports=ports, rootfs=asterisk_rootfs
        )
        with pytest.raises(InstanceStartError, match=f"tcp/{taken}"):
            instance.start()
    assert not instance.is_running()


def test_cli_refuses_non_root_with_one_line() -> None:
    # The checkout may sit where only root can read (``mktemp -d`` is 0700), and
    # typer imports parts of itself lazily: a --help run while still root loads them.
    script = (
        "import contextlib, io, os, sys\n"
        "from switchboard.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    app(['asterisk', 'up', '--help'])\n"
        "os.setegid(65534); os.seteuid(65534)\n"
        "sys.argv = ['switchboard', 'asterisk', 'up', '--name', 'never']\n"
        "app()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: switchboard asterisk needs root (mount namespaces and chroot)"
    ]


def test_unreachable_mirror_is_a_typed_build_error(tmp_path: Path) -> None:
    target = tmp_path / "rootfs"
    with pytest.raises(RootfsBuildError, match="network or mirror failure"):
        ensure_rootfs(target, "http://127.0.0.1:9/debian")
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "build" in p.name] == []


def test_cli_up_status_cli_down_round_trip(asterisk_rootfs: Path, tmp_path: Path) -> None:
    ports = free_ports()
    base = ["--name", "cli", "--base-dir", str(tmp_path / "cli")]

    def switchboard(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "switchboard.cli", "asterisk", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    up = switchboard(
        "up",
        *base,
        "--ari-port",
        str(ports.ari),
        "--ami-port",
        str(ports.ami),
        "--sip-port",
        str(ports.sip),
    )
    try:
        assert up.returncode == 0, up.stderr
        assert f"export SWITCHBOARD_ARI_PORT={ports.ari}" in up.stdout
        status = switchboard("status", *base)
        assert status.returncode == 0
        assert "is running" in status.stdout and "System uptime" in status.stdout
        channels = switchboard("cli", "core show channels count", *base)
        assert "active channel" in channels.stdout
    finally:
        down = switchboard("down", *base)
    assert down.returncode == 0
    assert "stopped" in down.stdout
    stopped = switchboard("status", *base)
    assert stopped.returncode == 3
    refused = switchboard("cli", "core show uptime", *base)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr
