import FerryJSON

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

    /// Minimum argument count, and whether more are allowed (variadic).
    var arity: (min: Int, variadic: Bool) {
        switch self {
        case .merge, .notNull: return (1, true)
        case .contains, .endsWith, .join, .map, .maxBy, .minBy, .sortBy, .startsWith: return (2, false)
        default: return (1, false)
        }
    }
}
