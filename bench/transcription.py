"""Transcription benchmark: our pipeline against a naive baseline, same process.

Corpus: Asterisk core sound prompts (human voice, 8 kHz) with the reference
texts from ``core-sounds-en.txt``; a deterministic selection of mixed lengths
plus a few long recordings made by joining prompts (RTF on >= 20 s audio).

Sources (``--source``, repeatable):
  raw           the prompt files as shipped
  gsm           each file through the GSM 06.10 codec and back (sox), as phones do
  through-call  spoken into voicemail through a real call (Asterisk + engine);
                ``--calls-dir DIR`` keeps those voicemails for later runs

Our pipeline: :class:`switchboard.transcription.transcriber.Transcriber`
(soundfile decode, polyphase resampling, energy gate + VAD, settings' beam).
Baseline: faster-whisper on the raw file, resampled by linear interpolation,
greedy, no VAD, plain ``WhisperModel`` on 2 CPU threads.

Rows ``baseline`` and ``one job`` transcribe one file at a time on 2 threads
(ours: encoder 2, decoder as ``decoder_threads`` picks for the CPU): their RTF
is a job's latency over its audio. Row ``worker xN`` is the worker as it runs
by default: N jobs at once (``default_concurrency``: one per CPU at the
settings' ``whisper_threads``), RTF = wall time over audio, each length bucket
a backlog of its own; that is the machine's transcription capacity. Every row
runs ``--rounds`` times, the rows taking turns, and keeps its fastest round
per bucket (the machines are noisy; turns keep drift from favouring one row).

Held-out mode (``--held-out``): two corpora the pipeline is never tuned on
(``bench/heldout.py``: Harvard sentences read by five synthetic voices through
μ-law; core prompts outside the tuning selection through GSM), each left as
voicemails through real calls with the product's default settings. Rows: the
naive baseline on the source file, the baseline on the stored voicemail, and
our pipeline on the voicemail, each with its WER and a bootstrap 95 % interval
of the baseline's WER minus ours (files resampled with replacement); then the
latency of one job, the worker's throughput draining the voicemails as one
backlog against the baseline draining it one at a time, and the model's load.
The tuning corpus is only what ``--count``/``--long`` select; the held-out
corpora are evaluated, never tuned on.

Run: ``.venv/bin/python bench/transcription.py [--count 50] [--source raw --source gsm]``
or ``.venv/bin/python bench/transcription.py --held-out --calls-dir DIR``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from faster_whisper import WhisperModel

from switchboard.config import Settings
from switchboard.transcription.audio import WHISPER_RATE, decode
from switchboard.transcription.corpus import Prompt, load_prompts, pick_mixed
from switchboard.transcription.model import load_model
from switchboard.transcription.process_env import restart_for_whisper
from switchboard.transcription.transcriber import DecodeOptions, Transcriber
from switchboard.transcription.wer import edit_distance, normalize, wer
from switchboard.transcription.worker import default_concurrency

BASELINE_THREADS = 2
"""CPU threads of the baseline, and of our one-job row beside it."""


@dataclass(frozen=True)
class Item:
    name: str
    path: Path
    text: str
    seconds: float


def _long_parts(prompts: list[Prompt], count: int) -> list[list[Prompt]]:
    """The prompts of each joined long recording (about 24 s each), deterministic."""
    pool = sorted((p for p in prompts if 3.0 <= p.seconds <= 12.0), key=lambda p: p.name)
    joins: list[list[Prompt]] = []
    cursor = 0
    for _ in range(count):
        parts: list[Prompt] = []
        seconds = 0.0
        while seconds < 24.0 and cursor < len(pool):
            parts.append(pool[cursor])
            seconds += pool[cursor].seconds + 0.6
            cursor += 7  # spread over the alphabet, deterministic
            if cursor >= len(pool):
                cursor = cursor % len(pool) + 1
        joins.append(parts)
    return joins


def _join_long(prompts: list[Prompt], count: int, workdir: Path) -> list[Item]:
    """Recordings of >= 20 s: consecutive prompts joined with 0.6 s of silence."""
    items: list[Item] = []
    for n, join in enumerate(_long_parts(prompts, count)):
        parts: list[np.ndarray] = []
        for prompt in join:
            data, rate = sf.read(str(prompt.path), dtype="int16")
            parts += [data, np.zeros(int(0.6 * rate), dtype=np.int16)]
        path = workdir / f"long-{n}.wav"
        sf.write(str(path), np.concatenate(parts), 8000, subtype="PCM_16")
        seconds = sum(p.seconds + 0.6 for p in join)
        items.append(Item(f"long-{n}", path, " ".join(p.text for p in join), seconds))
    return items


def tuning_names(prompts: list[Prompt], count: int, long: int) -> set[str]:
    """Every prompt the tuning corpus uses: the selection and the long joins."""
    names = {p.name for p in pick_mixed(prompts, count)}
    return names | {p.name for join in _long_parts(prompts, long) for p in join}


def _pad_lead(items: list[Item], seconds: float, folder: Path) -> list[Item]:
    """The files with ``seconds`` of digital silence added before them."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Item] = []
    for index, item in enumerate(items):
        data, rate = sf.read(str(item.path), dtype="int16")
        path = folder / f"{index}.wav"
        sf.write(str(path), np.concatenate([np.zeros(round(seconds * rate), np.int16), data]), rate)
        out.append(Item(item.name, path, item.text, item.seconds + seconds))
    return out


