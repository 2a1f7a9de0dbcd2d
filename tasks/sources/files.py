"""File source: discover input paths and decode files into Documents.

Every problem with one file (missing, unreadable, empty, binary, too large,
undecodable, malformed JSON line) becomes a `Failure` with a reason; nothing
here raises for a single bad item.
"""

from __future__ import annotations

import codecs
import glob
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from tasks.document import Document, Failure, sha256_hex

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES

# Field names seen in news dumps (newspaper, news-please, HF datasets); first hit wins.
RECORD_FIELDS = {
    "text": ("text", "body", "content", "article", "maintext", "article_text"),
    "title": ("title", "headline"),
    "url": ("url", "link", "source_url"),
    "published": ("date", "published", "published_at", "date_publish", "pubDate", "publish_date"),
    "outlet": ("outlet", "source", "site", "sitename", "source_domain", "publisher"),
    "author": ("author", "authors", "byline"),
}

_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF",
    b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x00\x00\x01\x00", b"ID3", b"OggS", b"RIFF",
)


class ReadError(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def discover_paths(inputs: Iterable[str]) -> tuple[list[Path], list[Failure]]:
    """Expand files, folders (recursive) and globs into a sorted, de-duplicated file list.

    Folders contribute only supported file types; hidden files and folders are skipped.
    An input that matches nothing is a failure, so a typo in the UI form is visible.
    """
    found: dict[str, Path] = {}
    failures: list[Failure] = []
    for raw in inputs:
        item = os.path.expanduser(str(raw).strip())
        if not item:
            continue
        if glob.has_magic(item):
            matches = [Path(m) for m in glob.glob(item, recursive=True)]
            if not matches:
                failures.append(Failure(item, "read", "not_found", "glob matched no files"))
            # like folders: a symlink may not lead outside the glob's fixed leading directory
            base = _glob_base(item).resolve()
            for match in matches:
                if not match.resolve().is_relative_to(base):
                    continue
                _add_path(match, found, explicit=False)
            continue
        path = Path(item)
        if not path.exists():
            failures.append(Failure(item, "read", "not_found", "no such file or directory"))
        else:
            _add_path(path, found, explicit=True)
    return [found[k] for k in sorted(found)], failures


def _glob_base(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = next((parts[:i] for i, part in enumerate(parts) if glob.has_magic(part)), parts)
    return Path(*fixed) if fixed else Path(".")


def _add_path(path: Path, found: dict[str, Path], *, explicit: bool) -> None:
    if path.is_dir():
        root = path.resolve()
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                child = Path(dirpath) / name
                # symlinks are followed only when they stay inside the folder given
                resolved = child.resolve()
                if child.is_symlink() and not resolved.is_relative_to(root):
                    continue
                if child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[str(resolved)] = resolved
    elif path.is_file() or explicit:
        resolved = path.resolve()
        found[str(resolved)] = resolved


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode bytes to text: BOM, then strict UTF-8, then detection. Raises ReadError."""
    if not data.strip():
        raise ReadError("empty", "file has no content")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise ReadError("undecodable", f"{encoding} BOM but invalid data: {exc.reason}") from exc
    if data.startswith(_BINARY_MAGIC):
        raise ReadError("binary", "file starts with a binary format signature")
    if b"\x00" in data[:8192]:
        raise ReadError("binary", "NUL bytes in content")
    try:
        return _check_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:1_000_000])
    best = matches.best()
    if best is None or best.encoding is None:
        raise ReadError("undecodable", "no text encoding fits the bytes")
    # Single-byte code pages often tie on short texts; Windows-1252 is what the web
    # means by "Latin-1" (WHATWG), so it wins ties.
    for match in matches:
        if match.encoding in ("cp1252", "latin_1") and match.chaos <= best.chaos + 0.01 \
                and match.coherence >= best.coherence - 0.05:
            best = match
            break
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ReadError("undecodable", f"detected {best.encoding} but decoding failed") from exc
    return _check_text(text), best.encoding


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _check_text(text: str) -> str:
    sample = text[:100_000]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise ReadError("binary", "too many control characters for text")
    if not text.strip():
        raise ReadError("empty", "file holds only whitespace")
    return text


def read_file(path: Path, *, max_bytes: int) -> tuple[list[Document], list[Failure]]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return [], [Failure(source, "read", "too_large", f"{size} bytes > limit {max_bytes}")]
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew while we looked
            return [], [Failure(source, "read", "too_large", f"more than {max_bytes} bytes")]
    except FileNotFoundError:
        return [], [Failure(source, "read", "not_found", "file vanished before it was read")]
    except IsADirectoryError:
        return [], [Failure(source, "read", "unreadable", "is a directory")]
    except OSError as exc:
        return [], [Failure(source, "read", "unreadable", exc.strerror or str(exc))]
    try:
        return parse_bytes(source, data, suffix=path.suffix.lower())
    except ReadError as exc:
        return [], [Failure(source, "read", exc.reason, exc.detail)]


def parse_bytes(source: str, data: bytes, *, suffix: str) -> tuple[list[Document], list[Failure]]:
    """Turn one file's bytes into documents (several for JSON/JSONL). Raises ReadError for the whole file."""
    text, encoding = decode_bytes(data)
    raw_sha = sha256_hex(data)
    if suffix in JSONL_SUFFIXES:
        return _parse_jsonl(source, text, encoding)
    if suffix in JSON_SUFFIXES:
        return _parse_json(source, text, encoding)
    if suffix in HTML_SUFFIXES:
        return [_html_document(source, text, encoding, raw_sha)], []
    if suffix in (".md", ".markdown"):
        text = strip_markdown(text)
    return [Document(source=source, source_kind="file", raw_text=text, raw_sha256=raw_sha, encoding=encoding)], []


def _html_document(source: str, html: str, encoding: str, raw_sha: str) -> Document:
    doc = Document(source=source, source_kind="file", raw_text=html, raw_sha256=raw_sha,
                   encoding=encoding, media_type="text/html")
    fill_from_html(doc, html)
    return doc


def fill_from_html(doc: Document, html: str) -> None:
    """Replace the document's raw text by the page's main text; keep the page metadata. Raises ReadError."""
    from tasks.text.extract import extract_html

    extracted = extract_html(html, doc.url)
    if not extracted.text.strip():
        raise ReadError("no_main_text", "HTML page has no extractable article text")
    doc.raw_text = extracted.text
    # the cleaner is told the text came out of the HTML extractor (tasks/batch.text_kind)
    doc.meta["text_kind"] = "html"
    doc.meta.update({k: v for k, v in {
        "title": extracted.title, "published": extracted.date.isoformat() if extracted.date else None,
        "outlet": extracted.sitename, "author": extracted.author, "language": extracted.language,
        "title_source": extracted.title_source, "author_source": extracted.author_source,
    }.items() if v})


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")


def strip_markdown(text: str) -> str:
    """Markdown syntax is noise to summarizers and fingerprints; keep the words."""
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    return _MD_EMPHASIS.sub("", text)


def _first_field(record: dict, name: str):
    for key in RECORD_FIELDS[name]:
        value = record.get(key)
        if value not in (None, "", []):
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            return str(value)
    return None


def record_to_document(source: str, record: object, encoding: str) -> Document:
    if not isinstance(record, dict):
        raise ReadError("invalid_record", f"expected a JSON object, got {type(record).__name__}")
    text = _first_field(record, "text")
    if text is None or not text.strip():
        raise ReadError("empty", "record has no text/body/content field")
    doc = Document(
        source=source, source_kind="record", raw_text=text,
        raw_sha256=sha256_hex(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)),
        encoding=encoding, media_type="application/json", url=_first_field(record, "url"),
    )
    for name in ("title", "published", "outlet", "author"):
        value = _first_field(record, name)
        if value:
            doc.meta[name] = value
    return doc


def _parse_json(source: str, text: str, encoding: str) -> tuple[list[Document], list[Failure]]:
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ReadError("invalid_json", str(exc)[:200]) from exc
    records = payload if isinstance(payload, list) else [payload]
    return _records_to_documents(source, ((i, r) for i, r in enumerate(records)), encoding, "#")


def _parse_jsonl(source: str, text: str, encoding: str) -> tuple[list[Document], list[Failure]]:
    def lines() -> Iterator[tuple[int, object]]:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except (json.JSONDecodeError, RecursionError) as exc:
                yield lineno, ReadError("invalid_json", f"line {lineno}: {str(exc)[:160]}")

    return _records_to_documents(source, lines(), encoding, "#L")


def _records_to_documents(source, numbered_records, encoding, marker) -> tuple[list[Document], list[Failure]]:
    docs: list[Document] = []
    failures: list[Failure] = []
    for number, record in numbered_records:
        item_source = f"{source}{marker}{number}"
        try:
            if isinstance(record, ReadError):
                raise record
            docs.append(record_to_document(item_source, record, encoding))
        except ReadError as exc:
            failures.append(Failure(item_source, "read", exc.reason, exc.detail))
    if not docs and not failures:
        raise ReadError("empty", "no records in file")
    return docs, failures
