"""File source: discover input paths and decode files into Documents.

Every problem with one file (missing, unreadable, empty, binary, too large,
undecodable, malformed JSON line) becomes a `Failure` with a reason; nothing
here raises for a single bad item.
"""

from __future__ import annotations

import codecs
import errno
import glob
import json
import os
import queue
import re
import stat
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from tasks.document import MAX_PAGE_TEXT_CHARS, Document, Failure, printable, sha256_hex, too_long_detail
from tasks.sources.content import ReadError, check_bytes, check_text

__all__ = ["ReadError", "discover_paths", "decode_bytes", "detect_encoding", "sniff_utf16", "strip_nul", "read_file",
           "parse_bytes", "fill_from_html", "record_to_document", "strip_markdown", "SUPPORTED_SUFFIXES"]

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

# Reading blocks only on special files, which discovery and `read_file` refuse, or on a
# hung network filesystem; this bounds that wait (the reading thread is then abandoned).
READ_TIMEOUT_S = 30.0

_FILE_KINDS = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"))


def discover_paths(inputs: Iterable[str], *, follow_symlinks_outside: bool = False) -> tuple[list[Path], list[Failure]]:
    """Expand files, folders (recursive) and globs into a sorted, de-duplicated list of regular files.

    Folders and globs contribute only supported file types; hidden files and folders are skipped.
    Every path that cannot be read safely is a failure, never an exception: an input that
    matches nothing (a typo in the UI form), a symlink loop, a dangling symlink, a symlink
    leaving the folder or glob it was found in (unless `follow_symlinks_outside`), a FIFO, socket or
    device (opening one blocks or never ends), an unreadable folder.
    """
    found: dict[str, Path] = {}
    failures: list[Failure] = []
    for raw in inputs:
        item = os.path.expanduser(str(raw).strip())
        if not item:
            continue
        if glob.has_magic(item):
            matches = _glob(item)
            if not matches:
                failures.append(Failure(item, "read", "not_found", "glob matched no files"))
            # like folders: a symlink may not lead outside the glob's fixed leading directory
            base = _safe_resolve(_glob_base(item)) or _glob_base(item).absolute()
            for match in matches:
                _add_path(Path(match), base, found, failures, follow_symlinks_outside=follow_symlinks_outside)
            continue
        path = Path(item)
        if not os.path.lexists(path):
            failures.append(Failure(str(path.absolute()), "read", "not_found", "no such file or directory"))
            continue
        _add_path(path, None, found, failures, follow_symlinks_outside=follow_symlinks_outside)
    unique = {(f.source, f.reason): f for f in failures}  # a path reached by two inputs fails once
    return [found[k] for k in sorted(found)], list(unique.values())


