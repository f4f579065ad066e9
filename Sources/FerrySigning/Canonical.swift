import Crypto

/// Byte-level building blocks for both canonical requests: one growing byte buffer instead of many
/// intermediate Strings, no dictionaries, and no lower-casing or stripping of values that need none.
/// Semantics are exactly those of the String versions they replace (Python `lower()`, `strip()`, ordinal sort).
enum Canonical {
    /// A header with its lower-cased name and Python-stripped value, and its position (for stable sorting).
    struct Header {
        var name: String
        var value: String
        var index: Int
    }

    /// `name.lower()` without allocating when the name is already lower-case ASCII.
    @inline(__always)
    static func lower(_ name: String) -> String {
        for b in name.utf8 where (b >= 0x41 && b <= 0x5A) || b >= 0x80 { return name.lowercased() }
        return name
    }

    /// Case-insensitive name equality (`a.lower() == b.lower()`), without allocating for ASCII names.
    static func sameName(_ a: String, _ b: String) -> Bool {
        var ia = a.utf8.makeIterator(), ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                if x >= 0x80 || y >= 0x80 { return a.lowercased() == b.lowercased() }
                if x == y { continue }
                let lx = x >= 0x41 && x <= 0x5A ? x | 0x20 : x
                let ly = y >= 0x41 && y <= 0x5A ? y | 0x20 : y
                if lx != ly { return false }
            default:
                // Lengths differ; only non-ASCII lower-casing could change a length.
                if a.utf8.contains(where: { $0 >= 0x80 }) || b.utf8.contains(where: { $0 >= 0x80 }) {
                    return a.lowercased() == b.lowercased()
                }
                return false
            }
        }
    }

    /// Python `str.strip()`; returns the value itself when its first and last bytes are visible ASCII.
    @inline(__always)
    static func strip(_ s: String) -> String {
        let u = s.utf8
        if let f = u.first, let l = u.last, f > 0x20 && f < 0x7F && l > 0x20 && l < 0x7F { return s }
        return pythonStrip(s)
    }

    /// Lower-cased, stripped headers sorted by name (ordinal), equal names in their original order.
    static func sortedHeaders(_ headers: [(String, String)]) -> [Header] {
        var out: [Header] = []
        out.reserveCapacity(headers.count)
        for (i, (n, v)) in headers.enumerated() { out.append(Header(name: lower(n), value: strip(v), index: i)) }
        out.sort { a, b in
            if a.name != b.name { return ordinalLess(a.name, b.name) }
            return a.index < b.index
        }
        return out
    }

    @inline(__always)
    static func append(_ s: String, _ out: inout [UInt8]) { out.append(contentsOf: s.utf8) }

    /// RFC 3986 encoding (`Percent.encode`) appended to `out`; `/` kept literal when `keepSlash`.
    static func appendEncoded(_ s: String, keepSlash: Bool = false, _ out: inout [UInt8]) {
        for b in s.utf8 {
            if Percent.isUnreserved(b) || (keepSlash && b == 0x2F) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(Percent.hexUpper[Int(b >> 4)])
                out.append(Percent.hexUpper[Int(b & 0xF)])
            }
        }
    }

    /// Lower-case hex of a digest appended to `out`.
    static func appendHex<D: Sequence>(_ digest: D, _ out: inout [UInt8]) where D.Element == UInt8 {
        for b in digest {
            out.append(Percent.hexLower[Int(b >> 4)])
            out.append(Percent.hexLower[Int(b & 0xF)])
        }
    }

    /// `method.upper()`, without allocating for an upper-case ASCII method.
    static func appendUpper(_ method: String, _ out: inout [UInt8]) {
        for b in method.utf8 where (b >= 0x61 && b <= 0x7A) || b >= 0x80 {
            append(method.uppercased(), &out)
            return
        }
        append(method, &out)
    }

    static func sha256Hex(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(SHA256.hash(data: bytes), &out)
        return out
    }

    static func hmacHex(key: String, message: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        appendHex(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(key.utf8))), &out)
        return String(decoding: out, as: UTF8.self)
    }
}
