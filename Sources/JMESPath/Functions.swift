import FerryJSON

/// A resolved function argument: a value, or an unevaluated expression reference (`&expr`).
enum Argument {
    case value(JSON)
    case expref(Unmanaged<Op>)
}

/// Function arguments; the first two are stored inline so the usual one- and two-argument calls
/// allocate nothing per evaluation.
struct ArgumentList {
    private(set) var count = 0
    private var a0: Argument = .value(.null)
    private var a1: Argument = .value(.null)
    private var rest: [Argument] = []

    mutating func append(_ a: Argument) {
        switch count {
        case 0: a0 = a
        case 1: a1 = a
        default: rest.append(a)
        }
        count += 1
    }

    subscript(i: Int) -> Argument {
        switch i {
        case 0: return a0
        case 1: return a1
        default: return rest[i - 2]
        }
    }
}

/// Runs a built-in function on already evaluated arguments, checking their types.
func callBuiltin(_ fn: Builtin, _ args: ArgumentList) throws(JMESPathError) -> JSON {
    let name = fn.rawValue
    func fail(_ kind: JMESPathError.Kind, _ message: String) -> JMESPathError { evalError(kind, message) }

    func typeError(_ i: Int, _ expected: String, _ got: Argument) -> JMESPathError {
        let gotName: String
        switch got {
        case .value(let v): gotName = v.typeName
        case .expref: gotName = "expression reference"
        }
        return fail(.invalidType, "\(name)() expects argument \(i + 1) to be \(expected), got \(gotName)")
    }
    func value(_ i: Int) throws(JMESPathError) -> JSON {
        guard case .value(let v) = args[i] else { throw typeError(i, "a value", args[i]) }
        return v
    }
    func number(_ i: Int) throws(JMESPathError) -> JSONNumber {
        guard case .value(.number(let n)) = args[i] else { throw typeError(i, "a number", args[i]) }
        return n
    }
    func string(_ i: Int) throws(JMESPathError) -> String {
        guard case .value(.string(let s)) = args[i] else { throw typeError(i, "a string", args[i]) }
        return s
    }
    func array(_ i: Int) throws(JMESPathError) -> [JSON] {
        guard case .value(.array(let a)) = args[i] else { throw typeError(i, "an array", args[i]) }
        return a
    }
    func object(_ i: Int) throws(JMESPathError) -> JSONObject {
        guard case .value(.object(let o)) = args[i] else { throw typeError(i, "an object", args[i]) }
        return o
    }
    func expref(_ i: Int) throws(JMESPathError) -> Unmanaged<Op> {
        guard case .expref(let n) = args[i] else { throw typeError(i, "an expression reference (&...)", args[i]) }
        return n
    }
    func numbers(_ i: Int) throws(JMESPathError) -> [JSONNumber] {
        let a = try array(i)
        var out: [JSONNumber] = []
        out.reserveCapacity(a.count)
        for e in a {
            guard case .number(let n) = e else {
                throw fail(.invalidType, "\(name)() expects argument \(i + 1) to be an array of numbers, found an element of type \(e.typeName)")
            }
            out.append(n)
        }
        return out
    }
    func numbersOrStrings(_ i: Int) throws(JMESPathError) -> SortKeys {
        try valueSortKeys(try array(i), name, i)
    }

    switch fn {
    case .abs:
        switch try number(0) {
        case .int(let i):
            if i == .min { return .number(.bigInt(String(i).dropFirst().description)) }
            return .number(.int(Swift.abs(i)))
        case .double(let d): return .number(.double(Swift.abs(d)))
        case .bigInt(let s): return .number(.bigInt(s.hasPrefix("-") ? String(s.dropFirst()) : s))
        }

    case .avg:
        let ns = try numbers(0)
        if ns.isEmpty { return .null }
        var total = 0.0
        for n in ns { total += n.doubleValue }
        return .number(.double(total / Double(ns.count)))

    case .ceil, .floor:
        let n = try number(0)
        guard case .double(let d) = n else { return .number(n) }
        let r = fn == .ceil ? d.rounded(.up) : d.rounded(.down)
        if r >= -9.223372036854775808e18 && r < 9.223372036854775808e18 { return .number(.int(Int64(r))) }
        return .number(.double(r))

    case .contains:
        let search = try value(1)
        switch args[0] {
        case .value(.array(let a)):
            return .bool(a.contains { jsonEqual($0, search) })
        case .value(.string(let s)):
            guard case .string(let needle) = search else { return .bool(false) }
            return .bool(utf8Contains(s, needle))
        default:
            throw typeError(0, "an array or a string", args[0])
        }

    case .endsWith:
        let s = try string(0), suffix = try string(1)
        return .bool(s.utf8.count >= suffix.utf8.count && s.utf8.reversed().starts(with: suffix.utf8.reversed()))

    case .startsWith:
        let s = try string(0), prefix = try string(1)
        return .bool(s.utf8.starts(with: prefix.utf8))

    case .join:
        let glue = try string(0)
        let a = try array(1)
        var out = ""
        for (k, e) in a.enumerated() {
            guard case .string(let s) = e else {
                throw fail(.invalidType, "join() expects argument 2 to be an array of strings, found an element of type \(e.typeName)")
            }
            if k > 0 { out += glue }
            out += s
        }
        return .string(out)

    case .keys:
        return .array(try object(0).storage.keys.map { .string($0) })

    case .values:
        return .array(Array(try object(0).storage.values))

    case .length:
        switch args[0] {
        case .value(.string(let s)): return .int(scalarCount(s))
        case .value(.array(let a)): return .int(a.count)
        case .value(.object(let o)): return .int(o.count)
        default: throw typeError(0, "a string, an array or an object", args[0])
        }

    case .map:
        let e = try expref(0)
        let a = try array(1)
        var out: [JSON] = []
        out.reserveCapacity(a.count)
        try forEachElement(a) { (x) throws(JMESPathError) in out.append(try run(e, &x)) }
        return .array(out)

    case .max, .min:
        let a = try array(0)
        switch try numbersOrStrings(0) {
        case .numbers(let ns):
            guard !ns.isEmpty else { return .null }
            var best = 0
            for i in 1..<ns.count {
                if fn == .max ? numberLess(ns[best], ns[i]) : numberLess(ns[i], ns[best]) { best = i }
            }
            return a[best]
        case .strings(let ss):
            var best = 0
            for i in 1..<ss.count {
                if fn == .max ? codepointLess(ss[best], ss[i]) : codepointLess(ss[i], ss[best]) { best = i }
            }
            return a[best]
        }

    case .maxBy, .minBy:
        let a = try array(0)
        let e = try expref(1)
        if a.isEmpty { return .null }
        // One pass keeping the best key so far (no key arrays); the first of equal extremes wins.
        var bestIndex = 0
        var bestKey = JSON.null
        var isNumbers = false
        var i = 0
        let wantMax = fn == .maxBy
        try forEachElement(a) { (x) throws(JMESPathError) in
            let k = try run(e, &x)
            switch k {
            case .number(let n) where i == 0 || isNumbers:
                isNumbers = true
                if i == 0 {
                    bestKey = k
                } else if case .number(let b) = bestKey, wantMax ? numberLess(b, n) : numberLess(n, b) {
                    bestKey = k
                    bestIndex = i
                }
            case .string(let str) where i == 0 || !isNumbers:
                if i == 0 {
                    bestKey = k
                } else if case .string(let b) = bestKey, wantMax ? codepointLess(b, str) : codepointLess(str, b) {
                    bestKey = k
                    bestIndex = i
                }
            default:
                let expected = i == 0 ? "a number or a string" : (isNumbers ? "a number like the first key" : "a string like the first key")
                throw evalError(.invalidType, "\(name)() expression must give \(expected), got \(k.typeName) for element \(i)")
            }
            i += 1
        }
        return a[bestIndex]

    case .merge:
        var out = JSONObject()
        for i in 0..<args.count {
            let o = try object(i)
            if i == 0 { out = o; continue }
            for (k, v) in o.storage { out.storage[k] = v }
        }
        return .object(out)

    case .notNull:
        for i in 0..<args.count {
            let v = try value(i)
            if !v.isNull { return v }
        }
        return .null

    case .reverse:
        switch args[0] {
        case .value(.string(let s)):
            var out = String.UnicodeScalarView()
            for u in s.unicodeScalars.reversed() { out.append(u) }
            return .string(String(out))
        case .value(.array(let a)):
            return .array(a.reversed())
        default:
            throw typeError(0, "an array or a string", args[0])
        }

    case .sort:
        let a = try array(0)
        if a.count <= 16 {
            // A handful of values: check their types, then a stable insertion sort of a copy, in place.
            let numbers = try checkSortable(a, name, 0)
            var out = a
            out.withUnsafeMutableBufferPointer { b in
                for i in 1..<Swift.max(1, b.count) {
                    var j = i
                    while j > 0 && sortLess(b[j], b[j - 1], numbers) {
                        b.swapAt(j, j - 1)
                        j -= 1
                    }
                }
            }
            return .array(out)
        }
        let order = sortedOrder(try numbersOrStrings(0))
        return .array(gather(a, order))

    case .sortBy:
        let a = try array(0)
        let e = try expref(1)
        if a.isEmpty { return .array(a) }
        let order = try sortByOrder(a, e, name)
        return .array(gather(a, order))

    case .sum:
        let ns = try numbers(0)
        var acc: Int64 = 0
        var dacc = 0.0
        var useDouble = false
        for n in ns {
            if !useDouble, case .int(let i) = n {
                let (s, o) = acc.addingReportingOverflow(i)
                if !o { acc = s; continue }
            }
            if !useDouble { useDouble = true; dacc = Double(acc) }
            dacc += n.doubleValue
        }
        return useDouble ? .number(.double(dacc)) : .number(.int(acc))

    case .toArray:
        let v = try value(0)
        if case .array = v { return v }
        return .array([v])

    case .toString:
        let v = try value(0)
        if case .string = v { return v }
        return .string(v.serialized())

    case .toNumber:
        switch try value(0) {
        case .number(let n): return .number(n)
        case .string(let s): return parseNumber(s).map { .number($0) } ?? .null
        default: return .null
        }

    case .type:
        return .string(try value(0).typeName)
    }
}

