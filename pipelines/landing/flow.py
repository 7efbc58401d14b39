"""The drop folder, step by step: scan, stage, then archive or reject. No Dagster here.

Layout of a landing folder ``L``::

    L/<dropped files>                     CSV, XLSX or Parquet exports, put there by people
    L/.processing/<sha256>/               a staged file waiting for its ingestion run:
        <original file>, pending.json,    the original, what was staged where,
        previous/<extract name>           and the extract it replaced (restored if it is rejected):
        replaced/<extract name>           of the same name, or other extracts holding rows of its keys
    L/archive/<sha12>_<file>              dropped files after their run, duplicates, replaced extracts
    L/archive/manifest.jsonl              one JSON line per archived file: hash, source, rows in,
                                          loaded and quarantined, run id, status (loaded / quarantined:
                                          every row quarantined / duplicate / replaced / superseded)
    L/rejected/<sha12>_<file>             files that could not be taken in, with
    L/rejected/<sha12>_<file>.error.txt   the report: what is wrong and what to do

1. ``scan`` lists the files dropped at the top level (ignoring hidden and partial files and files
   changed less than ``settle_seconds`` ago) with their SHA-256 and detected source.
2. ``stage`` writes a recognised file into the extract folder in its contract's CSV form (replacing
   an extract of the same name: a corrected version), checks it reads as that source, and moves the
   original to ``.processing/``. Any problem: ``reject``. An extract of another name that holds rows
   of the same keys (say ``ggd_gezondheidsmonitor_2023.csv`` for a dropped ``ggd_2023.csv``) is
   replaced too, moved to ``.processing/`` and archived as ``replaced`` after the run, if the dropped
   file covers all its years; otherwise the dropped file is rejected naming that extract (both
   would load, and every shared key would be quarantined twice).
   ``Pending.years`` records the years whose rows change (those of the file and of the extract it
   replaced): the sensor's run loads those year partitions.
3. The ingestion asset of the source loads the extracts of those years (``ingest_staged``), then calls
   ``finish_source``: staged files it loaded move to ``archive/`` with a manifest line.
   If the ingestion rejects a staged file (``fail_source``), it moves to ``rejected/``, its staged
   copy is removed and the extract it replaced restored. If the contract quarantines every row of a
   staged file that replaced an extract (``withdraw_quarantined``), the same happens before anything
   is written, so that the year keeps the rows it had; the file is archived as ``quarantined``, with
   the extracts restored and the reasons in its manifest line.
A file whose hash was loaded before is a duplicate: archived as such, never loaded again. A file
whose rows were all quarantined is archived as ``quarantined``, and a replaced extract as
``replaced``: dropping that content again takes it in again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from data_contracts.contract import SourceContract
from data_contracts.pandera_schema import Scope
from pipelines.ingest import ExtractError
from pipelines.ingest.ingest import FileSummary, IngestResult, extract_years, prepare_source, write_load
from pipelines.ingest.read import read_extract_file
from pipelines.landing.convert import to_contract_csv
from pipelines.landing.detect import FORMATS, csv_name, detect_source
from pipelines.landing.errors import LandingError

PROCESSING = ".processing"
ARCHIVE = "archive"
REJECTED = "rejected"
MANIFEST = "manifest.jsonl"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class DroppedFile:
    path: Path
    sha256: str
    source: str | None  # None when it could not be recognised (see problem)
    problem: str | None = None


@dataclass(frozen=True)
class Pending:
    """A staged file waiting for its source's ingestion run (``.processing/<sha256>/pending.json``)."""

    sha256: str
    source: str
    original: str  # name as dropped
    staged: str  # path of the extract written into the extract folder
    staged_sha256: str
    previous: str | None  # backup of the extract it replaced, if any
    staged_at: str
    years: tuple[int, ...] = ()  # years whose rows change: those of the staged file and of the extracts it replaced
    replaced: tuple[str, ...] = ()  # extracts of other names it replaces (same keys): parked in replaced/, archived after the run


def _years_of(path: Path, contract: SourceContract) -> set[int]:
    try:
        return set(extract_years(path, contract))
    except ExtractError:
        return set()  # an unreadable earlier version: its rows were never loaded


def _is_candidate(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not name.startswith((".", "~$"))
        and not name.endswith((".tmp", ".part", ".crdownload"))
    )


