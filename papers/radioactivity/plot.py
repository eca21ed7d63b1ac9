#!/usr/bin/env python3
"""Draws results.csv of papers/radioactivity/run.sh as an SVG: -log10 p (log scale) against the
share rho of watermarked training text, one line per test mode. Standard library only.
Usage: python3 papers/radioactivity/plot.py OUT_DIR/results.csv papers/radioactivity/log10p_vs_rho.svg"""
import csv
import math
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
series = [("closed_log10_p", "closed model (queries, prompt windows excluded)", "#1f77b4"),
          ("open_log10_p", "open model, reading the texts it trained on", "#d62728"),
          ("open_unseen_log10_p", "open model, reading unseen watermarked texts", "#2ca02c")]
width, height, left, bottom, top, right = 640, 400, 70, 50, 20, 20
xs = [float(r["rho"]) for r in rows]
x_positions = list(range(len(xs)))  # categorical axis: 0, 1%, 5%, 10%, 25%, 100%


def y_of(v):  # v = -log10 p >= 0, plotted as log10(1 + v)
    return top + (height - top - bottom) * (1 - math.log10(1 + v) / 4)


def x_of(i):
    return left + (width - left - right) * i / (len(xs) - 1)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>']
for k in range(5):  # grid at -log10 p = 0, 9, 99, 999, 9999
    v = 10 ** k - 1
    y = y_of(v)
    out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
threshold = y_of(3)  # alpha = 1e-3
out.append(f'<line x1="{left}" y1="{threshold:.1f}" x2="{width - right}" y2="{threshold:.1f}" stroke="#999" stroke-dasharray="4 3"/>')
out.append(f'<text x="{width - right}" y="{threshold - 4:.1f}" text-anchor="end" fill="#666">alpha = 1e-3</text>')
for i, x in enumerate(xs):
    out.append(f'<text x="{x_of(i):.1f}" y="{height - bottom + 18}" text-anchor="middle">{x * 100:g}%</text>')
out.append(f'<text x="{(width + left) / 2}" y="{height - 10}" text-anchor="middle">share of watermarked training text (rho)</text>')
out.append(f'<text x="16" y="{height / 2}" text-anchor="middle" transform="rotate(-90 16 {height / 2})">-log10 p (log scale)</text>')
for n, (key, label, color) in enumerate(series):
    if key not in rows[0]:
        continue
    points = " ".join(f"{x_of(i):.1f},{y_of(max(0.0, -float(r[key]))):.1f}" for i, r in enumerate(rows))
    out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
    for i, r in enumerate(rows):
        out.append(f'<circle cx="{x_of(i):.1f}" cy="{y_of(max(0.0, -float(r[key]))):.1f}" r="3" fill="{color}"/>')
    out.append(f'<text x="{left + 10}" y="{top + 14 + 16 * n}" fill="{color}">{label}</text>')
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
