import FerryJSON
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsKeyOrderAndValues() throws {
        let text = #"{"b":1,"a":[true,false,null,-0.5,"x\n\"y\\"],"c":{"z":{}, "y":[]}}"#
        let v = try JSONParser.parse(text)
        XCTAssertEqual(v.serialized(), #"{"b":1,"a":[true,false,null,-0.5,"x\n\"y\\"],"c":{"z":{},"y":[]}}"#)
        XCTAssertEqual(v.serialized([.sortedKeys]), #"{"a":[true,false,null,-0.5,"x\n\"y\\"],"b":1,"c":{"y":[],"z":{}}}"#)
        XCTAssertEqual(try JSONParser.parse(v.serialized([.pretty])), v)
    }

    func testNumbersCompareByValueAndKeepPrecision() throws {
        XCTAssertEqual(try JSONParser.parse("1"), try JSONParser.parse("1.0"))
        XCTAssertEqual(try JSONParser.parse("100"), try JSONParser.parse("1e2"))
        XCTAssertEqual(Set([try JSONParser.parse("1"), try JSONParser.parse("1.0")]).count, 1)
        let big = "123456789012345678901234567890"
        let v = try JSONParser.parse(big)
        XCTAssertEqual(v.serialized(), big)
        XCTAssertNotEqual(v, try JSONParser.parse("123456789012345678901234567891"))
        XCTAssertEqual(try JSONParser.parse("9223372036854775807").serialized(), "9223372036854775807")
        XCTAssertEqual(try JSONParser.parse("-9223372036854775808").serialized(), "-9223372036854775808")
        XCTAssertEqual(try JSONParser.parse("-9223372036854775809").serialized(), "-9223372036854775809")
        XCTAssertTrue(JSONNumber.bigInt("-99999999999999999999") < JSONNumber.bigInt("-9999999999999999999"))
        XCTAssertTrue(JSONNumber.bigInt("99999999999999999999") > JSONNumber.int(5))
        XCTAssertEqual(try JSONParser.parse("0.1").serialized(), "0.1")
        XCTAssertEqual(try JSONParser.parse("-0").serialized(), "0")
    }

    func testObjectEqualityIgnoresOrder() throws {
        XCTAssertEqual(try JSONParser.parse(#"{"a":1,"b":2}"#), try JSONParser.parse(#"{"b":2,"a":1}"#))
        XCTAssertEqual(try JSONParser.parse(#"{"a":1,"b":2}"#).hashValue, try JSONParser.parse(#"{"b":2,"a":1}"#).hashValue)
        XCTAssertNotEqual(try JSONParser.parse(#"{"a":1}"#), try JSONParser.parse(#"{"a":1,"b":2}"#))
    }

    func testUnicodeEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try JSONParser.parse(#""\u00e9\ud83d\ude00""#), .string("é😀"))
        XCTAssertEqual(JSON.string("\u{1}é").serialized(), "\"\\u0001é\"")
        XCTAssertThrowsError(try JSONParser.parse(#""\ud83d""#)) { XCTAssertEqual(($0 as? JSONParseError)?.kind, .invalidEscape) }
    }

    func testErrorsCarryPositions() {
        func kind(_ text: String) -> JSONParseError? {
            do { _ = try JSONParser.parse(text); return nil } catch { return error }
        }
        XCTAssertEqual(kind("")?.kind, .empty)
        XCTAssertEqual(kind("{")?.kind, .unexpectedEnd)
        XCTAssertEqual(kind("[1,]")?.kind, .unexpectedCharacter)
        XCTAssertEqual(kind("[1] x")?.kind, .trailingData)
        XCTAssertEqual(kind("01")?.kind, .invalidNumber)
        XCTAssertEqual(kind("\"a\tb\"")?.kind, .controlCharacterInString)
        let e = kind("{\n  \"a\": tru\n}")
        XCTAssertEqual(e?.line, 2)
        XCTAssertEqual(e?.column, 8)
        XCTAssertEqual(e?.kind, .unexpectedCharacter)
    }

    func testInvalidUTF8IsRejectedWithOffset() {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            XCTAssertThrowsError(try JSONParser.parse(bytes: bad)) { error in
                let e = error as? JSONParseError
                XCTAssertEqual(e?.kind, .invalidUTF8)
                XCTAssertEqual(e?.offset, bad[1] == 0x61 ? 2 : 1)
            }
        }
    }

    func testNestingLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { XCTAssertEqual(($0 as? JSONParseError)?.kind, .tooDeep) }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertNoThrow(try JSONParser.parse(ok))
    }
}
