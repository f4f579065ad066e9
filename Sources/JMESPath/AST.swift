import FerryJSON

/// The compiled form of an expression. Chains (`a.b`, `a | b`, `a || b`, `a && b`) are kept flat so that long
/// chains neither recurse deeply when evaluated nor when the tree is freed.
indirect enum Node: Sendable {
    /// `@`, and the implicit right-hand side of a projection with nothing after it.
    case identity
    case field(String)
    /// `a.b.c` where every step is a plain field: the most common shape, evaluated without recursion.
    case fieldPath([String])
    /// Left-to-right application: each step is evaluated against the previous result (sub-expressions and
    /// index expressions).
    case chain([Node])
    case index(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
    case literal(JSON)
    /// List projection: evaluate `rhs` on each element of the array `lhs` yields, dropping nulls.
    case projection(Node, Node)
    /// Object projection (`*`): over the object's values.
    case valueProjection(Node, Node)
    /// `lhs[?condition] rhs`.
    case filterProjection(Node, Node, condition: Node)
    case flatten(Node)
    case compare(Comparator, Node, Node)
    /// `field == literal`, the usual filter condition, without evaluating the literal node.
    case fieldEquals(String, JSON, negated: Bool)
    case or([Node])
    case and([Node])
    case not(Node)
    case pipe([Node])
    case multiList([Node])
    case multiHash([KeyedNode])
    case function(Builtin, [Node])
    case expref(Node)
}

struct KeyedNode: Sendable {
    let key: String
    let node: Node
}

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