/// The elements of `a` (argument `i` of `name`) as sort keys: array[number] or array[string], decided by the
/// first element (an empty array matches both).
func valueSortKeys(_ a: [JSON], _ name: String, _ i: Int) throws(JMESPathError) -> SortKeys {
    guard let first = a.first else { return .numbers([]) }
    switch first {
    case .number:
        var out: [JSONNumber] = []
        out.reserveCapacity(a.count)
        for e in a {
            guard case .number(let n) = e else {
                throw evalError(.invalidType, "\(name)() expects argument \(i + 1) to be an array of numbers, found an element of type \(e.typeName)")
            }
            out.append(n)
        }
        return .numbers(out)
    case .string:
        var out: [String] = []
        out.reserveCapacity(a.count)
        for e in a {
            guard case .string(let s) = e else {
                throw evalError(.invalidType, "\(name)() expects argument \(i + 1) to be an array of strings, found an element of type \(e.typeName)")
            }
            out.append(s)
        }
        return .strings(out)
    default:
        throw evalError(.invalidType, "\(name)() expects argument \(i + 1) to be an array of numbers or an array of strings, found an element of type \(first.typeName)")
    }
}

/// Checks that `a` (argument `i` of `name`) is all numbers or all strings, with `valueSortKeys`'s errors;
/// true for numbers.
func checkSortable(_ a: [JSON], _ name: String, _ i: Int) throws(JMESPathError) -> Bool {
    guard let first = a.first else { return true }
    let numbers: Bool
    switch first {
    case .number: numbers = true
    case .string: numbers = false
    default:
        throw evalError(.invalidType, "\(name)() expects argument \(i + 1) to be an array of numbers or an array of strings, found an element of type \(first.typeName)")
    }
    for e in a {
        switch e {
        case .number where numbers, .string where !numbers: continue
        default:
            throw evalError(.invalidType, "\(name)() expects argument \(i + 1) to be an array of \(numbers ? "numbers" : "strings"), found an element of type \(e.typeName)")
        }
    }
    return numbers
}

