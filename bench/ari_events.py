"""ARI event decoding: typed msgspec events against json.loads + dict probing.

The engine decodes every ARI frame once, where it arrives, into a typed
event (``switchboard.engine.ari.events.decode_event``). The baseline is what
it did before: ``json.loads`` of the whole frame, then the dict probes the
flow made (``event.get("channel", {}).get("id")``, the type, a status). Both
run in this process over the same frames: 20 real frames Asterisk 22.10 sent
during a sequential forward (``tests/fixtures/ari-frames-asterisk22.json``:
StasisStart, Dial, ChannelHangupRequest, ChannelDestroyed, ChannelLeftBridge,
StasisEnd; 560 to 910 bytes each, full channel snapshots).

Prints microseconds per frame for both, and the baseline/ours ratio (above
1 means typed decoding is cheaper).

Run: ``.venv/bin/python bench/ari_events.py [--rounds 20000]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from switchboard.engine.ari.events import decode_event

FRAMES = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ari-frames-asterisk22.json"
)


def baseline(frame: bytes) -> tuple[Any, ...]:
    event = json.loads(frame)
    return (
        event.get("type"),
        event.get("channel", {}).get("id"),
        event.get("peer", {}).get("id"),
        event.get("dialstatus"),
    )


def ours(frame: bytes) -> tuple[Any, ...]:
    event = decode_event(frame)
    return (type(event), event.concerns())


def per_frame_us(decode: Any, frames: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        started = time.perf_counter()
        for _ in range(rounds):
            for frame in frames:
                decode(frame)
        best = min(best, time.perf_counter() - started)
    return best / rounds / len(frames) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    frames = [f.encode() for f in json.loads(FRAMES.read_text())]
    base = per_frame_us(baseline, frames, args.rounds)
    typed = per_frame_us(ours, frames, args.rounds)
    print(f"{len(frames)} real frames, {args.rounds} rounds, best of 3")
    print(f"  json.loads + dict probes  {base:6.2f} us/frame")
    print(f"  typed decode_event        {typed:6.2f} us/frame")
    print(f"  ratio baseline/ours       {base / typed:6.1f}x")


if __name__ == "__main__":
    main()
