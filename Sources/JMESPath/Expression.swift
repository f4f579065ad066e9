import FerryJSON

/// A compiled JMESPath expression (https://jmespath.org/specification.html). Immutable and `Sendable`: compile
/// once, evaluate from any number of threads. Two expressions are equal when their source text is equal (equal
/// text always compiles to the same tree).
///
///     let e = try Expression(compiling: "items[?state == 'running'].id")
///     let ids = try e.evaluate(document)
///
/// Errors are `JMESPathError`s: syntax errors, unknown functions and wrong argument counts when compiling;
/// argument type errors and a zero slice step when evaluating.
public struct Expression: Sendable, Hashable {
    private let text: String
    let root: Op

    /// Compiles `source`. Syntax errors, unknown functions and wrong argument counts are reported here.
    public init(compiling source: String) throws(JMESPathError) {
        self.text = source
        self.root = try Parser.parse(source)
    }

    public var source: String { text }

    /// Evaluates the expression against `data`. Type errors in function arguments and a zero slice step are
    /// reported here.
    public func evaluate(_ data: JSON) throws(JMESPathError) -> JSON {
        do {
            // Lent, not copied: the input is only read (see Interpreter.swift).
            return try lend(data) { (v) throws(JMESPathError) in try root.eval(&v) }
        } catch {
            throw JMESPathError(kind: error.kind, message: "\(error.message) (in \(JMESPathError.quote(text)))",
                                column: nil, expression: text)
        }
    }

    public static func == (a: Expression, b: Expression) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// Compiles and evaluates in one step. Prefer `Expression` when the same expression runs more than once.
public func search(_ expression: String, _ data: JSON) throws(JMESPathError) -> JSON {
    try Expression(compiling: expression).evaluate(data)
}
