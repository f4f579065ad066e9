import FerryJSON
import JMESPath
import XCTest

/// Error kinds, columns and messages.
final class ErrorTests: XCTestCase {
    func compileError(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> JMESPathError? {
        do {
            _ = try Expression(compiling: source)
            XCTFail("expected \(source.debugDescription) not to compile", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func evalError(_ source: String, _ data: JSON, file: StaticString = #filePath, line: UInt = #line) -> JMESPathError? {
        do {
            let e = try Expression(compiling: source)
            let r = try e.evaluate(data)
            XCTFail("expected \(source.debugDescription) to fail, got \(r)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testSyntaxErrorColumnsPointAtTheOffendingToken() throws {
        let cases: [(String, Int)] = [
            ("foo.", 5),           // end of expression
            ("foo[?]", 6),         // ']' where a condition was expected
            ("foo..bar", 5),
            ("a = b", 3),          // lone '='
            ("foo bar", 5),        // trailing token
            ("[1, 2", 3),          // an index must be followed by ']'
            ("'abc", 1),           // unterminated raw string, reported at its start
            ("foo[1:2:3:4]", 10),
            ("\"\\u\"", 1),        // invalid escape in quoted identifier
            ("✓✓.x", 1),           // non-ASCII outside quotes
            ("\"✓\" == #", 8),     // column counts characters, not UTF-8 bytes
            ("`\"abc`", 1),        // neither JSON nor a valid elided string
            ("", 1),
        ]
        for (src, col) in cases {
            guard let e = compileError(src) else { continue }
            XCTAssertEqual(e.kind, .syntax, src)
            XCTAssertEqual(e.column, col, "column for \(src.debugDescription): \(e.message)")
            XCTAssertEqual(e.expression, src)
            XCTAssertTrue(e.message.contains("column \(col)"), e.message)
        }
    }

    func testSyntaxMessageQuotesTheExpression() throws {
        let e = try XCTUnwrap(compileError("foo[?bar==]"))
        XCTAssertEqual(e.kind, .syntax)
        XCTAssertEqual(e.column, 11)
        XCTAssertTrue(e.message.contains("\"foo[?bar==]\""), e.message)
        XCTAssertTrue(e.message.contains("']'"), e.message)
        XCTAssertTrue(e.description.hasPrefix("syntax error:"), e.description)
        // Quotes and control characters inside the expression are escaped in the message.
        let q = try XCTUnwrap(compileError("\"a\"\"b\"\n+"))
        XCTAssertTrue(q.message.contains("\"\\\"a\\\"\\\"b\\\"\\n+\""), q.message)
    }

    func testFunctionErrorsAtCompileTime() throws {
        let u = try XCTUnwrap(compileError("foo | nope(@)"))
        XCTAssertEqual(u.kind, .unknownFunction)
        XCTAssertEqual(u.column, 7)
        XCTAssertTrue(u.message.contains("nope()"), u.message)

        let a = try XCTUnwrap(compileError("length(a, b)"))
        XCTAssertEqual(a.kind, .invalidArity)
        XCTAssertTrue(a.message.contains("length() takes 1 argument but was given 2"), a.message)
        XCTAssertEqual(compileError("not_null()")?.kind, .invalidArity)
        XCTAssertEqual(compileError("merge()")?.kind, .invalidArity)
        XCTAssertEqual(compileError("sort_by(@)")?.kind, .invalidArity)
        // A syntax error anywhere wins over a bad call earlier in the expression.
        XCTAssertEqual(compileError("nope(@) | [")?.kind, .syntax)
        XCTAssertEqual(compileError("\"length\"(@)")?.kind, .syntax)
    }

    func testEveryBuiltinIsKnown() throws {
        let names = ["abs", "avg", "ceil", "contains", "ends_with", "floor", "join", "keys", "length", "map", "max",
                     "max_by", "merge", "min", "min_by", "not_null", "reverse", "sort", "sort_by", "starts_with", "sum",
                     "to_array", "to_number", "to_string", "type", "values"]
        for name in names {
            // One argument is the right count for some and an arity error for others, never an unknown function.
            do {
                _ = try Expression(compiling: "\(name)(@)")
            } catch {
                XCTAssertEqual(error.kind, .invalidArity, name)
            }
        }
        XCTAssertEqual(compileError("Length(@)")?.kind, .unknownFunction)
        XCTAssertEqual(compileError("length_(@)")?.kind, .unknownFunction)
    }

    func testEvaluationErrors() throws {
        let t = try XCTUnwrap(evalError("abs(name)", ["name": "x"]))
        XCTAssertEqual(t.kind, .invalidType)
        XCTAssertNil(t.column)
        XCTAssertTrue(t.message.contains("abs() expects argument 1 to be a number, got string"), t.message)
        XCTAssertEqual(evalError("[::0]", [1, 2])?.kind, .invalidValue)
        XCTAssertEqual(evalError("sort_by(@, &a)", [["a": 1], ["a": "x"]])?.kind, .invalidType)
        XCTAssertEqual(evalError("max_by(@, &a)", [["a": true]])?.kind, .invalidType)
        XCTAssertEqual(evalError("sort(@)", [1, "a"])?.kind, .invalidType)
        XCTAssertEqual(evalError("join(',', @)", ["a", 1])?.kind, .invalidType)
        XCTAssertEqual(evalError("map(a, @)", [])?.kind, .invalidType)
        XCTAssertEqual(evalError("length(&a)", [])?.kind, .invalidType)
        // Step 0 on a non-array is not evaluated, as in the reference implementation.
        XCTAssertEqual(try search("[::0]", ["a": 1]), .null)
    }

    func testSemantics() throws {
        // Numbers compare by value, object key order never matters.
        XCTAssertEqual(try search("a == b", ["a": 1, "b": 1.0]), true)
        XCTAssertEqual(try search("a == b", ["a": ["x": 1, "y": [1, 2]], "b": ["y": [1, 2.0], "x": 1]]), true)
        XCTAssertEqual(try search("a == `true`", ["a": 1]), false)
        // Ordering only on numbers.
        XCTAssertEqual(try search("'a' < 'b'", nil), .null)
        XCTAssertEqual(try search("`2` > `1.5`", nil), true)
        // Code point order, not canonical equivalence: "é" precomposed (U+00E9) sorts after "z".
        XCTAssertEqual(try search("sort(@)", ["z", "\u{E9}", "e\u{301}", "Z", "a"]), ["Z", "a", "e\u{301}", "z", "\u{E9}"])
        XCTAssertEqual(try search("max(@)", ["z", "\u{E9}"]), "\u{E9}")
        XCTAssertEqual(try search("a == b", ["a": "\u{E9}", "b": "e\u{301}"]), false)
        // length counts code points.
        XCTAssertEqual(try search("length(@)", "e\u{301}✓𝄞"), 4)
        XCTAssertEqual(try search("reverse(@)", "ab𝄞"), "𝄞ba")
        // Big integers keep their digits.
        let big = try JSON.parse("{\"n\": 123456789012345678901234567890, \"l\": [3, 123456789012345678901234567890]}")
        XCTAssertEqual(try search("n", big).serialized(), "123456789012345678901234567890")
        XCTAssertEqual(try search("to_string(n)", big), "123456789012345678901234567890")
        XCTAssertEqual(try search("abs(`-123456789012345678901234567890`)", nil).serialized(), "123456789012345678901234567890")
        XCTAssertEqual(try search("to_number('123456789012345678901234567890')", nil).serialized(), "123456789012345678901234567890")
        XCTAssertEqual(try search("max(l)", big).serialized(), "123456789012345678901234567890")
        // sort_by is stable.
        let people: JSON = [["k": 2, "i": 0], ["k": 1, "i": 1], ["k": 2, "i": 2], ["k": 1, "i": 3]]
        XCTAssertEqual(try search("sort_by(@, &k)[].i", people), [1, 3, 0, 2])
        XCTAssertEqual(try search("max_by(@, &k).i", people), 0)
        XCTAssertEqual(try search("min_by(@, &k).i", people), 1)
        // Slices.
        let ten: JSON = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        XCTAssertEqual(try search("[::-3]", ten), [9, 6, 3, 0])
        XCTAssertEqual(try search("[-100:100:4]", ten), [0, 4, 8])
        XCTAssertEqual(try search("[100:-100:-4]", ten), [9, 5, 1])
        XCTAssertEqual(try search("[99999999999999999999999:]", ten), [])
        // Keys of a multi-select hash keep their written order.
        XCTAssertEqual(try search("{z: a, a: b}", ["a": 1, "b": 2]).serialized(), "{\"z\":1,\"a\":2}")
    }

    func testExpressionValueSemantics() throws {
        let a = try Expression(compiling: "foo.bar")
        let b = try Expression(compiling: "foo.bar")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertEqual(a.source, "foo.bar")
        XCTAssertEqual(Set([a, b]).count, 1)
        XCTAssertEqual(try a.evaluate(["foo": ["bar": [1]]]), [1])
    }

    func testDeepNestingIsASyntaxErrorNotACrash() throws {
        let deep = String(repeating: "(", count: 5000) + "a" + String(repeating: ")", count: 5000)
        XCTAssertEqual(compileError(deep)?.kind, .syntax)
        let nots = String(repeating: "!", count: 5000) + "a"
        XCTAssertEqual(compileError(nots)?.kind, .syntax)
        // Long flat chains are fine.
        let chain = (0..<5000).map { _ in "a" }.joined(separator: " | ")
        XCTAssertEqual(try search(chain, ["a": ["a": 1]]), .null)
        let path = (0..<5000).map { _ in "a" }.joined(separator: ".")
        XCTAssertEqual(try search(path, ["a": 1]), .null)
    }
}

/// sort, sort_by, max_by and min_by against a straightforward reference on generated data.
final class SortTests: XCTestCase {
    func testSortsMatchReference() throws {
        var rng = ConcurrencyTests.SplitMix(state: 7)
        let pieces = ["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefghij", "\u{0}", "a\u{0}", "é", "e\u{301}", "Z", "𝄞", "abcdefgh\u{0}"]
        func randomString() -> String {
            (0..<(1 + rng.int(3))).map { _ in pieces[rng.int(pieces.count)] }.joined()
        }
        func randomNumber() -> JSON {
            switch rng.int(6) {
            case 0: return .int(Int64(rng.int(7)) - 3)
            case 1: return .double(Double(rng.int(13)) / 4 - 1.5)
            case 2: return .double(-0.0)
            case 3: return .int(Int64(1) << 53 + Int64(rng.int(3)))
            case 4: return .double(9007199254740992.0)
            default: return .int(Int64(rng.int(1_000_000)) - 500_000)
            }
        }
        func less(_ a: JSON, _ b: JSON) -> Bool {
            switch (a, b) {
            case (.string(let x), .string(let y)): return Array(x.unicodeScalars.map(\.value)).lexicographicallyPrecedes(y.unicodeScalars.map(\.value))
            case (.number(let x), .number(let y)): return x < y
            default: XCTFail("mixed keys"); return false
            }
        }
        func referenceSortBy(_ items: [JSON]) -> [JSON] {
            // Insertion sort: stable by construction.
            var out: [JSON] = []
            for item in items {
                var i = out.count
                while i > 0 && less(item["k"]!, out[i - 1]["k"]!) { i -= 1 }
                out.insert(item, at: i)
            }
            return out
        }
        for round in 0..<300 {
            let strings = round % 2 == 0
            let n = round % 10 == 0 ? 130 + rng.int(300) : rng.int(40)  // both the small-input and radix paths
            let items: [JSON] = (0..<n).map { i in ["k": strings ? .string(randomString()) : randomNumber(), "i": .int(i)] }
            let doc = JSON.array(items)
            let expected = referenceSortBy(items)
            let got = try search("sort_by(@, &k)", doc)
            XCTAssertEqual(got.arrayValue?.map { $0["i"]! }, expected.map { $0["i"]! }, "round \(round): \(doc)")
            let keys = try search("[*].k", doc)
            XCTAssertEqual(try search("sort(@)", keys).arrayValue?.map { $0.serialized() }, expected.map { $0["k"]!.serialized() })
            if n > 0 {
                // max_by keeps the first of equal maxima, min_by the first of equal minima.
                var maxI = 0, minI = 0
                for i in 1..<n {
                    if less(items[maxI]["k"]!, items[i]["k"]!) { maxI = i }
                    if less(items[i]["k"]!, items[minI]["k"]!) { minI = i }
                }
                XCTAssertEqual(try search("max_by(@, &k).i", doc), .int(maxI))
                XCTAssertEqual(try search("min_by(@, &k).i", doc), .int(minI))
            }
        }
    }
}
