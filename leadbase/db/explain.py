"""``EXPLAIN`` as a SQLAlchemy construct, so the statement it wraps is compiled through
the engine's statement cache like any other (no fresh compilation per request)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``: one row, the plan as JSON."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement

    @property
    def _all_selected_columns(self) -> tuple[()]:
        # The result (one JSON column) is read by position; there is no column to adapt.
        return ()


@compiles(Explain)
def _compile_explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)
