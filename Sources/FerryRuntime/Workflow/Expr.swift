import FerryCore
import FerryJSON
import JMESPath

/// A compiled JMESPath expression used by conditions, templates and reconciliation hints.
struct Expr: Sendable {
    let source: String
    private let compiled: Expression

    struct CompileError: Error { var message: String; var column: Int }

    init(_ source: String) throws(CompileError) {
        self.source = source
        do { compiled = try Expression(compiling: source) } catch {
            throw CompileError(message: error.message, column: error.column ?? 1)
        }
    }

    /// Evaluates against `data`; failures map to `expression_failed` naming `location`.
    func evaluate(_ data: JSON, location: String) throws(FerryError) -> JSON {
        do { return try compiled.evaluate(data) } catch {
            throw FerryError(.expressionFailed, "\(location): \(error.message) in '\(source)'",
                             details: ["location": .string(location), "expression": .string(source),
                                       "type": .string(error.kind.rawValue)])
        }
    }
}
