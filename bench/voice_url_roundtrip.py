"""Voice-URL round trip: a customer's app answering over HTTP vs the built-in app.

Two numbers with the same single target: one follows its forwarding rule
(the built-in app, compiled in the engine), the other asks its voice URL —
a local HTTP app in its own process answering
``<Response><Dial><Number>...</Number></Dial></Response>`` — exactly as a
cloud provider would (signed form POST, TwiML parsed, then executed). Both
are timed like ``call_setup.py``: dialplan stamps from the call entering the
DID context to the target starting. The difference is the added latency of
the webhook round trip. Prints p50/p99 of both and the ratio.

Run: ``.venv/bin/python bench/voice_url_roundtrip.py [--calls 100] [--concurrency 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from call_setup import Stamps, engine_process, percentile, run_batch

from switchboard.asterisk import AsteriskInstance, ensure_rootfs, free_ports
from switchboard.config import Settings
from switchboard.engine.ami.client import AmiClient
from switchboard.models import ForwardingRule, PhoneNumber, Tenant, Trunk
from switchboard.models.migrate import upgrade
from switchboard.models.session import make_engine, make_sessionmaker
from switchboard.models.state import bump_routing_revision

BUILT_IN = "+15550100901"
VOICE_URL = "+15550100902"
TARGET = "+15550001111"

_APP = textwrap.dedent(
    f"""
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    BODY = b"<Response><Dial><Number>{TARGET}</Number></Dial></Response>"

    class App(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), App)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


async def seed(url: str, app_url: str) -> None:
    """A tenant, a lab trunk, and the two numbers ringing the same target."""
    engine = make_engine(url)
    await upgrade(engine)
    async with make_sessionmaker(engine)() as session, session.begin():
        tenant = Tenant(name="Bench Co", timezone="UTC")
        session.add(tenant)
        await session.flush()
        session.add(Trunk(tenant_id=tenant.id, name="bench", kind="local", context="sb-test"))
        rules = PhoneNumber(tenant_id=tenant.id, e164=BUILT_IN)
        app = PhoneNumber(tenant_id=tenant.id, e164=VOICE_URL, voice_url=app_url)
        session.add_all([rules, app])
        await session.flush()
        session.add(ForwardingRule(tenant_id=tenant.id, number_id=rules.id, priority=0,
                                   targets=[TARGET], ring_timeout=20))
        await bump_routing_revision(session)
    await engine.dispose()


async def drive(settings: Settings, calls: int, concurrency: int) -> None:
    """Warm up, then time both numbers and print the figures."""
    stamps = Stamps()
    ami = AmiClient.from_settings(settings, on_event=stamps.on_event, events={"UserEvent"})
    ami.start()
    await ami.wait_connected(20)
    try:
        for did in (BUILT_IN, VOICE_URL):
            await run_batch(settings, stamps, "engine", 10, 2, did=did)  # warm-up
        print(f"\n{calls} calls per number, {concurrency} in flight")
        results = {}
        for name, did in (("built-in", BUILT_IN), ("voice URL", VOICE_URL)):
            values, failed = await run_batch(settings, stamps, "engine", calls, concurrency,
                                             did=did)
            results[name] = values
            line = (f"  {name:<10} n={len(values):<4} p50 {percentile(values, 50):7.2f} ms   "
                    f"p99 {percentile(values, 99):7.2f} ms")
            print(line + (f"   FAILED {failed}" if failed else ""))
        base, ours = results["built-in"], results["voice URL"]
        added50 = percentile(ours, 50) - percentile(base, 50)
        added99 = percentile(ours, 99) - percentile(base, 99)
        ratio = percentile(ours, 50) / max(percentile(base, 50), 1e-6)
        print(f"  voice-URL round trip adds p50 {added50:+.2f} ms, p99 {added99:+.2f} ms "
              f"(ratio p50 {ratio:.2f}x)")
    finally:
        await ami.close()


def main() -> None:
    """Start Asterisk, the app, a database and the engine; run the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="sb-bench-vu-"))
    defaults = Settings()
    rootfs = ensure_rootfs(defaults.rootfs_cache, defaults.debian_mirror or None, print)
    app = subprocess.Popen([sys.executable, "-c", _APP], stdout=subprocess.PIPE, text=True)  # noqa: S603
    instance = AsteriskInstance.create("vubench", base_dir=base / "asterisk", ports=free_ports(),
                                       rootfs=rootfs)
    instance.start(timeout=60)
    try:
        assert app.stdout is not None
        app_url = f"http://127.0.0.1:{app.stdout.readline().strip()}/voice"
        url = f"sqlite+aiosqlite:///{base / 'switchboard.db'}"
        asyncio.run(seed(url, app_url))
        env = {**instance.env(), "SWITCHBOARD_DATABASE_URL": url,
               "SWITCHBOARD_STATE_DIR": str(base / "state"),
               "SWITCHBOARD_FETCH_ALLOW": "127.0.0.0/8"}  # the voice URL app is on loopback
        settings = instance.apply_to(Settings(database_url=url, state_dir=base / "state"))
        with engine_process(env):
            asyncio.run(drive(settings, args.calls, args.concurrency))
    finally:
        instance.stop()
        app.terminate()


if __name__ == "__main__":
    main()
