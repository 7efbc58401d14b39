"""Read generated extracts back the way a user would (pandas, Dutch decimals, '.' missing)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from data_contracts.contract import load_contracts


def read_source(extract_dir: Path, source: str) -> pd.DataFrame:
    contract = load_contracts()[source]
    frames = []
    for path in sorted(extract_dir.glob(contract.file_format.file_name_pattern)):
        frame = pd.read_csv(path, sep=";", decimal=",", na_values=["."], keep_default_na=False, dtype={"Codering_3": str})
        if contract.file_format.year_from_file_name:
            frame["jaar"] = int(path.stem.rsplit("_", 1)[1])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
