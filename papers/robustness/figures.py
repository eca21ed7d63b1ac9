#!/usr/bin/env python3
"""Draws the CSV results of papers/robustness/evaluate.cpp as SVG, next to them. Standard library only
(the SVG writer of papers/radioactivity/plot.py).
  detection_vs_length.svg    share detected at p <= 1e-3 (solid) and 1e-6 (dashed) against answer
                             length, one panel per attack at 30% (and none, re-tokenised), one line per scheme
  detection_vs_strength.svg  share detected at p <= 1e-3 against the attack's strength at 200 tokens
                             (dilution: the watermarked share of 1,000 tokens)
  quality_vs_detection.svg   perplexity under the reference model against the median -log10 p at 200
                             tokens, one point per configuration (the detectability/quality front)
Usage: python3 papers/robustness/figures.py"""
import csv
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "radioactivity"))
from plot import Svg  # noqa: E402

SCHEMES = ["kgw d=2", "kgw-selfhash h=3 d=2", "unigram d=2", "gumbel h=3", "synthid m=30", "transformers-kgw d=2"]
COLORS = {"kgw d=2": "#1f77b4", "kgw-selfhash h=3 d=2": "#9467bd", "unigram d=2": "#d62728",
          "gumbel h=3": "#2ca02c", "synthid m=30": "#ff7f0e", "transformers-kgw d=2": "#8c564b", "plain": "#555555"}


def rows(name):
    return list(csv.DictReader(open(HERE / name)))


def save(svg, name):
    (HERE / name).write_text("\n".join(svg.parts + ["</svg>"]) + "\n")