/// Order of two values already checked by `checkSortable`.
@inline(__always)
func sortLess(_ x: JSON, _ y: JSON, _ numbers: Bool) -> Bool {
    switch (x, y) {
    case (.number(let a), .number(let b)): return numberLess(a, b)
    case (.string(let a), .string(let b)): return codepointLess(a, b)
    default: return false
    }
}

/// Reorders `a` so that a[i] becomes the old a[order[i]] (`order` a permutation), moving values along
/// the permutation's cycles instead of copying them (no reference counting).
func permute(_ a: inout [JSON], _ order: [Int]) {
    let n = order.count
    guard n == a.count, n > 1 else { return }
    var done = [Bool](repeating: false, count: n)
    a.withUnsafeMutableBufferPointer { buf in
        order.withUnsafeBufferPointer { ob in
            for start in 0..<n where !done[start] {
                var i = start
                done[i] = true
                while ob[i] != start {
                    buf.swapAt(i, ob[i])
                    i = ob[i]
                    done[i] = true
                }
            }
        }
    }
}

/// The stable order of `a` by the key `e` gives each element (sort_by). String keys are packed straight into
/// their 8-byte prefixes (no array of strings); when that can leave ties between different strings (longer than
/// 8 bytes, or NUL bytes), runs of equal prefixes are ordered by their keys, recomputed.
func sortByOrder(_ a: [JSON], _ e: Unmanaged<Op>, _ name: String) throws(JMESPathError) -> [Int] {
    var ns: [JSONNumber] = []
    var packed: [UInt64] = []
    var isNumbers = false
    var ambiguous = false
    var i = 0
    try forEachElement(a) { (x) throws(JMESPathError) in
        let k = try run(e, &x)
        switch k {
        case .number(let n) where i == 0 || isNumbers:
            isNumbers = true
            if i == 0 { ns.reserveCapacity(a.count) }
            ns.append(n)
        case .string(let s) where i == 0 || !isNumbers:
            if i == 0 { packed.reserveCapacity(a.count) }
            let (p, exact) = prefixKeyExact(s)
            if !exact { ambiguous = true }
            packed.append(p)
        default:
            let expected = i == 0 ? "a number or a string" : (isNumbers ? "a number like the first key" : "a string like the first key")
            throw evalError(.invalidType, "\(name)() expression must give \(expected), got \(k.typeName) for element \(i)")
        }
        i += 1
    }
    if isNumbers { return sortedOrder(.numbers(ns)) }
    if packed.count <= 16 || ambiguous {
        // Few keys, or prefixes that may tie between different strings: the exact path on the strings.
        var ss: [String] = []
        ss.reserveCapacity(a.count)
        for j in 0..<a.count { ss.append(keyString(a, j, e)) }
        return sortedOrder(.strings(ss))
    }
    // Every key is at most 8 bytes without NULs: its prefix determines it, so the stable radix order is exact.
    return radixSortedIndices(packed)
}

