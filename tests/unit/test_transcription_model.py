"""Models shipped in parts: joined once, in part order, checked, reused; decoder threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard.config import Settings
from switchboard.transcription.exceptions import ModelLoadError
from switchboard.transcription.model import (
    cpu_flags,
    decoder_threads,
    join_model_parts,
    model_parts,
    resolve_model,
)


def _ship(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    """Two package data dirs: the first with the side files and odd parts, the second even."""
    first, second = tmp_path / "pkg1" / "data", tmp_path / "pkg2" / "data"
    first.mkdir(parents=True)
    second.mkdir(parents=True)
    (first / "config.json").write_text('{"n_mels": 80}')
    (first / "tokenizer.json").write_text("{}")
    for number, chunk in enumerate(chunks, start=1):
        ((first if number % 2 else second) / f"model.bin.part{number}").write_bytes(chunk)
    return [first, second]


def test_parts_are_joined_in_numeric_order_with_the_side_files(tmp_path: Path) -> None:
    chunks = [bytes([n]) * (1000 + n) for n in range(1, 12)]  # part10, part11 after part9
    dirs = _ship(tmp_path, chunks)

    model = join_model_parts("base", dirs, tmp_path / "cache")

    assert (model / "model.bin").read_bytes() == b"".join(chunks)
    assert (model / "config.json").read_text() == '{"n_mels": 80}'
    assert (model / "tokenizer.json").is_file()
    assert not list(model.glob("model.bin.part*"))
    assert model.parent == tmp_path / "cache"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [model.name]  # no leftovers


def test_a_joined_model_is_reused_not_rewritten(tmp_path: Path) -> None:
    dirs = _ship(tmp_path, [b"a" * 4096, b"b" * 4096])
    first = join_model_parts("base", dirs, tmp_path / "cache")
    stamp = (first / "model.bin").stat()

    again = join_model_parts("base", dirs, tmp_path / "cache")

    assert again == first
    assert (again / "model.bin").stat().st_ino == stamp.st_ino
    assert (again / "model.bin").stat().st_mtime_ns == stamp.st_mtime_ns


def test_a_damaged_join_is_rebuilt(tmp_path: Path) -> None:
    dirs = _ship(tmp_path, [b"a" * 4096, b"b" * 4096])
    model = join_model_parts("base", dirs, tmp_path / "cache")
    with (model / "model.bin").open("r+b") as fh:
        fh.truncate(100)  # a disk that filled up, a hand-edited cache

    rebuilt = join_model_parts("base", dirs, tmp_path / "cache")

    assert rebuilt == model
    assert (rebuilt / "model.bin").read_bytes() == b"a" * 4096 + b"b" * 4096


def test_another_version_gets_its_own_directory(tmp_path: Path) -> None:
    dirs = _ship(tmp_path, [b"a" * 10, b"b" * 10])

    one = join_model_parts("base", dirs, tmp_path / "cache", version="1.0.0")
    two = join_model_parts("base", dirs, tmp_path / "cache", version="1.0.1")

    assert one != two
    assert (two / "model.bin").read_bytes() == b"a" * 10 + b"b" * 10


def test_a_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    dirs = _ship(tmp_path, [b"a", b"b", b"c"])
    (dirs[1] / "model.bin.part2").unlink()

    with pytest.raises(ModelLoadError, match=r"model.bin.part1, model.bin.part3"):
        model_parts(dirs)
    assert not (tmp_path / "cache").exists()


def test_no_parts_at_all_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(ModelLoadError, match="found none"):
        join_model_parts("base", [empty], tmp_path / "cache")


def test_a_directory_setting_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")

    assert resolve_model(str(tmp_path)) == str(tmp_path.resolve())


def test_a_directory_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="holds no CTranslate2 model.bin"):
        resolve_model(str(tmp_path))


def test_a_split_model_needs_a_cache_directory() -> None:
    with pytest.raises(ModelLoadError, match="needs a cache directory"):
        resolve_model("base")


AVX2 = frozenset({"fma", "avx", "avx2"})
ZEN5 = AVX2 | {"avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"}


@pytest.mark.parametrize(
    ("flags", "threads", "expected"),
    [
        (AVX2, 2, 2),  # weight streaming bound: both cores help
        (AVX2, 4, 4),
        (ZEN5, 2, 1),  # VNNI: the hand-offs between threads cost more than they give
        (AVX2 | {"avx_vnni"}, 4, 1),
        (ZEN5, 1, 1),
    ],
)
def test_the_decoder_threads_follow_the_cpu_by_default(
    flags: frozenset[str], threads: int, expected: int
) -> None:
    settings = Settings(whisper_threads=threads)

    assert decoder_threads(settings, flags) == expected


def test_a_decoder_thread_count_in_the_settings_is_kept() -> None:
    settings = Settings(whisper_threads=2, whisper_decoder_threads=2)

    assert decoder_threads(settings, ZEN5) == 2
    assert decoder_threads(Settings(whisper_decoder_threads=3), AVX2) == 3


def test_cpu_flags_are_read_from_the_first_processor(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512_vnni\n\n"
        "processor\t: 1\nflags\t\t: fpu\n"
    )

    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_vnni"}
    assert cpu_flags(tmp_path / "absent") == frozenset()
