#!/usr/bin/env python3
"""JMESPath benchmark with the Python `jmespath` package, the baseline for `ferry-bench jmespath`.

Both programs read the same documents from one JSON file, which this script writes (deterministically, from a
fixed seed) when it is missing or when --write-data is given. Output: one JSON object per line,
{name, parse_us, eval_us, iterations, spread_pct}, where parse_us/eval_us are medians over rounds and
spread_pct is (p90 - p10) / median of the eval (or parse, for parse-only) timings, in percent.

usage: jmespath_bench.py [--data PATH] [--write-data] [--quick]
"""
import json
import os
import random
import sys
import time

import jmespath
from jmespath.parser import Parser

DEFAULT_DATA = "/tmp/ferry_jmespath_bench.json"

# The same list is in Sources/FerryBench/JMESPathBench.swift; keep them identical.
CASES = [
    # (name, document key, expression)
    ("filter_projection_1k", "items1k", "items[?state == 'running' && size > `10`].{id: id, n: name}"),
    ("pipe_chain_1k", "items1k",
     "items | [?size > `5`] | [*].{n: name, s: size, t: tags} | [?length(t) > `0`] | sort_by(@, &s) "
     "| reverse(@) | [:200] | [*].n | sort(@) | [::2] | join(',', @) | length(@)"),
    ("sort_by_10k", "keyed10k", "sort_by(@, &key)"),
    ("small_field_path", "small", "a.b.c.d"),
    ("small_index_slice", "small", "people[1:3][0].name"),
    ("small_filter_first", "small", "people[?age > `30`].name | [0]"),
    ("small_functions", "small", "{n: length(people), oldest: max_by(people, &age).name, names: sort(people[*].name)}"),
    ("small_multiselect", "small", "people[*].[name, age, contains(tags, 'ops')]"),
]


def make_data():
    rng = random.Random(20240601)
    states = ["running", "stopped", "pending", "failed"]
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    items = []
    for i in range(1000):
        items.append({
            "id": "i-%06d" % i,
            "name": "%s-%d" % (rng.choice(words), rng.randrange(100000)),
            "state": rng.choice(states),
            "size": rng.randrange(0, 40),
            "zone": "zone-%d" % rng.randrange(4),
            "tags": [rng.choice(words) for _ in range(rng.randrange(0, 4))],
            "metrics": {"cpu": rng.randrange(0, 10000) / 100.0, "mem": rng.randrange(0, 64)},
        })
    keyed = []
    for i in range(10000):
        key = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
        keyed.append({"key": key, "i": i})
    small = {
        "a": {"b": {"c": {"d": "deep"}}},
        "people": [
            {"name": "ann", "age": 41, "tags": ["ops", "dev"]},
            {"name": "bob", "age": 25, "tags": ["dev"]},
            {"name": "cyd", "age": 33, "tags": []},
            {"name": "dee", "age": 29, "tags": ["ops"]},
        ],
    }
    return {"items1k": {"items": items}, "keyed10k": keyed, "small": small}


def percentile(sorted_vals, p):
    k = (len(sorted_vals) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def measure(fn, budget_s, rounds):
    """Median and spread of per-call time (µs) over `rounds` batches sized to fill about budget_s in total."""
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    batch = max(1, int(budget_s / rounds / once))
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t0) / batch * 1e6)
    samples.sort()
    med = percentile(samples, 0.5)
    spread = (percentile(samples, 0.9) - percentile(samples, 0.1)) / med * 100 if med > 0 else 0.0
    return med, spread, batch * rounds


def main(argv):
    path = DEFAULT_DATA
    write = "--write-data" in argv
    quick = "--quick" in argv
    if "--data" in argv:
        path = argv[argv.index("--data") + 1]
    if write or not os.path.exists(path):
        with open(path, "w") as f:
            json.dump(make_data(), f)
    with open(path) as f:
        data = json.load(f)
    budget, rounds = (0.3, 5) if quick else (1.5, 15)
    for name, key, expr in CASES:
        doc = data[key]
        parser = Parser()
        # Parser.parse caches compiled expressions; _do_parse measures a real parse every time.
        parse_us, parse_spread, _ = measure(lambda: parser._do_parse(expr), budget / 3, rounds)
        compiled = jmespath.compile(expr)
        compiled.search(doc)  # warm up
        eval_us, eval_spread, iters = measure(lambda: compiled.search(doc), budget, rounds)
        print(json.dumps({"name": name, "parse_us": round(parse_us, 3), "eval_us": round(eval_us, 3),
                          "iterations": iters, "spread_pct": round(eval_spread, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