/// The string key of element `j` again (already evaluated once without error).
private func keyString(_ a: [JSON], _ j: Int, _ e: Unmanaged<Op>) -> String {
    var out = ""
    a.withUnsafeBufferPointer { buf in
        guard let start = buf.baseAddress else { return }
        try? lendEach(UnsafeRawPointer(start + j), 1) { (x) throws(JMESPathError) in
            if case .string(let s) = try run(e, &x) { out = s }
        }
    }
    return out
}

/// The 8-byte prefix key of `s`, and whether it identifies `s` exactly (at most 8 bytes, none of them NUL).
@inline(__always)
func prefixKeyExact(_ s: String) -> (UInt64, Bool) {
    func pack(_ buf: UnsafeBufferPointer<UInt8>) -> (UInt64, Bool) {
        var p: UInt64 = 0
        var exact = buf.count <= 8
        let n = Swift.min(8, buf.count)
        for k in 0..<n {
            let byte = buf[k]
            if byte == 0 { exact = false }
            p |= UInt64(byte) << UInt64(56 - 8 * k)
        }
        return (p, exact)
    }
    if let r = s.utf8.withContiguousStorageIfAvailable(pack) { return r }
    var c = s
    return c.withUTF8(pack)
}

enum SortKeys {
    case numbers([JSONNumber])
    case strings([String])
}

