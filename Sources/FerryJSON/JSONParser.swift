/// Why parsing failed, with the byte offset and the 1-based line and column of the failure.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case empty, unexpectedCharacter, unexpectedEnd, invalidNumber, invalidEscape, invalidUTF8
        case controlCharacterInString, tooDeep, trailingData
        /// Two object keys that Swift's String treats as one (canonically equivalent) but that differ in bytes.
        case ambiguousKey
    }

    public let kind: Kind
    public let offset: Int
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String { "\(message) at line \(line), column \(column) (byte \(offset))" }
}

/// A strict RFC 8259 parser over UTF-8 bytes: validates UTF-8, bounds nesting, keeps integer precision.
/// Hand-written because Foundation's parser is 5-10x slower across the C ABI, loses integers beyond 2^53,
/// and reports neither positions nor a nesting limit.
public enum JSONParser {
    public static let defaultMaxDepth = 512

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        var copy = text
        let result = copy.withUTF8 { buf in Result { () throws(JSONParseError) -> JSON in try parse(buf, maxDepth: maxDepth) } }
        return try result.get()
    }

    public static func parse(bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        let result = bytes.withUnsafeBufferPointer { buf in Result { () throws(JSONParseError) -> JSON in try parse(buf, maxDepth: maxDepth) } }
        return try result.get()
    }

    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSON {
        var p = Parser(buf: buffer, maxDepth: maxDepth)
        p.skipWhitespace()
        if p.pos >= buffer.count { throw p.error(.empty, "empty document: expected a JSON value") }
        let value = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos < buffer.count { throw p.error(.trailingData, "unexpected data after the JSON value") }
        return value
    }
}

private struct Parser {
    let buf: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0

    init(buf: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buf = buf
        self.maxDepth = maxDepth
    }

