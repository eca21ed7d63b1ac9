#!/usr/bin/env python3
"""Runs every `tritium` command that README.md shows, as written, so the documentation cannot drift.

Usage: readme_commands_test.py README_MD SOURCE_DIR BUILD_DIR

- The "First steps" block is run as one shell script from a stand-in for a fresh clone (a folder with
  the clone's `fixtures/` and the build's `build/`): every command in it must succeed, because a
  newcomer follows it line by line.
- Every other ```sh block that holds `tritium` commands (the reference list of "Using it", the
  evidence reports) is run command by command, in order, in one sandbox folder that holds the input
  files those commands name (made here from fixtures/; the commands make the rest). A test command
  (`detect`, `radioactivity corpus|closed|read`) must end in one of its verdicts (0, 1 or 2), any
  other command in 0. A usage or input error (3, 4), which is what a drifted example gives, fails.
- The set-up blocks ("Set-up", "Testing") build and test the project; CI runs those itself.

A line of a run block that is neither a comment nor a `tritium` command fails the test: it would
otherwise be skipped without anyone noticing.
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

VERDICT_COMMANDS = (("detect",), ("radioactivity", "corpus"), ("radioactivity", "closed"), ("radioactivity", "read"),
                    ("trace", "corpus"), ("trace", "closed"), ("trace", "read"),
                    ("fingerprint", "verify"))
SETUP_SECTIONS = ("Set-up", "Testing")
FIRST_STEPS = "First steps"


def blocks(readme):
    """(heading, [logical lines]) for each ```sh block; a trailing backslash joins lines."""
    heading, inside, found, current = "", False, [], []
    for raw in open(readme, encoding="utf-8").read().split("\n"):
        if not inside and raw.startswith("#"):
            heading = raw.lstrip("#").strip()
        elif not inside and raw.strip() == "```sh":
            inside, current = True, []
        elif inside and raw.strip() == "```":
            inside = False
            logical, pending = [], ""
            for line in current:
                if line.rstrip().endswith("\\"):
                    pending += line.rstrip()[:-1] + " "
                else:
                    logical.append(pending + line)
                    pending = ""
            found.append((heading, [l for l in logical if l.strip()]))
        elif inside:
            current.append(raw)
    if inside:
        sys.exit("README.md: a ```sh block is not closed")
    return found


def words_of(command):
    # Drop a trailing comment ("  # ...") before looking at the subcommand.
    return re.sub(r"\s+#.*$", "", command).split()


def expected_codes(command):
    w = words_of(command)
    for prefix in VERDICT_COMMANDS:
        if tuple(w[1:1 + len(prefix)]) == prefix:
            return {0, 1, 2}
    return {0}


def make_sandbox(folder, source):
    """The inputs the reference examples name and no example makes, from the project's fixtures."""
    corpus = os.path.join(source, "fixtures", "corpus")
    os.symlink(os.path.join(source, "fixtures", "tokenizers", "qwen3", "tokenizer.json"),
               os.path.join(folder, "tokenizer.json"))

    def records(name):
        return [json.loads(l) for l in open(os.path.join(corpus, name), encoding="utf-8")]

    sotu, moby, heldout = records("sotu_train.jsonl"), records("moby_dick.jsonl"), records("sotu_heldout.jsonl")
    prompts = records("prompts.jsonl")
    for sub, texts in (("texts", sotu[:40]), ("human", moby[:20]), ("suspect", moby[20:23])):
        os.mkdir(os.path.join(folder, sub))
        for i, r in enumerate(texts):
            open(os.path.join(folder, sub, "%02d.txt" % i), "w", encoding="utf-8").write(r["text"])
    open(os.path.join(folder, "heldout.txt"), "w", encoding="utf-8").write(heldout[0]["text"])
    open(os.path.join(folder, "suspect.txt"), "w", encoding="utf-8").write(heldout[1]["text"])
    # A transformers deployment's generation config with its KGW watermark (WatermarkingConfig).
    with open(os.path.join(folder, "generation_config.json"), "w", encoding="utf-8") as f:
        json.dump({"do_sample": True, "watermarking_config": {"greenlist_ratio": 0.25, "bias": 2.0,
                   "hashing_key": 15485863, "seeding_scheme": "lefthash", "context_width": 1}}, f)
    with open(os.path.join(folder, "prompts.jsonl"), "w", encoding="utf-8") as f:
        for p in prompts[:8]:
            f.write(json.dumps(p) + "\n")
    with open(os.path.join(folder, "scraped.jsonl"), "w", encoding="utf-8") as f:
        for r in moby[23:40]:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
    with open(os.path.join(folder, "sent_and_answered.jsonl"), "w", encoding="utf-8") as f:
        for p, r in zip(prompts[8:20], heldout[2:]):
            f.write(json.dumps({"id": p["id"], "prompt": p["prompt"], "text": r["text"][:2000]}) + "\n")
    with open(os.path.join(folder, "accounts.jsonl"), "w", encoding="utf-8") as f:
        for i in range(1000):
            f.write(json.dumps({"account": "acct-%06d" % i}) + "\n")
    # A suspect's answers to the 64 questions of a fingerprint set: made-up words, some of them candidates.
    with open(os.path.join(folder, "suspect_answers.jsonl"), "w", encoding="utf-8") as f:
        for i in range(64):
            f.write(json.dumps({"question": i, "answer": ["bafo", "zuke", "I do not know."][i % 3]}) + "\n")
    rng = random.Random(14)
    with open(os.path.join(folder, "suspect_top1.jsonl"), "w", encoding="utf-8") as f:
        for i in range(6):
            tokens = [rng.randrange(151643) for _ in range(300)]
            f.write(json.dumps({"id": i, "tokens": tokens, "predictions": [rng.randrange(151643) for _ in tokens]}) + "\n")


