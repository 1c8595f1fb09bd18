"""ARI REST latency: requests over the events websocket vs one HTTP request per call.

Starts a private Asterisk with the local harness (or uses the one described by
``SWITCHBOARD_*`` settings with ``--use-settings``) and times the same REST
requests two ways:

* ours: :class:`switchboard.engine.ari.client.AriClient`, ``RESTRequest``
  frames on the already-open events websocket;
* baseline: ``httpx.AsyncClient`` (keep-alive pool), one HTTP request per call,
  as a conventional ARI client does.

Each way runs sequentially and with 20 requests in flight. Two requests are
measured: ``GET asterisk/ping`` (transport cost only) and
``POST channels/{id}/variable`` on a live Local channel (what the call engine
does most). The script prints p50/p99 per mode and the baseline/ours ratio
(above 1 means the websocket is faster).

Run: ``.venv/bin/python bench/ari_rest.py [--count 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.config import Settings
from switchboard.engine.ari.client import AriClient
from switchboard.engine.ari.facade import Ari

Request = Callable[[], Awaitable[Any]]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def timed(request: Request, count: int, in_flight: int) -> list[float]:
    samples: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await request()
            samples.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return samples


def report(name: str, ours: list[float], baseline: list[float]) -> None:
    o50, o99 = percentile(ours, 0.5) * 1e3, percentile(ours, 0.99) * 1e3
    b50, b99 = percentile(baseline, 0.5) * 1e3, percentile(baseline, 0.99) * 1e3
    print(
        f"{name:<34} ours p50 {o50:6.3f} ms p99 {o99:6.3f} ms | "
        f"httpx p50 {b50:6.3f} ms p99 {b99:6.3f} ms | "
        f"ratio p50 {b50 / o50:5.2f}x p99 {b99 / o99:5.2f}x | "
        f"mean ratio {statistics.mean(baseline) / statistics.mean(ours):5.2f}x"
    )


async def run(settings: Settings, count: int) -> None:
    ari = AriClient.from_settings(settings, on_event=lambda event: None)
    ari.start()
    await ari.wait_connected(15)
    base = f"http://{settings.asterisk_host}:{settings.ari_port}/ari"
    auth = (settings.ari_user, settings.ari_password)
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=base, auth=auth, limits=limits, timeout=10) as http:
        channel_id = f"bench-{uuid.uuid4().hex[:8]}"
        channel = await Ari(ari).originate(
            "Local/answer@sb-test", channel_id=channel_id, variables={"SB_WAIT": "600"}
        )

        async def ours_ping() -> Any:
            return await ari.request("GET", "asterisk/ping")

        async def http_ping() -> Any:
            response = await http.get("/asterisk/ping")
            response.raise_for_status()
            return response.json()

        async def ours_setvar() -> Any:
            return await channel.set_variable("BENCH", "1")

        async def http_setvar() -> Any:
            response = await http.post(
                f"/channels/{channel_id}/variable", params={"variable": "BENCH", "value": "1"}
            )
            response.raise_for_status()

        for name, ours, baseline in (
            ("GET asterisk/ping", ours_ping, http_ping),
            ("POST channels/{id}/variable", ours_setvar, http_setvar),
        ):
            for in_flight in (1, 20):
                await timed(ours, 200, in_flight)  # warm up both paths
                await timed(baseline, 200, in_flight)
                ours_samples = await timed(ours, count, in_flight)
                base_samples = await timed(baseline, count, in_flight)
                mode = "sequential" if in_flight == 1 else f"{in_flight} in flight"
                report(f"{name} ({mode})", ours_samples, base_samples)
        await channel.hangup()
    await ari.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--use-settings", action="store_true", help="use SWITCHBOARD_* Asterisk")
    args = parser.parse_args()
    settings = Settings()
    if args.use_settings:
        asyncio.run(run(settings, args.count))
        return
    rootfs = ensure_rootfs(settings.rootfs_cache, settings.debian_mirror or None, print)
    with tempfile.TemporaryDirectory(prefix="sb-bench-ari-") as tmp:
        instance = AsteriskInstance.create(
            "bench-ari", base_dir=Path(tmp), ports=free_ports(), rootfs=rootfs
        )
        instance.start(timeout=60)
        try:
            asyncio.run(run(instance.apply_to(settings), args.count))
        finally:
            instance.stop()


if __name__ == "__main__":
    main()
