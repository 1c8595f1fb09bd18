"""The provider's signature scheme, against its published vector."""

from __future__ import annotations

from switchboard.callflow.signature import compute_signature, signing_payload, validate_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
EXPECTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_published_vector() -> None:
    assert compute_signature(TOKEN, URL, PARAMS) == EXPECTED


def test_parameter_order_does_not_matter() -> None:
    shuffled = dict(reversed(list(PARAMS.items())))
    assert compute_signature(TOKEN, URL, shuffled) == EXPECTED
    assert compute_signature(TOKEN, URL, list(shuffled.items())) == EXPECTED


def test_validate_accepts_the_published_vector() -> None:
    assert validate_signature(TOKEN, URL, PARAMS, EXPECTED)


def test_validate_refuses_wrong_or_missing_header() -> None:
    assert not validate_signature(TOKEN, URL, PARAMS, None)
    assert not validate_signature(TOKEN, URL, PARAMS, "")
    assert not validate_signature(TOKEN, URL, PARAMS, EXPECTED[:-2] + "A=")
    assert not validate_signature("54321", URL, PARAMS, EXPECTED)


def test_validate_refuses_tampered_params_or_url() -> None:
    assert not validate_signature(TOKEN, URL, {**PARAMS, "Digits": "9"}, EXPECTED)
    assert not validate_signature(TOKEN, URL.replace("foo=1", "foo=2"), PARAMS, EXPECTED)


def test_validate_accepts_url_with_default_port_added() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert validate_signature(TOKEN, with_port, PARAMS, EXPECTED)


def test_validate_accepts_url_with_default_port_removed() -> None:
    signed_with_port = compute_signature(TOKEN, "http://example.com:80/hook", PARAMS)
    assert validate_signature(TOKEN, "http://example.com/hook", PARAMS, signed_with_port)


def test_non_default_port_is_never_dropped() -> None:
    signed = compute_signature(TOKEN, "http://example.com:8080/hook", PARAMS)
    assert not validate_signature(TOKEN, "http://example.com/hook", PARAMS, signed)
    assert validate_signature(TOKEN, "http://example.com:8080/hook", PARAMS, signed)


def test_repeated_parameter_contributes_each_value_sorted() -> None:
    payload = signing_payload("u", [("B", "2"), ("A", "z"), ("A", "y")])
    assert payload == b"uAyAzB2"
    assert compute_signature(TOKEN, "u", {"A": ["z", "y"], "B": "2"}) == compute_signature(
        TOKEN, "u", [("A", "y"), ("B", "2"), ("A", "z")]
    )


def test_get_request_signs_only_the_url() -> None:
    assert signing_payload(URL, None) == URL.encode()
    assert compute_signature(TOKEN, URL) == compute_signature(TOKEN, URL, {})