def run(command, cwd, env, failures, script=False):
    start = time.monotonic()
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=900)
    seconds = time.monotonic() - start
    expected = {0} if script else expected_codes(command)
    ok = p.returncode in expected
    label = "the First steps block" if script else command
    print("%-4s exit %d in %5.1f s: %s" % ("ok" if ok else "FAIL", p.returncode, seconds, label), flush=True)
    if not ok:
        failures.append("%s: exit %d, expected %s\n%s" % (label, p.returncode, sorted(expected),
                                                           p.stderr.decode("utf-8", "replace")[-1500:]))
    return p


def main():
    readme, source, build = sys.argv[1:4]
    found = blocks(readme)
    failures, ran = [], 0
    work = tempfile.mkdtemp(prefix="tritium-readme-")
    try:
        env = dict(os.environ)
        env["PATH"] = os.path.join(build, "cli") + os.pathsep + env["PATH"]
        env.pop("SOURCE_DATE_EPOCH", None)

        first = [lines for heading, lines in found if heading.startswith(FIRST_STEPS)]
        if len(first) != 1:
            failures.append("README.md: expected one ```sh block under a heading \"%s...\", found %d" % (FIRST_STEPS, len(first)))
        else:
            # A stand-in for a fresh clone after the build: its fixtures and its build folder.
            clone = os.path.join(work, "clone")
            os.mkdir(clone)
            os.symlink(os.path.join(source, "fixtures"), os.path.join(clone, "fixtures"))
            os.symlink(build, os.path.join(clone, "build"))
            newcomer_env = dict(env)
            newcomer_env["PATH"] = os.environ["PATH"]  # the block itself must say how to reach tritium
            run("\n".join(first[0]), clone, newcomer_env, failures, script=True)
            ran += sum(1 for l in first[0] if l.lstrip().startswith("tritium "))

        sandbox = os.path.join(work, "sandbox")
        os.mkdir(sandbox)
        make_sandbox(sandbox, source)
        for heading, lines in found:
            if heading.startswith(FIRST_STEPS) or any(heading.startswith(s) for s in SETUP_SECTIONS):
                continue
            if not any(l.lstrip().startswith("tritium ") for l in lines):
                continue
            for line in lines:
                command = line.strip()
                if command.startswith("#"):
                    continue
                if not command.startswith("tritium "):
                    failures.append("README.md, section \"%s\": a line the test cannot run: %s" % (heading, command))
                    continue
                run(command, sandbox, env, failures)
                ran += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d README commands run, %d failed" % (ran, len(failures)))
    for f in failures:
        print("FAILED: " + f)
    if ran < 20:
        print("FAILED: only %d commands found in README.md: did the blocks move?" % ran)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
