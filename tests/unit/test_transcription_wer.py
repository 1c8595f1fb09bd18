"""Normalised word error rate: numbers, contractions and symbols compare as words."""

from __future__ import annotations

import pytest

from switchboard.transcription.wer import edit_distance, normalize, number_words, wer


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "zero"), (7, "seven"), (19, "nineteen"), (42, "forty two"), (500, "five hundred"),
     (1234, "one thousand two hundred thirty four")],
)
def test_numbers_are_spelled(n: int, words: str) -> None:
    assert number_words(n) == words


def test_digits_ordinals_symbols_and_contractions_normalise_alike() -> None:
    assert normalize("Press 1, then #.") == normalize("press one then pound")
    assert normalize("the 3rd option") == ["the", "third", "option"]
    assert normalize("You can't dial 21st") == ["you", "cannot", "dial", "twenty", "first"]
    assert normalize("If you'd like") == normalize("if you would like")


def test_edit_distance_counts_substitutions_insertions_deletions() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert edit_distance([], ["a"]) == 1


def test_corpus_wer_weights_by_reference_words() -> None:
    pairs = [("press one for sales", "press 1 for sales"), ("goodbye", "good buy")]
    assert wer(pairs) == pytest.approx(2 / 5)


def test_open_and_closed_compounds_compare_equal() -> None:
    assert normalize("re-record your mail box") == normalize("Rerecord your mailbox")
