"""The in-memory model of a loaded extract: its tables, metadata and data-quality warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from soredi_nb import schema

ROW = "excel_row"
"""Column added to every table: the row number as the user sees it in Excel (or the CSV line)."""


@dataclass(frozen=True)
class Problem:
    """A data-quality finding or error, located as the user sees it.

    Attributes
    ----------
    sheet : str or None
        Sheet name (or CSV file name); ``None`` for the workbook as a whole.
    row : int or None
        Excel row number (1-based, as shown in Excel); ``None`` for a whole sheet or column.
    column : str or None
        The column header as written in the workbook.
    value : str or None
        The offending value, as text.
    message : str
        Danish explanation: what is wrong and what it means for the report.
    """

    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    message: str

    def to_dict(self) -> dict:
        """The JSON shape: ``{"sheet", "row", "column", "value", "message"}``."""
        return asdict(self)


@dataclass(frozen=True)
class ExtractInfo:
    """Where an extract came from and what period it covers."""

    file: str
    sha256: str
    period: str | None = None
    """Reporting month ``YYYY-MM`` (the "seneste måned" of tables 6-7), from the Info sheet."""
    extract_date: dt.date | None = None
    aliases: str | None = field(default=None, compare=False)
    """The alias file (``--aliases``) it was read with, as an absolute path."""
    use_cache: bool = field(default=True, compare=False)
    """Whether it was read with the parse cache (``--no-cache`` is ``False``)."""

    @property
    def reference_date(self) -> dt.date | None:
        """The day ages are counted from: the extract date, else the period's last day.

        Never the day a report is made: a report must say the same whenever it is read.
        """
        if self.extract_date is not None:
            return self.extract_date
        if self.period:
            year, month = (int(p) for p in self.period.split("-"))
            return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
        return None

    def to_dict(self) -> dict:
        """The JSON shape: ``{"file", "sha256", "period", "extract_date"}``."""
        date = self.extract_date.isoformat() if self.extract_date else None
        return {"file": self.file, "sha256": self.sha256, "period": self.period} | {
            "extract_date": date
        }


@dataclass
class Extract:
    """A loaded SOR-EDI quality extract.

    Attributes
    ----------
    info : ExtractInfo
        File, content hash, period and extract date.
    tables : dict[int, pandas.DataFrame]
        The tables present in the extract, by number (1-7). Columns are the canonical names
        of ``schema.table(n).columns`` (always all of them; missing ones are all-NA), then
        ``excel_row``, then any unknown columns under their own header. Location numbers and
        SOR-IDs are digit text, dates are ``datetime64``, counts are nullable ``Int64``.
    sheets : dict[int, str]
        Sheet (or CSV file) name each present table was read from.
    warnings : list[Problem]
        Data-quality findings collected while loading; nothing was dropped because of them.
    """

    info: ExtractInfo
    tables: dict[int, pd.DataFrame]
    sheets: dict[int, str] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    """Results derived from the tables (owner identities, peer medians), kept for as long as
    the extract is in memory: a render's kernel reuses one extract for all its pages.
    ``dataclasses.replace`` (e.g. a filtered extract) starts with an empty memo."""

    @property
    def path(self) -> Path:
        """The file or folder the extract was read from."""
        return Path(self.info.file)

    @property
    def missing(self) -> list[int]:
        """Numbers of the tables not present in the extract."""
        return [n for n in schema.TABLE_NUMBERS if n not in self.tables]

    def table(self, number: int) -> pd.DataFrame | None:
        """The table with this number, or ``None`` if it is missing from the extract."""
        return self.tables.get(number)


_DTYPES = {
    "gln": "str",
    "sor": "str",
    "text": "str",
    "name": "str",
    "date": "datetime64[us]",
    "int": "Int64",
}


def canonical_frame(number: int, df: pd.DataFrame) -> pd.DataFrame:
    """Give a table the canonical shape: every column of the table, typed, then ``excel_row``.

    Columns of ``df`` that are not canonical are kept after ``excel_row``. Missing canonical
    columns become all-NA; a missing ``excel_row`` is numbered as if the header were in row 1.
    Used for frames built in code (sample data, tests); the loader builds the same shape.
    """
    cols = schema.columns()
    wanted = schema.table(number).columns
    out = pd.DataFrame(index=range(len(df)))
    for name in wanted:
        dtype = _DTYPES[cols[name].type]
        values = df[name].to_numpy() if name in df else pd.NA
        out[name] = pd.Series(values, index=out.index).astype(dtype)
    out[ROW] = df[ROW].to_numpy() if ROW in df else range(2, len(df) + 2)
    out[ROW] = out[ROW].astype("int64")
    for extra in df.columns.difference([*wanted, ROW], sort=False):
        out[extra] = df[extra].array
    return out
