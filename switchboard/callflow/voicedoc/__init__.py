"""Voice documents (TwiML): parsing them into verbs and their errors."""

from switchboard.callflow.voicedoc.exceptions import VoiceDocumentError, VoiceUrlError
from switchboard.callflow.voicedoc.parser import MAX_DOCUMENT_BYTES, parse_voice_document

__all__ = ["MAX_DOCUMENT_BYTES", "VoiceDocumentError", "VoiceUrlError", "parse_voice_document"]
