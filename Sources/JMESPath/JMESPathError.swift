/// Why compiling or evaluating a JMESPath expression failed. `kind` matches the error names of the
/// JMESPath compliance suite; syntax errors carry the 1-based column (in Unicode scalars) of the offending token.
public struct JMESPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case syntax
        case invalidArity = "invalid-arity"
        case invalidType = "invalid-type"
        case invalidValue = "invalid-value"
        case unknownFunction = "unknown-function"
    }

    public let kind: Kind
    public let message: String
    public let column: Int?
    public let expression: String

    public init(kind: Kind, message: String, column: Int?, expression: String) {
        self.kind = kind
        self.message = message
        self.column = column
        self.expression = expression
    }

    public var description: String { "\(kind.rawValue) error: \(message)" }
}

extension JMESPathError {
    /// A compile-time error positioned at `byteOffset` of `source`; the message names the column and quotes the
    /// expression so it is useful on its own (CLI output, C ABI error strings).
    static func compile(_ kind: Kind, _ detail: String, source: String, byteOffset: Int) -> JMESPathError {
        let column = columnOf(byteOffset: byteOffset, in: source)
        return JMESPathError(
            kind: kind,
            message: "\(detail) at column \(column) in \(quote(source))",
            column: column,
            expression: source)
    }

    /// 1-based column counted in Unicode scalars, so it matches what an editor shows for non-ASCII expressions.
    static func columnOf(byteOffset: Int, in source: String) -> Int {
        var col = 1
        var i = 0
        for b in source.utf8 {
            if i >= byteOffset { break }
            if b & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return col
    }

    /// The expression as a double-quoted string with quotes, backslashes and control characters escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
