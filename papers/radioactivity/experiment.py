#!/usr/bin/env python3
"""The radioactivity experiments of papers/radioactivity.md (Sander et al., NeurIPS 2024, with
n-gram students), driving the tritium CLI. Standard library only.

  experiment.py config BUILD WORK DELTA H [JOBS]
      One teacher key (KGW, gamma 0.25, DELTA, context width H): 2,000 watermarked answers of the
      reference model; order-3 students trained with a share rho of them; the rho grid in closed and
      reading modes with -log10 p curves, the dedup ablation (rho 0 and 5%), the filter ablation
      (rho 1% and 5%) and the planner check (rho 5%).
  experiment.py null BUILD WORK DELTA H KEYS [JOBS]
      The null at rho = 0: KEYS fresh keys, each watermarking its own short teacher texts, tested
      against one student trained on human text only; KS test of the p-values of every mode and of
      the ablations.

CSV results are written next to this script; WORK keeps keys, texts, models and raw JSON (reused
when present, so an interrupted run resumes)."""
import concurrent.futures
import csv
import json
import random
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from uniformity import binomial_p_values, ks_uniform  # noqa: E402

TOKENIZER = ROOT / "fixtures/tokenizers/qwen3/tokenizer.json"
HUMAN = [ROOT / "fixtures/corpus/sotu_train.jsonl", ROOT / "fixtures/corpus/moby_dick.jsonl"]
PROMPTS = [json.loads(line)["prompt"] for line in open(ROOT / "fixtures/corpus/prompts.jsonl")]
VOCAB = 151936  # the reference model's logits width (Qwen3)
GAMMA = 0.25
RHOS = ["0", "0.01", "0.05", "0.10", "0.25", "1.0"]
TEACHER_DOCS, TOKENS = 2000, 200  # 400,000 watermarked tokens; rho = 25% uses all of them
READ_DOCS = 200                   # texts read in open mode
QUERIES, LONG_QUERIES = 200, 1000  # closed mode; the planner check uses the long run at rho = 5%
ECHO = 50                         # tokens of the prompt an echoing suspect repeats
PLAN_TARGETS = [-3, -5, -10, -20, -30, -50]
TAPES = ["none", "window", "window+token"]


