"""Charts drawn on the server as SVG: trend lines and bars per rep. No script and no style
attribute (the CSP): colours come from app.css's classes (Okabe–Ito, light and dark), and each
series has its own pattern and marker too, so nothing is told by colour alone.

A chart is a picture of the table beside it: hidden from screen readers (aria-hidden), its bars'
links out of the tab order (the table's rows carry the same links). The viewBox is a phone's
width, so its text is read at about its own size at 390 px and scales up on a desk.
"""

from markupsafe import Markup, escape

WIDTH = 360
# Each series' look: a CSS class for the colour, a pattern (bars) and a marker (lines).
SERIES = 4
MARKERS = ("circle", "square", "triangle", "diamond")
DASHES = ("", "6 3", "2 3", "8 3 2 3")
LEFT, BAR_HEIGHT, ROW = 112, 14, 22
MOST_MARKERS = 26


def _attrs(**values):
    return "".join(f' {k.rstrip("_").replace("_", "-")}="{escape(v)}"' for k, v in values.items())


def _tag(name, content="", **values):
    return f"<{name}{_attrs(**values)}>{content}</{name}>"


def _svg(height, body, chart_id):
    """The chart's <svg>, with each series' pattern defined under `chart_id`."""
    patterns = "".join(_pattern(chart_id, n) for n in range(SERIES))
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" aria-hidden="true" '
        f'focusable="false" preserveAspectRatio="xMinYMin meet"><defs>{patterns}</defs>'
        f"{body}</svg>"
    )


def _pattern(chart_id, n):
    """Series n's fill: plain, hatched, dotted, cross-hatched; in its colour."""
    marks = (
        "",
        '<path d="M0 6L6 0" class="mark"/>',
        '<circle cx="3" cy="3" r="1.2" class="dot"/>',
        '<path d="M0 3H6M3 0V6" class="mark"/>',
    )[n]
    return (
        f'<pattern id="{chart_id}-p{n}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" class="s{n}"/>{marks}</pattern>'
    )


def _clip(text, most=18):
    return text if len(text) <= most else text[: most - 1] + "…"


def bars(chart_id, rows, legend, most=None, unit=""):
    """Horizontal bars, one per row: `rows` holds (label, [value per series, stacked], href,
    words shown at the bar's end); `legend` names the series."""
    values = [sum(v or 0 for v in row[1]) for row in rows]
    most = most or max(values, default=0) or 1
    span = WIDTH - LEFT - 76  # room for the words after the longest bar
    top = 28 if len(legend) > 1 else 6
    body = [_legend(chart_id, legend)] if len(legend) > 1 else []
    for n, (label, parts, href, words) in enumerate(rows):
        y = top + n * ROW
        x, pieces = LEFT, []
        for s, value in enumerate(parts):
            width = span * (value or 0) / most
            if width > 0:
                pieces.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                    f'fill="url(#{chart_id}-p{s})" class="bar s{s}-edge"/>'
                )
            x += width
        text = (
            _tag("text", escape(_clip(label)), x=LEFT - 6, y=y + 11, class_="label end")
            + "".join(pieces)
            + _tag("text", escape(words), x=f"{x + 4:.1f}", y=y + 11, class_="value")
        )
        body.append(_tag("a", text, href=href, tabindex="-1") if href else text)
    axis = (
        f'<line x1="{LEFT}" y1="{top - 2}" x2="{LEFT}" y2="{top + len(rows) * ROW}" class="axis"/>'
    )
    return _svg(top + len(rows) * ROW + 4, "".join(body) + axis, chart_id)


def _legend(chart_id, names, lines=False):
    """The series' names, each after its swatch: a patterned box, or a stretch of its line."""
    out, x = [], 4
    for s, name in enumerate(names):
        if lines:
            out.append(_polyline(s, [(x, 12), (x + 18, 12)]) + _marker(s, x + 9, 12))
        else:
            out.append(f'<rect x="{x}" y="6" width="14" height="12" '
                       f'fill="url(#{chart_id}-p{s})" class="s{s}-edge"/>')  # fmt: skip
        out.append(_tag("text", escape(name), x=x + 22, y=16, class_="legend"))
        x += 30 + 6 * len(name)
    return "".join(out)


def _polyline(s, run):
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
    dash = DASHES[s % len(DASHES)]
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{points}" class="line s{s}-line"{dashed}/>'


def _marker(s, x, y):
    shape = MARKERS[s % len(MARKERS)]
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="s{s}"/>'
    if shape == "square":
        return f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" class="s{s}"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 4:.1f}l4 7h-8z" class="s{s}"/>'
    return f'<path d="M{x:.1f} {y - 4:.1f}l4 4-4 4-4-4z" class="s{s}"/>'


def lines(chart_id, labels, series, most=None, unit=""):
    """A trend: `labels` the x axis (a week each), `series` (name, [value or None per week]);
    a week with nothing to measure is a gap in its line."""
    height, top, bottom, left, right = 190, 28, 160, 34, WIDTH - 8
    found = [v for _, values in series for v in values if v is not None]
    most = most or max(found, default=0) or 1
    step = (right - left) / max(len(labels) - 1, 1)

    def y_of(value):
        return bottom - (bottom - top) * value / most

    body = [_legend(chart_id, [name for name, _ in series], lines=True)] if len(series) > 1 else []
    for tick in (0, most / 2, most):
        y = y_of(tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>')
        body.append(
            _tag("text", f"{tick:g}{unit}", x=left - 4, y=f"{y + 4:.1f}", class_="label end")
        )
    every = max(1, round(len(labels) / 6))
    for n, label in enumerate(labels):
        if n % every == 0 and (len(labels) - 1 - n >= every / 2 or n == len(labels) - 1):
            x = left + n * step
            body.append(
                _tag("text", escape(label), x=f"{x:.1f}", y=bottom + 16, class_="label mid")
            )
    for s, (_name, values) in enumerate(series):
        run = []
        for n, value in enumerate([*values, None]):
            if value is not None:
                run.append((left + n * step, y_of(value)))
                continue
            if len(run) > 1:
                body.append(_polyline(s, run))
            # Markers where they stay apart (a year's 52 weeks are too close on a phone).
            if len(labels) <= MOST_MARKERS or len(run) == 1:
                body.extend(_marker(s, x, y) for x, y in run)
            run = []
    return _svg(height, "".join(body), chart_id)
