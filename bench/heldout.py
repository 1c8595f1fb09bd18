"""Held-out corpora for bench/transcription.py: audio the pipeline is never tuned on.

Every choice in the pipeline (VAD padding, beam, trimming, the speech gate,
the model) is decided on the *tuning* corpus: the Asterisk core sound
prompts that ``bench/transcription.py`` selects (``--count`` of them plus
the joined long recordings). These two corpora are only ever evaluated:

* ``synthetic``: Harvard sentences (``data/harvard_sentences.txt``, public
  domain) read by five synthetic voices from Debian packages — festival's
  ``kal`` and ``ked`` diphone voices and its HTS voice ``cmu_us_slt_arctic``,
  espeak-ng's ``en-us`` and a female ``en-us+f3`` — one voice per sentence
  in turn, at 8 kHz, through the G.711 μ-law codec and back (sox).
* ``human``: recorded human telephone prompts through the GSM 06.10 codec
  and back. The only English human prompt set Debian carries is the core
  sounds' (Allison Smith), so these are core prompts the tuning corpus never
  uses (nor any test), of 2-12 s: other texts, the same voice; say so
  beside any figure from them.

The pipeline's code (``switchboard/``) never imports this module, and
:func:`human` asserts that no file of it is in the tuning selection.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from switchboard.transcription.corpus import Prompt

HARVARD = Path(__file__).with_name("data") / "harvard_sentences.txt"

VOICES = (
    ("festival", "kal_diphone"),
    ("festival", "ked_diphone"),
    ("festival", "cmu_us_slt_arctic_hts"),
    ("espeak-ng", "en-us"),
    ("espeak-ng", "en-us+f3"),
)
"""(synthesiser, voice): one per sentence in turn."""

TEST_PROMPTS = frozenset(
    {"agent-pass", "check-number-dial-again", "conf-onlyperson", "tt-weasels",
     "sorry-youre-having-problems"}
)
"""Core prompts the test suite uses: never held out either."""


@dataclass(frozen=True)
class HeldOut:
    """One held-out recording: its name, 8 kHz 16-bit WAV, reference text, length."""

    name: str
    path: Path
    text: str
    seconds: float


def harvard_sentences() -> list[str]:
    """The sentences, in list order."""
    lines = HARVARD.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _sox(*args: str) -> None:
    sox = shutil.which("sox")
    if sox is None:
        raise SystemExit("sox is needed for the held-out corpora (scripts/bootstrap installs it)")
    subprocess.run([sox, "-D", *args], check=True, capture_output=True)


def _speak(engine: str, voice: str, text: str, out: Path) -> None:
    raw = out.with_suffix(".tts.wav")
    if engine == "festival":
        program = shutil.which("text2wave")
        if program is None:
            raise SystemExit("festival's text2wave is needed (scripts/bootstrap installs it)")
        subprocess.run(
            [program, "-eval", f"(voice_{voice})", "-o", str(raw)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
    else:
        program = shutil.which("espeak-ng")
        if program is None:
            raise SystemExit("espeak-ng is needed (scripts/bootstrap installs it)")
        subprocess.run([program, "-v", voice, "-w", str(raw), text], check=True)
    ulaw = out.with_suffix(".ul")
    _sox(str(raw), "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "ul", str(ulaw))
    _sox("-r", "8000", "-c", "1", "-e", "mu-law", "-t", "ul", str(ulaw),
         "-e", "signed-integer", "-b", "16", str(out))
    raw.unlink()
    ulaw.unlink()


def synthetic(count: int, workdir: Path) -> list[HeldOut]:
    """``count`` Harvard sentences, each read by the next voice, through μ-law."""
    out: list[HeldOut] = []
    folder = workdir / "heldout-synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    for index, text in enumerate(harvard_sentences()[:count]):
        engine, voice = VOICES[index % len(VOICES)]
        path = folder / f"harvard-{index:02d}-{voice.replace('+', '-')}.wav"
        if not path.is_file():
            _speak(engine, voice, text, path)
        out.append(HeldOut(path.stem, path, text, sf.info(str(path)).duration))
    return out


def human(
    prompts: list[Prompt], tuning: Collection[str], count: int, workdir: Path
) -> list[HeldOut]:
    """``count`` core prompts of 2-12 s outside ``tuning`` and the tests, through GSM.

    The choice is deterministic (ordered by a hash of the name) and spread
    over the whole set, not over one corner of the alphabet.
    """
    candidates = [
        p for p in prompts
        if p.name not in tuning and p.name not in TEST_PROMPTS and 2.0 <= p.seconds <= 12.0
    ]
    candidates.sort(key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    chosen = candidates[:count]
    assert not {p.name for p in chosen} & set(tuning), "held-out prompts leaked into tuning"
    folder = workdir / "heldout-human"
    folder.mkdir(parents=True, exist_ok=True)
    out: list[HeldOut] = []
    for prompt in chosen:
        name = prompt.name.replace("/", "_")
        gsm, path = folder / f"{name}.gsm", folder / f"{name}.wav"
        if not path.is_file():
            _sox(str(prompt.path), "-r", "8000", "-c", "1", str(gsm))
            _sox(str(gsm), "-e", "signed-integer", "-b", "16", str(path))
            gsm.unlink()
        out.append(HeldOut(prompt.name, path, prompt.text, sf.info(str(path)).duration))
    return out
