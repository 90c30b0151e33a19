"""Tables that fit the terminal: chosen columns, short headers, one line per row.

A command names its columns (:class:`Column`: row key, header, optional formatter) for the
default view and prints every field with ``--wide``. The default view fits the terminal width
(80 columns when the output is not a terminal): each row stays on one line and the widest
columns, the free text, are cut with "…" until the table fits. ``--wide`` cuts nothing and
lets lines run as long as they need (pipe it to ``less -S``).

Times are shown in UTC: ``HH:MM:SS`` with the date in the title when every time in the table
falls on one day, ``YYYY-MM-DD HH:MM:SS`` otherwise; ``--wide`` keeps them exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

Formatter = Callable[[Any], str]


@dataclass(frozen=True)
class Column:
    key: str
    header: str = ""  # default: the key
    format: Formatter | None = None
    right: bool = False  # right-aligned (columns holding only numbers are, anyway)

    @property
    def title(self) -> str:
        return self.header or self.key


def as_utc(value: Any) -> datetime | None:
    """A datetime (naive = UTC) or ISO-8601 text as an aware UTC datetime; None otherwise."""
    if isinstance(value, str):
        if len(value) < 16 or value[4] != "-" or value[10] not in "T ":
            return None  # only full date-times, never ids that happen to parse
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split())  # one line: newlines in free text would break rows


def _times(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> tuple[set[str], date | None]:
    """The columns that hold times, and the one day they all fall on (or None)."""
    keys: set[str] = set()
    days: set[date] = set()
    for c in columns:
        if c.format is not None:
            continue
        found = [as_utc(r.get(c.key)) for r in rows if r.get(c.key) is not None]
        if found and all(t is not None for t in found):
            keys.add(c.key)
            days.update(t.date() for t in found if t is not None)
    return keys, (days.pop() if len(days) == 1 else None)


def _fit(natural: list[int], minimum: list[int], room: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until the widths fit ``room``."""
    widths = list(natural)
    while sum(widths) > room:
        i = max(range(len(widths)), key=lambda j: (widths[j] > minimum[j], widths[j]))
        if widths[i] <= minimum[i]:
            break  # nothing left to narrow: the terminal is too small, let it wrap
        widths[i] -= 1
    return widths


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column | str] | None = None,
                title: str | None = None, *, wide: bool = False, empty: str | None = None) -> None:
    """Print ``rows`` as a table of ``columns`` (default: every key of the first row).

    ``wide``: exact values, nothing cut. ``empty``: the line printed when there are no rows
    (default: the table's headers with no rows)."""
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cols = [c if isinstance(c, Column) else Column(c) for c in
            (columns if columns is not None else list(rows[0]) if rows else [])]
    console = Console()
    if not rows and empty is not None:
        console.print(Text(f"{title}: {empty}" if title else empty))
        return
    times, day = (set(), None) if wide else _times(rows, cols)

    def show(c: Column, value: Any) -> str:
        if value is None:
            return ""
        if c.format is not None and not wide:
            return c.format(value)
        if c.key in times:
            t = as_utc(value)
            assert t is not None
            return t.strftime("%H:%M:%S" if day else "%Y-%m-%d %H:%M:%S")
        return _cell(value)

    cells = [[show(c, r.get(c.key)) for c in cols] for r in rows]
    if day is not None:
        title = f"{title} · {day.isoformat()} UTC" if title else f"{day.isoformat()} UTC"
    natural = [max([cell_len(c.title), *(cell_len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    gaps = 2 * max(len(cols) - 1, 0)  # two spaces between columns, none at the edges
    if wide:
        widths = natural
        console = Console(width=max(console.width, sum(natural) + gaps))
    else:
        minimum = [min(n, max(cell_len(c.title), 6)) for n, c in zip(natural, cols, strict=True)]
        widths = _fit(natural, minimum, console.width - gaps)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for c, w in zip(cols, widths, strict=True):
        numbers = all(_is_number(r.get(c.key)) for r in rows if r.get(c.key) is not None)
        table.add_column(Text(c.title), width=w, no_wrap=True, overflow="ellipsis",
                         justify="right" if c.right or (rows and numbers) else "left")
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))  # Text: a "[tag]" in data is not markup
    if title:  # above the table, not in it: a title wider than a narrow table stays one line
        console.print(Text(title))
    console.print(table)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
