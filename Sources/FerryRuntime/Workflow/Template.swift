import FerryCore
import FerryJSON

/// A JSON value that may contain `${ expr }` templates. A string that is exactly one template yields the
/// expression's JSON value; templates embedded in text yield text (strings as-is, null as "", other values
/// as compact JSON). `$${` writes a literal `${`.
indirect enum TemplateValue: Sendable {
    case literal(JSON)
    case expr(Expr)
    case text([TemplatePart])
    case array([TemplateValue])
    case object([(String, TemplateValue)])

    var isStatic: Bool {
        switch self {
        case .literal: return true
        case .expr, .text: return false
        case .array(let a): return a.allSatisfy(\.isStatic)
        case .object(let o): return o.allSatisfy { $0.1.isStatic }
        }
    }

    /// Every expression in the value, with the location of the string that holds it and its offset there.
    func expressions(at location: String) -> [(Expr, String, Int)] {
        switch self {
        case .literal: return []
        case .expr(let e): return [(e, location, 2)]
        case .text(let parts):
            return parts.compactMap { if case .expr(let e, let off) = $0 { return (e, location, off) } else { return nil } }
        case .array(let a): return a.enumerated().flatMap { $1.expressions(at: "\(location)[\($0)]") }
        case .object(let o): return o.flatMap { $1.expressions(at: "\(location).\($0)") }
        }
    }

    func resolve(_ context: JSON, location: String) throws(FerryError) -> JSON {
        switch self {
        case .literal(let j): return j
        case .expr(let e): return try e.evaluate(context, location: location)
        case .text(let parts):
            var s = ""
            for p in parts {
                switch p {
                case .text(let t): s += t
                case .expr(let e, _):
                    switch try e.evaluate(context, location: location) {
                    case .null: break
                    case .string(let t): s += t
                    case let v: s += v.serialized()
                    }
                }
            }
            return .string(s)
        case .array(let a):
            var out: [JSON] = []
            for (i, v) in a.enumerated() { out.append(try v.resolve(context, location: "\(location)[\(i)]")) }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for (k, v) in o { out[k] = try v.resolve(context, location: "\(location).\(k)") }
            return .object(out)
        }
    }
}

enum TemplatePart: Sendable {
    case text(String)
    /// An expression and its 1-based column within the string (for error positions).
    case expr(Expr, Int)
}

struct TemplateError: Error { var location: String; var message: String; var column: Int? }

enum TemplateCompiler {
    static func compile(_ v: JSON, location: String) throws(TemplateError) -> TemplateValue {
        switch v {
        case .string(let s): return try compileString(s, location: location)
        case .array(let a):
            var out: [TemplateValue] = []
            for (i, x) in a.enumerated() { out.append(try compile(x, location: "\(location)[\(i)]")) }
            return out.allSatisfy(\.isStatic) ? .literal(v) : .array(out)
        case .object(let o):
            var out: [(String, TemplateValue)] = []
            for (k, x) in o { out.append((k, try compile(x, location: "\(location).\(k)"))) }
            return out.allSatisfy({ $0.1.isStatic }) ? .literal(v) : .object(out)
        default: return .literal(v)
        }
    }

