/// Percent-encoding exactly as the official Python SDKs do it (`urllib.parse.quote`, `quote_plus`, `unquote`).
///
/// Python 3.7+ always leaves `A-Za-z0-9_.-~` literal, so `quote(v, safe='')`, `quote(v, safe='~')` and
/// Alibaba's `percent_encode` all produce the same RFC 3986 form; only `urlencode` differs (space as `+`).
public enum Percent {
    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: return true
        default: return false
        }
    }

    static let hexUpper: [UInt8] = Array("0123456789ABCDEF".utf8)
    static let hexLower: [UInt8] = Array("0123456789abcdef".utf8)

    /// RFC 3986 encoding of the UTF-8 bytes: only `A-Za-z0-9-_.~` stay literal, everything else is `%XX`
    /// (uppercase). `quote(v, safe='')` / `quote(v, safe='~')` / Alibaba `percent_encode`.
    public static func encode(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        appendEncoded(s, into: &out, plusForSpace: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// `quote_plus(v, safe='')`: like `encode` but a space becomes `+` (Python `urlencode`).
    public static func encodePlus(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        appendEncoded(s, into: &out, plusForSpace: true)
        return String(decoding: out, as: UTF8.self)
    }

    public static func appendEncoded(_ s: String, into out: inout [UInt8], plusForSpace: Bool) {
        for b in s.utf8 {
            if isUnreserved(b) {
                out.append(b)
            } else if plusForSpace && b == 0x20 {
                out.append(0x2B)
            } else {
                out.append(0x25)
                out.append(hexUpper[Int(b >> 4)])
                out.append(hexUpper[Int(b & 0xF)])
            }
        }
    }

    /// Python `urllib.parse.urlencode(pairs)`: `quote_plus(k)=quote_plus(v)` joined with `&`, in the given order.
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        var out: [UInt8] = []
        for (i, (k, v)) in pairs.enumerated() {
            if i > 0 { out.append(0x26) }
            appendEncoded(k, into: &out, plusForSpace: true)
            out.append(0x3D)
            appendEncoded(v, into: &out, plusForSpace: true)
        }
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// Python `unquote` (or `unquote_plus` when `plusAsSpace`): `%XX` becomes the byte, malformed escapes stay
    /// literal, and the bytes are decoded as UTF-8 with invalid sequences replaced by U+FFFD.
    public static func decode(_ s: Substring, plusAsSpace: Bool = false) -> String {
        let u = s.utf8
        guard u.contains(0x25) || (plusAsSpace && u.contains(0x2B)) else { return String(s) }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = u.startIndex
        while i != u.endIndex {
            let b = u[i]
            if b == 0x25 {
                let i1 = u.index(after: i)
                if i1 != u.endIndex, let h = hexValue(u[i1]) {
                    let i2 = u.index(after: i1)
                    if i2 != u.endIndex, let l = hexValue(u[i2]) {
                        out.append(h << 4 | l)
                        i = u.index(after: i2)
                        continue
                    }
                }
                out.append(b)
            } else if plusAsSpace && b == 0x2B {
                out.append(0x20)
            } else {
                out.append(b)
            }
            i = u.index(after: i)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ s: String, plusAsSpace: Bool = false) -> String {
        decode(s[...], plusAsSpace: plusAsSpace)
    }

    /// Parses a raw wire query string (`a=1&b=x+y`) into decoded pairs, in order, keeping blank values
    /// (`parse_qsl(q, keep_blank_values=True)`). A `+` decodes to a space, which is right for both SDKs:
    /// Alibaba's urlencode writes a space as `+` and a literal `+` as `%2B`; Huawei writes `%20` and `%2B`.
    public static func parseQuery(_ raw: Substring) -> [(String, String)] {
        var result: [(String, String)] = []
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                result.append((decode(part[..<eq], plusAsSpace: true),
                               decode(part[part.index(after: eq)...], plusAsSpace: true)))
            } else {
                result.append((decode(part, plusAsSpace: true), ""))
            }
        }
        return result
    }

    public static func parseQuery(_ raw: String) -> [(String, String)] { parseQuery(raw[...]) }
}

/// Ordinal (code point) string order, as Python's `sorted` compares `str`. UTF-8 byte order is code point order.
@inline(__always)
func ordinalLess(_ a: String, _ b: String) -> Bool {
    // Byte loop over the contiguous UTF-8 (the generic `lexicographicallyPrecedes` showed in signing profiles).
    let fast = a.utf8.withContiguousStorageIfAvailable { pa in
        b.utf8.withContiguousStorageIfAvailable { pb -> Bool in
            let n = min(pa.count, pb.count)
            var i = 0
            while i < n {
                let x = pa[i], y = pb[i]
                if x != y { return x < y }
                i += 1
            }
            return pa.count < pb.count
        }
    }
    if let fast, let result = fast { return result }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Python `str.strip()` with no argument: removes leading/trailing characters for which `isspace()` is true.
func pythonStrip(_ s: String) -> String {
    func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default: return false
        }
    }
    let scalars = s.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
    guard let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
    if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return s }
    return String(scalars[first...last])
}