class Panel:
    """x linear or log10; y a share in [0, 1]."""

    def __init__(self, svg, x0, y0, w, h, xs, xlog, title, xlabel):
        self.svg, self.x0, self.y0, self.w, self.h = svg, x0, y0, w, h
        self.xmin, self.xmax, self.xlog = min(xs), max(xs), xlog
        svg.text(x0 + w / 2, y0 - 8, title, anchor="middle", size=12)
        svg.add(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
        for k in range(5):
            y = self.y(k / 4)
            svg.line(x0, y, x0 + w, y)
            svg.text(x0 - 4, y + 4, f"{k / 4:g}", anchor="end")
        for v in xs:
            svg.line(self.x(v), y0, self.x(v), y0 + h)
            svg.text(self.x(v), y0 + h + 14, f"{v:g}", anchor="middle", size=9)
        svg.text(x0 + w / 2, y0 + h + 30, xlabel, anchor="middle")

    def x(self, v):
        if self.xlog:
            return self.x0 + self.w * (math.log10(v) - math.log10(self.xmin)) / (math.log10(self.xmax) - math.log10(self.xmin))
        return self.x0 + self.w * (v - self.xmin) / (self.xmax - self.xmin)

    def y(self, v):
        return self.y0 + self.h * (1 - v)


def legend(svg, y):
    for n, s in enumerate(SCHEMES):
        x = 60 + n * 175
        svg.line(x, y - 4, x + 24, y - 4, color=COLORS[s], width=2)
        svg.text(x + 30, y, s)


def by_length():
    data = rows("attacks.csv")
    panels = [("none", 0.0, "no attack"), ("substitution", 0.3, "30% tokens substituted"),
              ("deletion", 0.3, "30% tokens deleted"), ("insertion", 0.3, "30% tokens inserted"),
              ("resample", 0.3, "30% re-sampled by the plain model"), ("retokenise-qwen3", 0.0, "decoded and re-tokenised")]
    svg = Svg(1000, 640)
    legend(svg, 18)
    svg.text(500, 620, "solid: detected at p <= 1e-3; dashed: at p <= 1e-6 (60 answers per point)", anchor="middle")
    for i, (attack, strength, title) in enumerate(panels):
        x0, y0 = 60 + (i % 3) * 320, 60 + (i // 3) * 290
        sel = [r for r in data if r["attack"] == attack and abs(float(r["strength"]) - strength) < 1e-9]
        lengths = sorted({int(r["length"]) for r in sel})
        panel = Panel(svg, x0, y0, 260, 200, lengths, True, title, "answer length (tokens)")
        for s in SCHEMES:
            pts = sorted((int(r["length"]), float(r["detected_1e-3"]), float(r["detected_1e-6"])) for r in sel if r["scheme"] == s)
            svg.polyline([(panel.x(n), panel.y(a)) for n, a, _ in pts], COLORS[s])
            svg.polyline([(panel.x(n), panel.y(b)) for n, _, b in pts], COLORS[s], dash="4 3", width=1.5)
        svg.text(x0 - 40, y0 + 100, "share detected", anchor="middle", rotate=True)
    save(svg, "detection_vs_length.svg")


def by_strength():
    data = rows("attacks.csv")
    panels = [("substitution", 200, "substitution, 200 tokens"), ("deletion", 200, "deletion, 200 tokens"),
              ("insertion", 200, "insertion, 200 tokens"), ("resample", 200, "re-sampling, 200 tokens"),
              ("dilution", 1000, "dilution into 1,000 plain tokens")]
    svg = Svg(1000, 640)
    legend(svg, 18)
    for i, (attack, length, title) in enumerate(panels):
        x0, y0 = 60 + (i % 3) * 320, 60 + (i // 3) * 290
        sel = [r for r in data if r["attack"] == attack and int(r["length"]) == length]
        strengths = sorted({float(r["strength"]) for r in sel})
        label = "watermarked share" if attack == "dilution" else "share of tokens attacked"
        panel = Panel(svg, x0, y0, 260, 200, strengths, False, title, label)
        for s in SCHEMES:
            pts = sorted((float(r["strength"]), float(r["detected_1e-3"])) for r in sel if r["scheme"] == s)
            svg.polyline([(panel.x(a), panel.y(b)) for a, b in pts], COLORS[s])
        svg.text(x0 - 40, y0 + 100, "share detected at 1e-3", anchor="middle", rotate=True)
    save(svg, "detection_vs_strength.svg")


def front():
    data = [r for r in rows("quality.csv") if r["scheme"] != "plain"]
    plain = [r for r in rows("quality.csv") if r["scheme"] == "plain"][0]
    svg = Svg(760, 520)
    x0, y0, w, h = 90, 50, 600, 380
    ppl = [float(r["ppl_reference"]) for r in data] + [float(plain["ppl_reference"])]
    det = [-float(r["median_log10p_200"]) for r in data]
    xmin, xmax = min(ppl) * 0.9, max(ppl) * 1.05
    ymax = math.ceil(math.log10(max(det) + 1))
    xf = lambda v: x0 + w * (v - xmin) / (xmax - xmin)  # noqa: E731
    yf = lambda v: y0 + h * (1 - math.log10(1 + v) / ymax)  # noqa: E731
    svg.text(x0 + w / 2, y0 - 20, "quality against detectability (200-token answers of the reference model)", anchor="middle", size=12)
    svg.add(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for k in range(ymax + 1):
        svg.line(x0, yf(10 ** k - 1), x0 + w, yf(10 ** k - 1))
        svg.text(x0 - 4, yf(10 ** k - 1) + 4, f"{10 ** k - 1:,}", anchor="end")
    step = 25 if xmax - xmin < 300 else 50
    v = math.ceil(xmin / step) * step
    while v <= xmax:
        svg.line(xf(v), y0, xf(v), y0 + h)
        svg.text(xf(v), y0 + h + 14, f"{v:g}", anchor="middle", size=9)
        v += step
    x = xf(float(plain["ppl_reference"]))
    svg.line(x, y0, x, y0 + h, color="#555", dash="4 3")
    svg.text(x + 4, y0 + 12, "plain", color="#555")
    for r in data:
        if "key 2" in r["config"]:
            continue  # the second keys are in the table, not on the front
        scheme_key = next((s for s in SCHEMES if s.split()[0] == r["config"].split()[0] and
                           (("selfhash" in s) == ("selfhash" in r["config"]))), None)
        color = COLORS.get(scheme_key, "#000")
        px, py = xf(float(r["ppl_reference"])), yf(-float(r["median_log10p_200"]))
        svg.add(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}"/>')
        svg.text(px + 6, py - 4, r["config"], size=9)
    svg.text(x0 + w / 2, y0 + h + 32, "perplexity of the answers under the reference model (dashed: plain sampling)", anchor="middle")
    svg.text(x0 - 60, y0 + h / 2, "median -log10 p at 200 tokens", anchor="middle", rotate=True)
    save(svg, "quality_vs_detection.svg")


if __name__ == "__main__":
    by_length()
    by_strength()
    front()