def scan(
    landing_dir: Path,
    contracts: Mapping[str, SourceContract],
    settle_seconds: float = 0.0,
    now: float | None = None,
) -> list[DroppedFile]:
    """Files dropped at the top of the landing folder, oldest first, with hash and detected source."""
    now = time.time() if now is None else now
    found = []
    for path in sorted((p for p in landing_dir.iterdir() if _is_candidate(p)), key=lambda p: (p.stat().st_mtime, p.name)):
        if now - path.stat().st_mtime < settle_seconds:
            continue  # still being written (or just copied): next time
        digest = sha256(path)
        if path.suffix.lower() not in FORMATS:
            found.append(DroppedFile(path, digest, None, f"has extension {path.suffix!r}; the drop folder takes {', '.join(FORMATS)}"))
            continue
        try:
            found.append(DroppedFile(path, digest, detect_source(path, contracts)))
        except LandingError as exc:
            found.append(DroppedFile(path, digest, None, str(exc)))
    return found


# -- archive and manifest --------------------------------------------------------------------------

def read_manifest(landing_dir: Path) -> list[dict]:
    path = landing_dir / ARCHIVE / MANIFEST
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def archived_hashes(landing_dir: Path) -> set[str]:
    return {entry["sha256"] for entry in read_manifest(landing_dir)}


NOT_LOADED = ("quarantined", "replaced", "superseded")  # archived without (or no longer with) rows in the warehouse


def hashes_by_status(landing_dir: Path) -> dict[str, str]:
    """Every archived hash and what happened to that content last (``duplicate`` lines change nothing)."""
    latest = {}
    for entry in read_manifest(landing_dir):
        if entry["status"] != "duplicate":
            latest[entry["sha256"]] = entry["status"]
    return latest


def pending_hashes(landing_dir: Path) -> set[str]:
    folder = landing_dir / PROCESSING
    return {p.name for p in folder.iterdir() if (p / "pending.json").is_file()} if folder.is_dir() else set()


def _archive(landing_dir: Path, original: Path, entry: dict) -> Path:
    folder = landing_dir / ARCHIVE
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{entry['sha256'][:12]}_{entry['file']}"
    shutil.move(str(original), target)
    entry = {**entry, "archived_as": target.name, "archived_at": _now()}
    with (folder / MANIFEST).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return target


def archive_duplicate(landing_dir: Path, dropped: DroppedFile) -> Path:
    """A file whose content was loaded (or is being loaded) before: archived, not loaded again."""
    earlier = [e for e in read_manifest(landing_dir) if e["sha256"] == dropped.sha256 and e["status"] == "loaded"]
    return _archive(landing_dir, dropped.path, {
        "sha256": dropped.sha256, "file": dropped.path.name, "source": dropped.source, "status": "duplicate",
        "duplicate_of": earlier[0]["archived_as"] if earlier else "a file being loaded",
        "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "run_id": None,
    })


def reject(landing_dir: Path, path: Path, digest: str, problem: str, source: str | None = None) -> Path:
    """Move a file to ``rejected/`` with an error report beside it; return the report's path."""
    folder = landing_dir / REJECTED
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest[:12]}_{path.name}"
    shutil.move(str(path), target)
    report = target.with_name(target.name + ".error.txt")
    report.write_text(
        f"File:     {path.name}\n"
        f"SHA-256:  {digest}\n"
        f"Rejected: {_now()}\n"
        f"Source:   {source or 'not recognised'}\n\n"
        f"Problem: the file {problem}\n\n"
        "Nothing of this file was loaded. Correct the export and drop the corrected file into the landing\n"
        "folder again (any name that matches the source's pattern); the contracts are in data_contracts/sources/.\n",
        "utf-8",
    )
    return report


# -- staging ---------------------------------------------------------------------------------------

def staged_name(dropped: DroppedFile, contract: SourceContract) -> str:
    """The extract file name: the dropped name as .csv, or fitted to the contract's pattern."""
    import fnmatch

    name = csv_name(dropped.path)
    pattern = contract.file_format.file_name_pattern
    if fnmatch.fnmatch(name.lower(), pattern.lower()):
        return name
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in dropped.path.stem)
    return pattern.replace("*", stem, 1)


def _keys(path: Path, contract: SourceContract) -> set[tuple[str, ...]] | None:
    """The primary keys of a file's rows, as text; None when it does not read as the source."""
    try:
        records = read_extract_file(path, contract)
    except ExtractError:
        return None
    position = {name: i for i, name in enumerate(records.header)}
    getters = []
    for name in contract.primary_key:
        if contract.column(name).from_file_name:
            getters.append(lambda row, value=str(records.year_from_name): value)
        elif name in position:
            getters.append(lambda row, i=position[name]: row[i].strip())
        else:
            return None
    return {tuple(get(row) for get in getters) for row in records.rows}


