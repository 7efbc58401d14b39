"""Values that look like citizen service numbers (BSN) refuse a file, whatever the column's name.

``identifier_column_problem`` skips its column-by-column scan when no cell of the sample holds nine
digits in a row; that must change no outcome: BSN-like values are still refused, and a nine-digit
run inside a longer number is, as before, no BSN."""

from __future__ import annotations

import random

import pytest

from data_contracts.contract import load_contracts
from pipelines.ingest import ExtractError, personal_data
from pipelines.ingest.personal_data import identifier_column_problem, passes_eleven_test
from pipelines.ingest.read import read_extract_file

POLICE_HEADER = "jaar;buurtcode;verdachten_12_17;verdachten_18_24;halt_verwijzingen;misdrijven_totaal;geweldsmisdrijven;woninginbraken"
BSNS = ["111222333", "123456782", "999999990"]


def _police_file(tmp_path, kenmerk: list[str]):
    """A police extract with an extra column ``kenmerk`` holding the given values, one row each."""
    path = tmp_path / "politie_2023.csv"
    rows = [f"2023;BU9999{n:04d};5;10;2;120;20;5;{value}" for n, value in enumerate(kenmerk)]
    path.write_text("\n".join([f"{POLICE_HEADER};kenmerk", *rows]) + "\n", "utf-8")
    return path


def test_a_file_with_bsn_like_values_is_refused(tmp_path):
    path = _police_file(tmp_path, [f" {bsn} " for bsn in BSNS] + ["", "onbekend"])
    with pytest.raises(ExtractError, match="column 'kenmerk' holds values that look like citizen service numbers"):
        read_extract_file(path, load_contracts()["politie_jeugdverdachten"])


def test_a_nine_digit_run_inside_a_longer_number_is_no_bsn(tmp_path):
    longer = ["0" + bsn for bsn in BSNS] + [bsn + "1" for bsn in BSNS] + ["12345678-2", "BU123456782"]
    assert personal_data._has_nine_digits([longer])  # the prefilter lets them through to the scan
    records = read_extract_file(_police_file(tmp_path, longer), load_contracts()["politie_jeugdverdachten"])
    assert [row[-1] for row in records.rows] == longer


def _bsn(rng: random.Random) -> str:
    while True:
        digits = "".join(rng.choice("0123456789") for _ in range(8))
        check = sum(w * int(d) for w, d in zip(range(9, 1, -1), digits)) % 11
        if check < 10 and passes_eleven_test(digits + str(check)):
            return digits + str(check)


def _cell(rng: random.Random, kind: str) -> str:
    number = "".join(rng.choice("0123456789") for _ in range(rng.choice([4, 8, 9, 10])))
    return {"bsn": _bsn(rng), "digits": number, "text": rng.choice(["", " ", "BU0363", "12,5", "."])}[kind]


def _sample(rng: random.Random, width: int = 4) -> list[list[str]]:
    """Rows whose columns each hold mostly one kind of cell: BSNs, numbers of 4 to 10 digits, or text."""
    kinds = [rng.choice(["bsn", "digits", "text"]) for _ in range(width)]
    return [[_cell(rng, kind if rng.random() < 0.8 else "text") for kind in kinds] for _ in range(rng.randint(0, 12))]


@pytest.mark.parametrize("seed", range(10))
def test_the_prefilter_changes_no_outcome(seed, monkeypatch):
    rng = random.Random(seed)
    header = ["a", "b", "c", "d"]
    samples = [_sample(rng) for _ in range(60)]
    outcomes = [identifier_column_problem(header, rows) for rows in samples]
    monkeypatch.setattr(personal_data, "_has_nine_digits", lambda sample: True)
    assert [identifier_column_problem(header, rows) for rows in samples] == outcomes
    assert any(outcomes) and not all(outcomes)
