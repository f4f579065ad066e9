/// Printing options. Compact output with insertion-ordered keys is the default and what the C ABI returns.
public struct JSONWriteOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let pretty = JSONWriteOptions(rawValue: 1)
    public static let sortedKeys = JSONWriteOptions(rawValue: 2)
}

extension JSON {
    /// The value as JSON text. NaN and infinities (which JSON cannot hold) print as null.
    public func serialized(_ options: JSONWriteOptions = []) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONWriter.write(self, into: &out, options: options, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the value's JSON text to `out` as UTF-8.
    public func write(into out: inout [UInt8], options: JSONWriteOptions = []) {
        JSONWriter.write(self, into: &out, options: options, indent: 0)
    }

    /// Parses JSON text; see `JSONParser`.
    public static func parse(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) throws(JSONParseError) -> JSON {
        try JSONParser.parse(text, maxDepth: maxDepth)
    }
}

extension JSON: CustomStringConvertible {
    public var description: String { serialized() }
}

enum JSONWriter {
    static func write(_ v: JSON, into out: inout [UInt8], options: JSONWriteOptions, indent: Int) {
        switch v {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .number(let n): writeNumber(n, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            if a.isEmpty { out.append(contentsOf: [0x5B, 0x5D]); return }
            out.append(0x5B)
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(&out, options, indent + 1)
                write(e, into: &out, options: options, indent: indent + 1)
            }
            newline(&out, options, indent)
            out.append(0x5D)
        case .object(let o):
            if o.isEmpty { out.append(contentsOf: [0x7B, 0x7D]); return }
            out.append(0x7B)
            var first = true
            func member(_ k: String, _ e: JSON) {
                if !first { out.append(0x2C) }
                first = false
                newline(&out, options, indent + 1)
                writeString(k, into: &out)
                out.append(0x3A)
                if options.contains(.pretty) { out.append(0x20) }
                write(e, into: &out, options: options, indent: indent + 1)
            }
            if options.contains(.sortedKeys) {
                for k in o.storage.keys.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }) {
                    member(k, o.storage[k]!)
                }
            } else {
                for (k, e) in o.storage { member(k, e) }
            }
            newline(&out, options, indent)
            out.append(0x7D)
        }
    }

    @inline(__always)
    static func newline(_ out: inout [UInt8], _ options: JSONWriteOptions, _ indent: Int) {
        guard options.contains(.pretty) else { return }
        out.append(0x0A)
        for _ in 0..<(indent * 2) { out.append(0x20) }
    }

    static func writeNumber(_ n: JSONNumber, into out: inout [UInt8]) {
        switch n {
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .bigInt(let s): out.append(contentsOf: s.utf8)
        case .double(let d):
            guard d.isFinite else { out.append(contentsOf: Array("null".utf8)); return }
            // Swift prints the shortest text that round-trips ("0.1", "1e-07", "1.0").
            out.append(contentsOf: d.description.utf8)
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { buf in
            var runStart = 0
            for i in 0..<buf.count {
                let b = buf[i]
                if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<i])) }
                runStart = i + 1
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                case 0x08: out.append(contentsOf: [0x5C, 0x62])
                case 0x0C: out.append(contentsOf: [0x5C, 0x66])
                default:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            if runStart < buf.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<buf.count])) }
        }
        out.append(0x22)
    }
}