def source_raw(items: list[Item], workdir: Path) -> list[Item]:
    """The files as they are."""
    return items


def source_gsm(items: list[Item], workdir: Path) -> list[Item]:
    """Each file encoded to GSM 06.10 and decoded back to 16-bit WAV (sox, no dither)."""
    sox = shutil.which("sox")
    if sox is None:
        raise SystemExit("sox is needed for --source gsm")
    out: list[Item] = []
    for index, item in enumerate(items):
        gsm = workdir / f"gsm-{index}.gsm"
        wav = workdir / f"gsm-{index}.wav"
        subprocess.run([sox, "-D", str(item.path), "-r", "8000", "-c", "1", str(gsm)], check=True)
        subprocess.run(
            [sox, "-D", str(gsm), "-e", "signed-integer", "-b", "16", str(wav)], check=True
        )
        out.append(Item(item.name, wav, item.text, item.seconds))
    return out


def source_through_call(items: list[Item], workdir: Path, folder: str = "") -> list[Item]:
    """Each file spoken into voicemail through a real call (Asterisk + engine).

    With ``--calls-dir`` the voicemails are kept there (in ``folder`` under it)
    and reused by later runs (``manifest.json`` maps each prompt to its
    voicemail), so a pipeline change is measured on the very same audio.
    """
    from through_call import through_call

    keep = (CALLS_DIR or workdir / "through-call") / folder
    keep.mkdir(parents=True, exist_ok=True)
    manifest_path = keep / "manifest.json"
    manifest: dict[str, str] = (
        json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    )
    missing = [i for i in items if not (keep / manifest.get(i.name, "-")).is_file()]
    if missing:
        started = time.perf_counter()
        batch = keep / f"batch-{len(manifest)}"
        batch.mkdir(exist_ok=True)
        recorded = through_call([i.path for i in missing], batch)
        for item, path in zip(missing, recorded, strict=True):
            if path is not None:
                manifest[item.name] = str(path.relative_to(keep))
        manifest_path.write_text(json.dumps(manifest, indent=1))
        print(
            f"  through-call: {sum(p is not None for p in recorded)}/{len(missing)} voicemails "
            f"recorded in {time.perf_counter() - started:.0f} s"
        )
    out = [
        Item(item.name, keep / manifest[item.name], item.text, 0.0)
        for item in items
        if (keep / manifest.get(item.name, "-")).is_file()
    ]
    out = [Item(i.name, i.path, i.text, sf.info(str(i.path)).duration) for i in out]
    print(f"  through-call: {len(out)}/{len(items)} voicemails ({keep})")
    return out


CALLS_DIR: Path | None = None
"""Where through-call voicemails are kept between runs (``--calls-dir``)."""


SOURCES: dict[str, Callable[[list[Item], Path], list[Item]]] = {
    "raw": source_raw,
    "gsm": source_gsm,
    "through-call": source_through_call,
}


