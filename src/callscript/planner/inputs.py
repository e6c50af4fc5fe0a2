"""The planner's files: customers and agents (CSV or Parquet), earlier calls (JSON Lines or
Parquet), the worklist and the rejects out (CSV, Parquet or JSON).

Every refusal names the file and what is wrong (a column, a line), never a value.
Records come from a ``RecordSource``: a function of the look-back start, so the
service's database can stand in for a file (it can push the date filter down).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from callscript.errors import CallscriptError

LINE = "__line"
RECORD_COLUMNS = ("customer_ref", "flow", "disposition", "ended_at")
AGENT_COLUMNS = ("agent_id", "name", "phone", "max_calls")

RecordSource = Callable[[datetime], pl.LazyFrame]
"""Earlier calls that ended at or after the given moment: customer_ref, flow, disposition,
ended_at (datetime, UTC), follow_ups (list of struct kind, due: text, ISO 8601, a day
``2026-12-01`` or an agreed time with its offset ``2026-12-01T15:00:00+08:00``)."""


class InputError(CallscriptError):
    """An input file cannot be used as it is."""


def _check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 (a GBK billing export is common), naming the line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                line += chunk[: err.start].count(b"\n")
                raise InputError(
                    f"{path}:{line}: not UTF-8 text (a GBK export?); convert it first, e.g. "
                    f"iconv -f GBK -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix}") from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(f"{path}: ends in the middle of a UTF-8 character") from None


def read_table(path: Path, what: str) -> pl.DataFrame:
    """A CSV or Parquet file as text columns, with each row's line (CSV) or row number."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if suffix == ".parquet":
        frame = pl.read_parquet(path)
        frame = frame.select(pl.all().cast(pl.String)).with_row_index(LINE, offset=1)
    elif suffix in (".csv", ".txt"):
        _check_utf8(path)
        try:  # every cell as text: the planner checks types itself, with line and field
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
        except pl.exceptions.PolarsError as err:
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise InputError(f"{path}: not a readable CSV file ({first[:120]})") from None
        frame = frame.with_row_index(LINE, offset=2)  # line 1 is the header
    else:
        raise InputError(f"{path}: {what} must be .csv or .parquet")
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64))
    return frame.rename({c: c.strip().lstrip("\ufeff") for c in frame.columns})


def require_columns(frame: pl.DataFrame, columns: Sequence[str], path: str | Path, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: the {what} file has no column {', '.join(repr(c) for c in missing)}"
                         f" (columns needed: {', '.join(columns)})")


def refuse_duplicates(frame: pl.DataFrame, key: str, path: str | Path) -> None:
    dupes = frame.filter(pl.col(key).is_not_null() & pl.col(key).is_duplicated())
    if dupes.height:
        lines = dupes.get_column(LINE).head(5).to_list()
        raise InputError(f"{path}: {dupes.height} rows share a {key} with another row "
                         f"(lines {', '.join(map(str, lines))}{', …' if dupes.height > 5 else ''}); "
                         f"each customer is listed once")


def read_agents(path: Path) -> pl.DataFrame:
    """agent_id, name, phone (text, checked by the planner against the schema) and max_calls."""
    frame = read_table(path, "the agents file")
    require_columns(frame, AGENT_COLUMNS, path, "agents")
    frame = frame.with_columns(pl.col(c).str.strip_chars() for c in AGENT_COLUMNS)
    refuse_duplicates(frame, "agent_id", path)
    capacity = pl.col("max_calls").str.to_integer(strict=False)
    bad = frame.filter(pl.col("agent_id").is_null() | (pl.col("agent_id") == "") | capacity.is_null()
                       | (capacity < 0))
    if bad.height:
        raise InputError(f"{path}:{bad.get_column(LINE)[0]}: every agent needs an agent_id and "
                         "max_calls (a whole number, 0 or more)")
    return frame.select(LINE, "agent_id", "name", "phone", capacity.alias("max_calls"))


_FOLLOW_UP = pl.Struct({"kind": pl.String, "due": pl.String})
# follow_ups read as JSON text and decoded apart: Polars' NDJSON reader is several times
# slower with a nested list-of-struct schema than with a string column
_RECORD_SCHEMA = {"customer_ref": pl.String, "flow": pl.String, "disposition": pl.String,
                  "ended_at": pl.String, "follow_ups": pl.String}