/// Indices of the keys in ascending order, equal keys keeping their original order (sort_by is stable).
/// Keys are mapped to order-preserving 64-bit integers and radix-sorted (stable); only runs of equal integer
/// keys that may still differ (long strings sharing an 8-byte prefix, integers beyond 2^53 mixed with
/// doubles) are then ordered by a full comparison.
func sortedOrder(_ keys: SortKeys) -> [Int] {
    // A handful of keys: a stable insertion sort with exact comparisons, no packing or tables.
    switch keys {
    case .numbers(let ns) where ns.count <= 16:
        return insertionOrder(ns.count) { numberLess(ns[$0], ns[$1]) }
    case .strings(let ss) where ss.count <= 16:
        return insertionOrder(ss.count) { codepointLess(ss[$0], ss[$1]) }
    default:
        break
    }
    switch keys {
    case .numbers(let ns):
        var allInts = true
        for n in ns {
            switch n {
            case .int: continue
            case .double: allInts = false
            case .bigInt:
                // Arbitrary precision: plain comparison sort.
                var idx = Array(0..<ns.count)
                idx.sort { i, j in
                    if numberLess(ns[i], ns[j]) { return true }
                    if numberLess(ns[j], ns[i]) { return false }
                    return i < j
                }
                return idx
            }
        }
        var packed = [UInt64](repeating: 0, count: ns.count)
        for i in 0..<ns.count {
            switch ns[i] {
            case .int(let v) where allInts: packed[i] = UInt64(bitPattern: v) ^ (1 << 63)
            default: packed[i] = orderedBits(ns[i].doubleValue)
            }
        }
        var order = radixSortedIndices(packed)
        if !allInts {
            // Doubles only approximate integers beyond 2^53: order equal-key runs exactly.
            fixEqualRuns(&order, packed) { i, j in numberLess(ns[i], ns[j]) }
        }
        return order
    case .strings(let ss):
        var packed = [UInt64](repeating: 0, count: ss.count)
        ss.withUnsafeBufferPointer { sb in
            packed.withUnsafeMutableBufferPointer { pb in
                for i in 0..<sb.count { pb[i] = prefixKey(sb[i]) }
            }
        }
        var order = radixSortedIndices(packed)
        // Strings up to 8 bytes with equal prefixes can still differ by trailing NUL bytes ("a" vs "a\0").
        fixEqualRuns(&order, packed) { i, j in codepointLess(ss[i], ss[j]) }
        return order
    }
}

/// The first 8 UTF-8 bytes, big-endian: ordered like the strings (UTF-8 order is code point order).
@inline(__always)
func prefixKey(_ s: String) -> UInt64 {
    func pack(_ buf: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var p: UInt64 = 0
        let n = Swift.min(8, buf.count)
        for k in 0..<n { p |= UInt64(buf[k]) << UInt64(56 - 8 * k) }
        return p
    }
    if let p = s.utf8.withContiguousStorageIfAvailable(pack) { return p }
    var c = s
    return c.withUTF8(pack)
}

/// `a` permuted by `order` (every index in range), built in place without intermediate copies.
func gather(_ a: [JSON], _ order: [Int]) -> [JSON] {
    let n = order.count
    if n == 0 { return [] }
    if n >= 64 && n == a.count {
        // A permutation of a large array: copy the elements in memory order into their sorted positions. Each
        // copy retains the element's buffers, and touching those in allocation order (rather than sorted
        // order) keeps the reference counting cache-friendly.
        var rank = [Int](repeating: 0, count: n)
        rank.withUnsafeMutableBufferPointer { rb in
            for i in 0..<n { rb[order[i]] = i }
        }
        return a.withUnsafeBufferPointer { src in
            rank.withUnsafeBufferPointer { rb in
                [JSON](unsafeUninitializedCapacity: n) { dst, initialized in
                    guard let base = dst.baseAddress else { return }
                    for j in 0..<n { (base + rb[j]).initialize(to: src[j]) }
                    initialized = n
                }
            }
        }
    }
    var out: [JSON] = []
    out.reserveCapacity(n)
    a.withUnsafeBufferPointer { src in
        order.withUnsafeBufferPointer { ob in
            for i in 0..<n { out.append(src[ob[i]]) }
        }
    }
    return out
}

/// Stable insertion sort of 0..<n: an element moves left only past strictly greater ones.
@inline(__always)
func insertionOrder(_ n: Int, _ less: (Int, Int) -> Bool) -> [Int] {
    var idx = Array(0..<n)
    if n < 2 { return idx }
    for i in 1..<n {
        let x = idx[i]
        var j = i
        while j > 0 && less(x, idx[j - 1]) {
            idx[j] = idx[j - 1]
            j -= 1
        }
        idx[j] = x
    }
    return idx
}

/// A Double's bits rearranged so unsigned integer order matches numeric order (-0.0 and 0.0 coincide).
@inline(__always)
func orderedBits(_ d: Double) -> UInt64 {
    let b = (d == 0 ? 0.0 : d).bitPattern
    return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
}

