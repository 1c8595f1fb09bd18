"""SMS segment counting (3GPP TS 23.038), consent keywords, quiet hours, templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.services.messaging.dashboard import fill_template
from switchboard.services.messaging.keywords import Keyword, keyword_of
from switchboard.services.messaging.quiet_hours import in_quiet_hours
from switchboard.services.messaging.segments import segment


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),  # 153 per part once split
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension table: two septets each
        ("€" * 81, "GSM-7", 2),
        ("a" * 152 + "€", "GSM-7", 1),  # 154 septets still fit one segment of 160
        ("a" * 159 + "€", "GSM-7", 2),  # 161 septets: split, the escape stays with its €
        ("é" * 160, "GSM-7", 1),  # é is in the basic alphabet
        ("ê" * 70, "UCS-2", 1),  # ê is not
        ("ê" * 71, "UCS-2", 2),
        ("ê" * 134, "UCS-2", 2),
        ("ê" * 135, "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # surrogate pairs: two units each
        ("😀" * 36, "UCS-2", 2),
        ("a" * 66 + "😀", "UCS-2", 1),
        ("a" * 1600, "GSM-7", 11),
    ],
)
def test_segments_follow_gsm7_and_ucs2_limits(text: str, encoding: str, segments: int) -> None:
    result = segment(text)
    assert (result.encoding, result.segments) == (encoding, segments)


def test_a_split_never_cuts_a_surrogate_pair() -> None:
    # 66 units, then an emoji (2 units) does not fit the 67 left of a split part.
    assert segment("a" * 66 + "😀" + "b" * 70).segments == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", (Keyword.OPT_OUT, "STOP")),
        (" stop ", (Keyword.OPT_OUT, "STOP")),
        ("Stop.", (Keyword.OPT_OUT, "STOP")),
        ("STOPALL", (Keyword.OPT_OUT, "STOPALL")),
        ("unsubscribe", (Keyword.OPT_OUT, "UNSUBSCRIBE")),
        ("CANCEL", (Keyword.OPT_OUT, "CANCEL")),
        ("end", (Keyword.OPT_OUT, "END")),
        ("Quit!", (Keyword.OPT_OUT, "QUIT")),
        ("START", (Keyword.OPT_IN, "START")),
        ("unstop", (Keyword.OPT_IN, "UNSTOP")),
        ("HELP", (Keyword.HELP, "HELP")),
        ("please stop calling me", None),
        ("stopping by later", None),
    ],
)
def test_consent_keywords_are_whole_messages(body: str, expected: object) -> None:
    assert keyword_of(body) == expected


def test_quiet_hours_cross_midnight_in_the_tenant_time_zone() -> None:
    # 03:30 UTC is 21:30 in Chicago (CST, UTC-6): quiet.
    assert in_quiet_hours(datetime(2026, 1, 10, 3, 30, tzinfo=UTC), "America/Chicago",
                          "21:00", "08:00")
    # 15:00 UTC is 09:00 in Chicago: not quiet.
    assert not in_quiet_hours(datetime(2026, 1, 10, 15, 0, tzinfo=UTC), "America/Chicago",
                              "21:00", "08:00")
    assert in_quiet_hours(datetime(2026, 1, 10, 13, 59, tzinfo=UTC), "America/Chicago",
                          "21:00", "08:00")
    assert not in_quiet_hours(datetime(2026, 1, 10, 3, 30, tzinfo=UTC), "UTC", None, None)


def test_review_template_replaces_only_its_three_placeholders() -> None:
    text = fill_template("Hi {customer_name} from {business_name}: {review_link} {0} {x.y}",
                         customer_name="Jane", business_name="Aster Grove",
                         review_link="https://r.example/1")
    assert text == "Hi Jane from Aster Grove: https://r.example/1 {0} {x.y}"


def test_a_contact_name_shown_as_caller_id_cannot_break_the_header() -> None:
    from switchboard.services.call_directory import shown_name

    assert shown_name('Jane "JR" <x>; Roe\\\r\n') == "Jane JR x Roe"
    assert len(shown_name("a" * 200)) == 40
