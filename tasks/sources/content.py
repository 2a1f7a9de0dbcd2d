"""The one check every input's bytes pass, read from a file or fetched from the web.

A page served as `text/html` can hold anything a file can (random bytes, a PNG, a PDF,
text in no known encoding); both sources call `check_content` on the bytes and the text
they decoded, so "is this text?" has one answer. Problems raise `ReadError(reason)`, which
the sources turn into a failure row.
"""

from __future__ import annotations

import re

BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF",
    b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x00\x00\x01\x00", b"ID3", b"OggS", b"RIFF",
)
# Text never holds NUL, except in UTF-16/32 where every ASCII character brings one.
_WIDE_ENCODINGS = ("utf-16", "utf-32", "utf_16", "utf_32")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Share of characters that may be control characters or U+FFFD (bytes no codec could map)
# before the input counts as binary / undecodable. Random bytes give ~12 % control
# characters; forced through windows-1252, ~2 % replacement characters. Real text: ~0.
MAX_CONTROL_SHARE = 0.05
MAX_REPLACEMENT_SHARE = 0.01
SAMPLE_CHARS = 100_000
_WORD = re.compile(r"\w", re.UNICODE)


class ReadError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def check_bytes(data: bytes, encoding: str | None = None) -> None:
    """Before decoding: empty input, a binary format's signature, NUL bytes. Raises ReadError."""
    if not data.strip():
        raise ReadError("empty", "no content")
    if data.startswith(BINARY_MAGIC):
        raise ReadError("binary", "starts with a binary format signature")
    wide = encoding is not None and encoding.lower().startswith(_WIDE_ENCODINGS)
    if not wide and b"\x00" in data[:8192]:
        raise ReadError("binary", "NUL bytes in content")


def check_text(text: str, *, require_words: bool = True) -> str:
    """After decoding: control characters, undecodable characters, some text at all (letters or
    digits, unless `require_words` is off: JSON gets its own, clearer error). Raises ReadError."""
    sample = text[:SAMPLE_CHARS]
    if sample and len(_CONTROL.findall(sample)) > MAX_CONTROL_SHARE * len(sample):
        raise ReadError("binary", "too many control characters for text")
    replaced = sample.count("\ufffd")
    if sample and replaced > MAX_REPLACEMENT_SHARE * len(sample):
        raise ReadError("undecodable", f"{replaced / len(sample):.1%} of the characters fit no encoding")
    if not text.strip():
        raise ReadError("empty", "only whitespace")
    if require_words and not _WORD.search(text):
        raise ReadError("empty", "no letters or digits, only whitespace or symbols")
    return text


def check_content(data: bytes, text: str, encoding: str | None) -> str:
    """Both checks: `data` as received, `text` as decoded with `encoding`. Returns `text`."""
    check_bytes(data, encoding)
    return check_text(text)
