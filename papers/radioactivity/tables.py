#!/usr/bin/env python3
"""Prints the markdown tables of papers/radioactivity.md from the CSV files next to this script.
Usage: python3 papers/radioactivity/tables.py"""
import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIGS = [(3, 1), (2, 1), (3, 2), (2, 2)]


def rows(name):
    path = HERE / name
    return list(csv.DictReader(open(path))) if path.exists() else []


def minus(v, digits=0):
    return f"{v:,.{digits}f}".replace("-", "−")


def cell(log10_p, scored):
    v = float(log10_p)
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
    return f"{text.replace('-', '−')} ({int(scored):,})"


def table(header, body):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in body:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()


def grid():
    print("### log10 p (scored tuples) against rho\n")
    for delta, h in CONFIGS:
        data = rows(f"results_delta{delta}_h{h}.csv")
        if not data:
            continue
        print(f"δ = {delta}, h = {h}:\n")
        table(["ρ", "watermarked tokens trained", "closed", "reading, supervised", "reading, unseen"],
              [[f"{float(r['rho']) * 100:g}%", f"{int(r['watermarked_tokens_trained']):,}",
                cell(r["closed_log10_p"], r["closed_scored"]), cell(r["read_log10_p"], r["read_scored"]),
                cell(r["unseen_log10_p"], r["unseen_scored"])] for r in data])


def dedup():
    print("### Dedup ablation: log10 p (scored tuples)\n")
    for delta, h in CONFIGS:
        data = rows(f"dedup_delta{delta}_h{h}.csv")
        if not data:
            continue
        print(f"δ = {delta}, h = {h}:\n")
        by = {}
        for r in data:
            by.setdefault((r["mode"], r["suspect"], r["tape"], r["prompt_exclusion"]), {})[r["rho"]] = r
        body = []
        for (mode, suspect, tape, exclusion), v in by.items():
            valid = tape != "none" and exclusion != "off" and suspect != "prompt + answer"
            body.append([mode, suspect, tape, exclusion, "yes" if valid else "**no**",
                         cell(v["0"]["log10_p"], v["0"]["scored"]), cell(v["0.05"]["log10_p"], v["0.05"]["scored"])])
        table(["mode", "suspect / corpus", "tape", "prompt exclusion", "valid", "ρ = 0", "ρ = 5%"], body)


def filters():
    print("### Filter ablation (closed mode, 200 queries): log10 p (scored tuples)\n")
    body = []
    for delta, h in CONFIGS:
        data = rows(f"filter_delta{delta}_h{h}.csv")
        by = {}
        for r in data:
            by.setdefault(r["filter"], {})[r["rho"]] = r
        for name, v in by.items():
            windows = v["0.01"]["filter_windows"] or "—"
            if v["0.01"]["filter_windows"] != v["0.05"]["filter_windows"]:
                windows = f"{int(v['0.01']['filter_windows']):,} / {int(v['0.05']['filter_windows']):,}"
            body.append([f"δ {delta}, h {h}", name, windows, cell(v["0.01"]["log10_p"], v["0.01"]["scored"]),
                         cell(v["0.05"]["log10_p"], v["0.05"]["scored"])])
    table(["config", "filter", "windows (ρ 1% / 5%)", "ρ = 1%", "ρ = 5%"], body)


def planner():
    print("### Planner check (closed mode, ρ = 5%, 1,000 queries; targets beyond the pilot's own p)\n")
    body = []
    for delta, h in CONFIGS:
        for r in rows(f"planner_delta{delta}_h{h}.csv"):
            planned, full = int(r["planned_scored"]), int(r["full_scored"])
            if float(r["pilot_log10_p"]) <= float(r["target_log10_p"]) or planned == 0:
                continue  # the pilot is already there: nothing to predict
            if r["observed_scored"]:
                ratio = int(r["observed_scored"]) / planned
                observed, shown = f"{int(r['observed_scored']):,}", f"{ratio:.2f}"
                verdict = "yes" if 0.5 <= ratio <= 2 else "**no**"
            else:
                if planned > full:
                    continue  # neither planned nor reached within the run
                observed = f"not reached ({minus(float(r['full_log10_p']), 1)} at {full:,})"
                shown = f"> {full / planned:.2f}"
                verdict = "**no**" if full > 2 * planned else "undecided"
            body.append([f"δ {delta}, h {h}", f"{r['pilot_queries']} ({int(r['pilot_scored']):,} scored, "
                         f"log10 p {minus(float(r['pilot_log10_p']), 1)})", minus(int(r["target_log10_p"])),
                         f"{planned:,}", observed, shown, verdict])
    table(["config", "pilot queries", "target log10 p", "planned scored", "observed scored", "observed / planned",
           "within 2×"], body)


def null():
    for delta, h in CONFIGS:
        data = rows(f"ks_delta{delta}_h{h}.csv")
        if not data:
            continue
        print(f"### Null at ρ = 0, δ = {delta}, h = {h}: {data[0]['keys']} keys\n")
        order = {"yes": 0, "no": 1}
        data.sort(key=lambda r: (order[r["valid"]], r["mode"], r["variant"]))
        table(["mode", "variant", "valid", "mean scored", "KS D (p), P(S ≥ s)", "KS D (p), randomised",
               "keys with p ≤ 1e-3", "min log10 p"],
              [[r["mode"], r["variant"], r["valid"], r["mean_scored"],
                f"{r['ks_d_conservative']} ({r['ks_p_conservative']})", f"{r['ks_d_randomised']} ({r['ks_p_randomised']})",
                r["p_below_1e-3"], minus(float(r["min_log10_p"]), 1)] for r in data])


if __name__ == "__main__":
    grid()
    dedup()
    filters()
    planner()
    null()
