"""Bringing a running instance back to a blank state between tests.

Hangs up every channel (CLI) and destroys every bridge (ARI: the CLI cannot
destroy bridges), then waits until Asterisk reports none left.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from switchboard.asterisk.exceptions import ResetError


def hangup_all_channels(
    cli: Callable[[str], str], channel_count: Callable[[], int], timeout: float
) -> None:
    """Request hangup of every channel until ``channel_count`` reads 0.

    Raises:
        ResetError: Channels remain after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while channel_count() > 0:
        if time.monotonic() > deadline:
            raise ResetError(f"channels still up after {timeout} s")
        cli("channel request hangup all")
        time.sleep(0.05)


def destroy_all_bridges(ari_url: str, auth: tuple[str, str], timeout: float) -> None:
    """Destroy every bridge through ARI and wait until the list is empty.

    Raises:
        ResetError: ARI failed or bridges remain after ``timeout``.
    """
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=ari_url, auth=auth, timeout=5.0) as client:
        while True:
            try:
                response = client.get("/bridges")
                response.raise_for_status()
                bridges = [b["id"] for b in response.json()]
                if not bridges:
                    return
                for bridge_id in bridges:
                    client.delete(f"/bridges/{bridge_id}")
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise ResetError(f"cannot list or destroy bridges over ARI: {exc}") from exc
            if time.monotonic() > deadline:
                raise ResetError(f"bridges still present after {timeout} s: {bridges}")
            time.sleep(0.05)