def parse_instant(text: pl.Expr) -> pl.Expr:
    """ISO 8601 date-times with an offset (``+08:00``, ``Z``) as UTC; anything else null.

    Explicit formats: Polars would otherwise guess one format from the first value
    and turn every value written differently into null.
    """
    return pl.coalesce(text.str.to_datetime(fmt, strict=False, time_zone="UTC")
                       for fmt in ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"))


def _normalise_records(frame: pl.LazyFrame) -> pl.LazyFrame:
    """ended_at to UTC; follow-ups stay text (history parses them after exploding, which is
    much faster than parsing inside lists)."""
    return frame.select(
        pl.col("customer_ref").cast(pl.String), pl.col("flow").cast(pl.String),
        pl.col("disposition").cast(pl.String),
        parse_instant(pl.col("ended_at")).alias("ended_at"), pl.col("follow_ups"))


def _iso_text(dtype: pl.DataType, where: str | Path) -> pl.Expr:
    """ended_at as ISO 8601 text: as it is, or from an aware datetime column."""
    if dtype == pl.String:
        return pl.col("ended_at")
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return pl.col("ended_at").dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.f%:z")
    raise InputError(f"{where}: ended_at must be ISO 8601 text or a date-time with a time zone")


def records_from_file(path: Path) -> RecordSource:
    """Earlier calls from a JSON Lines or Parquet export, one compact row per call."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if suffix not in (".jsonl", ".ndjson", ".parquet"):
        raise InputError(f"{path}: records must be .jsonl or .parquet")
    if suffix != ".parquet":
        _check_utf8(path)

    def read(since: datetime) -> pl.LazyFrame:
        if suffix == ".parquet":
            lazy = pl.scan_parquet(path)
            names = lazy.collect_schema().names()
            missing = [c for c in RECORD_COLUMNS if c not in names]
            if missing:
                raise InputError(f"{path}: the records file has no column {', '.join(missing)}")
            if "follow_ups" not in names:
                lazy = lazy.with_columns(pl.lit(None, dtype=pl.List(_FOLLOW_UP)).alias("follow_ups"))
            lazy = lazy.with_columns(_iso_text(lazy.collect_schema()["ended_at"], path),
                                     pl.col("follow_ups").cast(pl.List(_FOLLOW_UP)))
        else:
            lazy = pl.scan_ndjson(path, schema=_RECORD_SCHEMA).with_columns(
                pl.col("follow_ups").str.json_decode(pl.List(_FOLLOW_UP)))
        typed = _normalise_records(lazy)
        # unreadable times stay, for check_records to refuse
        return typed.filter((pl.col("ended_at") >= since) | pl.col("ended_at").is_null())

    return read


def records_from_frame(frame: pl.DataFrame) -> RecordSource:
    """Earlier calls already in memory (a database query's result): the same columns as the
    export, ended_at as ISO 8601 text or an aware datetime."""
    if "follow_ups" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.List(_FOLLOW_UP)).alias("follow_ups"))
    frame = frame.with_columns(_iso_text(frame.schema["ended_at"], "records"))

    def read(since: datetime) -> pl.LazyFrame:
        typed = _normalise_records(frame.lazy().with_columns(pl.col("follow_ups").cast(pl.List(_FOLLOW_UP))))
        return typed.filter((pl.col("ended_at") >= since) | pl.col("ended_at").is_null())

    return read


def check_records(records: pl.DataFrame, path: str) -> None:
    """Refuse records without a customer, flow, disposition or a readable ended_at."""
    bad = records.filter(pl.any_horizontal(pl.col(c).is_null() for c in RECORD_COLUMNS))
    if bad.height:
        raise InputError(f"{path}: {bad.height} records lack customer_ref, flow, disposition or an "
                         "ISO 8601 ended_at with its offset")


def write_frame(frame: pl.DataFrame, path: Path) -> None:
    """CSV, Parquet or JSON (an array of rows), by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.write_csv(path)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix == ".json":
        frame.write_json(path)
    else:
        raise InputError(f"{path}: the output must be .csv, .parquet or .json")
