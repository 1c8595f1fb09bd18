"""The PJSIP include file: desk phones keep plain RTP, browser phones get WebRTC media."""

from __future__ import annotations

from switchboard.engine.pjsip_sync import render_pjsip
from switchboard.models import Endpoint


def _sections(text: str) -> list[tuple[str, dict[str, str]]]:
    out: list[tuple[str, dict[str, str]]] = []
    for block in text.split("\n["):
        header, _, body = block.partition("]\n")
        if not body:
            continue
        lines = dict(line.split("=", 1) for line in body.strip().splitlines())
        out.append((header.lstrip("["), lines))
    return out


def _endpoint(text: str, name: str) -> dict[str, str]:
    return next(lines for section, lines in _sections(text)
                if section == name and lines["type"] == "endpoint")


def test_browser_phone_gets_webrtc_media_and_desk_phone_does_not() -> None:
    text = render_pjsip(
        [
            Endpoint(tenant_id="t", name="web-1", password="p" * 16, caller_id=None, webrtc=True),
            Endpoint(tenant_id="t", name="desk-1", password="p" * 16, caller_id="+15550001111",
                     webrtc=False),
        ],
        [],
    )
    web, desk = _endpoint(text, "web-1"), _endpoint(text, "desk-1")
    assert web["webrtc"] == "yes"
    assert web["dtls_auto_generate_cert"] == "yes"
    assert web["allow"] == "ulaw,alaw"
    assert web["auth"] == "web-1-auth" and web["aors"] == "web-1"
    assert "webrtc" not in desk and "dtls_auto_generate_cert" not in desk
    assert desk["allow"] == "ulaw,alaw,g722" and desk["callerid"] == "+15550001111"

