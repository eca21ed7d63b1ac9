#!/usr/bin/env python3
"""The reference-LM experiments of papers/attribution.md §7 (issue 15), driving the tritium CLI on the
reference 4-gram model (Qwen3 tokenizer, V = 151,936). Standard library only.

  experiment.py quality BUILD WORK [JOBS]
      The global test and text quality, account tracing against single-key KGW at gamma 0.25: one key
      per design, the same prompts and seeds; green rate, scored tuples until log10 p reaches -10,
      -100 and -1000 on the generated texts, perplexity of the answers given their prompts under the
      reference model (paired per prompt); then an order-3 student per design trained with 5% of its
      texts, queried in closed mode, and the scored tuples its curve needs.
  experiment.py trace BUILD WORK [JOBS]
      Tracing in corpus mode: a registry of N = 10,000 accounts; clusters of c in {1, 2, 4, 8} of
      them write interleaved answers (equal shares, and shares 1 : 2 : ... : c); on a sqrt(2) grid of
      tokens per colluder, `tritium trace corpus` at family-wise alpha 1e-6 until every member is
      accused; innocent accusations over every run; human text.
  experiment.py student BUILD WORK [JOBS]
      Radioactivity mode: order-3 students trained on human text plus 5% of a cluster's answers
      (c = 1 and c = 8), queried in closed mode; the best colluder's family-wise p and the global p
      against the number of scored tuples.
  experiment.py read BUILD WORK [JOBS]
      Reading mode on the same students: teacher-forced on the answers they trained on and on answers
      of the same accounts they never saw.

CSV files are written next to this script; WORK keeps keys, texts and models (reused when present,
so an interrupted run resumes)."""
import concurrent.futures
import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOKENIZER = ROOT / "fixtures/tokenizers/qwen3/tokenizer.json"
HUMAN = [ROOT / "fixtures/corpus/sotu_train.jsonl", ROOT / "fixtures/corpus/moby_dick.jsonl"]
HELDOUT = ROOT / "fixtures/corpus/sotu_heldout.jsonl"
PROMPTS = [json.loads(line)["prompt"] for line in open(ROOT / "fixtures/corpus/prompts.jsonl")]
VOCAB = 151936
GAMMA = 0.25
ACCOUNTS = 10_000
ALPHA = 1e-6

# Designs of the quality table: (name, delta, account delta or None for single-key KGW).
DESIGNS = [("kgw_2.0", 2.0, None), ("trace_2.0_0.75", 2.0, 0.75), ("trace_1.9_0.75", 1.9, 0.75),
           ("kgw_1.9", 1.9, None)]
QUALITY_DOCS, QUALITY_TOKENS = 5000, 100
STEP_DOCS, STEP_KEYS = 300, 4  # the per-step quality program: answers (of the unwatermarked run) and keys
STEP_DESIGNS = ["2:0", "2:0.75", "2:0.5", "2:0.25", "1.9:0.75", "1.9:0.6", "1.9:0", "1.8:0.75", "1.8:0"]
BATCHES = 20  # perplexity per batch of prompts: the paired standard error comes from the batches
STUDENT_RHO = "0.05"
STUDENT_QUERIES = 2000
STUDENT_KEYS, STUDENT_TEACHER_DOCS = 4, 1300  # 130,000 teacher tokens: 5% of the human corpus is 121,463
STUDENT_POOLED = ("kgw_2.0", "trace_1.9_0.75")

# Tracing: the operating point the quality table picks (papers/attribution.md §5.1, §7.1).
TRACE_DELTA, TRACE_ACCOUNT_DELTA = 1.9, 0.75
DOC_TOKENS = 100
POOL_DOCS = 200                       # 20,000 tokens per cluster account
CLUSTERS = {1: 6, 2: 5, 4: 5, 8: 4}   # clusters per size; members are disjoint accounts
GRID = [200, 283, 400, 566, 800, 1131, 1600, 2263, 3200, 4525, 6400, 9051, 12800, 18102]
# Students: (cluster size, position width h_p). The default h_p = 3 spreads the load in corpus mode;
# h_p = 1 (KGW's own context) is what an order-3 student can learn (papers/attribution.md §8, item 3).
STUDENT_CONFIGS = ((1, 3), (8, 3), (1, 1))
STUDENT_POOL_DOCS = 1600              # the c = 1 student's account writes 160,000 tokens
STUDENT_STEPS = [125, 250, 500, 1000, 2000, 4000, 8000, 16000]

