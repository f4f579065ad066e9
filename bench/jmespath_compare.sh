#!/usr/bin/env bash
# Side-by-side JMESPath benchmark: Swift (ferry-bench jmespath, release build) vs the Python `jmespath` package
# on the same expressions and the same documents (written once by bench/jmespath_bench.py).
# usage: bench/jmespath_compare.sh [--quick] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${JMESPATH_BENCH_DATA:-/tmp/ferry_jmespath_bench.json}
PY=${PYTHON:-python3}
QUICK=""
BUILD=1
for a in "$@"; do
  case "$a" in
    --quick) QUICK="--quick" ;;
    --no-build) BUILD=0 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
if ! "$PY" -c 'import jmespath' 2>/dev/null; then
  if [ -x .venv/bin/python ] && .venv/bin/python -c 'import jmespath' 2>/dev/null; then PY=.venv/bin/python
  else echo "the Python jmespath package is required (pip install jmespath)" >&2; exit 1; fi
fi
# The executable is the FerryBench target; a `ferry-bench` product name is used when Package.swift declares one.
PRODUCT=ferry-bench
grep -q '"ferry-bench"' Package.swift || PRODUCT=FerryBench
if [ "$BUILD" = 1 ]; then
  echo "building $PRODUCT (release)..." >&2
  swift build -c release --product "$PRODUCT" >&2
fi
BIN="$(swift build -c release --show-bin-path)/$PRODUCT"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$PY" bench/jmespath_bench.py --data "$DATA" --write-data $QUICK > "$OUT/python.jsonl"
"$BIN" jmespath --data "$DATA" $QUICK > "$OUT/swift.jsonl"
"$PY" - "$OUT/python.jsonl" "$OUT/swift.jsonl" <<'PYEOF'
import json, sys
def load(path):
    rows = {}
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)
            rows[r["name"]] = r
    return rows
py, sw = load(sys.argv[1]), load(sys.argv[2])
hdr = f"{'benchmark':<22} {'py parse':>10} {'swift parse':>12} {'x':>6} {'py eval':>11} {'swift eval':>11} {'x':>6} {'py total':>11} {'swift total':>12} {'x':>6} {'spread% py/sw':>14}"
print(hdr)
print("-" * len(hdr))
worst = None
for name, p in py.items():
    s = sw.get(name)
    if not s or "error" in s:
        print(f"{name:<22} swift result missing: {s}")
        continue
    pt, st = p["parse_us"] + p["eval_us"], s["parse_us"] + s["eval_us"]
    r = pt / st if st else float("inf")
    worst = r if worst is None else min(worst, r)
    print(f"{name:<22} {p['parse_us']:>9.2f}µ {s['parse_us']:>11.3f}µ {p['parse_us']/max(s['parse_us'],1e-9):>5.1f}x "
          f"{p['eval_us']:>10.2f}µ {s['eval_us']:>10.3f}µ {p['eval_us']/max(s['eval_us'],1e-9):>5.1f}x "
          f"{pt:>10.2f}µ {st:>11.3f}µ {r:>5.1f}x {p['spread_pct']:>6.1f}/{s['spread_pct']:<6.1f}")
print()
print(f"slowest ratio (parse+eval): {worst:.1f}x  (times are medians in microseconds; spread = p90-p10 over median)")
PYEOF
