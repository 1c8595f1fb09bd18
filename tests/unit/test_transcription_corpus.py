"""The core-sounds corpus: reference parsing and the deterministic mixed selection."""

from __future__ import annotations

from pathlib import Path

from switchboard.transcription.corpus import Prompt, parse_references, pick_mixed

DOC = """; Core Asterisk Sounds in English

activated: Activated.
beep: [this is a simple beep tone]
agent-pass: Please enter your password followed by the pound key.
digits/5: 5
odd: say <name> now
"""


def test_references_skip_comments_and_bracketed_or_odd_texts() -> None:
    assert parse_references(DOC) == {
        "activated": "Activated.",
        "agent-pass": "Please enter your password followed by the pound key.",
        "digits/5": "5",
    }


def test_selection_is_deterministic_spread_over_lengths_and_drops_single_words() -> None:
    prompts = [Prompt(f"p{i}", Path(f"p{i}.wav"), "text", seconds=0.5 + i) for i in range(20)]
    chosen = pick_mixed(prompts, 5)
    assert chosen == pick_mixed(list(reversed(prompts)), 5)
    assert [p.seconds for p in chosen] == sorted(p.seconds for p in chosen)
    assert chosen[0].seconds >= 1.0 and chosen[-1].name == "p19"
    assert len({p.name for p in chosen}) == 5
