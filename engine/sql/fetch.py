"""Reading a large result as numpy columns: DuckDB hands the columns over natively (no Python row per result
row), other dialects row by row. The segment search reads one row per membership mask: 600k at L."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, Select


def numpy_columns(conn: Connection, stmt: Select) -> list[np.ndarray]:
    """The result's columns, in select order, as numpy arrays (NULLs are not expected)."""
    result = conn.execute(stmt)
    if conn.dialect.name == "duckdb":
        try:
            cols = result.cursor.fetchnumpy()
        except (AttributeError, NotImplementedError):  # a driver without it: the rows below
            pass
        else:
            result.close()
            return [np.asarray(col) for col in cols.values()]
    rows = result.all()
    if not rows:
        return [np.zeros(0) for _ in stmt.selected_columns]
    return [np.array(col) for col in zip(*rows, strict=True)]
