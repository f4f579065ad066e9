import OrderedCollections

/// A JSON value. Objects keep their keys' insertion order for printing, but equality and hashing
/// ignore order; numbers compare by value (`1 == 1.0`) and integers beyond 64 bits keep their digits.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

/// A JSON number that keeps the precision it was written with: 64-bit integers exactly, larger
/// integers as their decimal digits, everything else as a Double.
public enum JSONNumber: Sendable {
    case int(Int64)
    case double(Double)
    /// An integer too large for Int64, kept as its canonical decimal digits (optional leading "-").
    case bigInt(String)

    public var doubleValue: Double {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bigInt(let s): return Double(s) ?? .nan
        }
    }

    /// The value as an Int64 when it is integral and fits.
    public var int64Value: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d):
            guard d.isFinite, d.rounded() == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
            return Int64(d)
        case .bigInt: return nil
        }
    }

    public var isIntegral: Bool {
        switch self {
        case .int, .bigInt: return true
        case .double(let d): return d.isFinite && d.rounded() == d
        }
    }
}

extension JSONNumber: Equatable, Hashable, Comparable {
    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.bigInt(let x), .bigInt(let y)): return x == y
        case (.bigInt, _), (_, .bigInt): return false  // a bigInt is never representable as Int64; doubles lose digits
        default: return a.doubleValue == b.doubleValue
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bigInt(let s): hasher.combine(s)
        default:
            // Equal values must hash equally: hash integral values as Int64, the rest as Double.
            if let i = int64Value { hasher.combine(i) } else { hasher.combine(doubleValue) }
        }
    }

    public static func < (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.bigInt(let x), .bigInt(let y)):
            let xn = x.hasPrefix("-"), yn = y.hasPrefix("-")
            if xn != yn { return xn }
            let xd = xn ? x.dropFirst() : Substring(x), yd = yn ? y.dropFirst() : Substring(y)
            let absLess = xd.count != yd.count ? xd.count < yd.count : xd < yd
            let absEq = xd == yd
            return xn ? (!absLess && !absEq) : absLess
        default: return a.doubleValue < b.doubleValue
        }
    }
}

/// A JSON object: insertion-ordered for printing, order-insensitive for equality.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public var storage: OrderedDictionary<String, JSON>

    public init() { storage = [:] }
    public init(_ storage: OrderedDictionary<String, JSON>) { self.storage = storage }
    /// Builds an object from pairs; a repeated key keeps its last value (never traps).
    public init<S: Sequence>(uniqueKeysWithValues pairs: S) where S.Element == (String, JSON) {
        storage = OrderedDictionary(pairs, uniquingKeysWith: { _, last in last })
    }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        storage = OrderedDictionary(elements, uniquingKeysWith: { _, last in last })
    }

    public subscript(key: String) -> JSON? {
        get { storage[key] }
        set { storage[key] = newValue }
    }

    public var keys: [String] { Array(storage.keys) }
    public var values: [JSON] { Array(storage.values) }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public func makeIterator() -> OrderedDictionary<String, JSON>.Iterator { storage.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.storage.count == b.storage.count else { return false }
        for (k, v) in a.storage {
            guard let w = b.storage[k], w == v else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-entry hashes commutatively.
        var acc = 0
        for (k, v) in storage {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            acc ^= h.finalize()
        }
        hasher.combine(storage.count)
        hasher.combine(acc)
    }
}

extension JSON: Equatable, Hashable {
    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .number(let n): hasher.combine(2); hasher.combine(n)
        case .string(let s): hasher.combine(3); for u in s.unicodeScalars { hasher.combine(u.value) }
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let o): hasher.combine(5); hasher.combine(o)
        }
    }
}

// MARK: - Convenience

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(.int(Int64(value))) }
    public init(floatLiteral value: Double) { self = .number(.double(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(OrderedDictionary(elements, uniquingKeysWith: { _, last in last })))
    }
}

extension JSON {
    public static func int(_ v: Int) -> JSON { .number(.int(Int64(v))) }
    public static func int(_ v: Int64) -> JSON { .number(.int(v)) }
    public static func double(_ v: Double) -> JSON { .number(.double(v)) }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    public var doubleValue: Double? { numberValue?.doubleValue }
    public var intValue: Int? { numberValue?.int64Value.map { Int(truncatingIfNeeded: $0) } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// Member access on objects; `nil` for anything else or a missing key.
    public subscript(key: String) -> JSON? {
        get { objectValue?[key] }
        set {
            guard case .object(var o) = self else { return }
            o[key] = newValue
            self = .object(o)
        }
    }

    /// Index access on arrays; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    /// The JSON type name as JMESPath's `type()` reports it.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Truthiness as JMESPath defines it: false, null, empty string, array and object are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .number: return true
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }
}
