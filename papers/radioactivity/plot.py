#!/usr/bin/env python3
"""Draws the CSV results of papers/radioactivity/experiment.py as SVG, next to them. Standard
library only.
  log10p_vs_rho.svg     -log10 p against rho, one panel per (delta, h), closed and reading modes
  log10p_vs_scored.svg  -log10 p against scored tuples at rho 5% and 10%, with the planner's
                        expectation from the closed-mode pilot (10% of the queries)
  null_pvalues.svg      empirical distribution of the p-values at rho = 0 over many keys
Usage: python3 papers/radioactivity/plot.py"""
import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from uniformity import log_upper_tail  # noqa: E402

CONFIGS = [(3, 1), (2, 1), (3, 2), (2, 2)]
COLORS = {"closed": "#1f77b4", "closed long": "#9467bd", "supervised": "#d62728", "unseen": "#2ca02c",
          "plan": "#555555"}


def rows(name):
    path = HERE / name
    return list(csv.DictReader(open(path))) if path.exists() else []


class Svg:
    def __init__(self, width, height):
        self.width, self.height = width, height
        self.parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                      f'font-family="sans-serif" font-size="11">', f'<rect width="{width}" height="{height}" fill="white"/>']

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, anchor="start", color="black", rotate=False, size=None):
        extra = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
        fs = f' font-size="{size}"' if size else ""
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}"{extra}{fs}>{s}</text>')

    def line(self, x1, y1, x2, y2, color="#ddd", dash=None, width=1):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"{d}/>')

    def polyline(self, points, color, dash=None, width=2):
        if not points:
            return
        d = f' stroke-dasharray="{dash}"' if dash else ""
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.add(f'<polyline points="{p}" fill="none" stroke="{color}" stroke-width="{width}"{d}/>')

    def save(self, name):
        (HERE / name).write_text("\n".join(self.parts + ["</svg>"]) + "\n")


