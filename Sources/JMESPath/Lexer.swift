import FerryJSON

enum TokenKind: UInt8, Sendable {
    case eof, unquotedIdentifier, quotedIdentifier, literal, rbracket, rparen, comma, rbrace, number, current
    case expref, colon, pipe, or, and, eq, gt, lt, gte, lte, ne, flatten, star, filter, dot, not, lbrace
    case lbracket, lparen

    /// Pratt binding powers, identical to the reference implementation's so that precedence matches it exactly.
    var bindingPower: Int {
        switch self {
        case .pipe: return 1
        case .or: return 2
        case .and: return 3
        case .eq, .gt, .lt, .gte, .lte, .ne: return 5
        case .flatten: return 9
        case .star: return 20
        case .filter: return 21
        case .dot: return 40
        case .not: return 45
        case .lbrace: return 50
        case .lbracket: return 55
        case .lparen: return 60
        default: return 0
        }
    }

    var display: String {
        switch self {
        case .eof: return "end of expression"
        case .unquotedIdentifier: return "identifier"
        case .quotedIdentifier: return "quoted identifier"
        case .literal: return "literal"
        case .rbracket: return "']'"
        case .rparen: return "')'"
        case .comma: return "','"
        case .rbrace: return "'}'"
        case .number: return "number"
        case .current: return "'@'"
        case .expref: return "'&'"
        case .colon: return "':'"
        case .pipe: return "'|'"
        case .or: return "'||'"
        case .and: return "'&&'"
        case .eq: return "'=='"
        case .gt: return "'>'"
        case .lt: return "'<'"
        case .gte: return "'>='"
        case .lte: return "'<='"
        case .ne: return "'!='"
        case .flatten: return "'[]'"
        case .star: return "'*'"
        case .filter: return "'[?'"
        case .dot: return "'.'"
        case .not: return "'!'"
        case .lbrace: return "'{'"
        case .lbracket: return "'['"
        case .lparen: return "'('"
        }
    }
}

/// A token. Plain data (no references), so token arrays are cheap to build and free; identifier names and
/// literal values live in side tables of the lexer, indexed by `number`.
struct Token {
    var kind: TokenKind
    /// Byte offset of the token's first character in the expression.
    var start: Int
    /// The value of a number token; the end offset of an unquoted identifier (its name is read from the
    /// expression's bytes when needed); the index into `names` of a quoted identifier, or into `literals`.
    var number: Int = 0
}

/// Appends tokens to caller-provided storage (a stack allocation in `Parser.parse`); tokens are plain data.
struct TokenSink {
    let base: UnsafeMutablePointer<Token>
    var count = 0
    @inline(__always)
    mutating func append(_ t: Token) {
        (base + count).initialize(to: t)
        count += 1
    }
}

/// Splits an expression into tokens, working on its UTF-8 bytes.
struct Lexer {
    let source: String
    /// The expression's UTF-8, borrowed for the duration of parsing (see `Parser.parse`).
    let bytes: UnsafeBufferPointer<UInt8>
    var pos = 0

    init(_ source: String, bytes: UnsafeBufferPointer<UInt8>) {
        self.source = source
        self.bytes = bytes
    }

    var names: [String] = []
    var literals: [JSON] = []

    mutating func name(_ kind: TokenKind, _ start: Int, _ s: String) -> Token {
        names.append(s)
        return Token(kind: kind, start: start, number: names.count - 1)
    }

    mutating func literal(_ start: Int, _ v: JSON) -> Token {
        literals.append(v)
        return Token(kind: .literal, start: start, number: literals.count - 1)
    }

    func error(_ detail: String, at offset: Int) -> JMESPathError {
        JMESPathError.compile(.syntax, detail, source: source, byteOffset: offset)
    }

