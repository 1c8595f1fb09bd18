"""The container deployment stays consistent with the code it runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from switchboard.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_env_names_are_real_settings():
    env = _compose()["x-switchboard-env"]
    fields = set(Settings.model_fields)
    for name in env:
        assert name.startswith("SWITCHBOARD_")
        assert name.removeprefix("SWITCHBOARD_").lower() in fields, name


def test_compose_shares_asterisk_volumes_with_the_engine():
    services = _compose()["services"]
    asterisk = {v.split(":")[0]: v.split(":")[1] for v in services["asterisk"]["volumes"]}
    engine = {v.split(":")[0]: v.split(":")[1] for v in services["switchboard"]["volumes"]}
    env = _compose()["x-switchboard-env"]
    assert asterisk["asterisk-spool"] == "/var/spool/asterisk"
    assert engine["asterisk-spool"] == env["SWITCHBOARD_ASTERISK_SPOOL_DIR"]
    assert engine["asterisk-etc"] == env["SWITCHBOARD_ASTERISK_ETC_DIR"]
    assert env["SWITCHBOARD_ASTERISK_CDR_CSV"].startswith(engine["asterisk-log"])


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.mark.skipif(_compose_command() is None, reason="no docker compose client on this machine")
def test_docker_compose_config_validates():
    command = _compose_command()
    assert command is not None
    env = {"SWITCHBOARD_SECRET_KEY": "x", "POSTGRES_PASSWORD": "x",
           "SWITCHBOARD_ARI_PASSWORD": "x", "SWITCHBOARD_AMI_SECRET": "x",
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    done = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_render_command_writes_container_bindings(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from switchboard.cli import app

    monkeypatch.setenv("SWITCHBOARD_ARI_PASSWORD", "ari-secret")
    monkeypatch.setenv("SWITCHBOARD_AMI_SECRET", "ami-secret")
    result = CliRunner().invoke(app, ["asterisk", "render", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "bindaddr = 0.0.0.0" in (tmp_path / "http.conf").read_text()
    assert "secret = ami-secret" in (tmp_path / "manager.conf").read_text()
    assert "password = ari-secret" in (tmp_path / "ari.conf").read_text()
    assert (tmp_path / "extensions_switchboard.conf").exists()
