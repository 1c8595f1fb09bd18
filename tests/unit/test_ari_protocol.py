"""REST-over-websocket frames: encoding requests, decoding RESTResponse events into types."""

from __future__ import annotations

import json

import pytest

from switchboard.engine.ari.events import RestResponse, decode_event
from switchboard.engine.ari.exceptions import (
    AriConflict,
    AriNotFound,
    AriRequestError,
    request_error,
)
from switchboard.engine.ari.protocol import encode_request, query_value

# A RESTResponse as Asterisk 22.10 sent it for GET channels/nope (recorded).
RECORDED_404 = (
    '{"type":"RESTResponse","transaction_id":"","request_id":"3","status_code":404,'
    '"reason_phrase":"Not Found","uri":"channels/nope","content_type":"application/json",'
    '"message_body":"{\\"message\\":\\"Channel not found\\"}","application":"sbtest",'
    '"timestamp":"2026-11-23T12:25:11.054+0000","asterisk_id":"02:fc:00:00:00:01"}'
)


def test_request_frame_carries_type_id_method_and_uri_without_leading_slash() -> None:
    frame = json.loads(encode_request("7", "post", "/channels/abc/answer"))
    assert frame == {
        "type": "RESTRequest",
        "request_id": "7",
        "method": "POST",
        "uri": "channels/abc/answer",
    }


def test_query_becomes_name_value_pairs_and_none_is_left_out() -> None:
    frame = json.loads(
        encode_request(
            "1",
            "POST",
            "channels/a/play/p1",
            query={"media": ["sound:a", "sound:b"], "beep": True, "lang": None, "max": 5},
        )
    )
    assert frame["query_strings"] == [
        {"name": "media", "value": "sound:a,sound:b"},
        {"name": "beep", "value": "true"},
        {"name": "max", "value": "5"},
    ]


def test_query_of_only_none_values_sends_no_query_strings() -> None:
    frame = json.loads(encode_request("1", "GET", "channels", query={"x": None}))
    assert "query_strings" not in frame


def test_body_is_sent_as_json_text_with_content_type() -> None:
    frame = json.loads(encode_request("2", "POST", "channels/c1", body={"variables": {"A": "1"}}))
    assert frame["content_type"] == "application/json"
    assert json.loads(frame["message_body"]) == {"variables": {"A": "1"}}


@pytest.mark.parametrize(
    ("value", "text"),
    [(False, "false"), (0, "0"), (1.5, "1.5"), (("a", "b"), "a,b"), ("x y", "x y"), (None, None)],
)
def test_query_value_text_forms(value: object, text: str | None) -> None:
    assert query_value(value) == text  # type: ignore[arg-type]


def test_recorded_404_response_decodes_with_asterisk_message() -> None:
    response = decode_event(RECORDED_404)
    assert isinstance(response, RestResponse)
    assert response.request_id == "3"
    assert response.status_code == 404
    assert not response.ok
    assert response.body == {"message": "Channel not found"}
    assert response.error_message == "Channel not found"


def test_204_without_body_decodes_to_none() -> None:
    response = decode_event(
        '{"type":"RESTResponse","request_id":"9","status_code":204,"reason_phrase":"No Content"}'
    )
    assert isinstance(response, RestResponse)
    assert response.ok
    assert response.body is None
    assert response.error_message == "No Content"


def test_a_plain_text_body_is_kept_as_text() -> None:
    response = decode_event(
        '{"type":"RESTResponse","request_id":"1","status_code":500,"message_body":"oops"}'
    )
    assert isinstance(response, RestResponse)
    assert response.body == "oops"
    assert response.error_message == "HTTP 500"


def test_a_rest_response_without_request_id_or_status_is_malformed() -> None:
    with pytest.raises(ValueError, match="malformed RESTResponse"):
        decode_event('{"type": "RESTResponse", "status_code": 200}')


def test_error_statuses_map_to_specific_errors() -> None:
    assert isinstance(request_error(404, "gone"), AriNotFound)
    assert isinstance(request_error(409, "exists"), AriConflict)
    other = request_error(500, "boom", uri="x")
    assert type(other) is AriRequestError
    assert other.status == 500
    assert other.details == {"status": 500, "uri": "x"}
    assert other.error_id == "asterisk-ari-request-failed"