    func error(_ kind: JSONParseError.Kind, _ message: String, at offset: Int? = nil) -> JSONParseError {
        let off = min(offset ?? pos, buf.count)
        var line = 1, lineStart = 0
        for i in 0..<off where buf[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        // Column counts characters (UTF-8 lead bytes), not bytes.
        var col = 1
        var i = lineStart
        while i < off {
            if buf[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return JSONParseError(kind: kind, offset: off, line: line, column: col, message: message)
    }

    mutating func skipWhitespace() {
        while pos < buf.count {
            switch buf[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSON {
        guard pos < buf.count else { throw error(.unexpectedEnd, "unexpected end of input: expected a value") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error(.unexpectedCharacter, "unexpected \(describe(buf[pos])): expected a value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        let start = pos
        guard pos + n <= buf.count else { throw error(.unexpectedEnd, "unexpected end of input in literal '\(word)'") }
        let p = word.utf8Start
        for i in 0..<n where buf[pos + i] != p[i] {
            throw error(.unexpectedCharacter, "invalid literal: expected '\(word)'", at: start)
        }
        pos += n
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSON {
        if depth > maxDepth { throw error(.tooDeep, "nesting deeper than \(maxDepth) levels") }
        pos += 1
        var obj = JSONObject()
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(obj) }
        while true {
            skipWhitespace()
            guard pos < buf.count else { throw error(.unexpectedEnd, "unexpected end of input in object") }
            guard buf[pos] == UInt8(ascii: "\"") else {
                throw error(.unexpectedCharacter, "unexpected \(describe(buf[pos])): expected a string key")
            }
            let keyOffset = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < buf.count else { throw error(.unexpectedEnd, "unexpected end of input: expected ':'") }
            guard buf[pos] == UInt8(ascii: ":") else {
                throw error(.unexpectedCharacter, "unexpected \(describe(buf[pos])): expected ':' after key")
            }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            // A repeated key keeps the last value, as most parsers do. Keys are stored as Swift strings, which treat
            // canonically equivalent spellings ("é" and "e" + U+0301) as one key; two such keys that differ in
            // their bytes would silently become one, so that document is refused instead.
            // Only a repeated key pays for the check (updateValue keeps the key first stored).
            if obj.storage.updateValue(value, forKey: key) != nil, let i = obj.storage.index(forKey: key),
               !obj.storage.keys[i].utf8.elementsEqual(key.utf8) {
                throw error(.ambiguousKey, "object key is canonically equivalent to an earlier, differently "
                            + "encoded key (Unicode normalization); Ferry cannot keep both", at: keyOffset)
            }
            skipWhitespace()
            guard pos < buf.count else { throw error(.unexpectedEnd, "unexpected end of input in object") }
            if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(obj) }
            throw error(.unexpectedCharacter, "unexpected \(describe(buf[pos])): expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSON {
        if depth > maxDepth { throw error(.tooDeep, "nesting deeper than \(maxDepth) levels") }
        pos += 1
        var arr: [JSON] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(arr) }
        while true {
            skipWhitespace()
            arr.append(try parseValue(depth: depth))
            skipWhitespace()
            guard pos < buf.count else { throw error(.unexpectedEnd, "unexpected end of input in array") }
            if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(arr) }
            throw error(.unexpectedCharacter, "unexpected \(describe(buf[pos])): expected ',' or ']'")
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let open = pos
        pos += 1
        let start = pos
        var ascii = true
        // Fast path: no escapes.
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buf[start..<pos])
                pos += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw error(.invalidUTF8, "invalid UTF-8 in string", at: start + invalidUTF8Offset(slice))
                }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error(.controlCharacterInString, "unescaped control character \(describe(b)) in string") }
            if b >= 0x80 { ascii = false }
            pos += 1
        }
        if pos >= buf.count { throw error(.unexpectedEnd, "unterminated string starting", at: open) }
        // Slow path: escapes present.
        var bytes = [UInt8](UnsafeBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            let b = buf[pos]
            if b == UInt8(ascii: "\"") {
                pos += 1
                guard let s = String(validating: bytes, as: UTF8.self) else {
                    let off = bytes.withUnsafeBufferPointer { invalidUTF8Offset($0) }
                    throw error(.invalidUTF8, "invalid UTF-8 in string (decoded byte \(off))", at: open)
                }
                return s
            }
            if b < 0x20 { throw error(.controlCharacterInString, "unescaped control character \(describe(b)) in string") }
            if b != UInt8(ascii: "\\") { bytes.append(b); pos += 1; continue }
            pos += 1
            guard pos < buf.count else { break }
            let e = buf[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") else {
                        throw error(.invalidEscape, "lone high surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error(.invalidEscape, "invalid low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error(.invalidEscape, "lone low surrogate in \\u escape")
                }
                bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw error(.invalidEscape, "invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", at: pos - 2)
            }
        }
        throw error(.unexpectedEnd, "unterminated string starting", at: open)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw error(.unexpectedEnd, "unexpected end of input in \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error(.invalidEscape, "invalid hex digit \(describe(c)) in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        var negative = false
        if buf[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard pos < buf.count, isDigit(buf[pos]) else { throw error(.invalidNumber, "invalid number: expected a digit") }
        if buf[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < buf.count, isDigit(buf[pos]) { throw error(.invalidNumber, "invalid number: leading zero", at: start) }
        } else {
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        var integral = true
        if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
            integral = false
            pos += 1
            guard pos < buf.count, isDigit(buf[pos]) else { throw error(.invalidNumber, "invalid number: expected a digit after '.'") }
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
            integral = false
            pos += 1
            if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count, isDigit(buf[pos]) else { throw error(.invalidNumber, "invalid number: expected a digit in exponent") }
            while pos < buf.count, isDigit(buf[pos]) { pos += 1 }
        }
        if integral {
            var v: Int64 = 0
            var overflow = false
            var i = negative ? start + 1 : start
            while i < pos {
                let d = Int64(buf[i] - UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                if o1 || o2 { overflow = true; break }
                v = s
                i += 1
            }
            if !overflow { return .int(v) }
            return .bigInt(String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self))
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw error(.invalidNumber, "number out of range", at: start) }
        return .double(d)
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

/// Offset of the first byte that does not begin a valid UTF-8 sequence.
func invalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        let len: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b {
        case 0x00...0x7F: i += 1; continue
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return i
        }
        guard i + len <= bytes.count else { return i }
        if bytes[i + 1] < lo || bytes[i + 1] > hi { return i }
        for k in 2..<max(2, len) where bytes[i + k] & 0xC0 != 0x80 { return i }
        i += len
    }
    return bytes.count
}

/// Offset of the first invalid UTF-8 byte in `bytes`, or nil when they are valid UTF-8.
public func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    let off = invalidUTF8Offset(bytes)
    return off < bytes.count ? off : nil
}