if os.environ.get("ATTRIBUTION_SMOKE"):  # a few minutes' run of every code path, numbers meaningless
    QUALITY_DOCS, STUDENT_QUERIES, POOL_DOCS, STUDENT_POOL_DOCS, BATCHES, STEP_DOCS = 200, 100, 30, 100, 4, 10
    STUDENT_KEYS, STUDENT_TEACHER_DOCS = 2, 100
    CLUSTERS, GRID, STUDENT_STEPS = {1: 1, 2: 1, 8: 1}, GRID[:4], [50, 100]
OUT = HERE  # main() sends a smoke run's tables to WORK instead


class Cli:
    def __init__(self, build):
        self.build = Path(build).resolve()
        self.exe = str(self.build / "cli/tritium")
        self.model = self.build / "reference-model/sotu-moby-qwen3-4gram.tlm"

    def __call__(self, *args, ok=(0, 1, 2)):
        r = subprocess.run([self.exe, *map(str, args)], capture_output=True, text=True)
        if r.returncode not in ok:
            raise RuntimeError(f"tritium {' '.join(map(str, args))}: exit {r.returncode}: {r.stderr.strip()}")
        return r

    def json(self, *args):
        return json.loads(self(*args, "--json").stdout)


def write_jsonl(path, rows):
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    tmp.rename(path)


def read_jsonl(path):
    return [json.loads(line) for line in open(path)]


