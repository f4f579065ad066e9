import FerryJSON

/// Durations are strings like "250ms", "30s", "5m", "1h", "2d", compounds like "1h30m", or numbers of seconds.
enum Durations {
    /// Longest accepted duration (100 years). Larger values (e.g. "1e300") would overflow the Int
    /// conversions in `format` and in timers, so they are rejected as invalid instead of trapping later.
    static let maxSeconds: Double = 100 * 365 * 86_400
    /// Accepted points in time: years 0001 to 9999 (the range RFC 3339 can spell).
    static let timeRange: ClosedRange<Double> = -62_135_596_800...253_402_300_799

    static func parse(_ v: JSON) -> Double? {
        switch v {
        case .number(let n):
            let d = n.doubleValue
            return d.isFinite && d >= 0 && d <= maxSeconds ? d : nil
        case .string(let s): return parse(s)
        default: return nil
        }
    }

    static func parse(_ text: String) -> Double? {
        let s = text.trimmingWhitespace()
        guard !s.isEmpty else { return nil }
        if let d = Double(s), d.isFinite, d >= 0 { return d <= maxSeconds ? d : nil }
        var total = 0.0
        var chars = Array(s.unicodeScalars)
        chars.removeAll { $0 == " " }
        var i = 0
        var sawUnit = false
        while i < chars.count {
            var num = ""
            while i < chars.count, ("0"..."9").contains(chars[i]) || chars[i] == "." {
                num.unicodeScalars.append(chars[i]); i += 1
            }
            var unit = ""
            while i < chars.count, ("a"..."z").contains(chars[i]) || ("A"..."Z").contains(chars[i]) {
                unit.unicodeScalars.append(chars[i]); i += 1
            }
            guard let n = Double(num), n.isFinite else { return nil }
            let mult: Double
            switch unit.lowercased() {
            case "ms": mult = 0.001
            case "s", "sec", "secs", "second", "seconds": mult = 1
            case "m", "min", "mins", "minute", "minutes": mult = 60
            case "h", "hr", "hour", "hours": mult = 3600
            case "d", "day", "days": mult = 86400
            default: return nil
            }
            total += n * mult
            sawUnit = true
        }
        return sawUnit && total <= maxSeconds ? total : nil
    }

    /// A point in time: unix seconds (number) or an RFC 3339 timestamp ("2026-11-22T15:00:00Z", offsets allowed).
    static func parseTime(_ v: JSON) -> Double? {
        switch v {
        case .number(let n): return timeRange.contains(n.doubleValue) ? n.doubleValue : nil
        case .string(let s): return parseRFC3339(s)
        default: return nil
        }
    }

    static func parseRFC3339(_ text: String) -> Double? {
        let c = Array(text.trimmingWhitespace().utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= c.count else { return nil }
            var v = 0
            for k in from..<(from + len) {
                guard c[k] >= 48, c[k] <= 57 else { return nil }
                v = v * 10 + Int(c[k] - 48)
            }
            return v
        }
        guard c.count >= 19, let y = num(0, 4), c[4] == 45, let mo = num(5, 2), c[7] == 45, let d = num(8, 2),
              c[10] == 84 || c[10] == 116 || c[10] == 32, let h = num(11, 2), c[13] == 58, let mi = num(14, 2),
              c[16] == 58, let se = num(17, 2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var i = 19
        var frac = 0.0
        if i < c.count, c[i] == 46 {
            i += 1
            var scale = 0.1
            let start = i
            while i < c.count, c[i] >= 48, c[i] <= 57 { frac += Double(c[i] - 48) * scale; scale /= 10; i += 1 }
            if i == start { return nil }
        }
        var offset = 0
        guard i < c.count else { return nil }
        if c[i] == 90 || c[i] == 122 {
            i += 1
        } else if c[i] == 43 || c[i] == 45 {
            guard let oh = num(i + 1, 2), i + 3 < c.count, c[i + 3] == 58, let om = num(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (c[i] == 43 ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == c.count else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let mp = (mo + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return Double(days * 86400 + h * 3600 + mi * 60 + se - offset) + frac
    }

    /// Unix seconds as RFC 3339 UTC (for status output).
    static func format(_ t: Double) -> String {
        // Clamped so that no stored value (e.g. an old row written before the bounds above) can trap.
        let t = t.isFinite ? min(max(t, timeRange.lowerBound), timeRange.upperBound) : 0
        let secs = Int(t.rounded(.down))
        let ms = Int(((t - Double(secs)) * 1000).rounded(.down))
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func p(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem % 3600 / 60, 2)):\(p(rem % 60, 2)).\(p(ms, 3))Z"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
