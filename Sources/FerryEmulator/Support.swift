import FerryCore
import FerryJSON
import FerrySigning
import OrderedCollections
import Synchronization

/// An object from keys known to be unique (hot response paths: skips the dictionary literal's uniquing merge).
func obj(_ pairs: KeyValuePairs<String, JSON>) -> JSON {
    .object(JSONObject(OrderedDictionary(uncheckedUniqueKeysWithValues: pairs)))
}

// Small helpers shared by the emulator: civil time formatting, a seeded RNG, id generation, JSON accessors.

/// UTC calendar formatting without Foundation (each provider prints times in its own format).
enum CivilTime {
    /// (year, month, day, hour, minute, second, millisecond) for Unix seconds.
    static func parts(_ t: Double) -> (Int, Int, Int, Int, Int, Int, Int) {
        let whole = t.rounded(.down)
        let ms = Int(((t - whole) * 1000).rounded(.down))
        let (y, m, d, h, mi, s) = SigningClock.civil(safeInt64(whole))
        return (Int(y), Int(m), Int(d), Int(h), Int(mi), Int(s), max(0, min(999, ms)))
    }

    static func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
    }

    /// `2024-01-02 03:04:05` (Alibaba RocketMQ createTime/updateTime).
    static func spaced(_ t: Double) -> String {
        let (y, mo, d, h, mi, s, _) = parts(t)
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2)) \(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
    }

    /// `2022-01-07T10:07:57.000+0000` (MSE GmtCreate/GmtModified).
    static func mse(_ t: Double) -> String {
        let (y, mo, d, h, mi, s, ms) = parts(t)
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(ms, 3))+0000"
    }

    /// `2023-03-13 19:43:32.12` (DMS start_date: centiseconds).
    static func dms(_ t: Double) -> String {
        let (_, _, _, _, _, _, ms) = parts(t)
        return spaced(t) + "." + pad(ms / 10, 2)
    }

    /// `2019/10/22 14:44:30` (DCS created_at/updated_at, as in the provider's example).
    static func dcs(_ t: Double) -> String {
        let (y, mo, d, h, mi, s, _) = parts(t)
        return "\(pad(y, 4))/\(pad(mo, 2))/\(pad(d, 2)) \(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))"
    }

    /// `2023-05-15T09:11:25.449Z` (DCS log created_at, admin API).
    static func iso(_ t: Double) -> String {
        let (y, mo, d, h, mi, s, ms) = parts(t)
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(ms, 3))Z"
    }
}

/// SplitMix64: tiny, seedable, good enough for fault dice and ids. Deterministic for a given seed.
struct SeededRNG: RandomNumberGenerator, Codable, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func hex(_ count: Int, upper: Bool = false) -> String {
        let digits: [Character] = Array(upper ? "0123456789ABCDEF" : "0123456789abcdef")
        var s = ""
        s.reserveCapacity(count)
        var word = next(), left = 16
        for _ in 0..<count {
            if left == 0 { word = next(); left = 16 }
            s.append(digits[Int(word & 0xF)])
            word >>= 4
            left -= 1
        }
        return s
    }

    /// `16425867-C948-5A0C-9A24-5259727BE727` (Alibaba request ids).
    mutating func uuidUpper() -> String {
        "\(hex(8, upper: true))-\(hex(4, upper: true))-\(hex(4, upper: true))-\(hex(4, upper: true))-\(hex(12, upper: true))"
    }

    /// `6cf4dcd3-8471-4139-8b5b-8a3a71f704c7` (Huawei resource ids).
    mutating func uuidLower() -> String { "\(hex(8))-\(hex(4))-4\(hex(3))-\(hex(4))-\(hex(12))" }
}

extension JSON {
    /// A string, or the decimal text of an integer (query and path values arrive as text; bodies may use either).
    var looseString: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n.int64Value.map { String($0) }
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out)
        return out
    }
}

/// Double to Int64 without trapping: NaN is 0, out-of-range values clamp.
func safeInt64(_ d: Double) -> Int64 {
    guard d.isFinite else { return d.isNaN ? 0 : (d > 0 ? Int64.max : Int64.min) }
    if d >= 9.2e18 { return Int64.max }
    if d <= -9.2e18 { return Int64.min }
    return Int64(d)
}