def write_csv(name, header, rows):
    with open(OUT / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def keygen(cli, path, delta, account_delta, position_width=None):
    if not Path(path).exists():
        extra = ["--trace", "--account-delta", account_delta] if account_delta is not None else []
        extra += ["--trace-position-width", position_width] if position_width else []
        cli("keygen", "--output", path, "--tokenizer", TOKENIZER, "--vocab-size", VOCAB, "--delta", delta, *extra)


def generate(cli, model, prompts, out, key=None, account=None, tokens=DOC_TOKENS, seed=1, threads=2):
    if Path(out).exists():
        return
    args = ["generate", "-m", model, "-t", TOKENIZER, "-p", prompts, "--max-new-tokens", tokens, "--seed", seed,
            "--threads", threads, "--quiet", "-o", out]
    args += ["-k", key] if key else ["--no-watermark"]
    args += ["--account", account] if account is not None else []
    cli(*args)


def prompts_file(path, n, stride=1, offset=0):
    if not Path(path).exists():
        write_jsonl(path, [{"id": i, "prompt": PROMPTS[(offset + i * stride) % len(PROMPTS)]} for i in range(n)])
    return path


def scored_to_reach(curve, target):
    """Scored tuples at which -log10 p first reaches `target` (linear between curve points)."""
    prev = (0, 0.0)
    for s, v in curve:
        if v >= target:
            s0, v0 = prev
            return s0 + (s - s0) * (target - v0) / (v - v0) if v > v0 else s
        prev = (s, v)
    return None


def train_student(cli, model, marked):
    """An order-3 student on the human corpus plus STUDENT_RHO of `marked`; returns the watermarked
    tokens it trained on (lm train takes what there is when `marked` is short: the share is checked)."""
    log = Path(str(model) + ".log")
    if not Path(model).exists():
        r = cli("lm", "train", "-t", TOKENIZER, "-V", VOCAB, "-n", 3, "-c", *HUMAN, "--watermarked", marked,
                "--fraction", STUDENT_RHO, "-o", model)
        log.write_text(r.stderr)
    m = re.search(r"\((\d+) human, (\d+) watermarked", log.read_text())
    human, used = int(m.group(1)), int(m.group(2))
    if not os.environ.get("ATTRIBUTION_SMOKE") and used / (human + used) < 0.99 * float(STUDENT_RHO):
        raise RuntimeError(f"{model}: trained on a watermarked share {used / (human + used):.4f} < {STUDENT_RHO}")
    return used


def log_likelihood(cli, model, path):
    r = cli.json("lm", "eval", "-m", model, "-t", TOKENIZER, "-i", path)
    return -r["tokens"] * math.log(r["perplexity"]), r["tokens"]


# ---------------------------------------------------------------------------------------------------
# Quality and the global test


def run_quality(cli, work, jobs):
    d = Path(work) / "quality"
    d.mkdir(parents=True, exist_ok=True)
    prompts = prompts_file(d / "prompts.jsonl", QUALITY_DOCS)
    # The prompts' own log-likelihood, subtracted from prompt + answer: what is left is the answers'
    # log-likelihood given their prompts, exactly, under the n-gram model.
    if not (d / "prompt_tokens.jsonl").exists():
        write_jsonl(d / "prompt_text.jsonl", [{"id": i, "text": PROMPTS[i % len(PROMPTS)]} for i in range(QUALITY_DOCS)])
        cli("tokenize", "-t", TOKENIZER, "-i", d / "prompt_text.jsonl", "--format", "jsonl", "--json",
            "-o", d / "prompt_tokens.jsonl", "--threads", 1)
    prompt_ids = [r["tokens"] for r in read_jsonl(d / "prompt_tokens.jsonl")]
    batch = [range(b * QUALITY_DOCS // BATCHES, (b + 1) * QUALITY_DOCS // BATCHES) for b in range(BATCHES)]

    def batch_ll(rows_of, tag):
        cached = d / f"ll_{tag}.json"
        if cached.exists():
            return json.loads(cached.read_text())
        out = []
        for b, idx in enumerate(batch):
            path = d / f"{tag}_batch{b}.jsonl"
            write_jsonl(path, [{"id": i, "tokens": rows_of(i)} for i in idx])
            out.append(log_likelihood(cli, cli.model, path)[0])
            path.unlink()
        cached.write_text(json.dumps(out))
        return out

    ll_prompts = batch_ll(lambda i: prompt_ids[i], "prompts")
    rows, student_rows = [], []
    nll_of = {}
    for name, delta, account_delta in DESIGNS + [("none", None, None)]:
        key = d / f"{name}.key"
        if delta is not None:
            keygen(cli, key, delta, account_delta)
        answers = d / f"answers_{name}.jsonl"
        # The same prompts and seed for every design; a traced design marks one account.
        generate(cli, cli.model, prompts, answers, key=key if delta is not None else None,
                 account="acct-00000" if account_delta is not None else None, tokens=QUALITY_TOKENS,
                 threads=jobs)
        docs = read_jsonl(answers)
        if delta is None:
            results_none = docs
        ll_joined = batch_ll(lambda i: prompt_ids[i] + docs[i]["tokens"], name)
        n = [sum(len(docs[i]["tokens"]) for i in idx) for idx in batch]
        nll_of[name] = [-(j - p) / k for j, p, k in zip(ll_joined, ll_prompts, n)]  # per batch, nats per token
        n_answer = sum(n)
        nll = -(sum(ll_joined) - sum(ll_prompts)) / n_answer
        ref = nll_of[DESIGNS[0][0]]
        diff = [a - b for a, b in zip(nll_of[name], ref)]
        mean = sum(diff) / BATCHES
        se = math.sqrt(sum((x - mean) ** 2 for x in diff) / (BATCHES - 1) / BATCHES)
        relative = f"{100 * math.expm1(mean):+.2f}", f"{100 * se:.2f}"  # perplexity ratio - 1, in percent
        if delta is None:
            rows.append([name, "", "", n_answer, "", "", "", "", "", "", f"{math.exp(nll):.3f}", *relative])
            continue
        corpus = d / f"corpus_{name}.jsonl"
        write_jsonl(corpus, [{"id": r["id"], "tokens": r["tokens"]} for r in docs])
        t = cli.json("radioactivity", "corpus", "-k", key, "-i", corpus, "--curve-points", 400)
        reach = [scored_to_reach(t["curve"], x) for x in (10, 100, 1000)]
        rows.append([name, delta, account_delta or "", n_answer, t["scored"], t["green"],
                     f"{t['green'] / t['scored']:.4f}"] + [f"{x:.0f}" if x else "" for x in reach]
                    + [f"{math.exp(nll):.3f}", *relative])
    # The per-step quality program on the unwatermarked answers' contexts, every design on the same
    # contexts and lanes (quality.cpp).
    step_keys = []
    for i in range(STEP_KEYS):
        keygen(cli, d / f"lanes_{i}.key", 2.0, 0.75)
        step_keys.append(f"{d / f'lanes_{i}.key'}@acct-{i:05d}")
    with open(d / "contexts.txt", "w") as f:
        for p, r in list(zip(prompt_ids, results_none))[:STEP_DOCS]:
            f.write(" ".join(map(str, [len(p)] + p + r["tokens"])) + "\n")
    steps = d / "steps.tsv"
    if not steps.exists():
        out = subprocess.run([str(cli.build / "papers/attribution/attribution_quality"), str(cli.model),
                              str(d / "contexts.txt"), *step_keys, "--", *STEP_DESIGNS],
                             capture_output=True, text=True, check=True).stdout
        steps.write_text(out)
    out = steps.read_text()
    write_csv("quality_steps.csv", *(lambda t: (t[0], t[1:]))([line.split("\t") for line in out.strip().split("\n")]))
    write_csv("quality.csv", ["design", "delta", "account_delta", "answer_tokens", "scored", "green", "green_rate",
                              "scored_to_log10p_-10", "scored_to_log10p_-100", "scored_to_log10p_-1000",
                              "perplexity", "perplexity_vs_kgw_2.0_percent", "paired_se_percent"], rows)

    # Students trained with 5% of each design's texts, queried in closed mode: one per design on the
    # texts above, and STUDENT_KEYS - 1 more keys for the reference and the chosen design (one key's
    # green lists are more or less learnable; the pooled green rate averages that luck out).
    queries = prompts_file(d / "student_prompts.jsonl", STUDENT_QUERIES, stride=7, offset=3)
    teacher_prompts = prompts_file(d / "teacher_prompts.jsonl", STUDENT_TEACHER_DOCS)
    students = [(name, delta, account_delta, d / f"{name}.key", d / f"answers_{name}.jsonl", name)
                for name, delta, account_delta in DESIGNS]
    for name, delta, account_delta in DESIGNS:
        if name in STUDENT_POOLED:
            for k in range(1, STUDENT_KEYS):
                tag = f"{name}_key{k}"
                keygen(cli, d / f"{tag}.key", delta, account_delta)
                students.append((name, delta, account_delta, d / f"{tag}.key", d / f"answers_{tag}.jsonl", tag))

    def student(entry):
        name, delta, account_delta, key, teacher, tag = entry
        generate(cli, cli.model, teacher_prompts, teacher, key=key, account="acct-00000" if account_delta else None,
                 tokens=QUALITY_TOKENS, seed=20, threads=1)
        model = d / f"student_{tag}.tlm"
        used = train_student(cli, model, teacher)
        generate(cli, model, queries, d / f"student_answers_{tag}.jsonl", tokens=DOC_TOKENS, seed=5, threads=1)
        return tag, used

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        trained = dict(pool.map(student, students))
    pooled = {}
    for name, delta, account_delta, key, teacher, tag in students:
        t = cli.json("radioactivity", "closed", "-k", key, "-t", TOKENIZER,
                     "-i", d / f"student_answers_{tag}.jsonl", "--curve-points", 400)
        reach = [scored_to_reach(t["curve"], x) for x in (3, 5, 10)]
        student_rows.append([tag, delta, account_delta or "", trained[tag], t["scored"], t["green"],
                             f"{t['green'] / t['scored']:.4f}", f"{t['log10_p']:.2f}"]
                            + [f"{x:.0f}" if x else "" for x in reach])
        if name in STUDENT_POOLED:
            sc, gr = pooled.get(name, (0, 0))
            pooled[name] = (sc + t["scored"], gr + t["green"])
    for name, (sc, gr) in pooled.items():
        student_rows.append([f"{name} pooled over {STUDENT_KEYS} keys", "", "", "", sc, gr, f"{gr / sc:.4f}", "", "", "",
                             ""])
    write_csv("quality_student.csv", ["student", "delta", "account_delta", "watermarked_tokens_trained", "scored",
                                      "green", "green_rate", "log10_p", "scored_to_log10p_-3",
                                      "scored_to_log10p_-5", "scored_to_log10p_-10"], student_rows)


# ---------------------------------------------------------------------------------------------------
# Tracing in corpus mode


def trace_setup(cli, work):
    d = Path(work) / "trace"
    d.mkdir(parents=True, exist_ok=True)
    key = d / "trace.key"
    keygen(cli, key, TRACE_DELTA, TRACE_ACCOUNT_DELTA)
    registry = d / "registry.jsonl"
    if not registry.exists():
        write_jsonl(registry, [{"account": f"acct-{i:05d}"} for i in range(ACCOUNTS)])
    return d, key, registry


def cluster_members():
    """Disjoint registered accounts for every cluster: {(c, k): [account index, ...]}."""
    out, nxt = {}, 0
    for c, n in CLUSTERS.items():
        for k in range(n):
            out[(c, k)] = list(range(nxt, nxt + c))
            nxt += c
    return out


def account_pool(cli, d, key, index, docs, jobs, prefix="pool"):
    """`docs` answers of DOC_TOKENS tokens written for account `index` (its own seed)."""
    path = d / f"{prefix}_{index:05d}_{docs}.jsonl"
    prompts = prompts_file(d / f"pool_prompts_{docs}.jsonl", docs, stride=3)
    generate(cli, cli.model, prompts, path, key=key, account=f"acct-{index:05d}", seed=100 + index, threads=jobs)
    return [r["tokens"] for r in read_jsonl(path)]


def mix(pools, shares, per_colluder):
    """Interleaved documents: member i gives about per_colluder * c * share_i tokens (whole answers)."""
    c = len(pools)
    total = sum(shares)
    wanted = [max(1, round(per_colluder * c * s / total / DOC_TOKENS)) for s in shares]
    rows, k = [], 0
    for j in range(max(wanted)):
        for i in range(c):
            if j < wanted[i]:
                if j >= len(pools[i]):
                    return None, None
                rows.append({"id": k, "tokens": pools[i][j]})
                k += 1
    return rows, [w * DOC_TOKENS for w in wanted]


def trace_run(cli, key, registry, corpus):
    return cli.json("trace", "corpus", "-k", key, "-r", registry, "-i", corpus, "--alpha", ALPHA, "--list", 20,
                    "--threads", 1)


def run_trace(cli, work, jobs):
    d, key, registry = trace_setup(cli, work)
    members = cluster_members()
    everyone = sorted({i for m in members.values() for i in m})
    pools = {}
    for i in everyone:  # one generate at a time, each on all cores
        pools[i] = account_pool(cli, d, key, i, POOL_DOCS, jobs)
    tasks = []
    for (c, k), m in members.items():
        tasks.append((c, k, "equal", m, [1] * c))
        if c > 1:
            tasks.append((c, k, "1:2:..:c", m, list(range(1, c + 1))))

    def one_cluster(task):
        c, k, shares_name, m, shares = task
        ids = {f"acct-{i:05d}" for i in m}
        runs, innocent, outcome = [], 0, None
        for t in GRID:
            rows, own = mix([pools[i] for i in m], shares, t)
            if rows is None:
                break
            corpus = d / f"mix_{c}_{k}_{shares_name.replace(':', '-').replace('..', '')}_{t}.jsonl"
            write_jsonl(corpus, rows)
            r = trace_run(cli, key, registry, corpus)
            corpus.unlink()
            accused = {a["account"] for a in r["accounts"] if a["accused"]}
            innocent += len(accused - ids)
            guilty_p = {a["account"]: a["log10_p_fw"] for a in r["accounts"] if a["account"] in ids}
            runs.append([c, k, shares_name, t, sum(own), len(accused & ids), len(accused - ids),
                         f"{max(guilty_p.values()) if len(guilty_p) == c else float('nan'):.2f}",
                         f"{min(guilty_p.values()) if guilty_p else float('nan'):.2f}",
                         f"{r['global']['log10_p']:.1f}", f"{r['decoys']['ks_p_value']:.3f}"])
            if ids <= accused:
                outcome = (t, min(own))
                break
        return task, runs, outcome, innocent

    all_runs, summary = [], []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for task, runs, outcome, innocent in pool.map(one_cluster, tasks):
            c, k, shares_name, m, _ = task
            all_runs += runs
            # Not done: "> the last grid point run" (a member's pool of POOL_DOCS answers ends the grid).
            summary.append([c, k, shares_name, outcome[0] if outcome else f"> {runs[-1][3]}",
                            outcome[1] if outcome else "", len(runs), innocent])
    write_csv("trace_runs.csv", ["c", "cluster", "shares", "tokens_per_colluder", "tokens_total", "members_accused",
                                 "innocents_accused", "worst_member_log10_p_fw", "best_member_log10_p_fw",
                                 "global_log10_p", "decoys_ks_p"], all_runs)
    write_csv("trace_clusters.csv", ["c", "cluster", "shares", "tokens_per_colluder_all_accused",
                                     "smallest_member_tokens", "runs", "innocents_accused"], summary)

    # Human text: nobody may be accused.
    human = []
    for path in [HELDOUT, *HUMAN]:
        r = cli.json("trace", "corpus", "-k", key, "-r", registry, "-i", path, "-t", TOKENIZER, "--alpha", ALPHA,
                     "--list", 5, "--threads", jobs)
        human.append([path.name, r["counts"]["tuples_counted"], sum(a["accused"] for a in r["accounts"]),
                      f"{r['accounts'][0]['log10_p_fw']:.2f}", f"{r['global']['log10_p']:.2f}",
                      f"{r['decoys']['ks_p_value']:.3f}", r["outcome"]])
    write_csv("trace_human.csv", ["text", "tuples_counted", "accused", "best_log10_p_fw", "global_log10_p",
                                  "decoys_ks_p", "outcome"], human)


# ---------------------------------------------------------------------------------------------------
# Radioactivity mode: a student trained on 5% of a cluster's answers


def student_config(cli, d, key, c, hp, jobs):
    """The tag, key, members and their answer pools of one student configuration."""
    tag = f"{c}" if hp == 3 else f"{c}_hp{hp}"
    if hp != 3:
        key = d / f"trace_hp{hp}.key"
        keygen(cli, key, TRACE_DELTA, TRACE_ACCOUNT_DELTA, position_width=hp)
    prefix = "pool" if hp == 3 else f"pool_hp{hp}"
    if c == 1:
        m = [ACCOUNTS - 1]  # its own account, not one of the corpus-mode clusters
        pools = [account_pool(cli, d, key, m[0], STUDENT_POOL_DOCS, jobs, prefix)]
    else:
        m = cluster_members()[(c, 0)]
        pools = [account_pool(cli, d, key, i, POOL_DOCS, jobs, prefix) for i in m]
    marked = d / f"student_{tag}_texts.jsonl"
    if not marked.exists():
        rows_mixed, _ = mix(pools, [1] * c, len(pools[0]) * DOC_TOKENS)
        write_jsonl(marked, rows_mixed)
    return tag, key, m, pools, marked


def run_student(cli, work, jobs):
    d, key0, registry = trace_setup(cli, work)
    rows = []
    queries = prompts_file(d / "student_queries.jsonl", STUDENT_STEPS[-1], stride=7, offset=3)
    for c, hp in STUDENT_CONFIGS:
        tag, key, m, pools, marked = student_config(cli, d, key0, c, hp, jobs)
        model = d / f"student_{tag}.tlm"
        trained = train_student(cli, model, marked)
        answers = d / f"student_{tag}_answers.jsonl"
        generate(cli, model, queries, answers, seed=7, threads=jobs)
        docs = read_jsonl(answers)
        ids = {f"acct-{i:05d}" for i in m}
        for q in STUDENT_STEPS:
            part = d / f"student_{tag}_answers_{q}.jsonl"
            write_jsonl(part, docs[:q])
            r = cli.json("trace", "closed", "-k", key, "-r", registry, "-t", TOKENIZER, "-i", part, "--alpha", ALPHA,
                         "--list", ACCOUNTS, "--threads", jobs)
            part.unlink()
            guilty = [a for a in r["accounts"] if a["account"] in ids]
            best = min((a["log10_p_fw"] for a in guilty), default=float("nan"))
            best_raw = min((a["log10_p"] for a in guilty), default=float("nan"))
            innocents = [a for a in r["accounts"] if a["account"] not in ids]
            rows.append([c, hp, trained, q, r["global"]["scored"], r["counts"]["tuples_counted"], f"{r['global']['log10_p']:.2f}",
                         f"{best_raw:.2f}", f"{best:.2f}", f"{innocents[0]['log10_p_fw']:.2f}",
                         sum(a["accused"] for a in guilty), sum(a["accused"] for a in innocents),
                         f"{r['decoys']['ks_p_value']:.3f}"])
    write_csv("student_curve.csv", ["c", "position_width", "watermarked_tokens_trained", "queries", "global_scored", "account_tuples", "global_log10_p",
                                    "best_colluder_log10_p", "best_colluder_log10_p_fw", "best_innocent_log10_p_fw",
                                    "colluders_accused", "innocents_accused", "decoys_ks_p"], rows)


def run_read(cli, work, jobs):
    """Reading mode on the students of run_student: the suspect teacher-forced on the answers it trained
    on (supervised) and on answers of the same accounts it never saw (unseen)."""
    d, key0, registry = trace_setup(cli, work)
    rows = []
    for c, hp in STUDENT_CONFIGS:
        tag, key, m, pools, marked = student_config(cli, d, key0, c, hp, jobs)
        trained = read_jsonl(marked)
        used = train_student(cli, d / f"student_{tag}.tlm", marked)
        seen, budget = [], used
        for r in trained:  # the documents lm train took, in order (the last one possibly in part)
            if budget <= 0:
                break
            seen.append(r["tokens"][:budget])
            budget -= len(seen[-1])
        seen_set = {tuple(t) for t in seen}
        unseen = [t for p in pools for t in p if tuple(t) not in seen_set]
        ids = {f"acct-{i:05d}" for i in m}
        for which, texts in (("supervised", seen), ("unseen", unseen)):
            path = d / f"student_{tag}_read_{which}.jsonl"
            write_jsonl(path, [{"id": i, "tokens": t} for i, t in enumerate(texts)])
            r = cli.json("trace", "read", "-k", key, "-r", registry, "-m", d / f"student_{tag}.tlm", "-i", path,
                         "--alpha", ALPHA, "--list", ACCOUNTS, "--threads", jobs)
            guilty = [a for a in r["accounts"] if a["account"] in ids]
            innocents = [a for a in r["accounts"] if a["account"] not in ids]
            rows.append([c, hp, which, len(texts), sum(map(len, texts)), r["global"]["scored"],
                         r["counts"]["tuples_counted"], f"{r['global']['log10_p']:.2f}",
                         f"{min(a['log10_p'] for a in guilty):.2f}", f"{min(a['log10_p_fw'] for a in guilty):.2f}",
                         f"{innocents[0]['log10_p_fw']:.2f}", sum(a["accused"] for a in guilty),
                         sum(a["accused"] for a in innocents), f"{r['decoys']['ks_p_value']:.3f}"])
    write_csv("student_read.csv", ["c", "position_width", "texts", "documents", "tokens", "global_scored", "account_tuples",
                                   "global_log10_p", "best_colluder_log10_p", "best_colluder_log10_p_fw",
                                   "best_innocent_log10_p_fw", "colluders_accused", "innocents_accused",
                                   "decoys_ks_p"], rows)


def main(argv):
    if len(argv) < 4 or argv[1] not in ("quality", "trace", "student", "read"):
        sys.exit(__doc__)
    cli = Cli(argv[2])
    work = Path(argv[3])
    work.mkdir(parents=True, exist_ok=True)
    jobs = int(argv[4]) if len(argv) > 4 else 2
    if os.environ.get("ATTRIBUTION_SMOKE"):
        global OUT  # noqa: PLW0603
        OUT = work
    {"quality": run_quality, "trace": run_trace, "student": run_student, "read": run_read}[argv[1]](cli, work, jobs)


if __name__ == "__main__":
    main(sys.argv)
