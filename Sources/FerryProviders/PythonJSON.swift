import FerryJSON

/// JSON text exactly as the SDKs' Python serializers write it, so the payload hash covers the same bytes.
enum PythonJSON {
    enum Style {
        /// Alibaba: `json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`: compact, raw UTF-8.
        case alibaba
        /// Huawei: simplejson `dumps(obj)` defaults: `", "` / `": "` separators, `\uXXXX` for non-ASCII.
        case huawei
    }

    static func dumps(_ v: JSON, _ style: Style) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(v, style, &out)
        return out
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func write(_ v: JSON, _ style: Style, _ out: inout [UInt8]) {
        let comma: [UInt8] = style == .huawei ? [0x2C, 0x20] : [0x2C]
        let colon: [UInt8] = style == .huawei ? [0x3A, 0x20] : [0x3A]
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n):
            switch n {
            case .int(let i): out.append(contentsOf: String(i).utf8)
            case .bigInt(let s): out.append(contentsOf: s.utf8)
            case .double(let d):
                // Python repr: shortest round-trip; Swift's description matches for finite values ("1.0", "1e-07").
                if d.isNaN { out.append(contentsOf: "NaN".utf8) } else if d.isInfinite {
                    out.append(contentsOf: (d > 0 ? "Infinity" : "-Infinity").utf8)
                } else { out.append(contentsOf: d.description.utf8) }
            }
        case .string(let s): writeString(s, style, &out)
        case .array(let a):
            out.append(0x5B)
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(contentsOf: comma) }
                write(e, style, &out)
            }
            out.append(0x5D)
        case .object(let o):
            out.append(0x7B)
            var first = true
            for (k, e) in o {
                if !first { out.append(contentsOf: comma) }
                first = false
                writeString(k, style, &out)
                out.append(contentsOf: colon)
                write(e, style, &out)
            }
            out.append(0x7D)
        }
    }

    static func u4(_ v: UInt32, _ out: inout [UInt8]) {
        out.append(contentsOf: [0x5C, 0x75])
        out.append(hex[Int((v >> 12) & 0xF)])
        out.append(hex[Int((v >> 8) & 0xF)])
        out.append(hex[Int((v >> 4) & 0xF)])
        out.append(hex[Int(v & 0xF)])
    }

    static func writeString(_ s: String, _ style: Style, _ out: inout [UInt8]) {
        out.append(0x22)
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x08: out.append(contentsOf: [0x5C, 0x62])
            case 0x0C: out.append(contentsOf: [0x5C, 0x66])
            case 0..<0x20: u4(u.value, &out)
            case 0x20..<0x7F: out.append(UInt8(u.value))
            default:
                if style == .alibaba {
                    out.append(contentsOf: String(u).utf8)
                } else if u.value >= 0x10000 {
                    let v = u.value - 0x10000
                    u4(0xD800 | (v >> 10), &out)
                    u4(0xDC00 | (v & 0x3FF), &out)
                } else {
                    u4(u.value, &out)
                }
            }
        }
        out.append(0x22)
    }
}