def _overlapping_extracts(candidate: Path, target: Path, contract: SourceContract, extract_dir: Path) -> list[Path]:
    """The source's other extracts (not ``target``) that hold rows of a key that ``candidate`` holds too."""
    if not extract_dir.is_dir() or not contract.primary_key:
        return []
    ours = _keys(candidate, contract) or set()
    found = []
    for path in sorted(extract_dir.iterdir()):
        if path.is_file() and path.name != target.name and contract.file_format.matches(path.name):
            theirs = _keys(path, contract)
            if theirs and theirs & ours:
                found.append(path)
    return found


def _replacements(
    landing_dir: Path, dropped: DroppedFile, contract: SourceContract, candidate: Path, target: Path, extract_dir: Path
) -> list[Path]:
    """The other extracts the candidate replaces; LandingError when it holds rows of another extract it cannot replace."""
    replaced = []
    years = _years_of(candidate, contract)
    waiting = {Path(p.staged).name: p for p in pending_files(landing_dir, contract.name) if p.sha256 != dropped.sha256}
    key = ", ".join(contract.primary_key)
    for other in _overlapping_extracts(candidate, target, contract, extract_dir):
        if other.name in waiting:
            raise LandingError(
                f"holds rows of the same keys ({key}) as the extract {other.name}, staged from "
                f"{waiting[other.name].original} and still waiting for its run; drop this file again once that one is archived"
            )
        uncovered = sorted(_years_of(other, contract) - years)
        if uncovered:
            raise LandingError(
                f"holds rows of the same keys ({key}) as the extract {other.name} in the extract folder, which also "
                f"holds rows of {', '.join(map(str, uncovered))} that this file lacks. Both cannot be loaded (every shared "
                f"key would be quarantined as a duplicate), and this file cannot replace it without emptying those years. "
                f"Drop the corrected version under the name {other.name} (it then replaces that extract), or a file that "
                "covers all its years"
            )
        replaced.append(other)
    return replaced


def stage(landing_dir: Path, dropped: DroppedFile, contract: SourceContract, extract_dir: Path) -> Pending:
    """Write the file into the extract folder in CSV form and park the original; LandingError if it does not read."""
    work = landing_dir / PROCESSING / dropped.sha256
    work.mkdir(parents=True, exist_ok=True)
    target = extract_dir / staged_name(dropped, contract)
    candidate = to_contract_csv(dropped.path, contract, work / "staged" / target.name)
    try:
        read_extract_file(candidate, contract)  # file-level contract checks before it replaces anything
    except ExtractError as exc:
        shutil.rmtree(work)
        raise LandingError(f"was read as source {contract.name}, staged as {target.name}, and {exc.problem}") from None
    try:
        others = _replacements(landing_dir, dropped, contract, candidate, target, extract_dir)
    except LandingError:
        shutil.rmtree(work)
        raise
    previous = None
    replaced: list[str] = []
    superseded = [p for p in pending_files(landing_dir, contract.name) if Path(p.staged) == target and p.sha256 != dropped.sha256]
    (work / "previous").mkdir(exist_ok=True)
    for older in superseded:  # a newer version arrived before the older one was loaded: the older never loads
        older_work = landing_dir / PROCESSING / older.sha256
        for name in older.replaced:  # what the older one replaced, this one replaces
            (work / "replaced").mkdir(exist_ok=True)
            shutil.move(str(older_work / "replaced" / Path(name).name), work / "replaced" / Path(name).name)
            replaced.append(name)
        if older.previous and Path(older.previous).exists():
            previous = work / "previous" / target.name
            shutil.copy2(older.previous, previous)  # keep the last loaded version to restore on rejection
        _archive(landing_dir, older_work / older.original, {
            "sha256": older.sha256, "file": older.original, "source": older.source, "status": "superseded",
            "staged_as": target.name, "superseded_by": dropped.path.name,
            "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "run_id": None,
        })
        shutil.rmtree(older_work)
    if previous is None and target.exists() and not superseded:
        previous = work / "previous" / target.name
        shutil.copy2(target, previous)
    for other in others:  # extracts of other names holding rows of its keys: parked, archived after the run
        (work / "replaced").mkdir(exist_ok=True)
        shutil.move(str(other), work / "replaced" / other.name)
        replaced.append(str(other))
    years = _years_of(candidate, contract) | (_years_of(previous, contract) if previous else set())
    for name in replaced:
        years |= _years_of(work / "replaced" / Path(name).name, contract)
    extract_dir.mkdir(parents=True, exist_ok=True)
    candidate.replace(target)
    (work / "staged").rmdir()
    shutil.move(str(dropped.path), work / dropped.path.name)
    pending = Pending(
        sha256=dropped.sha256, source=contract.name, original=dropped.path.name, staged=str(target),
        staged_sha256=sha256(target), previous=str(previous) if previous else None, staged_at=_now(),
        years=tuple(sorted(years)), replaced=tuple(replaced),
    )
    (work / "pending.json").write_text(json.dumps(asdict(pending), indent=1), "utf-8")
    return pending