class Cli:
    def __init__(self, build):
        self.exe = str(Path(build).resolve() / "cli/tritium")
        self.build = Path(build).resolve()

    def __call__(self, *args, stdin=None):
        """Runs tritium; exit codes 0-2 are test outcomes, anything else is an error."""
        r = subprocess.run([self.exe, *map(str, args)], input=stdin, capture_output=True, text=True)
        if r.returncode > 2:
            raise RuntimeError(f"tritium {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def test(self, mode, key, *args, curve=0):
        """One radioactivity test as a dict (the CLI's JSON)."""
        out = self("radioactivity", mode, "-k", key, "--json", "--curve-points", curve, *args).stdout
        return json.loads(out)


def write_jsonl(path, rows):
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    tmp.rename(path)


def read_jsonl(path):
    return [json.loads(line) for line in open(path)]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def train_student(cli, out, marked, rho):
    """Order-3 Kneser-Ney student on human text plus a share rho of `marked` (None: human text
    only); returns the number of watermarked tokens it used (the CLI feeds whole documents in order,
    then part of the next)."""
    log = Path(str(out) + ".log")
    if not Path(out).exists():
        mix = ["--watermarked", marked, "--fraction", rho] if marked else []
        r = cli("lm", "train", "-t", TOKENIZER, "-V", VOCAB, "-n", 3, "-c", *HUMAN, *mix, "-o", out)
        log.write_text(r.stderr)
    return int(re.search(r"human, (\d+) watermarked", log.read_text()).group(1))


def generate(cli, model, prompts, out, key=None, tokens=TOKENS, seed=2):
    if Path(out).exists():
        return
    args = ["generate", "-m", model, "-t", TOKENIZER, "-p", prompts, "--max-new-tokens", tokens,
            "--seed", seed, "-o", out]
    cli(*(args + (["-k", key] if key else ["--no-watermark"])))


def tokenize(cli, texts, out):
    """Token ids of each {"id", "text"} as the CLI's tokenizer gives them (what a suspect reads)."""
    if not Path(out).exists():
        write_jsonl(str(out) + ".in", texts)
        cli("tokenize", "-t", TOKENIZER, "-i", str(out) + ".in", "--format", "jsonl", "--json", "-o", out,
            "--threads", 1)
    return [r["tokens"] for r in read_jsonl(out)]


def curve_rows(result, *labels):
    return [[*labels, s, f"{v:.4f}"] for s, v in result["curve"]]


def summary(result):
    c = result["counts"]
    return [c["read"], c["prompt_excluded"], c["duplicates"], result["scored"], result["green"],
            f"{result['log10_p']:.2f}"]


# ---------------------------------------------------------------------------------------------------
# One teacher key: grid, curves, ablations, planner


def run_config(cli, work, delta, h, jobs):
    name = f"delta{delta}_h{h}"
    d = Path(work) / name
    d.mkdir(parents=True, exist_ok=True)
    key = d / "key.key"
    if not key.exists():
        cli("keygen", "--output", key, "--tokenizer", TOKENIZER, "--vocab-size", VOCAB, "--delta", delta,
            "--context-width", h)
    write_jsonl(d / "train_prompts.jsonl", [{"id": i, "prompt": PROMPTS[i % 40]} for i in range(TEACHER_DOCS)])
    teacher = d / "teacher.jsonl"
    generate(cli, cli.build / "reference-model/sotu-moby-qwen3-4gram.tlm", d / "train_prompts.jsonl", teacher,
             key=key, seed=1)
    docs = read_jsonl(teacher)
    # Supervised reading: the first texts (the ones students at small rho trained on first);
    # unseen reading: the last ones, which no student below rho = 25% saw. Watermarked prompts for
    # the dedup ablation: teacher texts no student below 25% saw either.
    write_jsonl(d / "read_supervised.jsonl", docs[:READ_DOCS])
    write_jsonl(d / "read_unseen.jsonl", docs[-READ_DOCS:])
    wm = docs[-2 * READ_DOCS:-READ_DOCS]
    write_jsonl(d / "wm_prompts.jsonl", [{"id": i, "prompt": r["prompt"] + r["completion"]} for i, r in enumerate(wm)])
    wm_prompt_ids = tokenize(cli, [{"id": i, "text": r["prompt"] + r["completion"]} for i, r in enumerate(wm)],
                             d / "wm_prompts.tokens.jsonl")

    students = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for rho, used in zip(RHOS, pool.map(lambda r: train_student(cli, d / f"student_{r}.tlm", teacher, r), RHOS)):
            students[rho] = used

    for n in (QUERIES, LONG_QUERIES):
        write_jsonl(d / f"test_prompts_{n}.jsonl", [{"id": i, "prompt": PROMPTS[(i * 7) % 40]} for i in range(n)])

    def per_student(rho):
        model = d / f"student_{rho}.tlm"
        n = LONG_QUERIES if rho == "0.05" else QUERIES
        answers = d / f"answers_{rho}.jsonl"
        generate(cli, model, d / f"test_prompts_{n}.jsonl", answers)
        rows = read_jsonl(answers)
        write_jsonl(d / f"answers_{rho}_first{QUERIES}.jsonl", rows[:QUERIES])
        if rho == "0.05":
            write_jsonl(d / f"answers_{rho}_first{LONG_QUERIES // 10}.jsonl", rows[:LONG_QUERIES // 10])
            write_jsonl(d / f"answers_{rho}_first{LONG_QUERIES // 4}.jsonl", rows[:LONG_QUERIES // 4])
        if rho in ("0", "0.05"):
            generate(cli, model, d / "wm_prompts.jsonl", d / f"wm_answers_{rho}.jsonl")
        return rho

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(per_student, RHOS))

    curve_points = 100
    grid, curves, dedup, filters, planner = [], [], [], [], []
    reads = {}

    def read(rho, which, tape="window+token"):
        r = cli.test("read", key, "-m", d / f"student_{rho}.tlm", "-i", d / f"read_{which}.jsonl", "--tape", tape,
                     curve=curve_points)
        return rho, which, tape, r

    tasks = [(rho, w, "window+token") for rho in RHOS for w in ("supervised", "unseen")]
    tasks += [(rho, "unseen", t) for rho in ("0", "0.05") for t in ("none", "window")]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for rho, which, tape, r in pool.map(lambda t: read(*t), tasks):
            reads[(rho, which, tape)] = r

    for rho in RHOS:
        closed = cli.test("closed", key, "-t", TOKENIZER, "-i", d / f"answers_{rho}_first{QUERIES}.jsonl",
                          curve=curve_points)
        sup, uns = reads[(rho, "supervised", "window+token")], reads[(rho, "unseen", "window+token")]
        grid.append([rho, students[rho]] + [x for r in (closed, sup, uns) for x in
                                            (r["scored"], r["green"], f"{r['log10_p']:.2f}",
                                             f"{r['controls']['ks_p_value']:.3f}")])
        if rho in ("0.05", "0.10"):
            curves += curve_rows(closed, rho, f"closed ({QUERIES} queries)")
            curves += curve_rows(sup, rho, "reading, supervised")
            curves += curve_rows(uns, rho, "reading, unseen")
    write_csv(HERE / f"results_{name}.csv",
              ["rho", "watermarked_tokens_trained"] +
              [f"{m}_{c}" for m in ("closed", "read", "unseen") for c in ("scored", "green", "log10_p", "controls_ks_p")],
              grid)

    # Dedup ablation: rho 0 and 5%, prompts that carry the watermark (teacher texts).
    for rho in ("0", "0.05"):
        answers = read_jsonl(d / f"wm_answers_{rho}.jsonl")
        plain = [{"id": i, "prompt_tokens": p, "tokens": a["tokens"]} for i, (p, a) in enumerate(zip(wm_prompt_ids, answers))]
        echo = [{"id": i, "prompt_tokens": p, "tokens": p[-ECHO:] + a["tokens"]}
                for i, (p, a) in enumerate(zip(wm_prompt_ids, answers))]
        write_jsonl(d / f"wm_transcripts_{rho}.jsonl", plain)
        write_jsonl(d / f"wm_echo_{rho}.jsonl", echo)
        write_jsonl(d / f"corpus_answers_{rho}.jsonl", [{"id": r["id"], "tokens": r["tokens"]} for r in plain])
        write_jsonl(d / f"corpus_answers_x5_{rho}.jsonl",
                    [{"id": f"{r['id']}-{k}", "tokens": r["tokens"]} for r in plain for k in range(5)])
        write_jsonl(d / f"corpus_conversations_{rho}.jsonl",
                    [{"id": r["id"], "tokens": r["prompt_tokens"] + r["tokens"]} for r in plain])
        for suspect, path in (("student answers", "wm_transcripts"), (f"echoes {ECHO} prompt tokens", "wm_echo")):
            for tape in TAPES:
                for exclusion in (True, False):
                    r = cli.test("closed", key, "-i", d / f"{path}_{rho}.jsonl", "--tape", tape,
                                 *([] if exclusion else ["--no-prompt-exclusion"]))
                    dedup.append([rho, "closed", suspect, tape, "on" if exclusion else "off"] + summary(r))
        for corpus, path in (("student answers", "corpus_answers"), ("answers, each 5 times", "corpus_answers_x5"),
                             ("prompt + answer", "corpus_conversations")):
            for tape in TAPES:
                r = cli.test("corpus", key, "-i", d / f"{path}_{rho}.jsonl", "--tape", tape)
                dedup.append([rho, "corpus", corpus, tape, "n/a"] + summary(r))
        for tape in TAPES:
            dedup.append([rho, "reading", "unseen watermarked texts", tape, "n/a"] + summary(reads[(rho, "unseen", tape)]))
    write_csv(HERE / f"dedup_{name}.csv",
              ["rho", "mode", "suspect", "tape", "prompt_exclusion", "read", "prompt_excluded", "duplicates", "scored",
               "green", "log10_p"], dedup)

    # Filter ablation: rho 1% and 5%, closed mode with the grid's human prompts.
    for rho in ("0.01", "0.05"):
        trained, budget = [], students[rho]
        for r in docs:  # the documents the student trained on, as lm train feeds them
            if budget <= 0:
                break
            trained.append({"id": r["id"], "tokens": r["tokens"][:budget]})
            budget -= len(trained[-1]["tokens"])
        write_jsonl(d / f"trained_{rho}.jsonl", trained)
        variants = [("none", None),
                    ("supervised (all windows the student trained on)", ["-i", d / f"trained_{rho}.jsonl"]),
                    ("unsupervised, top 10000", ["-i", teacher, "--top", 10000]),
                    ("unsupervised, top 1000", ["-i", teacher, "--top", 1000])]
        for label, args in variants:
            extra = []
            if args:
                f = d / f"filter_{rho}_{len(filters)}.filter"
                cli("radioactivity", "filter", "-k", key, "-o", f, "--force", *args)  # rebuilt on every run
                extra = ["--filter", f]
            r = cli.test("closed", key, "-t", TOKENIZER, "-i", d / f"answers_{rho}_first{QUERIES}.jsonl", *extra)
            windows = r["filter"]["windows"] if r["filter"] else ""
            filters.append([rho, label, windows, r["counts"]["filtered_out"], r["scored"], r["green"],
                            f"{r['log10_p']:.2f}"])
    write_csv(HERE / f"filter_{name}.csv",
              ["rho", "filter", "filter_windows", "filtered_out", "scored", "green", "log10_p"], filters)

    # Planner check: a pilot on the first 10% (and 25%) of the queries at rho = 5%, the plan for
    # each target, and where the full run's curve first reaches it.
    full = cli.test("closed", key, "-t", TOKENIZER, "-i", d / "answers_0.05.jsonl", curve=1000)
    curves += curve_rows(full, "0.05", f"closed ({LONG_QUERIES} queries)")
    for pilot_queries in (LONG_QUERIES // 10, LONG_QUERIES // 4):
        pilot = cli.test("closed", key, "-t", TOKENIZER, "-i", d / f"answers_0.05_first{pilot_queries}.jsonl")
        for target in PLAN_TARGETS:
            plan = json.loads(cli("radioactivity", "plan", "--scored", pilot["scored"], "--green", pilot["green"],
                                  "--gamma", GAMMA, "--target-log10-p", target, "--json").stdout)
            observed = next((s for s, v in full["curve"] if -v <= target), "")
            ratio = f"{observed / plan['scored_needed']:.2f}" if observed and plan["scored_needed"] else ""
            planner.append([pilot_queries, pilot["scored"], pilot["green"], f"{pilot['log10_p']:.2f}", target,
                            plan["scored_needed"], observed, ratio, full["scored"], f"{full['log10_p']:.2f}"])
    write_csv(HERE / f"planner_{name}.csv",
              ["pilot_queries", "pilot_scored", "pilot_green", "pilot_log10_p", "target_log10_p", "planned_scored",
               "observed_scored", "observed_over_planned", "full_scored", "full_log10_p"], planner)
    write_csv(HERE / f"curves_{name}.csv", ["rho", "mode", "scored", "minus_log10_p"], curves)


# ---------------------------------------------------------------------------------------------------
# The null over many keys


NULL_PROMPTS, NULL_TOKENS = 20, 150


def null_variants(cli, k, d, model):
    """All tests of key k; returns [(mode, variant, valid, result)]."""
    key = d / f"key_{k}.key"
    out = []
    for tape in TAPES:
        for exclusion in (True, False):
            r = cli.test("closed", key, "-i", d / f"transcripts_{k}.jsonl", "--tape", tape, "--controls", 0,
                         *([] if exclusion else ["--no-prompt-exclusion"]))
            out.append(("closed", f"tape {tape}, exclusion {'on' if exclusion else 'off'}",
                        tape != "none" and exclusion, r))
        for exclusion in (True, False):
            r = cli.test("closed", key, "-i", d / f"echo_{k}.jsonl", "--tape", tape, "--controls", 0,
                         *([] if exclusion else ["--no-prompt-exclusion"]))
            out.append(("closed, echoing suspect", f"tape {tape}, exclusion {'on' if exclusion else 'off'}",
                        tape != "none" and exclusion, r))
        r = cli.test("corpus", key, "-i", d / f"corpus_{k}.jsonl", "--tape", tape, "--controls", 0)
        out.append(("corpus", f"tape {tape}", tape != "none", r))
        r = cli.test("corpus", key, "-i", d / f"conversations_{k}.jsonl", "--tape", tape, "--controls", 0)
        out.append(("corpus, prompt + answer", f"tape {tape}", False, r))
        r = cli.test("read", key, "-m", model, "-i", d / f"teacher_{k}.jsonl", "--tape", tape, "--controls", 0)
        out.append(("reading", f"tape {tape}", tape != "none", r))
    return out


def run_null(cli, work, delta, h, keys, jobs):
    name = f"delta{delta}_h{h}"
    d = Path(work) / f"null_{name}"
    d.mkdir(parents=True, exist_ok=True)
    model = d / "student_0.tlm"
    # At rho = 0 the student sees no watermarked text: one student serves every key.
    train_student(cli, model, None, "0")
    # Keys bound to the tokenizer by digest: keygen then need not read the tokenizer each time.
    if not (d / "probe.key").exists():
        cli("keygen", "--output", d / "probe.key", "--tokenizer", TOKENIZER, "--vocab-size", VOCAB)
    digest = json.loads(open(d / "probe.key").read())["params"]["tokenizer_digest"]

    def teacher(k):
        key = d / f"key_{k}.key"
        if not key.exists():
            cli("keygen", "--output", key, "--tokenizer-digest", digest, "--vocab-size", VOCAB, "--delta", delta,
                "--context-width", h)
        prompts = d / f"prompts_{k}.jsonl"
        write_jsonl(prompts, [{"id": f"{k}-{i}", "prompt": PROMPTS[(i + NULL_PROMPTS * k) % 40]}
                              for i in range(NULL_PROMPTS)])
        generate(cli, cli.build / "reference-model/sotu-moby-qwen3-4gram.tlm", prompts, d / f"teacher_{k}.jsonl",
                 key=key, tokens=NULL_TOKENS, seed=k + 1)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(teacher, range(keys)))
    sent = [{"id": r["id"], "prompt": r["prompt"] + r["completion"]}
            for k in range(keys) for r in read_jsonl(d / f"teacher_{k}.jsonl")]
    # The student answers every key's watermarked texts (prompt + completion), in `jobs` runs.
    chunk = -(-len(sent) // jobs)
    for j in range(jobs):
        write_jsonl(d / f"sent_{j}.jsonl", sent[j * chunk:(j + 1) * chunk])
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda j: generate(cli, model, d / f"sent_{j}.jsonl", d / f"answers_{j}.jsonl",
                                         tokens=NULL_TOKENS, seed=100 + j), range(jobs)))
    answers = [a for j in range(jobs) for a in read_jsonl(d / f"answers_{j}.jsonl")]
    sent_ids = tokenize(cli, [{"id": r["id"], "text": r["prompt"]} for r in sent], d / "sent.tokens.jsonl")
    for k in range(keys):
        rows = range(k * NULL_PROMPTS, (k + 1) * NULL_PROMPTS)
        write_jsonl(d / f"transcripts_{k}.jsonl",
                    [{"id": answers[i]["id"], "prompt_tokens": sent_ids[i], "tokens": answers[i]["tokens"]} for i in rows])
        write_jsonl(d / f"echo_{k}.jsonl", [{"id": answers[i]["id"], "prompt_tokens": sent_ids[i],
                                             "tokens": sent_ids[i][-ECHO:] + answers[i]["tokens"]} for i in rows])
        write_jsonl(d / f"corpus_{k}.jsonl", [{"id": answers[i]["id"], "tokens": answers[i]["tokens"]} for i in rows])
        write_jsonl(d / f"conversations_{k}.jsonl",
                    [{"id": answers[i]["id"], "tokens": sent_ids[i] + answers[i]["tokens"]} for i in rows])

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda k: null_variants(cli, k, d, model), range(keys)))

    per_key, by_variant = [], {}
    for k, tests in enumerate(results):
        u = random.Random(20240 + k)  # one uniform per key and test, for the randomised p-value
        for mode, variant, valid, r in tests:
            conservative, mid, randomised = binomial_p_values(r["scored"], r["green"], GAMMA, u.random())
            per_key.append([k, mode, variant, "yes" if valid else "no", r["scored"], r["green"],
                            f"{r['log10_p']:.3f}", f"{conservative:.6g}", f"{mid:.6g}", f"{randomised:.6g}"])
            by_variant.setdefault((mode, variant, valid), []).append((r, conservative, mid, randomised))
    write_csv(HERE / f"null_{name}.csv",
              ["key", "mode", "variant", "valid", "scored", "green", "log10_p", "p_conservative", "p_mid",
               "p_randomised"], per_key)
    ks_rows = []
    for (mode, variant, valid), rs in by_variant.items():
        row = [mode, variant, "yes" if valid else "no", len(rs), round(sum(r["scored"] for r, *_ in rs) / len(rs))]
        for i in (1, 2, 3):
            stat, p = ks_uniform([x[i] for x in rs])
            row += [f"{stat:.3f}", f"{p:.3g}"]
        row += [sum(x[1] <= 1e-3 for x in rs), f"{min(r['log10_p'] for r, *_ in rs):.1f}"]
        ks_rows.append(row)
    write_csv(HERE / f"ks_{name}.csv",
              ["mode", "variant", "valid", "keys", "mean_scored", "ks_d_conservative", "ks_p_conservative", "ks_d_mid",
               "ks_p_mid", "ks_d_randomised", "ks_p_randomised", "p_below_1e-3", "min_log10_p"], ks_rows)


def main():
    if len(sys.argv) < 6 or sys.argv[1] not in ("config", "null"):
        sys.exit(__doc__)
    cli = Cli(sys.argv[2])
    work, delta, h = sys.argv[3], sys.argv[4], sys.argv[5]
    if sys.argv[1] == "config":
        run_config(cli, work, delta, h, int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    else:
        run_null(cli, work, delta, h, int(sys.argv[6]), int(sys.argv[7]) if len(sys.argv) > 7 else 1)


if __name__ == "__main__":
    main()
