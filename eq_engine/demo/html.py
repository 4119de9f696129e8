"""A self-contained HTML report: tables and PNG figures embedded, so it opens offline."""

from __future__ import annotations

import base64
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..io.atomic import atomic_write_text

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.45}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #e4e4e4;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}
th{background:#f4f6f8} td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.4rem .8rem .8rem 0;vertical-align:top}
figure img{max-width:100%;border:1px solid #ddd} figcaption{font-size:.82rem;color:#555}
.note{color:#555;font-size:.9rem} code{background:#f4f4f4;padding:0 .2rem}
"""


def _cell(value) -> str:
    if isinstance(value, float):
        return "–" if not math.isfinite(value) else f"{value:.4g}"
    return "–" if value is None else html.escape(str(value))


@dataclass
class HtmlReport:
    """Build a report section by section, then :meth:`write` it atomically."""

    title: str
    parts: list = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def paragraph(self, text: str, *, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self.parts.append(f"<p{cls}>{html.escape(text)}</p>")

    def table(self, rows: list[dict], *, columns: list[str] | None = None, limit: int = 60) -> None:
        if not rows:
            self.paragraph("(no rows)", note=True)
            return
        columns = columns or list(rows[0])
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>"
            for r in rows[:limit]
        )
        more = f"<p class='note'>… {len(rows) - limit} more rows in the CSV</p>" if len(rows) > limit else ""
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>{more}")

    def figure(self, png: str | os.PathLike, caption: str = "", *, width: int | None = None) -> None:
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        style = f' style="width:{width}px"' if width else ""
        self.parts.append(
            f'<figure><img{style} src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}"
                f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>"
                f"{body}</body></html>")

    def write(self, path: str | os.PathLike) -> Path:
        return atomic_write_text(path, self.render())