/// Stable LSD radix sort of indices by 64-bit key, one byte per pass, skipping bytes all keys share.
/// Key/index pairs move together so every pass reads sequentially.
func radixSortedIndices(_ keys: [UInt64]) -> [Int] {
    struct Pair {
        var key: UInt64
        var index: Int
    }
    let n = keys.count
    if n < 2 { return Array(0..<n) }
    if n < 128 {
        // Small inputs: a comparison sort beats clearing and scanning the radix tables.
        var pairs = (0..<n).map { Pair(key: keys[$0], index: $0) }
        pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }
        return pairs.map(\.index)
    }
    // 11-bit digits: six passes cover 64 bits (the last digit has 9).
    let digits = 6, radix = 2048
    var counts = [Int](repeating: 0, count: digits * radix)
    var a = [Pair](repeating: Pair(key: 0, index: 0), count: n)
    var b = a
    counts.withUnsafeMutableBufferPointer { c in
        a.withUnsafeMutableBufferPointer { pa in
            keys.withUnsafeBufferPointer { k in
                for i in 0..<n {
                    let key = k[i]
                    pa[i] = Pair(key: key, index: i)
                    var shifted = key
                    for d in 0..<digits {
                        c[d &* radix &+ Int(shifted & 0x7FF)] &+= 1
                        shifted >>= 11
                    }
                }
            }
        }
    }
    var pos = [Int](repeating: 0, count: radix)
    for d in 0..<digits {
        let base = d * radix
        let shift = UInt64(11 * d)
        if counts[base + Int((keys[0] >> shift) & 0x7FF)] == n { continue }  // every key has this digit
        var total = 0
        for v in 0..<radix {
            pos[v] = total
            total += counts[base + v]
        }
        pos.withUnsafeMutableBufferPointer { p in
            a.withUnsafeBufferPointer { src in
                b.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n {
                        let e = src[i]
                        let v = Int((e.key >> shift) & 0x7FF)
                        dst[p[v]] = e
                        p[v] &+= 1
                    }
                }
            }
        }
        swap(&a, &b)
    }
    return a.map(\.index)
}

/// Re-sorts (stably) each run of equal packed keys with the exact comparison.
func fixEqualRuns(_ order: inout [Int], _ packed: [UInt64], _ less: (Int, Int) -> Bool) {
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && packed[order[end]] == packed[order[start]] { end += 1 }
        if end - start > 1 {
            // Indices in a run are ascending (the radix sort is stable), so ties fall back to index order.
            order[start..<end].sort { i, j in
                if less(i, j) { return true }
                if less(j, i) { return false }
                return i < j
            }
        }
        start = end
    }
}

func scalarCount(_ s: String) -> Int {
    var s = s
    return s.withUTF8 { buf in
        var n = 0
        for b in buf where b & 0xC0 != 0x80 { n += 1 }
        return n
    }
}

/// Substring search on UTF-8 bytes; valid UTF-8 is self-synchronizing, so a byte match is a code point match.
func utf8Contains(_ haystack: String, _ needle: String) -> Bool {
    var h = haystack, n = needle
    return h.withUTF8 { hb in
        n.withUTF8 { nb in
            if nb.isEmpty { return true }
            if nb.count > hb.count { return false }
            let first = nb[0]
            var i = 0
            while i + nb.count <= hb.count {
                if hb[i] == first {
                    var k = 1
                    while k < nb.count && hb[i + k] == nb[k] { k += 1 }
                    if k == nb.count { return true }
                }
                i += 1
            }
            return false
        }
    }
}

/// `to_number` on a string: JSON number syntax (integers keep full precision); anything else is null.
func parseNumber(_ s: String) -> JSONNumber? {
    let bytes = Array(s.utf8)
    guard !bytes.isEmpty else { return nil }
    // Only digits, sign, '.', exponent: rejects "nan", "inf", hex and whitespace that JSONParser would skip.
    for b in bytes {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"):
            continue
        default:
            return nil
        }
    }
    if case .number(let n)? = try? JSONParser.parse(bytes: bytes) { return n }
    // Forms JSON rejects but the reference implementation accepts: "+1", ".5", "5.", "01".
    guard let d = Double(s), d.isFinite else { return nil }
    if d.rounded() == d, !s.contains("."), !s.contains("e"), !s.contains("E"),
       d >= -9.223372036854775808e18, d < 9.223372036854775808e18 {
        return .int(Int64(d))
    }
    return .double(d)
}
