"""PostgreSQL's binary COPY for pandas frames: frames and column names in, rows in a table out.

What it is: an encoder of the binary COPY format built with numpy (`copy_data`: columns in,
bytes out, no Python loop per row) and the writer that streams frames into a model's table
inside the current transaction (`copy_frames`). Binary, because formatting millions of floats as
text costs more than the rest of a recompute; floats go over as IEEE doubles, not a bit lost.

What it is not: it knows nothing of results, peer groups or scopes (the callers in `writing`
decide what the frames hold), and it has no fallback for other databases — the caller checks
the vendor (`writing._insert` uses bulk_create elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from django.db import connection
from psycopg.copy import LibpqWriter, QueuedLibpqWriter
from psycopg.types.json import Jsonb

# Django column types -> the names psycopg's binary COPY dumpers know.
_COPY_TYPES = {
    "double precision": "float8",
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "text": "text",
    "jsonb": "jsonb",
}


def _column_values(series: pd.Series, copy_type: str) -> list:
    """One column as Python values with None for missing (binary COPY writes NaN as NaN)."""
    if copy_type == "float8":
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
        values = array.astype(object)
        values[np.isnan(array)] = None
        return values.tolist()
    if copy_type in ("int2", "int4", "int8"):
        present = series.notna().to_numpy()
        array = series.to_numpy(dtype=np.float64, na_value=np.nan) if not present.all() else series.to_numpy()
        values = np.full(len(series), None, dtype=object)
        values[present] = array[present].astype(np.int64).tolist()
        return values.tolist()
    if copy_type == "jsonb":
        return [None if value is None else Jsonb(value) for value in series.tolist()]
    return series.astype(object).where(series.notna(), None).tolist()


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_COPY_WIDTHS = {"float8": 8, "int8": 8, "int4": 4, "int2": 2, "bool": 1, "timestamptz": 8}
# Rows encoded at a time: bounds the memory of the byte matrix (rows x widest row).
_COPY_CHUNK_ROWS = 50_000
_PG_EPOCH_MICROSECONDS = 946_684_800_000_000  # 2000-01-01 UTC in microseconds since 1970


_BIG_ENDIAN = {"float8": ">f8", "int8": ">i8", "int4": ">i4", "int2": ">i2", "bool": "u1", "timestamptz": ">i8"}


def _copy_cells(series: pd.Series, copy_type: str) -> tuple[np.ndarray, np.ndarray, int]:
    """One column's cells of the binary COPY format.

    A cell is its length as a big-endian int32 (-1 for NULL) then its bytes. Returns the payload
    bytes (rows x widest payload), each row's length (-1 for NULL) and the widest payload.
    NaN / None / NA are NULL, as psycopg's write_row made them.
    """
    size = len(series)
    present = series.notna().to_numpy()
    if copy_type in ("text", "varchar"):
        codes, uniques = pd.factorize(series.where(present, None), use_na_sentinel=True)
        encoded = [str(value).encode() for value in uniques]
        longest = max((len(value) for value in encoded), default=0)
        table = np.zeros((len(encoded) + 1, longest), dtype=np.uint8)  # last row: NULL
        for position, value in enumerate(encoded):
            table[position, : len(value)] = np.frombuffer(value, dtype=np.uint8)
        widths = np.array([len(value) for value in encoded] + [-1], dtype=np.int64)
        codes = np.where(codes < 0, len(encoded), codes)
        return table[codes], widths[codes], longest
    width = _COPY_WIDTHS[copy_type]
    if copy_type == "float8":
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif copy_type == "bool":
        numbers = series.where(present, False).to_numpy(dtype=bool)
    elif copy_type == "timestamptz":
        stamps = pd.to_datetime(series, utc=True).dt.as_unit("us")
        numbers = stamps.astype("int64").to_numpy() - _PG_EPOCH_MICROSECONDS
    else:
        numbers = series.to_numpy(dtype=np.int64, na_value=0)
    payload = np.ascontiguousarray(numbers.astype(_BIG_ENDIAN[copy_type])).view(np.uint8).reshape(size, width)
    lengths = np.where(present, width, -1) if not present.all() else np.full(size, width, dtype=np.int64)
    return payload, lengths, width


def copy_data(columns: list[tuple[pd.Series, str]]) -> Iterable[bytes]:
    """The rows of the binary COPY format, in chunks, built with numpy (no Python loop per row).

    Each chunk is a (rows x widest row) byte matrix of every column's cells side by side and a
    mask of the bytes that are real (a NULL or a shorter text uses fewer than the widest); the
    masked matrix, read row by row, is the COPY stream.
    """
    size = len(columns[0][0]) if columns else 0
    field_count = np.array([len(columns)], dtype=">i2").view(np.uint8)
    for begin in range(0, size, _COPY_CHUNK_ROWS):
        stop = min(begin + _COPY_CHUNK_ROWS, size)
        rows = stop - begin
        cells = [_copy_cells(series.iloc[begin:stop], copy_type) for series, copy_type in columns]
        matrix = np.empty((rows, 2 + sum(4 + width for _payload, _lengths, width in cells)), dtype=np.uint8)
        keep = np.ones(matrix.shape, dtype=bool)
        matrix[:, :2] = field_count
        offset = 2
        for payload, lengths, width in cells:
            matrix[:, offset : offset + 4] = lengths.astype(">i4").view(np.uint8).reshape(rows, 4)
            start = offset + 4
            if width:
                matrix[:, start : start + width] = payload
                short = lengths < width
                if short.any():
                    keep[short, start : start + width] = np.arange(width)[np.newaxis, :] < lengths[short, np.newaxis]
            offset = start + width
        yield matrix[keep].tobytes()


def _copy_types(model, names: Sequence[str]) -> tuple[list, list[str]]:
    model_fields = [model._meta.get_field(name.removesuffix("_id")) for name in names]
    types = []
    for model_field in model_fields:
        db_type = (
            model_field.target_field.rel_db_type(connection)
            if model_field.is_relation
            else model_field.db_type(connection)
        )
        types.append("varchar" if db_type.startswith("varchar") else _COPY_TYPES[db_type])
    return model_fields, types


def copy_frames(
    model, frames: Iterable[pd.DataFrame], columns: Sequence[str], *, queued: bool = True, table: str | None = None
) -> int:
    """The frames in one binary COPY into ``model``'s table, inside the current transaction.

    ``table``: another table with the model's columns to COPY into (a scope's partition built
    aside, `partitions`); the model's own table when None.

    ``columns``: the frames' columns, named by the model's field attnames. The stream is built with numpy
    (`copy_data`) and sent by psycopg's writer thread, so the server stores one batch while
    the next is computed (the frames may be a generator; it must not query the database: the
    connection is busy with the COPY). Frames with a JSON column go row by row through psycopg.

    ``queued=False``: sent by this thread as it is built, for a single frame — there is no next
    one to compute meanwhile, and the writer thread would wait for the GIL while this thread
    computes whatever follows (the generator's tail), delaying the server by milliseconds.
    """
    model_fields, types = _copy_types(model, list(columns))
    table = connection.ops.quote_name(table or model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model_field.column) for model_field in model_fields)
    statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"  # identifiers: model metadata
    written = 0
    with connection.cursor() as cursor:
        if "jsonb" in types:
            with cursor.cursor.copy(statement) as copy:
                copy.set_types(types)
                for frame in frames:
                    values = [
                        _column_values(frame[name], copy_type) for name, copy_type in zip(columns, types, strict=True)
                    ]
                    for row in zip(*values, strict=True):
                        copy.write_row(row)
                    written += len(frame)
            return written
        writer = QueuedLibpqWriter(cursor.cursor) if queued else LibpqWriter(cursor.cursor)
        with cursor.cursor.copy(statement, writer=writer) as copy:
            copy.write(_COPY_SIGNATURE)
            for frame in frames:
                for chunk in copy_data(
                    [(frame[name], copy_type) for name, copy_type in zip(columns, types, strict=True)]
                ):
                    copy.write(chunk)
                written += len(frame)
            copy.write(_COPY_TRAILER)
    return written
