"""Bytes of an uploaded file -> UTF-8 bytes: binary refusal, encoding, delimiter.

:func:`refuse_binary` refuses images, workbooks, PDFs and binary junk by their first bytes;
:func:`utf8_buffer` finds the encoding (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 with BOM,
else charset-normalizer's guess) and the delimiter (comma, semicolon, tab, pipe; quote-aware).
The encoding is checked, and a non-UTF-8 file transcoded, chunk by chunk: no decoded text of
the whole file is ever held (a 256 MB upload would take up to four times that as a Python str).
"""

from __future__ import annotations

import codecs
import csv
import io

import numpy as np

from recsys.data.limits import SAMPLE_BYTES
from recsys.errors import DataValidationError

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"PK\x03\x04", "an Excel .xlsx workbook or another ZIP archive"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (or another Office file)"),
    (b"%PDF", "a PDF document"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3", "an SQLite database"),
    (b"{\\rtf", "an RTF document"),
)
_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")


def refuse_binary(data: bytes, file_name: str) -> None:
    """Refuse a known binary format or binary junk (``DataValidationError``)."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            hint = (
                " Open it in Excel and use 'Save As > CSV UTF-8', then upload the .csv."
                if "Excel" in what or "ZIP" in what
                else " Upload a CSV text file (comma, semicolon, tab or pipe separated)."
            )
            raise DataValidationError(f"this is {what}, not a CSV file.{hint}", file=file_name)
    sample = data[:65536]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # judge the decoded text
        text = sample[: len(sample) // 2 * 2].decode("utf-16", errors="replace")
        sample = text.encode("utf-8", errors="replace")
    arr = np.frombuffer(sample, dtype=np.uint8)
    n_nul = int((arr == 0).sum())
    control = (arr < 32) & (arr != 9) & (arr != 10) & (arr != 13) & (arr != 0)
    if n_nul > 0.1 * len(arr) or int(control.sum()) > 0.05 * len(arr):
        raise DataValidationError(
            "this does not look like a text (CSV) file: it is mostly binary data. If it is a "
            "spreadsheet or a 'Unicode text' export, save it as 'CSV UTF-8' and upload that.",
            file=file_name,
        )


#: Bytes decoded at once when checking or transcoding a file's encoding.
_CHUNK = 1 << 24


def _decodes_as(data: bytes | memoryview, encoding: str) -> bool:
    """True when all of ``data`` decodes as ``encoding``, checked chunk by chunk (no text kept)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for i in range(0, len(view), _CHUNK):
            decoder.decode(view[i : i + _CHUNK], final=False)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _transcoded(data: bytes | memoryview, encoding: str, errors: str = "strict") -> memoryview:
    """``data`` in ``encoding`` as UTF-8 bytes, decoded and re-encoded chunk by chunk."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    out = io.BytesIO()
    view = memoryview(data)
    for i in range(0, len(view), _CHUNK):
        out.write(decoder.decode(view[i : i + _CHUNK], final=False).encode("utf-8"))
    out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return out.getbuffer()


def _encoding(data: bytes, file_name: str) -> str:
    """The file's encoding: UTF-16 (BOM), UTF-8 (BOM-aware), GB18030, else a best guess.

    Judged without decoding the whole file into text.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and _decodes_as(data, "utf-16"):
        return "utf-16"
    if _decodes_as(data, "utf-8"):
        return "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    if _decodes_as(data, "gb18030"):
        return "gb18030"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:SAMPLE_BYTES]).best()
        if best is not None and best.encoding:
            return str(best.encoding)
    except Exception:  # noqa: BLE001 - the guesser is a best effort
        pass
    raise DataValidationError(
        "cannot tell the text encoding of this file. Save it as 'CSV UTF-8' and upload again.",
        file=file_name,
    )


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon, tab or pipe: the one giving a stable field count (> 1).

    Judged over the first records, quoted fields respected. Falls back to comma.
    """
    sample = text[:65536]
    if len(text) > len(sample):
        cut = sample.rfind("\n")
        sample = sample[:cut] if cut > 0 else sample
    best, best_score = ",", (0.0, 0, 0)
    for delim in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delim) if r][:200]
        except csv.Error:
            continue
        if not rows:
            continue
        n_header = len(rows[0])
        if n_header < 2:
            continue
        counts = [len(r) for r in rows[1:]] or [n_header]
        consistency = sum(c == n_header for c in counts) / len(counts)
        score = (round(consistency, 2), n_header, -_DELIMITERS.index(delim))
        if score > best_score:
            best, best_score = delim, score
    return best


def sample_text(sample: bytes) -> str:
    """The start of a file as text, well enough to find its header and delimiter."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return sample[: len(sample) // 2 * 2].decode("utf-16", errors="replace")
    return sample.decode("utf-8", errors="replace").lstrip("\ufeff")  # GBK: delimiters still ASCII


def utf8_buffer(
    data: bytes, file_name: str, notes: list[str]
) -> tuple[bytes | memoryview, str, str]:
    """Judge the encoding, drop NUL bytes, refuse web pages.

    Returns (UTF-8 bytes without BOM, encoding, delimiter). A UTF-8 file is used as it is
    (no copy); another encoding is transcoded to UTF-8 chunk by chunk, so no decoded text of
    the whole file is ever held.
    """
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    n_nul = 0 if utf16 else data.count(b"\x00")
    if n_nul:
        data = data.replace(b"\x00", b"")
    encoding = _encoding(data, file_name)
    if encoding in ("utf-8", "utf-8-sig"):  # already the bytes pyarrow and pandas read
        buf: bytes | memoryview = memoryview(data)
        while bytes(buf[:3]) == codecs.BOM_UTF8:
            buf = buf[3:]
    else:
        buf = _transcoded(
            data, encoding, "strict" if encoding in ("utf-16", "gb18030") else "replace"
        )
        if bytes(buf[:3]) == codecs.BOM_UTF8:  # UTF-16's BOM, re-encoded
            buf = buf[3:]
        if utf16:  # NULs of a UTF-16 file are judged in its text
            text_bytes = bytes(buf)
            n_nul = text_bytes.count(b"\x00")
            if n_nul:
                buf = memoryview(text_bytes.replace(b"\x00", b""))
            del text_bytes
    if n_nul:
        notes.append(f"removed {n_nul:,} NUL (\\x00) bytes; the file may be damaged.")
    head = bytes(buf[:65536]).decode("utf-8", errors="ignore")
    if not head.strip() and not bytes(buf).strip():
        raise DataValidationError("the file is empty.", file=file_name)
    lead = len(head) - len(head.lstrip())
    if head[lead : lead + 14].lower().startswith(("<!doctype html", "<html", "<?xml")):
        raise DataValidationError(
            "this is a web page or XML document, not a CSV file. Upload the CSV export itself.",
            file=file_name,
        )
    if len(buf) > len(head):  # judge whole lines only
        head = head[: max(head.rfind("\n"), 0)] or head
    return buf, encoding, sniff_delimiter(head)


__all__ = ["refuse_binary", "sample_text", "sniff_delimiter", "utf8_buffer"]