    static func compileString(_ s: String, location: String) throws(TemplateError) -> TemplateValue {
        let c = Array(s.unicodeScalars)
        guard s.contains("${") else { return .literal(.string(s)) }
        var parts: [TemplatePart] = []
        var text = ""
        var i = 0
        while i < c.count {
            if c[i] == "$", i + 2 < c.count, c[i + 1] == "$", c[i + 2] == "{" {
                text += "${"; i += 3; continue
            }
            if c[i] == "$", i + 1 < c.count, c[i + 1] == "{" {
                let start = i + 2
                guard let end = matchingBrace(c, from: start) else {
                    throw TemplateError(location: location, message: "unterminated template '${' (missing '}')", column: i + 1)
                }
                var src = ""
                src.unicodeScalars.append(contentsOf: c[start..<end])
                let trimmed = src.trimmingWhitespace()
                guard !trimmed.isEmpty else { throw TemplateError(location: location, message: "empty template '${}'", column: i + 1) }
                let lead = src.unicodeScalars.prefix { $0 == " " || $0 == "\t" || $0 == "\n" }.count
                let col0 = start + lead  // 0-based index of the expression's first character
                let e: Expr
                do { e = try Expr(trimmed) } catch {
                    throw TemplateError(location: location, message: "syntax error at column \(col0 + error.column): \(error.message)",
                                        column: col0 + error.column)
                }
                if !text.isEmpty { parts.append(.text(text)); text = "" }
                parts.append(.expr(e, col0 + 1))
                i = end + 1
                continue
            }
            text.unicodeScalars.append(c[i]); i += 1
        }
        if !text.isEmpty { parts.append(.text(text)) }
        if parts.count == 1, case .expr(let e, _) = parts[0] { return .expr(e) }
        if parts.allSatisfy({ if case .text = $0 { return true } else { return false } }) {
            return .literal(.string(parts.map { if case .text(let t) = $0 { return t } else { return "" } }.joined()))
        }
        return .text(parts)
    }

    /// Index of the `}` closing a template that starts at `from`, skipping braces inside quoted strings,
    /// raw strings and JSON literals of the expression.
    static func matchingBrace(_ c: [Unicode.Scalar], from: Int) -> Int? {
        var depth = 0
        var i = from
        while i < c.count {
            let ch = c[i]
            if ch == "'" || ch == "\"" || ch == "`" {
                i += 1
                while i < c.count, c[i] != ch { if c[i] == "\\" { i += 1 }; i += 1 }
                i += 1
                continue
            }
            if ch == "{" { depth += 1 }
            if ch == "}" { if depth == 0 { return i }; depth -= 1 }
            i += 1
        }
        return nil
    }
}

/// Finds references like `steps.create`, `inputs.region`, `vars.x` in an expression's text (outside literals),
/// so validation can report `unknown reference steps.crate` before a run starts.
enum ReferenceScanner {
    struct Ref: Equatable { var root: String; var name: String }

    static func scan(_ source: String) -> [Ref] {
        let c = Array(source.unicodeScalars)
        var refs: [Ref] = []
        var i = 0
        func isIdent(_ u: Unicode.Scalar) -> Bool {
            u == "_" || ("a"..."z").contains(u) || ("A"..."Z").contains(u) || ("0"..."9").contains(u)
        }
        while i < c.count {
            let ch = c[i]
            if ch == "'" || ch == "`" {
                i += 1
                while i < c.count, c[i] != ch { if c[i] == "\\" { i += 1 }; i += 1 }
                i += 1
                continue
            }
            if isIdent(ch) || ch == "\"" {
                // Read one identifier (maybe quoted).
                let startIdx = i
                var word = ""
                if ch == "\"" {
                    i += 1
                    while i < c.count, c[i] != "\"" { if c[i] == "\\" { i += 1 }; if i < c.count { word.unicodeScalars.append(c[i]) }; i += 1 }
                    i += 1
                } else {
                    while i < c.count, isIdent(c[i]) { word.unicodeScalars.append(c[i]); i += 1 }
                }
                // Previous non-space character must not be '.' (then it's a sub-field, not a root).
                var p = startIdx - 1
                while p >= 0, c[p] == " " { p -= 1 }
                let isRoot = p < 0 || c[p] != "."
                guard isRoot, ["steps", "inputs", "vars"].contains(word) else { continue }
                var j = i
                while j < c.count, c[j] == " " { j += 1 }
                guard j < c.count, c[j] == "." else { continue }
                j += 1
                while j < c.count, c[j] == " " { j += 1 }
                var name = ""
                if j < c.count, c[j] == "\"" {
                    j += 1
                    while j < c.count, c[j] != "\"" { name.unicodeScalars.append(c[j]); j += 1 }
                } else {
                    while j < c.count, isIdent(c[j]) { name.unicodeScalars.append(c[j]); j += 1 }
                }
                if !name.isEmpty { refs.append(Ref(root: word, name: name)) }
                continue
            }
            i += 1
        }
        return refs
    }
}
