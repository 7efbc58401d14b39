"""Refuse extracts that carry personal identifiers: published figures must never identify a person.

A column is refused when its name is a known identifier (BSN, names, birth date, address,
contact details) or when its values look like citizen service numbers (nine digits that pass
the BSN eleven-test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

IDENTIFIER_NAMES = {
    "bsn": "a citizen service number (BSN)",
    "burgerservicenummer": "a citizen service number (BSN)",
    "sofinummer": "a citizen service number (sofinummer)",
    "persoonsnummer": "a person number",
    "clientnummer": "a client number",
    "naam": "a person's name",
    "voornaam": "a person's name",
    "voornamen": "a person's name",
    "achternaam": "a person's name",
    "geslachtsnaam": "a person's name",
    "voorletters": "a person's initials",
    "name": "a person's name",
    "firstname": "a person's name",
    "lastname": "a person's name",
    "surname": "a person's name",
    "fullname": "a person's name",
    "geboortedatum": "a date of birth",
    "dateofbirth": "a date of birth",
    "birthdate": "a date of birth",
    "adres": "a home address",
    "address": "a home address",
    "straat": "a home address",
    "straatnaam": "a home address",
    "huisnummer": "a home address",
    "email": "an e-mail address",
    "emailadres": "an e-mail address",
    "telefoon": "a telephone number",
    "telefoonnummer": "a telephone number",
    "phone": "a telephone number",
}
_NINE_DIGITS = re.compile(r"^\d{9}$")
_NINE_DIGIT_RUN = re.compile(r"\d{9}")


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def passes_eleven_test(value: str) -> bool:
    """The BSN eleven-test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a positive multiple of 11."""
    if not _NINE_DIGITS.match(value):
        return False
    digits = [int(d) for d in value]
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8])) - digits[8]
    return total > 0 and total % 11 == 0


def _has_nine_digits(sample: Sequence[Sequence[str]]) -> bool:
    """Whether any cell of the sample holds nine digits in a row: without one, no column can look like
    BSNs, and the scan column by column is skipped. Only a cell of nine characters or more can hold one;
    those cells are searched as one text, joined by a line end so that no run crosses two cells."""
    long_cells = [cell for row in sample for cell in row if len(cell) >= 9]
    return _NINE_DIGIT_RUN.search("\n".join(long_cells)) is not None


def identifier_column_problem(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str | None:
    """Describe the first column that holds personal identifiers, or None."""
    for name in header:
        kind = IDENTIFIER_NAMES.get(_normalise(name))
        if kind:
            return f"column {name!r} holds {kind}; personal identifiers are refused, remove the column from the export"
    sample = [row for _, row in zip(range(200), rows)]
    if not _has_nine_digits(sample):
        return None
    for position, name in enumerate(header):
        values = [row[position].strip() for row in sample if position < len(row) and row[position].strip()]
        nine = [v for v in values if _NINE_DIGITS.match(v)]
        if len(nine) >= 3 and sum(passes_eleven_test(v) for v in nine) >= 0.8 * len(nine) and len(nine) >= 0.5 * len(values):
            return (
                f"column {name!r} holds values that look like citizen service numbers (BSN, nine digits "
                f"passing the eleven-test); personal identifiers are refused"
            )
    return None