def naive(model: WhisperModel, path: Path) -> str:
    """Baseline: linear-interpolation resampling, greedy, no VAD."""
    decoded = decode(path)
    mono = np.mean(np.stack(decoded.channels), axis=0)
    n_out = int(len(mono) * WHISPER_RATE / decoded.sample_rate)
    t_out = np.arange(n_out) / WHISPER_RATE
    t_in = np.arange(len(mono)) / decoded.sample_rate
    samples = np.interp(t_out, t_in, mono).astype(np.float32)
    segments, _ = model.transcribe(samples, language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


@dataclass
class Run:
    pairs: list[tuple[str, str]]
    seconds: dict[str, float]
    audio: dict[str, float]

    def rtf(self, bucket: str) -> float:
        return self.seconds[bucket] / self.audio[bucket] if self.audio.get(bucket) else float("nan")


def _bucket(seconds: float) -> str:
    if seconds >= 20.0:
        return "long"
    if 2.0 <= seconds <= 5.0:
        return "short"
    return "other"


def run(items: list[Item], transcribe: Callable[[Path], str]) -> Run:
    """One file at a time; each file's time goes to its bucket."""
    result = Run(pairs=[], seconds={}, audio={})
    for item in items:
        started = time.perf_counter()
        hypothesis = transcribe(item.path)
        elapsed = time.perf_counter() - started
        result.pairs.append((item.text, hypothesis))
        for bucket in (_bucket(item.seconds), "all"):
            result.seconds[bucket] = result.seconds.get(bucket, 0.0) + elapsed
            result.audio[bucket] = result.audio.get(bucket, 0.0) + item.seconds
    return result


def run_concurrently(items: list[Item], transcribe: Callable[[Path], str], jobs: int) -> Run:
    """Each bucket as a backlog drained by ``jobs`` threads; a bucket's time is its wall time."""
    result = Run(pairs=[], seconds={}, audio={})
    hypotheses: dict[int, str] = {}
    for bucket in ("short", "other", "long"):
        # Longest first (pop() takes from the end): a few files must not leave one
        # thread finishing alone, which a real, longer backlog would not see.
        backlog = sorted(
            ((n, i) for n, i in enumerate(items) if _bucket(i.seconds) == bucket),
            key=lambda pair: pair[1].seconds,
        )
        lock = threading.Lock()

        def drain(backlog: list[tuple[int, Item]] = backlog, lock: threading.Lock = lock) -> None:
            while True:
                with lock:
                    if not backlog:
                        return
                    n, item = backlog.pop()
                hypotheses[n] = transcribe(item.path)

        started = time.perf_counter()
        threads = [threading.Thread(target=drain) for _ in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        audio = sum(i.seconds for i in items if _bucket(i.seconds) == bucket)
        for key in (bucket, "all"):
            result.seconds[key] = result.seconds.get(key, 0.0) + elapsed
            result.audio[key] = result.audio.get(key, 0.0) + audio
    result.pairs = [(item.text, hypotheses[n]) for n, item in enumerate(items)]
    return result


def word_errors(pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Per recording: word errors and reference words, after normalising."""
    errors, words = [], []
    for reference, hypothesis in pairs:
        ref = normalize(reference)
        errors.append(edit_distance(ref, normalize(hypothesis)))
        words.append(len(ref))
    return np.array(errors), np.array(words)


def bootstrap_gain(
    baseline: list[tuple[str, str]], ours: list[tuple[str, str]], rounds: int = 10_000
) -> tuple[float, float, float]:
    """Baseline WER minus ours, with a bootstrap 95 % interval (recordings resampled)."""
    base_errors, words = word_errors(baseline)
    our_errors, our_words = word_errors(ours)
    assert np.array_equal(words, our_words), "both must score the same references"
    picks = np.random.default_rng(0).integers(0, len(words), size=(rounds, len(words)))
    gains = (base_errors[picks].sum(1) - our_errors[picks].sum(1)) / words[picks].sum(1)
    low, high = np.percentile(gains, [2.5, 97.5])
    return (base_errors.sum() - our_errors.sum()) / words.sum(), float(low), float(high)


def fastest(runs: list[Run]) -> Run:
    """The first round's words with each bucket's fastest time over the rounds."""
    seconds = {b: min(r.seconds[b] for r in runs) for b in runs[0].seconds}
    return Run(pairs=runs[0].pairs, seconds=seconds, audio=runs[0].audio)


HELD_OUT = {
    "synthetic": "Harvard sentences, 5 synthetic voices (festival, espeak-ng), mu-law",
    "human": "core prompts outside the tuning set (one human voice), GSM",
}


def held_out(
    args: argparse.Namespace,
    prompts: list[Prompt],
    workdir: Path,
    baseline: Callable[[Path], str],
    pipeline: Callable[[Path], str],
    worker_pipeline: Callable[[Path], str],
    jobs: int,
) -> None:
    """The held-out table: WER with intervals, latency and throughput, per corpus."""
    import heldout

    tuning = tuning_names(prompts, args.count, args.long)
    root = CALLS_DIR or workdir
    built = {
        "synthetic": heldout.synthetic(args.held_out_count, root),
        "human": heldout.human(prompts, tuning, args.held_out_count, root),
    }
    for corpus, recordings in built.items():
        sources = [Item(r.name, r.path, r.text, r.seconds) for r in recordings]
        voicemails = source_through_call(sources, workdir, f"voicemails-{corpus}")
        kept = {v.name for v in voicemails}
        sources = [i for i in sources if i.name in kept]
        rounds: dict[str, list[Run]] = {}
        for _ in range(max(1, args.rounds)):
            rounds.setdefault("naive, source", []).append(run(sources, baseline))
            rounds.setdefault("naive, voicemail", []).append(run(voicemails, baseline))
            rounds.setdefault("pipeline, voicemail", []).append(run(voicemails, pipeline))
            if not args.no_worker:
                rounds.setdefault(f"worker x{jobs}, voicemail", []).append(
                    run_concurrently(voicemails, worker_pipeline, jobs)
                )
        rows = {label: fastest(runs) for label, runs in rounds.items()}
        audio = sum(v.seconds for v in voicemails)
        print(f"\n[held-out {corpus}] {len(voicemails)} voicemails, {audio:.0f} s: "
              f"{HELD_OUT[corpus]}; left through real calls, default settings")
        print(f"  {'':24}{'WER':>8}   pipeline's gain over the row (95 % interval)")
        ours = rows["pipeline, voicemail"].pairs
        for label in ("naive, source", "naive, voicemail", "pipeline, voicemail"):
            pairs = rows[label].pairs
            line = f"  {label:24}{wer(pairs):8.2%}"
            if label != "pipeline, voicemail":
                gain, low, high = bootstrap_gain(pairs, ours)
                line += f"   {gain:+7.2%} ({low:+.2%} .. {high:+.2%})"
            print(line)
        base, one = rows["naive, voicemail"], rows["pipeline, voicemail"]
        print(f"  latency, one voicemail at a time on {BASELINE_THREADS} threads: "
              f"naive {base.seconds['all'] / len(voicemails):.3f} s (RTF {base.rtf('all'):.3f}), "
              f"pipeline {one.seconds['all'] / len(voicemails):.3f} s "
              f"(RTF {one.rtf('all'):.3f}): {base.seconds['all'] / one.seconds['all']:.2f}x")
        worker_label = f"worker x{jobs}, voicemail"
        if worker_label in rows:
            worker = rows[worker_label]
            print(f"  throughput, the voicemails as one backlog: naive one at a time "
                  f"{audio / base.seconds['all']:.1f} audio s/s, worker x{jobs} "
                  f"{audio / worker.seconds['all']:.1f} audio s/s: "
                  f"{base.seconds['all'] / worker.seconds['all']:.2f}x "
                  f"(worker WER {wer(worker.pairs):.2%})")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"  load average {load} on {os.cpu_count()} CPUs; fastest of {args.rounds} rounds")
        if args.show_errors:
            for (ref, hyp), item in zip(ours, voicemails, strict=True):
                if wer([(ref, hyp)]):
                    print(f"    {item.name}: REF {ref!r}\n{'':6}HYP {hyp!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="prompts in the corpus")
    parser.add_argument("--long", type=int, default=4, help="joined recordings of >= 20 s")
    parser.add_argument("--source", action="append", choices=sorted(SOURCES))
    parser.add_argument("--model", help="model name or directory (default: settings)")
    parser.add_argument("--beam", type=int, help="beam size of our pipeline (default: settings)")
    parser.add_argument("--no-vad", action="store_true", help="our pipeline without VAD")

    parser.add_argument(
        "--also-min-frames",
        type=int,
        action="append",
        default=[],
        help="also run our pipeline with this encoder minimum (mel frames)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="runs per row; the fastest counts")
    parser.add_argument(
        "--pad-lead",
        type=float,
        action="append",
        default=[],
        help="also run the pipeline with this much more silence before each file (stability)",
    )
    parser.add_argument(
        "--no-worker", action="store_true", help="skip the worker throughput row"
    )
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--calls-dir", type=Path, help="keep through-call voicemails here and reuse them"
    )
    parser.add_argument(
        "--held-out", action="store_true", help="the held-out corpora, through real calls"
    )
    parser.add_argument("--held-out-count", type=int, default=40, help="recordings per corpus")
    args = parser.parse_args()
    global CALLS_DIR
    CALLS_DIR = args.calls_dir

    settings = Settings()
    if settings.whisper_process_tuning:  # as the worker runs; the baseline shares it
        restart_for_whisper()
    prompts = load_prompts(settings)
    if not prompts:
        raise SystemExit(f"no core sound prompts under {settings.rootfs_cache} (or -try)")
    chosen = pick_mixed(prompts, args.count)
    items = [Item(p.name, p.path, p.text, p.seconds) for p in chosen]

    one_job = settings.model_copy(update={"whisper_threads": BASELINE_THREADS})
    load_model(one_job, name=args.model)  # warm the page cache: load time is a warm figure
    loaded = load_model(one_job, name=args.model)
    options = DecodeOptions.from_settings(settings)
    options = DecodeOptions(
        beam_size=args.beam or options.beam_size,
        language=options.language,
        initial_prompt=options.initial_prompt,
        vad=not args.no_vad,
    )
    ours = Transcriber(model=loaded, options=options)

    def pipeline(path: Path) -> str:
        return ours.transcribe(path).text

    jobs = default_concurrency(settings)
    worker_model = load_model(settings, name=args.model, workers=jobs)
    worker = Transcriber(model=worker_model, options=options)

    def worker_pipeline(path: Path) -> str:
        return worker.transcribe(path).text

    print(
        f"model {loaded.name} ({loaded.source}) load {loaded.load_seconds:.3f} s "
        f"(CPU {loaded.load_cpu_seconds:.3f} s; worker's: {worker_model.load_seconds:.3f} s, "
        f"CPU {worker_model.load_cpu_seconds:.3f} s), "
        f"compute {settings.whisper_compute_type}, one job: threads {loaded.threads[0]} "
        f"(decoder {loaded.threads[1]}); worker: {jobs} jobs x {worker_model.threads[0]} "
        f"(decoder {worker_model.threads[1]}); beam {options.beam_size}, vad {options.vad}, "
        f"process tuning {settings.whisper_process_tuning}"
    )
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        workdir = Path(tmp)
        items += _join_long(prompts, args.long, workdir)
        total = sum(i.seconds for i in items)
        short = sum(1 for i in items if _bucket(i.seconds) == "short")
        print(
            f"corpus: {len(items)} recordings, {total:.0f} s of audio, "
            f"{short} of 2-5 s, {args.long} of >= 20 s"
        )
        # The baseline is plain faster-whisper: its own model object, full 30 s windows.
        plain = WhisperModel(
            loaded.source,
            device="cpu",
            compute_type=settings.whisper_compute_type,
            cpu_threads=BASELINE_THREADS,
        )
        pipeline(items[0].path)  # first inference pays one-off costs; keep them out
        naive(plain, items[0].path)
        worker_pipeline(items[0].path)
        if args.held_out:
            held_out(
                args, prompts, workdir, lambda p: naive(plain, p), pipeline, worker_pipeline, jobs
            )
            return
        variants = [("one job", settings.whisper_encoder_min_frames)]
        variants += [(f"one-min{n}", n) for n in args.also_min_frames]
        for source in args.source or ["raw", "gsm"]:
            corpus = SOURCES[source](items, workdir)
            rounds: dict[str, list[Run]] = {}
            for _ in range(max(1, args.rounds)):
                rounds.setdefault("baseline", []).append(run(corpus, lambda p: naive(plain, p)))
                for label, min_frames in variants:
                    loaded.model.min_frames = min_frames
                    rounds.setdefault(label, []).append(run(corpus, pipeline))
                loaded.model.min_frames = settings.whisper_encoder_min_frames
                if not args.no_worker:
                    rounds.setdefault(f"worker x{jobs}", []).append(
                        run_concurrently(corpus, worker_pipeline, jobs)
                    )
            for pad in args.pad_lead:
                padded = _pad_lead(corpus, pad, workdir / f"pad-{source}-{pad}")
                rounds[f"lead+{pad:.2f}s"] = [run(padded, pipeline)]
            rows = [(label, fastest(runs)) for label, runs in rounds.items()]
            base = rows[0][1]
            print(f"\n[{source}] {len(corpus)} recordings")
            print(
                f"  {'':12}{'WER':>8}{'RTF all':>9}{'RTF 2-5s':>10}{'RTF >=20s':>11}"
                f"{'WER ratio':>11}{'RTF ratio':>11}"
            )
            w_base = wer(base.pairs)
            for label, r in rows:
                w = wer(r.pairs)
                print(
                    f"  {label:12}{w:8.2%}{r.rtf('all'):9.3f}{r.rtf('short'):10.3f}"
                    f"{r.rtf('long'):11.3f}{w_base / max(w, 1e-9):10.2f}x"
                    f"{base.rtf('all') / r.rtf('all'):10.2f}x"
                )
            print("  (ratios: baseline / row; above 1 means the row is better)")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"  load average {load} on {os.cpu_count()} CPUs: RTF scales with it")
            if args.show_errors:
                for (ref, hyp), item in zip(rows[1][1].pairs, corpus, strict=True):
                    if wer([(ref, hyp)]):
                        print(f"    {item.name}: REF {ref!r}\n{'':6}HYP {hyp!r}")


if __name__ == "__main__":
    main()
