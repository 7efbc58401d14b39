"""Read one extract file into text records, failing the whole file only where it cannot be read
as its source at all (empty, wrong encoding or delimiter, missing required columns, personal
identifiers). Row-level problems (a truncated row) are kept as reasons for quarantine.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from data_contracts.contract import SourceContract
from pipelines.ingest.errors import ExtractError
from pipelines.ingest.personal_data import identifier_column_problem

OTHER_DELIMITERS = (";", ",", "\t", "|")
RENAME_SIMILARITY = 0.85  # difflib ratio of two normalised column names from which one is taken for the other


@dataclass
class FileRecords:
    """The text content of one extract file, row by row (line numbers as in a text editor)."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    line_numbers: list[int]
    row_problems: dict[int, str]  # position in rows -> reason
    year_from_name: int | None
    ignored_columns: list[str] = field(default_factory=list)
    absent_optional_columns: list[str] = field(default_factory=list)


def _looks_like_utf16(data: bytes) -> bool:
    """A UTF-16 byte-order mark, or a NUL byte beside every other character of the first line (what
    Excel's "Unicode text" export and some Windows tools write)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = data[:200]
    return len(head) >= 20 and head.count(b"\x00") >= len(head) // 3


def _encoding_hint(data: bytes) -> str:
    """What the bytes probably are, for a file that is not valid in its contract's encoding."""
    if _looks_like_utf16(data):
        return (" It is UTF-16 (Excel's 'Unicode text' export writes it): save or export the file as "
                "'CSV UTF-8' instead.")
    try:
        data.decode("cp1252")
        return " It looks like Latin-1/Windows-1252: save or export the file as UTF-8."
    except UnicodeDecodeError:
        return ""


def _decode(path: Path, data: bytes, encoding: str) -> str:
    if data.startswith(b"\xef\xbb\xbf") and encoding.replace("-", "").lower() == "utf8":
        data = data[3:]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        raise ExtractError(path, f"is not valid {encoding} (byte 0x{byte} on line {line}).{_encoding_hint(data)}") from None
    if "\x00" in text and _looks_like_utf16(data):  # UTF-16 of plain ASCII is valid UTF-8, NULs and all
        raise ExtractError(path, f"is not {encoding}: it has a NUL byte beside every other character.{_encoding_hint(data)}")
    return text


def _check_delimiter(path: Path, header_line: str, delimiter: str) -> None:
    if delimiter in header_line:
        return
    for other in OTHER_DELIMITERS:
        if other != delimiter and other in header_line:
            raise ExtractError(
                path,
                f"uses {other!r} as column delimiter, but this source's contract expects {delimiter!r}; "
                f"re-export with {delimiter!r} as delimiter",
            )
    raise ExtractError(path, f"has a single-column header; this source's columns are separated by {delimiter!r}")


def year_from_name(path: Path, pattern: str | None) -> int | None:
    if not pattern:
        return None
    match = re.search(pattern, path.name, flags=re.IGNORECASE)  # file names match in any case
    if not match:
        raise ExtractError(path, f"the file name does not contain the reporting year (expected to match {pattern!r})")
    return int(match.group("year"))


def letters_and_digits(text: str) -> str:
    """``text`` in lower case without spaces, underscores or punctuation: how a name is compared when
    export tools and people change case and separators (``Aantal Jongeren`` is ``aantal_jongeren``)."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _name_similarity(found: str, expected: str) -> float:
    return difflib.SequenceMatcher(None, letters_and_digits(found), letters_and_digits(expected)).ratio()


def probable_renames(unknown: list[str], missing: list[str]) -> dict[str, str]:
    """Unknown column -> the missing contract column it most probably is: equal once case, spaces and
    punctuation are left out, or close to it (ratio >= ``RENAME_SIMILARITY``). Only missing columns
    count: an unknown column like one the file has is an extra column (CBS tables carry many)."""
    renames = {}
    for column in unknown:
        best = max(missing, key=lambda name: _name_similarity(column, name), default=None)
        if best is not None and _name_similarity(column, best) >= RENAME_SIMILARITY:
            renames[column] = best
    return renames


def did_you_mean(header: list[str], renames: dict[str, str], contract: SourceContract) -> str:
    """The probably renamed columns, each with its place in the header and the contract column it is."""
    return "; ".join(
        f"column {column!r} (line 1, column {header.index(column) + 1}), which is not in the contract, where the "
        f"contract's {'required' if contract.column(name).required else 'optional'} column {name!r} is missing: "
        f"did you mean {name!r}?"
        for column, name in renames.items()
    )


def rename_problem(header: list[str], renames: dict[str, str], contract: SourceContract) -> str:
    """Why a file whose optional contract column was probably renamed is refused: loaded as it is, that
    column would be empty for every row of the file, with no more than a warning."""
    return (f"has {did_you_mean(header, renames, contract)} Loaded as it is, the contract column would be empty for "
            "every row of this file. Rename the column in the export to the contract's name and deliver the file again.")


def _check_columns(path: Path, header: list[str], contract: SourceContract) -> list[str]:
    """The file's columns against the contract; return the unknown (ignored) ones. Refused: a missing
    required column, an unknown column that is probably a missing contract column renamed, and any
    unknown column where the contract allows none."""
    expected = contract.file_columns
    known = {c.name for c in expected}
    extra = [h for h in header if h not in known]
    missing = [c.name for c in expected if c.name not in header]
    renames = probable_renames(extra, missing)
    missing_required = [c.name for c in expected if c.required and c.name not in header]
    if missing_required:
        hint = f"; it has {did_you_mean(header, renames, contract)}" if renames else ""
        raise ExtractError(path, f"misses required column(s) {', '.join(missing_required)} (found: {', '.join(header)}){hint}")
    if renames:
        raise ExtractError(path, rename_problem(header, renames, contract))
    if extra and contract.file_format.extra_columns == "fail":
        raise ExtractError(path, f"has columns that are not in the contract: {', '.join(extra)}")
    return extra


def read_extract_file(path: Path, contract: SourceContract) -> FileRecords:
    """Read and check the shape of one file; raise ExtractError if it is not this source at all."""
    fmt = contract.file_format
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(path, f"cannot be read: {exc.strerror}") from None
    if not data.strip():
        raise ExtractError(path, "is empty (no header, no rows)")
    text = _decode(path, data, fmt.encoding)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    _check_delimiter(path, first_line, fmt.delimiter)
    year = year_from_name(path, fmt.year_from_file_name)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=False)
    header = [h.strip() for h in next(reader)]
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise ExtractError(path, f"has duplicate column names in the header: {', '.join(duplicates)}")

    rows: list[list[str]] = []
    line_numbers: list[int] = []
    problems: dict[int, str] = {}
    for record in reader:
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank line: no data
        line_numbers.append(reader.line_num)
        if len(record) != len(header):
            problems[len(rows)] = (
                f"row has {len(record)} fields where the header has {len(header)} (truncated or mis-quoted row)"
            )
            record = (record + [""] * len(header))[: len(header)]
        rows.append(record)

    pii = identifier_column_problem(header, rows)
    if pii:
        raise ExtractError(path, pii)
    extra = _check_columns(path, header, contract)
    if not rows:
        raise ExtractError(path, "has a header but no data rows")
    return FileRecords(
        path=path,
        header=header,
        rows=rows,
        line_numbers=line_numbers,
        row_problems=problems,
        year_from_name=year,
        ignored_columns=extra,
        absent_optional_columns=[c.name for c in contract.file_columns if not c.required and c.name not in header],
    )
