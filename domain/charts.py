"""Small SVG bar charts for the oversight report, written by hand: no plotting library.

A chart is a string of SVG that embeds straight into HTML. It reads without the picture too:
`chart_figure` puts it in a figure with its caption, a sentence saying what it shows (the
chart's description, `aria-describedby`) and a table of the same figures beside it; each bar
also carries its label and value as a tooltip (`<title>`).
"""

from __future__ import annotations

from html import escape

from domain.document_html import table

WIDTH = 640
HEIGHT = 240
_TOP = 30  # room for the title
_BOTTOM = 30  # room for the labels
_LEFT = 36  # room for the scale
_GAP = 6


def chart_figure(
    chart_id: str,
    title: str,
    bars: list[tuple[str, int]],
    headers: tuple[str, str],
    colour: str = "#2b6cb0",
) -> str:
    """The chart with its caption, its text alternative and its figures as a table."""
    summary_id = f"{chart_id}-summary"
    return (
        f'<figure class="chart" id="{escape(chart_id)}"><figcaption>{escape(title)}</figcaption>'
        f'<p class="chart-summary" id="{escape(summary_id)}">'
        f"{escape(summary(bars, headers[0].lower() + 's'))}</p>"
        f"{bar_chart(title, bars, colour, described_by=summary_id)}"
        f"{table(list(headers), [[label, n] for label, n in bars], title)}"
        "</figure>"
    )


def summary(bars: list[tuple[str, int]], bars_are: str = "bars") -> str:
    """The chart in words: its span (`12 months, Jan 26 to Dec 26`), the total, and where it
    is highest."""
    if not bars:
        return "No figures."
    total = sum(value for _, value in bars)
    top_label, top = max(bars, key=lambda bar: bar[1])
    span = f"{len(bars)} {bars_are}, {bars[0][0]} to {bars[-1][0]}"
    if not total:
        return f"{span}: none in any."
    return f"{span}: {total} in all; the most, {top}, in {top_label}."


def bar_chart(
    title: str,
    bars: list[tuple[str, int]],
    colour: str = "#2b6cb0",
    described_by: str | None = None,
) -> str:
    """One bar per (label, value), scaled to the largest value; values are counts (>= 0)."""
    if any(value < 0 for _, value in bars):
        raise ValueError("bar_chart: values are counts and may not be negative")
    top = max((value for _, value in bars), default=0)
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = (WIDTH - _LEFT) / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        f"{_described(described_by)}>",
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="18" font-size="14" font-family="sans-serif">{escape(title)}</text>',
        *_scale(top, plot_height),
    ]
    for index, (label, value) in enumerate(bars):
        height = 0.0 if top == 0 else plot_height * value / top
        x = _LEFT + index * slot + _GAP / 2
        parts.append(_bar(label, value, x, slot - _GAP, height, colour))
    parts.append("</svg>")
    return "".join(parts)


def _described(described_by: str | None) -> str:
    return "" if described_by is None else f' aria-describedby="{escape(described_by)}"'


def _scale(top: int, plot_height: int) -> list[str]:
    base = _TOP + plot_height
    return [
        f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#555"/>',
        f'<text x="{_LEFT - 4}" y="{_TOP + 10}" font-size="11" text-anchor="end" '
        f'font-family="sans-serif">{top}</text>',
        f'<text x="{_LEFT - 4}" y="{base}" font-size="11" text-anchor="end" '
        f'font-family="sans-serif">0</text>',
    ]


def _bar(label: str, value: int, x: float, width: float, height: float, colour: str) -> str:
    base = _TOP + (HEIGHT - _TOP - _BOTTOM)
    middle = x + width / 2
    return (
        f'<g class="bar" data-label="{escape(label)}" data-value="{value}">'
        f"<title>{escape(label)}: {value}</title>"
        f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" fill="{escape(colour)}"/>'
        f'<text x="{middle:.1f}" y="{base + 16}" font-size="11" text-anchor="middle" '
        f'font-family="sans-serif">{escape(label)}</text>'
        "</g>"
    )
