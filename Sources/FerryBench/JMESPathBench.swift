// JMESPath benchmark: parse and evaluation time of the same expressions and documents that
// bench/jmespath_bench.py measures with the Python `jmespath` package (bench/jmespath_compare.sh runs both).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FerryJSON
import JMESPath

/// Same list as CASES in bench/jmespath_bench.py; keep them identical.
private let jmespathBenchCases: [(name: String, doc: String, expression: String)] = [
    ("filter_projection_1k", "items1k", "items[?state == 'running' && size > `10`].{id: id, n: name}"),
    ("pipe_chain_1k", "items1k",
     "items | [?size > `5`] | [*].{n: name, s: size, t: tags} | [?length(t) > `0`] | sort_by(@, &s) "
        + "| reverse(@) | [:200] | [*].n | sort(@) | [::2] | join(',', @) | length(@)"),
    ("sort_by_10k", "keyed10k", "sort_by(@, &key)"),
    ("small_field_path", "small", "a.b.c.d"),
    ("small_index_slice", "small", "people[1:3][0].name"),
    ("small_filter_first", "small", "people[?age > `30`].name | [0]"),
    ("small_functions", "small", "{n: length(people), oldest: max_by(people, &age).name, names: sort(people[*].name)}"),
    ("small_multiselect", "small", "people[*].[name, age, contains(tags, 'ops')]"),
]

/// usage: ferry-bench jmespath [--data PATH] [--quick] [--only NAME] [--iters N]
/// `--iters N` fixes the number of calls per measurement (for profiling with `perf stat`) instead of a time budget.
/// The data file is written by `bench/jmespath_bench.py --write-data` (default /tmp/ferry_jmespath_bench.json).
/// Prints one JSON object per case: {name, parse_us, eval_us, iterations, spread_pct}; times are medians over
/// rounds, spread_pct is (p90 - p10) / median of the evaluation timings.
func runJMESPathBench(_ args: [String]) {
    var path = "/tmp/ferry_jmespath_bench.json"
    if let i = args.firstIndex(of: "--data"), i + 1 < args.count { path = args[i + 1] }
    let quick = args.contains("--quick")
    var only: String?
    if let i = args.firstIndex(of: "--only"), i + 1 < args.count { only = args[i + 1] }
    let (budget, rounds) = quick ? (0.3, 5) : (1.5, 15)
    var fixedIters: Int?
    if let i = args.firstIndex(of: "--iters"), i + 1 < args.count { fixedIters = Int(args[i + 1]) }

    guard let bytes = readWholeFile(path) else {
        print("{\"error\": \"cannot read \(path); run bench/jmespath_bench.py --write-data first\"}")
        return
    }
    let data: JSON
    do {
        data = try JSONParser.parse(bytes: bytes)
    } catch {
        print("{\"error\": \"invalid JSON in \(path): \(error)\"}")
        return
    }

    for c in jmespathBenchCases where only == nil || c.name == only {
        guard let doc = data[c.doc] else {
            print("{\"name\": \"\(c.name)\", \"error\": \"document \(c.doc) missing from \(path)\"}")
            continue
        }
        do {
            let compiled = try Expression(compiling: c.expression)
            var sink = 0
            let parse = measure(budget: budget / 3, rounds: rounds, fixed: fixedIters) {
                if let e = try? Expression(compiling: c.expression) { sink &+= e.source.utf8.count }
            }
            _ = try compiled.evaluate(doc)  // warm up
            let eval = measure(budget: budget, rounds: rounds, fixed: fixedIters) {
                if case .array(let a) = (try? compiled.evaluate(doc)) ?? .null { sink &+= a.count } else { sink &+= 1 }
            }
            if sink == 42 { print("") }  // keeps the measured work observable
            let line: JSON = [
                "name": .string(c.name),
                "parse_us": .double(rounded(parse.median)),
                "eval_us": .double(rounded(eval.median)),
                "iterations": .int(eval.iterations),
                "spread_pct": .double((eval.spread * 10).rounded() / 10),
            ]
            print(line.serialized())
        } catch {
            print("{\"name\": \"\(c.name)\", \"error\": \(JSON.string(error.description).serialized())}")
        }
    }
}

private func rounded(_ us: Double) -> Double { (us * 1000).rounded() / 1000 }

private func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Median and p10–p90 spread of the per-call time in microseconds, over `rounds` batches whose size is
/// chosen so the whole measurement takes about `budget` seconds.
private func measure(budget: Double, rounds: Int, fixed: Int? = nil, _ body: () -> Void) -> (median: Double, spread: Double, iterations: Int) {
    var t0 = nowSeconds()
    body()
    let once = max(nowSeconds() - t0, 1e-7)
    let batch = fixed.map { max(1, $0 / rounds) } ?? max(1, Int(budget / Double(rounds) / once))
    var samples: [Double] = []
    for _ in 0..<rounds {
        t0 = nowSeconds()
        for _ in 0..<batch { body() }
        samples.append((nowSeconds() - t0) / Double(batch) * 1e6)
    }
    samples.sort()
    func pct(_ p: Double) -> Double {
        let k = Double(samples.count - 1) * p
        let lo = Int(k), hi = min(lo + 1, samples.count - 1)
        return samples[lo] + (samples[hi] - samples[lo]) * (k - Double(lo))
    }
    let med = pct(0.5)
    let spread = med > 0 ? (pct(0.9) - pct(0.1)) / med * 100 : 0
    return (med, spread, batch * rounds)
}

private func readWholeFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
