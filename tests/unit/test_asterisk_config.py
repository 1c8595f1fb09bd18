"""Asterisk harness config: mirror detection and template rendering (no Asterisk needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.asterisk.exceptions import ConfigRenderError
from switchboard.asterisk.render import LOOPBACK_BINDINGS, render_config
from switchboard.asterisk.rootfs import DEFAULT_MIRROR, detect_mirror
from switchboard.config import Settings

CONTEXT: dict[str, object] = {
    "name": "unit",
    "inst_root": "/srv/switchboard",
    "ari_port": 18088,
    "ari_user": "ariuser",
    "ari_password": "aripw",
    "ari_app": "sbapp",
    "ami_port": 15038,
    "ami_user": "amiuser",
    "ami_secret": "amisecret",
    "sip_port": 15060,
    "rtp_start": 20000,
    "rtp_end": 20200,
    **LOOPBACK_BINDINGS,
}


def test_mirror_comes_from_deb822_sources_skipping_security(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.debian.org/debian-security\nSuites: x-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert detect_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_comes_from_one_line_sources_list(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://ftp.example/debian bookworm main\n"
    )
    assert detect_mirror(tmp_path) == "http://ftp.example/debian"


def test_mirror_falls_back_to_deb_debian_org(tmp_path: Path) -> None:
    assert detect_mirror(tmp_path) == DEFAULT_MIRROR


def test_templates_render_ports_credentials_and_keep_asterisk_variables(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    render_config(Settings().asterisk_config_dir, etc, CONTEXT)
    assert "bindport = 18088" in (etc / "http.conf").read_text()
    manager = (etc / "manager.conf").read_text()
    assert "port = 15038" in manager and "[amiuser]" in manager and "secret = amisecret" in manager
    assert "bindaddr = 127.0.0.1" in manager
    assert "password = aripw" in (etc / "ari.conf").read_text()
    assert "bind = 127.0.0.1:15060" in (etc / "pjsip.conf").read_text()
    extensions = (etc / "extensions.conf").read_text()
    assert "SB_APP = sbapp" in extensions
    assert "Stasis(${SB_APP},inbound,${EXTEN}," in extensions
    assert '$["${STASISSTATUS}"="FAILED"]' in extensions
    assert "#include extensions_switchboard.conf" in extensions
    assert (etc / "extensions_switchboard.conf").exists()
    cdr = (etc / "cdr.conf").read_text()
    for option in ("usegmtime = yes", "loguniqueid = yes", "loguserfield = yes"):
        assert option in cdr
    assert "autoload = no" in (etc / "modules.conf").read_text()


def test_engine_owned_pjsip_file_is_created_once_and_never_overwritten(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    render_config(Settings().asterisk_config_dir, etc, CONTEXT)
    engine_file = etc / "pjsip_switchboard.conf"
    assert engine_file.exists()
    engine_file.write_text("[trunk]\ntype = endpoint\n")
    render_config(Settings().asterisk_config_dir, etc, CONTEXT)
    assert engine_file.read_text() == "[trunk]\ntype = endpoint\n"


def test_a_missing_template_value_is_an_error_not_an_empty_string(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "http.conf").write_text("bindport = {{ ari_port }}\n")
    with pytest.raises(ConfigRenderError, match="ari_port"):
        render_config(templates, tmp_path / "etc", {})