class Panel:
    """A plotting area: x linear or log10, y = -log10 p on a log10(1 + v) scale up to 10^decades."""

    def __init__(self, svg, x0, y0, w, h, xmin, xmax, xlog, decades, title):
        self.svg, self.x0, self.y0, self.w, self.h = svg, x0, y0, w, h
        self.xmin, self.xmax, self.xlog, self.decades = xmin, xmax, xlog, decades
        svg.text(x0 + w / 2, y0 - 8, title, anchor="middle", size=12)
        svg.add(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
        for k in range(decades + 1):
            v = 10 ** k - 1
            y = self.y(v)
            svg.line(x0, y, x0 + w, y)
            svg.text(x0 - 4, y + 4, f"{v:,}", anchor="end")
        y3 = self.y(3)
        svg.line(x0, y3, x0 + w, y3, color="#999", dash="4 3")
        svg.text(x0 + w - 2, y3 - 3, "p = 1e-3", anchor="end", color="#666", size=9)

    def x(self, v):
        if self.xlog:
            return self.x0 + self.w * (math.log10(v) - math.log10(self.xmin)) / (math.log10(self.xmax) - math.log10(self.xmin))
        return self.x0 + self.w * (v - self.xmin) / (self.xmax - self.xmin)

    def y(self, v):
        return self.y0 + self.h * (1 - math.log10(1 + max(0.0, v)) / self.decades)


def rho_plot():
    svg = Svg(920, 660)
    labels = [("closed", "closed_log10_p", "closed mode (200 queries, prompt windows excluded)"),
              ("supervised", "read_log10_p", "reading the texts it trained on"),
              ("unseen", "unseen_log10_p", "reading unseen watermarked texts")]
    for i, (delta, h) in enumerate(CONFIGS):
        data = rows(f"results_delta{delta}_h{h}.csv")
        if not data:
            continue
        x0, y0 = 80 + (i % 2) * 440, 66 + (i // 2) * 280
        panel = Panel(svg, x0, y0, 360, 200, 0, len(data) - 1, False, 4, f"delta = {delta}, h = {h}")
        for j, r in enumerate(data):
            svg.text(panel.x(j), y0 + 214, f"{float(r['rho']) * 100:g}%", anchor="middle")
        for key, column, _ in labels:
            pts = [(panel.x(j), panel.y(-float(r[column]))) for j, r in enumerate(data)]
            svg.polyline(pts, COLORS[key])
            for x, y in pts:
                svg.add(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{COLORS[key]}"/>')
        svg.text(x0 + 180, y0 + 232, "share of watermarked training text (rho)", anchor="middle")
        svg.text(x0 - 52, y0 + 100, "-log10 p", anchor="middle", rotate=True)
    for n, (key, _, label) in enumerate(labels):
        x, y = 80 + (n % 2) * 440, 16 + (n // 2) * 16
        svg.line(x, y - 4, x + 24, y - 4, color=COLORS[key], width=2)
        svg.text(x + 30, y, label)
    svg.save("log10p_vs_rho.svg")


def expected_curve(share, n_max):
    """The planner's expectation: -log10 P(Bin(n, gamma) >= floor(share n)) at n up to n_max."""
    pts, n = [], 100
    while n <= n_max:
        pts.append((n, -log_upper_tail(n, math.floor(share * n), 0.25) / math.log(10)))
        n = int(n * 1.25) + 1
    return pts


def scored_plot():
    svg = Svg(920, 670)
    for i, (delta, h) in enumerate(CONFIGS):
        data = rows(f"curves_delta{delta}_h{h}.csv")
        if not data:
            continue
        x0, y0 = 80 + (i % 2) * 440, 66 + (i // 2) * 280
        xmax = max(int(r["scored"]) for r in data)
        panel = Panel(svg, x0, y0, 360, 200, 100, xmax, True, 4, f"delta = {delta}, h = {h}")
        for k in range(2, 7):
            if 100 <= 10 ** k <= xmax:
                x = panel.x(10 ** k)
                svg.line(x, y0, x, y0 + 200)
                svg.text(x, y0 + 214, f"{10 ** k:,}", anchor="middle")
        svg.text(x0 + 180, y0 + 232, "scored tuples", anchor="middle")
        svg.text(x0 - 52, y0 + 100, "-log10 p", anchor="middle", rotate=True)
        for (rho, mode), color, dash in [
                (("0.05", "closed (1000 queries)"), COLORS["closed long"], None),
                (("0.10", "closed (200 queries)"), COLORS["closed"], "5 3"),
                (("0.05", "reading, supervised"), COLORS["supervised"], None),
                (("0.10", "reading, supervised"), COLORS["supervised"], "5 3"),
                (("0.05", "reading, unseen"), COLORS["unseen"], None),
                (("0.10", "reading, unseen"), COLORS["unseen"], "5 3")]:
            pts = [(panel.x(int(r["scored"])), panel.y(float(r["minus_log10_p"]))) for r in data
                   if r["rho"] == rho and r["mode"] == mode and int(r["scored"]) >= 100]
            svg.polyline(pts, color, dash)
        plan = [r for r in rows(f"planner_delta{delta}_h{h}.csv") if r["pilot_queries"] == "100"]
        if plan:
            share = int(plan[0]["pilot_green"]) / int(plan[0]["pilot_scored"])
            full = int(plan[0]["full_scored"])
            pts = [(panel.x(n), panel.y(v)) for n, v in expected_curve(share, full) if share > 0.25]
            svg.polyline(pts, COLORS["plan"], "2 2", width=1.5)
    legend = [("closed, rho 5% (1,000 queries)", COLORS["closed long"], None),
              ("closed, rho 10% (200 queries)", COLORS["closed"], "5 3"),
              ("planner from a 100-query pilot, rho 5%", COLORS["plan"], "2 2"),
              ("reading trained-on texts, rho 5% / 10%", COLORS["supervised"], None),
              ("reading unseen texts, rho 5% / 10%", COLORS["unseen"], None)]
    for n, (label, color, dash) in enumerate(legend):
        x, y = 80 + (n % 3) * 290, 16 + (n // 3) * 16
        svg.line(x, y - 4, x + 24, y - 4, color=color, dash=dash, width=2)
        svg.text(x + 30, y, label)
    svg.text(900, 662, "solid: rho 5%, dashed: rho 10%", anchor="end", color="#666")
    svg.save("log10p_vs_scored.svg")


def null_plot():
    data = rows("null_delta3_h1.csv")
    if not data:
        return
    groups = [("corpus", "tape window+token", "corpus, tape window+token", "#1f77b4", None),
              ("closed", "tape window+token, exclusion on", "closed, window+token, exclusion on", "#d62728", None),
              ("reading", "tape window+token", "reading, window+token", "#2ca02c", None),
              ("closed, echoing suspect", "tape window+token, exclusion off",
               "echoing suspect, exclusion off", "#d62728", "5 3"),
              ("corpus", "tape none", "corpus, tape none", "#1f77b4", "5 3"),
              ("reading", "tape none", "reading, tape none", "#2ca02c", "5 3"),
              ("corpus, prompt + answer", "tape window+token", "corpus = prompt + answer", "#9467bd", "2 2")]
    svg = Svg(720, 470)
    x0, y0, w, h = 70, 30, 360, 360
    svg.add(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for k in range(6):
        v = k / 5
        svg.line(x0 + w * v, y0, x0 + w * v, y0 + h)
        svg.line(x0, y0 + h * (1 - v), x0 + w, y0 + h * (1 - v))
        svg.text(x0 + w * v, y0 + h + 14, f"{v:g}", anchor="middle")
        svg.text(x0 - 4, y0 + h * (1 - v) + 4, f"{v:g}", anchor="end")
    svg.line(x0, y0 + h, x0 + w, y0, color="#333", dash="3 3")
    svg.text(x0 + w / 2, y0 + h + 32, "randomised p-value", anchor="middle")
    svg.text(x0 - 40, y0 + h / 2, "share of keys at or below", anchor="middle", rotate=True)
    keys = len({r["key"] for r in data})
    svg.text(x0 + w / 2, 18, f"rho = 0, delta = 3, h = 1: p-values of {keys} keys", anchor="middle", size=12)
    for n, (mode, variant, label, color, dash) in enumerate(groups):
        ps = sorted(float(r["p_randomised"]) for r in data if r["mode"] == mode and r["variant"] == variant)
        if not ps:
            continue
        pts = [(x0, y0 + h)]
        for i, p in enumerate(ps):
            pts += [(x0 + w * p, y0 + h * (1 - i / len(ps))), (x0 + w * p, y0 + h * (1 - (i + 1) / len(ps)))]
        pts.append((x0 + w, y0))
        svg.polyline(pts, color, dash, width=1.5)
        svg.line(450, 50 + 18 * n, 474, 50 + 18 * n, color=color, dash=dash, width=2)
        svg.text(480, 54 + 18 * n, label, size=10)
    svg.save("null_pvalues.svg")


if __name__ == "__main__":
    rho_plot()
    scored_plot()
    null_plot()
