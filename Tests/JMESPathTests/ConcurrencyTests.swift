import Dispatch
import FerryJSON
import JMESPath
import XCTest

/// One compiled Expression evaluated from many tasks at once must give exactly the single-threaded results.
final class ConcurrencyTests: XCTestCase {
    /// Small deterministic generator (SplitMix64) so every run uses the same documents.
    struct SplitMix: Sendable {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    static func makeDocument(_ rng: inout SplitMix) -> JSON {
        let states = ["running", "stopped", "pending", "ÉTAT-✓"]
        var items: [JSON] = []
        for i in 0..<(5 + rng.int(40)) {
            var o: JSONObject = [
                "id": .int(i),
                "name": .string("item-\(rng.int(1000))"),
                "state": .string(states[rng.int(states.count)]),
                "size": rng.int(3) == 0 ? .double(Double(rng.int(4000)) / 100) : .int(rng.int(40)),
                "tags": .array((0..<rng.int(4)).map { _ in .string("t\(rng.int(6))") }),
            ]
            if rng.int(5) == 0 { o["extra"] = ["nested": ["v": .int(rng.int(10))]] }
            if rng.int(7) == 0 { o["size"] = .null }
            items.append(.object(o))
        }
        return ["items": .array(items), "meta": ["count": .int(items.count), "owner": "ops"]]
    }

    static let expression = try! Expression(compiling: """
        {running: items[?state == 'running' && size > `10`].{id: id, n: name}, \
        byName: sort_by(items[?size != null], &name)[:3].name, \
        tags: items[].tags[] | sort(@) | join(',', @), \
        top: max_by(items[?size != null], &size).id, \
        total: sum(items[?size != null].size), \
        lens: map(&length(tags), items), \
        nested: items[*].extra.nested.v, \
        values: items[*].extra.*.v, flat: items[].tags[], \
        owner: meta.owner, count: length(items)}
        """)

    func testConcurrentEvaluationMatchesSequential() async throws {
        var rng = SplitMix(state: 42)
        let docs = (0..<64).map { _ in Self.makeDocument(&rng) }
        let expr = Self.expression
        let expected = try docs.map { try expr.evaluate($0) }
        // Sanity: the expression really exercises the documents.
        XCTAssertTrue(expected.contains { ($0["running"]?.arrayValue?.count ?? 0) > 0 })

        let tasks = 8, perTask = 2_000
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    var bad = 0
                    for i in 0..<perTask {
                        let k = (i * 7 + t * 13) % docs.count
                        if try expr.evaluate(docs[k]) != expected[k] { bad += 1 }
                    }
                    return bad
                }
            }
            var total = 0
            for try await n in group { total += n }
            return total
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testConcurrentCompileAndEvaluateFromThreads() throws {
        // Also from plain threads (the C ABI's callers), compiling on each thread as well.
        let doc: JSON = ["a": [["b": 1], ["b": 2], ["b": 3]]]
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { results.deallocate() }
        results.initialize(repeating: 0)
        let box = UncheckedBox(results)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            var ok = 0
            for _ in 0..<500 {
                if let e = try? Expression(compiling: "sum(a[?b > `1`].b)"), (try? e.evaluate(doc)) == 5 { ok += 1 }
            }
            box.value[t] = ok
        }
        XCTAssertEqual(Array(results), Array(repeating: 500, count: 8))
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
