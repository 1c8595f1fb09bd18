"""CDR parsing and folding, on rows captured from a real Asterisk 22 Master.csv.

The rows below were written by the engine-down fallback (cdr.conf with
loguniqueid, loguserfield and newcdrcolumns): one call answered by the first
target, one that rang out into voicemail, and rows of unrelated channels.
"""

from datetime import UTC, datetime

from switchboard.engine.reconcile import COLUMNS, fold_missed_calls, parse_rows

ANSWERED = "sim-4a21dc4b032f4906a9aad6eaba71760b"
VOICEMAIL = "sim-8b9fd4bfd34048bebce35911775a47a3"

# Captured verbatim (Asterisk 22.10, cdr_csv, usegmtime=yes).
_LINES = [
    r'"","+15557654321","1","sb-sim","""+15557654321"" <+15557654321>","Local/1@sb-sim-00000001;2","","Hangup","","2026-11-23 12:34:43","2026-11-23 12:34:43","2026-11-23 12:34:45",1,1,"ANSWERED","DOCUMENTATION","1795437283.3","","","sim-4a21dc4b032f4906a9aad6eaba71760b",3',  # noqa: E501
    r'"","+15557654321","+15550100200","switchboard-fallback","""+15557654321"" <+15557654321>","Local/+15550100200@switchboard-did-00000000;2","Local/1@sb-sim-00000001;1","Dial","Local/1@sb-sim,2","2026-11-23 12:34:43","2026-11-23 12:34:43","2026-11-23 12:34:45",1,1,"ANSWERED","DOCUMENTATION","sim-4a21dc4b032f4906a9aad6eaba71760b;2","fallback:+15550100200","","sim-4a21dc4b032f4906a9aad6eaba71760b",1',  # noqa: E501
    r'"","+15557654321","s","sb-sim-caller","""+15557654321"" <+15557654321>","Local/+15550100200@switchboard-did-00000000;1","","Wait","5.0","2026-11-23 12:34:43","2026-11-23 12:34:43","2026-11-23 12:34:45",1,1,"ANSWERED","DOCUMENTATION","sim-4a21dc4b032f4906a9aad6eaba71760b","","","sim-4a21dc4b032f4906a9aad6eaba71760b",0',  # noqa: E501
    r'"","+15557650000","1","sb-sim","""+15557650000"" <+15557650000>","Local/1@sb-sim-00000003;2","","Wait","3600","2026-11-23 12:34:43",,"2026-11-23 12:34:45",2,0,"FAILED","DOCUMENTATION","1795437283.7","","","sim-8b9fd4bfd34048bebce35911775a47a3",7',  # noqa: E501
    r'"","+15557650000","+15550100200","switchboard-fallback","""+15557650000"" <+15557650000>","Local/+15550100200@switchboard-did-00000002;2","Local/1@sb-sim-00000003;1","Dial","Local/1@sb-sim,2","2026-11-23 12:34:43",,"2026-11-23 12:34:45",2,0,"NO ANSWER","DOCUMENTATION","sim-8b9fd4bfd34048bebce35911775a47a3;2","fallback:+15550100200","","sim-8b9fd4bfd34048bebce35911775a47a3",5',  # noqa: E501
    r'"","+15557650000","+15550100200","switchboard-fallback","""+15557650000"" <+15557650000>","Local/+15550100200@switchboard-did-00000002;2","","Record","/var/spool/asterisk/switchboard/vm/sim-8b9fd4bfd34048bebce35911775a47a3;2.wav,3","2026-11-23 12:34:45","2026-11-23 12:34:45","2026-11-23 12:34:56",10,10,"ANSWERED","DOCUMENTATION","sim-8b9fd4bfd34048bebce35911775a47a3;2","fallback-vm:+15550100200","","sim-8b9fd4bfd34048bebce35911775a47a3",8',  # noqa: E501
    r'"","+15557650000","s","sb-sim-caller","""+15557650000"" <+15557650000>","Local/+15550100200@switchboard-did-00000002;1","","Hangup","","2026-11-23 12:34:43","2026-11-23 12:34:45","2026-11-23 12:34:56",12,10,"ANSWERED","DOCUMENTATION","sim-8b9fd4bfd34048bebce35911775a47a3","","","sim-8b9fd4bfd34048bebce35911775a47a3",4',  # noqa: E501
]
MASTER_CSV = "\n".join(_LINES) + "\n"
# A call the engine handled (Stasis ran): no fallback mark, never reconciled.
ENGINE_ROW = (
    r'"","+15557654321","+15550100200","switchboard-did","""+15557654321"" <+15557654321>","Local/+15550100200@switchboard-did-00000008;2","Local/1@sb-sim-00000009;1","Stasis","switchboard,inbound,+15550100200,sim-45cf,answer,","2026-11-23 12:34:04","2026-11-23 12:34:04","2026-11-23 12:34:07",2,2,"ANSWERED","DOCUMENTATION","sim-45cf;2","","","sim-45cf",17'  # noqa: E501
    "\n"
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_rows_are_keyed_by_the_cdr_csv_columns_quotes_and_commas_included():
    rows = parse_rows(MASTER_CSV)
    assert len(rows) == 7
    assert all(len(row) == len(COLUMNS) for row in rows)
    dial = rows[1]
    assert dial["lastapp"] == "Dial" and dial["lastdata"] == "Local/1@sb-sim,2"
    assert dial["clid"] == '"+15557654321" <+15557654321>'
    assert dial["userfield"] == "fallback:+15550100200"
    assert dial["linkedid"] == ANSWERED and dial["sequence"] == "1"
    assert dial["disposition"] == "ANSWERED" and dial["dstchannel"] == "Local/1@sb-sim-00000001;1"
    assert rows[3]["answer"] == ""  # never answered: an empty, unquoted field


def test_blank_lines_are_skipped():
    assert parse_rows("\n" + ENGINE_ROW + "\n") == parse_rows(ENGINE_ROW)


def test_fallback_rows_fold_into_one_call_per_linkedid():
    calls = {c.linkedid: c for c in fold_missed_calls(parse_rows(MASTER_CSV + ENGINE_ROW))}
    assert set(calls) == {ANSWERED, VOICEMAIL}

    answered = calls[ANSWERED]
    assert answered.did == "+15550100200" and answered.caller == "+15557654321"
    assert answered.answered_by == "Local/1@sb-sim-00000001;1"
    assert answered.answer == _at("2026-11-23 12:34:43")
    assert answered.start == _at("2026-11-23 12:34:43")
    assert answered.end == _at("2026-11-23 12:34:45")
    assert not answered.voicemail and not answered.unknown
    assert answered.uniqueid == f"{ANSWERED};2"

    voicemail = calls[VOICEMAIL]
    assert voicemail.voicemail and voicemail.answered_by is None and voicemail.answer is None
    assert voicemail.caller == "+15557650000"
    assert voicemail.start == _at("2026-11-23 12:34:43")
    assert voicemail.end == _at("2026-11-23 12:34:56")
    # The voicemail file is named after this channel's uniqueid.
    assert voicemail.uniqueid == f"{VOICEMAIL};2"
    assert len(voicemail.rows) == 2


def test_unknown_number_mark_is_kept():
    row = ENGINE_ROW.replace(
        '"","","sim-45cf",17', '"fallback-unknown:+15550100200","","sim-45cf",17'
    )
    (call,) = fold_missed_calls(parse_rows(row))
    assert call.unknown and call.did == "+15550100200" and call.answered_by is None


def test_calls_the_engine_handled_are_ignored():
    assert fold_missed_calls(parse_rows(ENGINE_ROW)) == []
