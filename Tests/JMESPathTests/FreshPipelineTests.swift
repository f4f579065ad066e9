import FerryJSON
import JMESPath
import XCTest

/// Pipe steps that reuse a freshly built intermediate array in place (filter, sort, sort_by, reverse, slice) must
/// give the same results as the copying path and must never modify the document they were given.
final class FreshPipelineTests: XCTestCase {
    static let doc: JSON = {
        var items: [JSON] = []
        for i in 0..<300 {
            items.append(.object([
                "id": .int(Int64(i)),
                "name": .string("n\((i * 7919) % 1000)-\(i % 13)"),
                "size": .int(Int64((i * 37) % 41)),
                "tags": .array((0..<(i % 4)).map { .string("t\($0)") }),
            ]))
        }
        items.append(.null)
        return ["items": .array(items)]
    }()

    func check(_ expression: String, _ expected: JSON, file: StaticString = #filePath, line: UInt = #line) throws {
        let pristine = try JSONParser.parse(bytes: Array(Self.doc.serialized().utf8))
        let got = try Expression(compiling: expression).evaluate(Self.doc)
        XCTAssertEqual(got, expected, expression, file: file, line: line)
        XCTAssertEqual(Self.doc, pristine, "document modified by \(expression)", file: file, line: line)
    }

    func testPipesMatchTheCopyingPath() throws {
        let base = try Expression(compiling: "items[?size > `5`]").evaluate(Self.doc)
        guard case .array(let filtered) = base else { return XCTFail("not an array") }
        // The same pipeline evaluated step by step through separate expressions (no fresh hand-over).
        func step(_ e: String, _ v: JSON) throws -> JSON { try Expression(compiling: e).evaluate(v) }
        var v = JSON.array(filtered)
        v = try step("[*].{n: name, s: size, t: tags}", v)
        v = try step("[?length(t) > `0`]", v)
        v = try step("sort_by(@, &s)", v)
        v = try step("reverse(@)", v)
        v = try step("[:50]", v)
        v = try step("[*].n", v)
        v = try step("sort(@)", v)
        let expected = try step("[::2]", v)
        try check("items | [?size > `5`] | [*].{n: name, s: size, t: tags} | [?length(t) > `0`] | sort_by(@, &s) "
                    + "| reverse(@) | [:50] | [*].n | sort(@) | [::2]", expected)
    }

    func testInPlaceStepsOnSharedAndFreshInputs() throws {
        try check("items[?id < `3`].id | reverse(@)", [2, 1, 0])
        try check("items | reverse(@) | [?id != null] | [0].id", 299)
        try check("items[*].size | sort(@) | [-1]", 40)
        try check("items[?id < `5`] | sort_by(@, &name) | [*].id", [0, 4, 3, 2, 1])
        try check("items[*].id | [5:8]", [5, 6, 7])
        try check("items[*].id | [-2:]", [298, 299])
        try check("items[*].id | [8:5]", [])
        try check("items[*].id | [?@ > `297`]", [298, 299])
        try check("items[*] | [?id == `1`] | [0].name", .string("n919-1"))
        try check("[items[0].id, items[1].id] | reverse(@)", [1, 0])
        try check("items | [?tags[0] == 't0'] | length(@)", 225)
    }

    func testErrorsInsideInPlaceStepsAreReported() throws {
        XCTAssertThrowsError(try Expression(compiling: "items[*].name | [?abs(@) > `1`]").evaluate(Self.doc))
        XCTAssertThrowsError(try Expression(compiling: "items[*].{a: id, b: name} | sort_by(@, &tags)").evaluate(Self.doc))
        XCTAssertThrowsError(try Expression(compiling: "items[?id < `3`] | sort(@)").evaluate(Self.doc))
    }

    /// sort_by over short string keys (at most 8 bytes, no NUL): ordered by packed prefixes alone.
    func testSortByShortStringKeysMatchesReference() throws {
        var rng = ConcurrencyTests.SplitMix(state: 11)
        let pieces = ["", "a", "b", "ab", "ba", "é", "zz", "A", "~", "abc"]
        for round in 0..<20 {
            let n = 130 + rng.int(600)
            let items: [JSON] = (0..<n).map { i in
                ["k": .string(pieces[rng.int(pieces.count)] + pieces[rng.int(pieces.count)]), "i": .int(Int64(i))]
            }
            // Stable reference: by code points, then by original position.
            let expected = items.indices.sorted { x, y in
                let a = Array(items[x]["k"]!.stringValue!.unicodeScalars.map(\.value))
                let b = Array(items[y]["k"]!.stringValue!.unicodeScalars.map(\.value))
                return a != b ? a.lexicographicallyPrecedes(b) : x < y
            }.map { JSON.int(Int64($0)) }
            let doc: JSON = ["items": .array(items)]
            XCTAssertEqual(try search("sort_by(items, &k)[*].i", doc), .array(expected), "round \(round)")
            // The same on a fresh intermediate array (sorted in place).
            XCTAssertEqual(try search("items[?i >= `0`] | sort_by(@, &k) | [*].i", doc), .array(expected), "round \(round)")
        }
    }

    /// `x[a:b:c].rhs` projects straight from x's array; it must match slicing first, then projecting.
    func testSliceProjectionsMatchSliceThenProject() throws {
        let slices = ["[1:3]", "[::2]", "[::-1]", "[-3:]", "[5:2:-1]", "[:0]", "[10:]", "[-100:100:7]", "[2:2]", "[::-3]"]
        for sl in slices {
            let direct = try Expression(compiling: "items\(sl).id").evaluate(Self.doc)
            let staged = try Expression(compiling: "items\(sl) | [*].id").evaluate(Self.doc)
            XCTAssertEqual(direct, staged, sl)
            let onInput = try Expression(compiling: "\(sl).name").evaluate(Self.doc["items"] ?? .null)
            XCTAssertEqual(onInput, try Expression(compiling: "items\(sl) | [*].name").evaluate(Self.doc), sl)
        }
        XCTAssertEqual(try search("items[1:3].missing", Self.doc), [])
        XCTAssertEqual(try search("items[298:].id", Self.doc), [298, 299])  // the trailing null element is dropped
        XCTAssertEqual(try search("a[0:2].b", ["a": "not an array"]), .null)
        XCTAssertThrowsError(try search("items[::0].id", Self.doc))
        XCTAssertEqual(try search("[?a > `-1`].a", [["a": -1], ["a": 0], ["a": 10]]), [0, 10])
        XCTAssertEqual(try search("[?a == `-0`].a", [["a": 0]]), [0])
    }
}
