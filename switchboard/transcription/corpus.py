"""The Asterisk core sound prompts as a ground-truth speech corpus.

``asterisk-core-sounds-en-wav`` ships hundreds of human recordings at 8 kHz
and the package documents what each one says (``core-sounds-en.txt``). The
benchmark and the quality tests read them from the Asterisk rootfs. In the
sid rootfs the ``en`` link points outside the rootfs, so the prompts are read
from ``en_US_f_Allison/`` directly.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from switchboard.config import Settings

_SOUNDS = Path("usr/share/asterisk/sounds/en_US_f_Allison")
_TEXTS = Path("usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt")
_ODD = re.compile(r"[\[\]<>{}()=/\\|_~^]")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt: its name, wav file, what is said, and its length."""

    name: str
    path: Path
    text: str
    seconds: float


def rootfs_candidates(settings: Settings) -> list[Path]:
    """Rootfs directories to look in: the configured one, then its ``-try`` sibling."""
    root = settings.rootfs_cache
    return [root, root.with_name(root.name + "-try")]


def sounds_root(settings: Settings) -> Path | None:
    """The rootfs holding both the prompts and their transcripts, if any."""
    for root in rootfs_candidates(settings):
        texts = root / _TEXTS
        if (root / _SOUNDS).is_dir() and (
            texts.is_file() or texts.with_suffix(".txt.gz").is_file()
        ):
            return root
    return None


def _read_texts(root: Path) -> str:
    plain = root / _TEXTS
    if plain.is_file():
        return plain.read_text(encoding="utf-8", errors="replace")
    with gzip.open(str(plain) + ".gz", "rt", encoding="utf-8", errors="replace") as fh:
        return fh.read()


def parse_references(document: str) -> dict[str, str]:
    """Parse ``name: text`` lines, skipping comments and bracketed or odd texts."""
    refs: dict[str, str] = {}
    for line in document.splitlines():
        name, sep, text = line.partition(":")
        name, text = name.strip(), text.strip()
        if not sep or not name or name.startswith(";") or not text or _ODD.search(text):
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_/-]*", name):
            continue
        refs[name] = text
    return refs


def load_prompts(settings: Settings) -> list[Prompt]:
    """Every prompt with a wav file and a usable reference text, sorted by name.

    Returns:
        The prompts, or an empty list when no rootfs with the sounds exists.
    """
    root = sounds_root(settings)
    if root is None:
        return []
    prompts: list[Prompt] = []
    for name, text in sorted(parse_references(_read_texts(root)).items()):
        path = root / _SOUNDS / f"{name}.wav"
        if not path.is_file():
            continue
        info = sf.info(str(path))
        prompts.append(Prompt(name=name, path=path, text=text, seconds=info.duration))
    return prompts


def pick_mixed(prompts: list[Prompt], count: int, *, min_seconds: float = 1.0) -> list[Prompt]:
    """A deterministic selection spread evenly over the range of lengths.

    Args:
        prompts: Candidates.
        count: How many to keep.
        min_seconds: Drop prompts shorter than this (single words).

    Returns:
        ``count`` prompts (fewer if there are not enough), shortest first.
    """
    usable = sorted(
        (p for p in prompts if p.seconds >= min_seconds), key=lambda p: (p.seconds, p.name)
    )
    if len(usable) <= count:
        return usable
    step = (len(usable) - 1) / (count - 1) if count > 1 else 0
    return [usable[round(i * step)] for i in range(count)]