def _glob_base(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = next((parts[:i] for i, part in enumerate(parts) if glob.has_magic(part)), parts)
    return Path(*fixed) if fixed else Path(".")


def _glob(pattern: str) -> list[str]:
    """`pattern`'s matches, sorted, as glob.glob(recursive=True) gives them (hidden names only when the
    pattern names them) but with `**` never descending a linked folder: glob.glob followed links, so a
    `self -> .` and an `up -> ..` link made `data/**/*.txt` endless (100,000 paths in 13 s and counting;
    the run never started). pathlib's `**` does not follow them, as the folder walk does not."""
    parts = Path(pattern).parts
    fixed = next((parts[:i] for i, part in enumerate(parts) if glob.has_magic(part)), parts)
    rest = parts[len(fixed):]
    base = Path(*fixed) if fixed else Path(".")
    hidden_ok = any(part.startswith(".") for part in rest)
    matches = []
    for match in base.glob(str(Path(*rest))):
        if hidden_ok or not any(part.startswith(".") for part in match.parts[len(fixed):]):
            matches.append(str(match))
    return sorted(matches)


def _safe_resolve(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def _add_path(path: Path, root: Path | None, found: dict[str, Path], failures: list[Failure], *,
              follow_symlinks_outside: bool) -> None:
    """Add `path` (a file, or a folder walked recursively). `root`: the folder or glob base a
    symlink found inside must stay in; None for a path named on its own."""
    target = _checked_target(path, root, failures, follow_symlinks_outside=follow_symlinks_outside)
    if target is None:
        return
    resolved, mode = target
    if stat.S_ISDIR(mode):
        if root is not None and path.is_symlink():
            return  # like os.walk below: linked folders inside a folder or glob are not descended
        _walk(path, resolved, found, failures, follow_symlinks_outside=follow_symlinks_outside)
    else:
        found[str(resolved)] = resolved


def _walk(folder: Path, root: Path, found: dict[str, Path], failures: list[Failure], *,
          follow_symlinks_outside: bool) -> None:
    def unreadable(exc: OSError) -> None:
        # absolute, as every file's source is: the same folder fails as one row from any working directory
        failures.append(Failure(str(Path(exc.filename or folder).absolute()), "read", "unreadable",
                                f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            child = Path(dirpath) / name
            target = _checked_target(child, root, failures, follow_symlinks_outside=follow_symlinks_outside)
            if target is not None and not stat.S_ISDIR(target[1]):
                found[str(target[0])] = target[0]


def _checked_target(path: Path, root: Path | None, failures: list[Failure], *,
                    follow_symlinks_outside: bool) -> tuple[Path, int] | None:
    """The resolved path and its mode if it may be read; else None, with a failure recorded."""
    source = str(path.absolute())

    def fail(reason: str, detail: str) -> None:
        failures.append(Failure(source, "read", reason, detail))
        return None

    try:
        resolved = path.resolve(strict=True)
        mode = resolved.stat().st_mode
    except RuntimeError:  # pathlib's "Symlink loop" (Python < 3.13)
        return fail("symlink_loop", "symbolic link loop")
    except FileNotFoundError:
        if path.is_symlink():
            return fail("dangling_symlink", f"symbolic link to missing {os.readlink(path)!r}")
        return fail("not_found", "vanished while the folder was listed")
    except PermissionError as exc:
        return fail("unreadable", exc.strerror or str(exc))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return fail("symlink_loop", "symbolic link loop")
        return fail("unreadable", exc.strerror or str(exc))
    if root is not None and not follow_symlinks_outside and not resolved.is_relative_to(root):
        return fail("symlink_outside", f"symbolic link leaves {root} (to {resolved}); "
                    "NEWSFLOW_FOLLOW_SYMLINKS_OUTSIDE=true follows such links")
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return fail("not_regular_file", f"{_kind(mode)}, not a regular file")
    return resolved, mode


def _kind(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "special file")


def decode_bytes(data: bytes, *, require_words: bool = True) -> tuple[str, str]:
    """Decode bytes to text: BOM, then UTF-16 without a BOM, then UTF-8 (a few stray bytes
    allowed: `utf8_with_stray_bytes`), then detection
    (`detect_encoding`); then the shared content checks (`tasks/sources/content.py`). Raises ReadError.

    NUL bytes: one in the first 8 KB makes the input binary (`check_bytes`: that is where a
    format shows itself); a stray NUL after a text start is dropped, and no NUL (U+0000) is
    ever left in the returned text."""
    if not data.strip():
        raise ReadError("empty", "file has no content")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return check_text(strip_nul(data.decode(encoding)), require_words=require_words), encoding
            except UnicodeDecodeError as exc:
                raise ReadError("undecodable", f"{encoding} BOM but invalid data: {exc.reason}") from exc
    wide = sniff_utf16(data)
    if wide:
        check_bytes(data, wide)  # binary signatures; NULs are expected here
        return check_text(strip_nul(_decode_wide(data, wide)), require_words=require_words), wide
    check_bytes(data)
    data = drop_nul_bytes(data)
    text = utf8_with_stray_bytes(data)
    if text is not None:
        return check_text(text, require_words=require_words), "utf-8"
    encoding = detect_encoding(data)
    if encoding is None:
        raise ReadError("undecodable", "no text encoding fits the bytes")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ReadError("undecodable", f"detected {encoding} but decoding failed") from exc
    return check_text(text, require_words=require_words), encoding


# --- decoding helpers, shared with the web (`fetch.decode_body`) ----------------------------

# UTF-16 without a BOM: in the first 4 KB, at least this share of the code units has a NUL high
# byte (ASCII, digits, spaces, punctuation) and almost none a NUL low byte; the decoded head
# must then read as text. Binary formats have NULs at both positions, or decode to controls.
_UTF16_SNIFF_BYTES = 4096
_UTF16_MIN_NUL_SHARE = 0.10
_UTF16_MAX_OTHER_NUL_SHARE = 0.02
_NOT_TEXT_CATEGORIES = {"Cc", "Cn", "Co", "Cs"}
_TEXT_CONTROLS = set("\t\n\r\f\v")
# Legacy (non-UTF) detection: candidates whose decoded sample is within this much of the
# least messy one (charset_normalizer's mess ratio, over the whole sample) are near ties. The
# ratio counts typographic punctuation against windows-1252 ("€5" alone gives 0.045 on a short
# page, where cp775 reads the same bytes as letters and scores 0), hence the wide margin.
_DETECT_SAMPLE_BYTES = 65_536
_MESS_MARGIN = 0.1
# chardet's confidence below which its guess is noise (a 300-byte page: 0.04; news paragraphs 0.3-0.8)
_CHARDET_MIN_CONFIDENCE = 0.1
_COHERENCE_MARGIN = 0.02
_MAX_CANDIDATES = 8


# A UTF-8 text with a few invalid bytes (one pasted from a legacy page, a multi-byte character
# cut by an editor) is still UTF-8, as a browser reads it: one U+FFFD each. Handing the whole
# text to detection instead picks a legacy code page that turns every other non-ASCII
# character into mojibake ("AuÃŸenminister"). A legacy text misread as UTF-8 has nearly all of
# its non-ASCII bytes invalid, far above this share.
_STRAY_BYTE_SHARE = 0.02
_ASCII = bytes(range(128))


def utf8_with_stray_bytes(data: bytes) -> str | None:
    """`data` as UTF-8 when at most 2 % of its non-ASCII bytes are invalid (each becomes
    U+FFFD), else None."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # less the text's own U+FFFD
    non_ascii = len(data.translate(None, _ASCII))
    return text if invalid <= _STRAY_BYTE_SHARE * non_ascii else None


def strip_nul(text: str) -> str:
    """`text` without U+0000: it is never content, and the warehouse must not store it."""
    return text.replace("\x00", "") if "\x00" in text else text


def drop_nul_bytes(data: bytes) -> bytes:
    """`data` without NUL bytes, for ASCII-compatible encodings (where 0x00 is only ever U+0000)."""
    return data.replace(b"\x00", b"") if b"\x00" in data else data


def _looks_like_text(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for ch in text if ch not in _TEXT_CONTROLS and unicodedata.category(ch) in _NOT_TEXT_CATEGORIES)
    return bad <= 0.02 * len(text) and any(ch.isalnum() for ch in text)


def sniff_utf16(data: bytes) -> str | None:
    """"utf-16-le" / "utf-16-be" if `data` (no BOM) is UTF-16 text: a NUL in every other byte
    position of the head and readable text when decoded; else None."""
    head = data[:_UTF16_SNIFF_BYTES]
    head = head[: len(head) // 2 * 2]
    units = len(head) // 2
    if units < 8:
        return None
    even_nul, odd_nul = head[0::2].count(0), head[1::2].count(0)
    for encoding, high_nul, low_nul in (("utf-16-le", odd_nul, even_nul), ("utf-16-be", even_nul, odd_nul)):
        if high_nul >= _UTF16_MIN_NUL_SHARE * units and low_nul <= _UTF16_MAX_OTHER_NUL_SHARE * units:
            try:
                text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            except UnicodeDecodeError:
                continue
            if _looks_like_text(text.replace("\x00", "")):
                return encoding
    return None


def _decode_wide(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:  # a cut last code unit, a lone surrogate: check_text judges the rest
        return data.decode(encoding, errors="replace")


def _decode_sample(data: bytes, encoding: str) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data[:_DETECT_SAMPLE_BYTES], final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def _chardet_guess(data: bytes) -> str | None:
    """chardet >= 7 (installed with breadability, pinned in constraints.txt): per-language byte
    bigram models tell apart code pages that charset_normalizer's mess ratio cannot (French
    in windows-1252 vs cp775/cp1257, Turkish windows-1254 vs windows-1252). None if missing."""
    try:
        import chardet
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    if int(getattr(chardet, "__version__", "0").split(".")[0] or 0) < 7:
        return None  # chardet 5/6 guess far worse than charset_normalizer on short texts
    try:
        guess = chardet.detect(data[:200_000])
        name = guess.get("encoding")
        if not name or (guess.get("confidence") or 0.0) < _CHARDET_MIN_CONFIDENCE:
            return None
        return codecs.lookup(name).name
    except Exception:  # noqa: BLE001 - detection is best effort
        return None


def detect_encoding(data: bytes) -> str | None:
    """The legacy (non-UTF) encoding of `data`, a Python codec name, or None if no encoding
    fits (random bytes). The file reader and `fetch.decode_body` both use it.

    charset_normalizer decides whether any encoding fits and proposes candidates; it ranks
    them by a mess ratio averaged over a few 512-byte chunks, which on news text often puts a
    DOS or Baltic code page first (French windows-1252 read as cp775: "sauvķ"). So the
    candidates (its matches, chardet's guess, windows-1252) are scored again over the whole
    sample; among the near-least-messy, chardet's confident guess wins, else the most coherent, and
    windows-1252 wins every tie (the web's legacy default; WHATWG reads latin-1 as it), also
    when another code page gives the very same text."""
    from charset_normalizer import from_bytes
    from charset_normalizer.cd import coherence_ratio
    from charset_normalizer.md import mess_ratio

    matches = from_bytes(data[:1_000_000])
    best = matches.best()
    if best is None or best.encoding is None:
        return None
    guess = _chardet_guess(data)
    names = [guess, best.encoding] + [m.encoding for m in matches][:_MAX_CANDIDATES] + ["cp1252"]
    scored: dict[str, tuple[float, str]] = {}
    for name in names:
        try:
            name = codecs.lookup(name).name if name else None
        except LookupError:
            continue
        if not name or name in scored:
            continue
        text = _decode_sample(data, name)
        if text is not None:
            scored[name] = (mess_ratio(text, 1.0), text)
    if not scored:
        return codecs.lookup(best.encoding).name
    floor = min(mess for mess, _ in scored.values()) + _MESS_MARGIN
    near = {name: text for name, (mess, text) in scored.items() if mess <= floor}
    if guess in near:
        chosen = guess
    else:
        coherence = {name: max((r for _, r in coherence_ratio(text)), default=0.0) for name, text in near.items()}
        top = max(coherence.values())
        tied = [name for name in near if coherence[name] >= top - _COHERENCE_MARGIN]
        chosen = "cp1252" if "cp1252" in tied else min(tied, key=lambda n: (scored[n][0], -coherence[n]))
    if chosen != "cp1252" and "cp1252" in scored and scored["cp1252"][1] == scored[chosen][1]:
        try:
            data.decode("cp1252")
            chosen = "cp1252"  # the same text: name it by the web's default
        except UnicodeDecodeError:
            pass
    return chosen


def read_file(path: Path, *, max_bytes: int, timeout_s: float = READ_TIMEOUT_S) -> tuple[list[Document], list[Failure]]:
    source = str(path)
    try:
        data = _read_with_deadline(path, max_bytes, timeout_s)
        return parse_bytes(source, data, suffix=path.suffix.lower())
    except ReadError as exc:
        return [], [Failure(source, "read", exc.reason, exc.detail)]


class _Reader:
    """A daemon thread that reads files handed to it, so the caller can stop waiting for one.

    One per calling thread, reused file after file (a thread per file cost 0.5 ms each, ten
    times the read itself); it exits after a minute idle. A reader stuck in a read is dropped
    and the next file gets a new one; being a daemon, it cannot keep the process alive."""

    IDLE_S = 60.0

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.alive = True
        threading.Thread(target=self._loop, name="newsflow-read", daemon=True).start()

    def submit(self, job) -> bool:
        with self.lock:
            if self.alive:
                self.jobs.put(job)
            return self.alive

    def _loop(self) -> None:
        while True:
            try:
                fn, args, box, done = self.jobs.get(timeout=self.IDLE_S)
            except queue.Empty:
                with self.lock:
                    if self.jobs.empty():
                        self.alive = False
                        return
                continue
            try:
                box.append((True, fn(*args)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                box.append((False, exc))
            done.set()


_readers = threading.local()


def _read_with_deadline(path: Path, max_bytes: int, timeout_s: float) -> bytes:
    box: list = []
    done = threading.Event()
    job = (_read_regular, (path, max_bytes), box, done)
    reader = getattr(_readers, "reader", None)
    if reader is None or not reader.submit(job):
        reader = _readers.reader = _Reader()
        reader.submit(job)
    if not done.wait(timeout_s):
        _readers.reader = None  # stuck in the read: the next file gets a fresh reader
        raise ReadError("read_timeout", f"no data within {timeout_s:g} s (hung filesystem or special file?)")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _read_regular(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, if it is a regular file no larger than `max_bytes`. Raises ReadError.

    Opened non-blocking and checked on the open descriptor, so a FIFO or device put where
    a file was after discovery is refused instead of blocking the run. Discovery resolved every
    link already, so a link here was put in place since (to /etc/passwd, say): it is not followed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ReadError("not_found", "file vanished before it was read") from None
    except IsADirectoryError:
        raise ReadError("unreadable", "is a directory") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            if os.path.islink(path):
                raise ReadError("changed_since_discovery", "became a symbolic link after discovery; not followed") \
                    from None
            raise ReadError("symlink_loop", "symbolic link loop") from None
        if exc.errno == errno.ENXIO:  # opening a socket
            raise ReadError("not_regular_file", "socket, not a regular file") from None
        raise ReadError("unreadable", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError("not_regular_file", f"{_kind(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise ReadError("too_large", f"{info.st_size} bytes > limit {max_bytes}")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew while we looked
            raise ReadError("too_large", f"more than {max_bytes} bytes")
        return data
    except OSError as exc:
        raise ReadError("unreadable", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def parse_bytes(source: str, data: bytes, *, suffix: str) -> tuple[list[Document], list[Failure]]:
    """Turn one file's bytes into documents (several for JSON/JSONL). Raises ReadError for the whole file."""
    text, encoding = decode_bytes(data, require_words=suffix not in JSON_SUFFIXES | JSONL_SUFFIXES)
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

    extracted = extract_html(html, doc.url, max_text_chars=MAX_PAGE_TEXT_CHARS)
    if extracted.page_chars is not None:
        raise ReadError("too_long", too_long_detail(extracted.page_chars, "of text in the page"))
    if not extracted.text.strip():
        raise ReadError("no_main_text", "HTML page has no extractable article text")
    doc.raw_text = extracted.text
    # the cleaner is told the text came out of the HTML extractor (tasks/batch.text_kind)
    doc.meta["text_kind"] = "html"
    # a date read off a line of the page goes on as written: the cleaner reads "03/04/2020" in the
    # page's language order, which the extractor does not know yet
    published = None if extracted.date is None else (
        extracted.date_raw if extracted.date_source == "element" else extracted.date.isoformat())
    doc.meta.update({k: v for k, v in {
        "title": extracted.title, "published": published,
        "published_raw": extracted.date_raw,
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
    """The record's first string under one of the field's names (a list of strings joined); a number,
    a boolean or an object is no text ({"text": 1} was stored as an article reading "1")."""
    for key in RECORD_FIELDS[name]:
        value = record.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ", ".join(value)
        if isinstance(value, str) and value:
            # a JSON "\u0000" is no more text than a NUL byte; a lone "\ud800" cannot be stored
            return printable(strip_nul(value))
    return None


def _record_url(record: dict) -> str | None:
    # as written: the pipeline normalises and redacts it with the run's settings (web.stored_url)
    return _first_field(record, "url")


def record_to_document(source: str, record: object, encoding: str) -> Document:
    if not isinstance(record, dict):
        raise ReadError("invalid_record", f"expected a JSON object, got {type(record).__name__}")
    text = _first_field(record, "text")
    if text is None or not text.strip():
        raise ReadError("empty", "record has no text/body/content field holding a string")
    doc = Document(
        source=source, source_kind="record", raw_text=text,
        raw_sha256=sha256_hex(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)),
        encoding=encoding, media_type="application/json", url=_record_url(record),
    )
    for name in ("title", "published", "outlet", "author"):
        value = _first_field(record, name)
        if value:
            doc.meta[name] = value
    return doc


def _parse_json(source: str, text: str, encoding: str) -> tuple[list[Document], list[Failure]]:
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:  # a decode error, or a number > 4,300 digits
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
            except (ValueError, RecursionError) as exc:  # a decode error, or a number > 4,300 digits
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