def pending_files(landing_dir: Path, source: str | None = None) -> list[Pending]:
    folder = landing_dir / PROCESSING
    if not folder.is_dir():
        return []
    found = []
    for record in sorted(folder.glob("*/pending.json")):
        fields = json.loads(record.read_text("utf-8"))
        pending = Pending(**{**fields, "years": tuple(fields.get("years", ())), "replaced": tuple(fields.get("replaced", ()))})
        if source is None or pending.source == source:
            found.append(pending)
    return found


# -- after the ingestion run -----------------------------------------------------------------------

def finish_source(landing_dir: Path, source: str, files: Iterable[FileSummary], run_id: str | None) -> list[dict]:
    """Archive the staged files of ``source`` that this ingestion read, and the extracts they replaced;
    return the dropped files' manifest entries. A file none of whose rows loaded (all quarantined) is
    archived as ``quarantined``, not ``loaded``."""
    by_name = {f.file: f for f in files}
    done = []
    for pending in pending_files(landing_dir, source):
        summary = by_name.get(Path(pending.staged).name)
        if summary is None or summary.sha256 != pending.staged_sha256:
            continue  # not loaded by this run (replaced again meanwhile): a later run finishes it
        work = landing_dir / PROCESSING / pending.sha256
        entry = {
            "sha256": pending.sha256, "file": pending.original, "source": source,
            "status": "loaded" if summary.rows_loaded else "quarantined",
            "staged_as": Path(pending.staged).name, "rows_in": summary.rows_in, "rows_loaded": summary.rows_loaded,
            "rows_quarantined": summary.rows_quarantined, "run_id": run_id,
        }
        _archive(landing_dir, work / pending.original, entry)
        olds = [Path(pending.previous)] if pending.previous and Path(pending.previous).exists() else []
        olds += [work / "replaced" / Path(name).name for name in pending.replaced]
        for old in olds:  # the versions it replaced, kept in the archive (unless it was the same content)
            if sha256(old) == pending.staged_sha256:
                continue
            _archive(landing_dir, old, {
                "sha256": sha256(old), "file": old.name, "source": source, "status": "replaced",
                "replaced_by": pending.original, "staged_as": Path(pending.staged).name,
                "rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "run_id": run_id,
            })
        shutil.rmtree(work)
        done.append(entry)
    return done


def _restore_replaced(landing_dir: Path, pending: Pending) -> list[str]:
    """Take a staged file out of the extract folder and put back what it replaced: the extract of the same
    name (or none), and the extracts of other names parked in ``replaced/``. Return the names put back."""
    work = landing_dir / PROCESSING / pending.sha256
    staged = Path(pending.staged)
    restored = []
    if pending.previous and Path(pending.previous).exists():
        shutil.copy2(pending.previous, staged)
        restored.append(staged.name)
    else:
        staged.unlink(missing_ok=True)
    for name in pending.replaced:  # the extracts of other names it replaced: back in place
        shutil.move(str(work / "replaced" / Path(name).name), name)
        restored.append(Path(name).name)
    return restored


def fail_source(landing_dir: Path, source: str, failed_file: Path, problem: str) -> Path | None:
    """The ingestion rejected ``failed_file``: if it was staged from the drop folder, reject the original,
    remove the staged copy and restore the extract it replaced. Return the report path, if any."""
    for pending in pending_files(landing_dir, source):
        staged = Path(pending.staged)
        if staged.name != Path(failed_file).name:
            continue
        work = landing_dir / PROCESSING / pending.sha256
        _restore_replaced(landing_dir, pending)
        report = reject(landing_dir, work / pending.original, pending.sha256, f"was staged as {staged.name} and {problem}", source)
        shutil.rmtree(work)
        return report
    return None


def _replaces_something(pending: Pending) -> bool:
    return bool(pending.replaced) or bool(pending.previous and Path(pending.previous).exists())


