import FerryJSON

// Vocabulary shared by the parser and the evaluator: comparison operators and the built-in functions.
// (The executable tree itself is in Interpreter.swift.)

enum Comparator: Sendable {
    case eq, ne, lt, lte, gt, gte
}

/// The built-in functions. Arity is checked when the expression is compiled; argument types when it runs.
enum Builtin: String, Sendable, CaseIterable {
    case abs, avg, ceil, contains
    case endsWith = "ends_with"
    case floor, join, keys, length, map, max
    case maxBy = "max_by"
    case merge, min
    case minBy = "min_by"
    case notNull = "not_null"
    case reverse, sort
    case sortBy = "sort_by"
    case startsWith = "starts_with"
    case sum
    case toArray = "to_array"
    case toNumber = "to_number"
    case toString = "to_string"
    case type, values

    /// Lookup by name; a plain switch is several times cheaper than the synthesized `init(rawValue:)`.
    static func named(_ name: String) -> Builtin? {
        switch name {
        case "abs": return .abs
        case "avg": return .avg
        case "ceil": return .ceil
        case "contains": return .contains
        case "ends_with": return .endsWith
        case "floor": return .floor
        case "join": return .join
        case "keys": return .keys
        case "length": return .length
        case "map": return .map
        case "max": return .max
        case "max_by": return .maxBy
        case "merge": return .merge
        case "min": return .min
        case "min_by": return .minBy
        case "not_null": return .notNull
        case "reverse": return .reverse
        case "sort": return .sort
        case "sort_by": return .sortBy
        case "starts_with": return .startsWith
        case "sum": return .sum
        case "to_array": return .toArray
        case "to_number": return .toNumber
        case "to_string": return .toString
        case "type": return .type
        case "values": return .values
        default: return nil
        }
    }

    /// Minimum argument count, and whether more are allowed (variadic).
    var arity: (min: Int, variadic: Bool) {
        switch self {
        case .merge, .notNull: return (1, true)
        case .contains, .endsWith, .join, .map, .maxBy, .minBy, .sortBy, .startsWith: return (2, false)
        default: return (1, false)
        }
    }
}