    /// Writes the tokens to `storage`, which must have room for `bytes.count + 1` (every token but the final
    /// end-of-expression one takes at least one byte); returns how many were written.
    mutating func tokenize(into storage: UnsafeMutablePointer<Token>) throws(JMESPathError) -> Int {
        var tokens = TokenSink(base: storage)
        let n = bytes.count
        while pos < n {
            let c = bytes[pos]
            let start = pos
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                pos += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
                pos += 1
                while pos < n, Lexer.isIdentifierByte(bytes[pos]) { pos += 1 }
                tokens.append(Token(kind: .unquotedIdentifier, start: start, number: pos))
            case UInt8(ascii: "."): pos += 1; tokens.append(Token(kind: .dot, start: start))
            case UInt8(ascii: "*"): pos += 1; tokens.append(Token(kind: .star, start: start))
            case UInt8(ascii: "]"): pos += 1; tokens.append(Token(kind: .rbracket, start: start))
            case UInt8(ascii: ","): pos += 1; tokens.append(Token(kind: .comma, start: start))
            case UInt8(ascii: ":"): pos += 1; tokens.append(Token(kind: .colon, start: start))
            case UInt8(ascii: "@"): pos += 1; tokens.append(Token(kind: .current, start: start))
            case UInt8(ascii: "("): pos += 1; tokens.append(Token(kind: .lparen, start: start))
            case UInt8(ascii: ")"): pos += 1; tokens.append(Token(kind: .rparen, start: start))
            case UInt8(ascii: "{"): pos += 1; tokens.append(Token(kind: .lbrace, start: start))
            case UInt8(ascii: "}"): pos += 1; tokens.append(Token(kind: .rbrace, start: start))
            case UInt8(ascii: "["):
                pos += 1
                if pos < n, bytes[pos] == UInt8(ascii: "]") {
                    pos += 1; tokens.append(Token(kind: .flatten, start: start))
                } else if pos < n, bytes[pos] == UInt8(ascii: "?") {
                    pos += 1; tokens.append(Token(kind: .filter, start: start))
                } else {
                    tokens.append(Token(kind: .lbracket, start: start))
                }
            case UInt8(ascii: "|"): tokens.append(Token(kind: matchOrElse(UInt8(ascii: "|"), .or, .pipe), start: start))
            case UInt8(ascii: "&"): tokens.append(Token(kind: matchOrElse(UInt8(ascii: "&"), .and, .expref), start: start))
            case UInt8(ascii: "<"): tokens.append(Token(kind: matchOrElse(UInt8(ascii: "="), .lte, .lt), start: start))
            case UInt8(ascii: ">"): tokens.append(Token(kind: matchOrElse(UInt8(ascii: "="), .gte, .gt), start: start))
            case UInt8(ascii: "!"): tokens.append(Token(kind: matchOrElse(UInt8(ascii: "="), .ne, .not), start: start))
            case UInt8(ascii: "="):
                pos += 1
                guard pos < n, bytes[pos] == UInt8(ascii: "=") else { throw error("unexpected '=' (did you mean '=='?)", at: start) }
                pos += 1
                tokens.append(Token(kind: .eq, start: start))
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
                pos += 1
                while pos < n, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
                if c == UInt8(ascii: "-") && pos == start + 1 { throw error("unexpected '-': expected a digit after it", at: start) }
                tokens.append(Token(kind: .number, start: start, number: parseInt(start, pos)))
            case UInt8(ascii: "'"):
                if let plain = plainRawString() {
                    tokens.append(literal(start, .string(plain)))
                } else {
                    let raw = try consumeUntil(UInt8(ascii: "'"))
                    tokens.append(literal(start, .string(Lexer.unescapeRaw(raw))))
                }
            case UInt8(ascii: "`"):
                if let n = plainIntegerLiteral() {
                    tokens.append(literal(start, .number(.int(n))))
                } else {
                    let raw = try consumeUntil(UInt8(ascii: "`"))
                    tokens.append(literal(start, try jsonLiteral(raw, start: start)))
                }
            case UInt8(ascii: "\""):
                let raw = try consumeUntil(UInt8(ascii: "\""))
                var quoted: [UInt8] = [UInt8(ascii: "\"")]
                quoted.append(contentsOf: raw)
                quoted.append(UInt8(ascii: "\""))
                guard case .string(let name) = try? JSONParser.parse(bytes: quoted) else {
                    throw error("invalid quoted identifier", at: start)
                }
                tokens.append(self.name(.quotedIdentifier, start, name))
            default:
                throw error("unexpected character \(describeChar(at: start))", at: start)
            }
        }
        tokens.append(Token(kind: .eof, start: n))
        return tokens.count
    }

    @inline(__always)
    static func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_")
    }

    func text(_ from: Int, _ to: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[from..<to]), as: UTF8.self)
    }

    func describeChar(at offset: Int) -> String {
        // Decode the whole scalar so a non-ASCII character is named, not its first byte.
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return "'" + text(offset, end) + "'"
    }

    mutating func matchOrElse(_ next: UInt8, _ matched: TokenKind, _ otherwise: TokenKind) -> TokenKind {
        pos += 1
        if pos < bytes.count, bytes[pos] == next { pos += 1; return matched }
        return otherwise
    }

    /// Saturates instead of overflowing: indices that large are out of range anyway.
    func parseInt(_ from: Int, _ to: Int) -> Int {
        var i = from
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var v = 0
        while i < to {
            let d = Int(bytes[i] - UInt8(ascii: "0"))
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return negative ? -Int.max : Int.max }
            v = s
            i += 1
        }
        return negative ? -v : v
    }

    /// Bytes between the opening delimiter at `pos` and the matching closing one. A backslash escapes the next
    /// character and is kept in the result (the caller decides how to interpret it), as the reference lexer does.
    mutating func consumeUntil(_ delimiter: UInt8) throws(JMESPathError) -> [UInt8] {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else {
                throw error("unterminated \(Character(Unicode.Scalar(delimiter))) delimiter", at: start)
            }
            var b = bytes[pos]
            if b == delimiter { pos += 1; return out }
            if b == UInt8(ascii: "\\") {
                out.append(b)
                pos += 1
                guard pos < bytes.count else {
                    throw error("unterminated \(Character(Unicode.Scalar(delimiter))) delimiter", at: start)
                }
                b = bytes[pos]
            }
            out.append(b)
            pos += 1
        }
    }

    /// A raw string literal without backslashes (the usual case), read straight from the source bytes; nil (and
    /// nothing consumed) when it has escapes or is unterminated, which `consumeUntil` then handles.
    mutating func plainRawString() -> String? {
        var i = pos + 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "'") {
                let s = text(pos + 1, i)
                pos = i + 1
                return s
            }
            if b == UInt8(ascii: "\\") { return nil }
            i += 1
        }
        return nil
    }

    /// A JSON literal that is just a small integer (`` `10` ``, the usual filter operand), read without building
    /// a byte array or running the JSON parser; nil (nothing consumed) for anything else.
    mutating func plainIntegerLiteral() -> Int64? {
        var i = pos + 1
        let n = bytes.count
        var negative = false
        if i < n, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let digitsStart = i
        var v: Int64 = 0
        while i < n, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            v = v &* 10 &+ Int64(bytes[i] &- UInt8(ascii: "0"))
            i += 1
        }
        let digits = i - digitsStart
        // 1 to 18 digits (no overflow), no leading zero (JSON), closed right away by the backtick.
        guard digits >= 1, digits <= 18, i < n, bytes[i] == UInt8(ascii: "`"),
              digits == 1 || bytes[digitsStart] != UInt8(ascii: "0"), !(negative && v == 0) else { return nil }
        pos = i + 1
        return negative ? -v : v
    }

    /// Raw string literal: only `\'` is an escape; every other backslash is kept as is.
    static func unescapeRaw(_ raw: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 1 < raw.count, raw[i + 1] == UInt8(ascii: "'") {
                out.append(UInt8(ascii: "'"))
                i += 2
            } else {
                out.append(raw[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// JSON literal: `` \` `` becomes a backtick, then the text is parsed as JSON. Text that is not valid JSON is
    /// taken as the contents of a JSON string (the legacy elided-quotes form the compliance suite still expects).
    func jsonLiteral(_ raw: [UInt8], start: Int) throws(JMESPathError) -> JSON {
        var text: [UInt8] = []
        text.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 1 < raw.count, raw[i + 1] == UInt8(ascii: "`") {
                text.append(UInt8(ascii: "`"))
                i += 2
            } else {
                text.append(raw[i])
                i += 1
            }
        }
        if let v = try? JSONParser.parse(bytes: text) { return v }
        var k = 0
        while k < text.count, text[k] == 0x20 || text[k] == 0x09 || text[k] == 0x0A || text[k] == 0x0D { k += 1 }
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        quoted.append(contentsOf: text[k...])
        quoted.append(UInt8(ascii: "\""))
        if let v = try? JSONParser.parse(bytes: quoted) { return v }
        throw error("invalid JSON literal", at: start)
    }
}