def withdraw_quarantined(landing_dir: Path, source: str, files: Iterable[FileSummary], run_id: str | None) -> list[dict]:
    """Staged files of ``source`` whose every row the contract quarantined, and that replaced an extract:
    put the extracts they replaced back (as ``fail_source`` does for a rejected file) and archive them
    as ``quarantined``, with the names restored and the reasons; return their manifest entries.

    Why: loaded, such a file replaces the year's rows by none, and the good rows of the extract it
    replaced are gone (a corrected file is expected to correct, not to empty). The caller validates the
    restored extracts again before writing anything (``ingest_staged``). A file that replaced nothing is
    left to ``finish_source``: its quarantined rows cost nothing."""
    by_name = {f.file: f for f in files}
    withdrawn = []
    for pending in pending_files(landing_dir, source):
        summary = by_name.get(Path(pending.staged).name)
        if summary is None or summary.sha256 != pending.staged_sha256 or summary.rows_loaded or not summary.rows_in:
            continue
        if not _replaces_something(pending):
            continue
        restored = _restore_replaced(landing_dir, pending)
        work = landing_dir / PROCESSING / pending.sha256
        entry = {
            "sha256": pending.sha256, "file": pending.original, "source": source, "status": "quarantined",
            "staged_as": Path(pending.staged).name, "rows_in": summary.rows_in, "rows_loaded": 0,
            "rows_quarantined": summary.rows_quarantined, "run_id": run_id, "restored": restored,
            "reasons": dict(summary.reasons),
        }
        target = _archive(landing_dir, work / pending.original, entry)
        shutil.rmtree(work)
        withdrawn.append({**entry, "archived_as": target.name})
    return withdrawn


def ingest_staged(
    contract: SourceContract, extract_dir: Path, con: duckdb.DuckDBPyConnection, landing_dir: Path | None,
    scope: Scope = Scope(), run_id: str | None = None, years: Collection[int] | None = None,
    allow_empty_years: Collection[int] = (),
) -> tuple[IngestResult, list[dict]]:
    """``ingest_source`` for a deployment with a drop folder: before anything is written, staged files
    whose every row is quarantined give back the extracts they replaced (``withdraw_quarantined``), and
    the source is validated again without them. Return the result and the withdrawn files' manifest entries."""
    load = prepare_source(contract, extract_dir, con, scope, years, allow_empty_years)
    withdrawn = withdraw_quarantined(landing_dir, contract.name, load.result.files, run_id) if landing_dir else []
    if withdrawn:
        load = prepare_source(contract, extract_dir, con, scope, years, allow_empty_years)
    return write_load(con, load, run_id), withdrawn


@dataclass
class Intake:
    """What one look at the landing folder did."""

    staged: dict[str, list[Pending]]  # source -> files staged for its ingestion run
    duplicates: list[Path]  # archived, not loaded again
    rejected: list[Path]  # error reports


def take_in(
    landing_dir: Path,
    extract_dir: Path,
    contracts: Mapping[str, SourceContract],
    seen: set[str] = frozenset(),
    settle_seconds: float = 0.0,
) -> Intake:
    """Scan the folder and stage, archive (duplicates) or reject every new file.

    ``seen``: hashes already taken in (the sensor's cursor); hashes loaded according to the archive
    manifest or waiting in ``.processing/`` count as seen too, so a reset cursor does not load a file
    twice. Content whose last manifest line says it is not in the warehouse (every row quarantined,
    replaced, superseded) is taken in again, even when ``seen`` holds it.
    """
    status = hashes_by_status(landing_dir)
    not_loaded = {h for h, st in status.items() if st in NOT_LOADED}
    loaded = {h for h, st in status.items() if st == "loaded"}
    known = (set(seen) - not_loaded) | loaded | pending_hashes(landing_dir)
    intake = Intake(staged={}, duplicates=[], rejected=[])
    targets: set[str] = set()
    for dropped in scan(landing_dir, contracts, settle_seconds):
        if dropped.sha256 in known:
            intake.duplicates.append(archive_duplicate(landing_dir, dropped))
            continue
        if dropped.source is None:
            intake.rejected.append(reject(landing_dir, dropped.path, dropped.sha256, dropped.problem or "is not recognised"))
            continue
        contract = contracts[dropped.source]
        name = staged_name(dropped, contract)
        if name in targets:
            intake.rejected.append(reject(landing_dir, dropped.path, dropped.sha256,
                                          f"would be staged as {name}, like another file dropped at the same time; drop one version", dropped.source))
            continue
        try:
            pending = stage(landing_dir, dropped, contract, extract_dir)
        except LandingError as exc:
            intake.rejected.append(reject(landing_dir, dropped.path, dropped.sha256, str(exc), dropped.source))
            continue
        targets.add(name)
        known.add(dropped.sha256)
        intake.staged.setdefault(dropped.source, []).append(pending)
    return intake
