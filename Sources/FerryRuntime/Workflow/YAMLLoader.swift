import FerryCore
import FerryJSON
import Yams

/// Reads workflow documents: JSON, or YAML (a JSON document is also YAML, but JSON is parsed first for exact
/// number handling and precise error positions).
public enum WorkflowLoader {
    public static func parse(text: String, source: String = "workflow") throws(FerryError) -> JSON {
        let trimmed = text.trimmingWhitespace()
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            do { return try JSONParser.parse(text) } catch { throw FerryError.from(error, field: source) }
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw FerryError(.invalidWorkflow, "\(source): YAML error: \(describe(error))",
                             details: ["field": .string(source)])
        }
        guard let node else { throw FerryError(.invalidWorkflow, "\(source): empty document", details: ["field": .string(source)]) }
        var budget = 2 * text.utf8.count + 64
        return try json(node, path: source, budget: &budget)
    }

    static func describe(_ e: Error) -> String {
        if let y = e as? YamlError {
            switch y {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                return "\(problem) at line \(mark.line), column \(mark.column)"
            default: break
            }
        }
        return String(describing: e).split(separator: "\n").first.map(String.init) ?? "invalid YAML"
    }

    static func json(_ node: Node, path: String, budget: inout Int) throws(FerryError) -> JSON {
        // Yams resolves `*x` to the anchored node itself (the `.alias` case below never occurs, and `node.anchor` is
        // a weak reference that is gone after compose). Without aliases a document has fewer values than twice its
        // bytes, so a budget catches alias expansion before nested aliases blow up exponentially ("billion laughs").
        budget -= 1
        if budget < 0 {
            throw FerryError(.invalidWorkflow, "\(path): YAML aliases are not supported (the document expands to more values than its text holds)",
                             details: ["field": .string(path)])
        }
        switch node {
        case .scalar(let s):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSON.bool) ?? .string(s.string)
            case .int:
                if let i = Int64(s.string) { return .int(i) }
                return node.int.map { .int($0) } ?? .string(s.string)
            case .float: return node.float.map(JSON.double) ?? .string(s.string)
            default: return .string(s.string)
            }
        case .mapping(let m):
            var o = JSONObject()
            for (k, v) in m {
                guard case .scalar(let ks) = k else {
                    throw FerryError(.invalidWorkflow, "\(path): mapping keys must be strings", details: ["field": .string(path)])
                }
                o[ks.string] = try json(v, path: "\(path).\(ks.string)", budget: &budget)
            }
            return .object(o)
        case .sequence(let seq):
            var a: [JSON] = []
            for (i, v) in seq.enumerated() { a.append(try json(v, path: "\(path)[\(i)]", budget: &budget)) }
            return .array(a)
        case .alias:
            throw FerryError(.invalidWorkflow, "\(path): YAML aliases are not supported", details: ["field": .string(path)])
        }
    }
}
