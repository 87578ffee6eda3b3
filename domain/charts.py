"""Small SVG bar charts for the oversight report, written by hand: no plotting library.

A chart is a string of SVG that embeds straight into HTML. It reads without the picture too:
it has a title, and each bar carries its label and value as a tooltip (`<title>`), so screen
readers and anyone copying the page get the figures.
"""

from __future__ import annotations

from html import escape

WIDTH = 640
HEIGHT = 240
_TOP = 30  # room for the title
_BOTTOM = 30  # room for the labels
_LEFT = 36  # room for the scale
_GAP = 6


def bar_chart(title: str, bars: list[tuple[str, int]], colour: str = "#2b6cb0") -> str:
    """One bar per (label, value), scaled to the largest value; values are counts (>= 0)."""
    if any(value < 0 for _, value in bars):
        raise ValueError("bar_chart: values are counts and may not be negative")
    top = max((value for _, value in bars), default=0)
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = (WIDTH - _LEFT) / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
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
