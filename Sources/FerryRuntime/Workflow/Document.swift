import FerryCore
import FerryJSON

/// Retry policy of a step: exponential backoff with optional full jitter, for the listed error codes.
struct RetryPolicy: Sendable, Equatable {
    var maxAttempts = 3
    var interval = 1.0
    var backoffRate = 2.0
    var maxInterval = 30.0
    var jitter = true
    var errors: Set<String> = ["throttled", "unavailable", "timeout"]

    /// Delay before attempt `n + 1` after `n` failed attempts (n >= 1). With full jitter: uniform in [0, cap).
    func delay(afterFailures n: Int, random: Double) -> Double {
        let exp = interval * pow(backoffRate, Double(max(0, n - 1)))
        let capped = min(maxInterval, exp.isFinite ? exp : maxInterval)
        return jitter ? capped * random : capped
    }

    func applies(to e: FerryError) -> Bool { errors.contains(e.code.name) }
}

func pow(_ b: Double, _ e: Double) -> Double {
    // Integral exponents only are needed here; avoids importing libm just for this.
    var r = 1.0
    var k = Int(e)
    var x = b
    while k > 0 { if k & 1 == 1 { r *= x }; x *= x; k >>= 1 }
    return r
}

struct InputSpec: Sendable {
    var name: String
    var type: String
    var defaultValue: JSON?
    var required: Bool
    var description: String?
    var secret: Bool
}

enum StepKind: Sendable {
    case call(operation: String, with: TemplateValue)
    case poll(operation: String, with: TemplateValue, interval: Double, backoff: Double, maxInterval: Double?,
              until: Expr, failIf: Expr?)
    case waitFor(Double)
    case waitUntil(TemplateValue)
    case assert(Expr, message: TemplateValue?)
    case gate(String)
    case set([(String, TemplateValue)])

    var name: String {
        switch self {
        case .call: return "call"
        case .poll: return "poll"
        case .waitFor, .waitUntil: return "wait"
        case .assert: return "assert"
        case .gate: return "gate"
        case .set: return "set"
        }
    }

    var operation: String? {
        switch self {
        case .call(let op, _), .poll(let op, _, _, _, _, _, _): return op
        default: return nil
        }
    }

    var params: TemplateValue? {
        switch self {
        case .call(_, let w), .poll(_, let w, _, _, _, _, _): return w
        default: return nil
        }
    }
}

struct StepSpec: Sendable {
    var id: String
    var location: String
    var kind: StepKind
    var condition: Expr?
    var retry: RetryPolicy
    var attemptTimeout: Double?
    var stepTimeout: Double?
    var description: String?
}

/// A validated workflow document (format `ferry: 1`).
struct WorkflowDocument: Sendable {
    static let formatVersion = 1
    var name: String
    var description: String?
    var inputs: [InputSpec]
    var steps: [StepSpec]
    var onFailure: [StepSpec]
    var outputs: TemplateValue?
    var raw: JSON

    var secretInputNames: [String] { inputs.filter(\.secret).map(\.name) }

    func step(_ id: String) -> StepSpec? { steps.first { $0.id == id } ?? onFailure.first { $0.id == id } }

    /// Checks supplied inputs against the declarations, fills defaults; returns (all inputs, secret inputs).
    func bindInputs(_ given: JSON) throws(FerryError) -> (JSONObject, JSONObject) {
        let g: JSONObject
        switch given {
        case .null: g = [:]
        case .object(let o): g = o
        default: throw FerryError.invalidArgument("inputs", "expected an object, got \(given.typeName)")
        }
        for k in g.keys where !inputs.contains(where: { $0.name == k }) {
            throw FerryError(.invalidArgument, "inputs.\(k): unknown input (declared: \(inputs.map(\.name).joined(separator: ", ")))",
                             details: ["field": .string("inputs.\(k)")])
        }
        var plain = JSONObject(), secret = JSONObject()
        for spec in inputs {
            let v: JSON
            if let x = g[spec.name], !x.isNull { v = x } else if let d = spec.defaultValue { v = d } else if spec.required {
                throw FerryError(.missingInput, "inputs.\(spec.name): required input is missing",
                                 details: ["field": .string("inputs.\(spec.name)"), "input": .string(spec.name)])
            } else { v = .null }
            if !v.isNull, !Self.matches(v, type: spec.type) {
                throw FerryError(.invalidArgument, "inputs.\(spec.name): expected \(spec.type), got \(v.typeName)",
                                 details: ["field": .string("inputs.\(spec.name)")])
            }
            if spec.secret { secret[spec.name] = v } else { plain[spec.name] = v }
        }
        return (plain, secret)
    }

    static let types: Set<String> = ["string", "number", "integer", "boolean", "object", "array", "any"]

    static func matches(_ v: JSON, type: String) -> Bool {
        switch type {
        case "string": return v.stringValue != nil
        case "number": return v.numberValue != nil
        case "integer": return v.numberValue?.isIntegral ?? false
        case "boolean": return v.boolValue != nil
        case "object": return v.objectValue != nil
        case "array": return v.arrayValue != nil
        default: return true
        }
    }
}

/// One validation problem, with the path of the offending field.
struct ValidationIssue: Sendable {
    var location: String
    var message: String
    var column: Int?
    var json: JSON {
        var o: JSONObject = ["location": .string(location), "message": .string(message)]
        if let c = column { o["column"] = .int(c) }
        return .object(o)
    }
    var text: String { "\(location): \(message)" }
}

/// Parses and validates a workflow document; collects every problem with its location.
struct WorkflowParser {
    var issues: [ValidationIssue] = []
    let invoker: OperationInvoker?

    init(invoker: OperationInvoker?) { self.invoker = invoker }

    static let topKeys: Set<String> = ["ferry", "name", "description", "inputs", "steps", "on_failure", "retry",
                                       "attempt_timeout", "outputs"]
    static let stepKinds = ["call", "poll", "wait", "assert", "gate", "set"]
    static let commonStepKeys: Set<String> = ["id", "description", "if", "retry", "timeout", "attempt_timeout"]
    static let kindKeys: [String: Set<String>] = [
        "call": ["with"],
        "poll": ["with", "interval", "backoff", "max_interval", "until", "fail_if"],
        "wait": [],
        "assert": ["message"],
        "gate": [],
        "set": [],
    ]
    static let retryKeys: Set<String> = ["max_attempts", "interval", "backoff_rate", "max_interval", "jitter", "errors"]

    mutating func issue(_ location: String, _ message: String, column: Int? = nil) {
        issues.append(ValidationIssue(location: location, message: message, column: column))
    }

    /// Parses `doc`; throws `invalid_workflow` listing every issue (message = the first one).
    static func parse(_ doc: JSON, invoker: OperationInvoker?) throws(FerryError) -> WorkflowDocument {
        var p = WorkflowParser(invoker: invoker)
        let result = p.parseDocument(doc)
        if let first = p.issues.first {
            let more = p.issues.count > 1 ? " (and \(p.issues.count - 1) more)" : ""
            throw FerryError(.invalidWorkflow, first.text + more, details: [
                "location": .string(first.location), "errors": .array(p.issues.map(\.json)),
            ])
        }
        guard let result else { throw FerryError(.invalidWorkflow, "workflow: invalid document") }
        return result
    }

    mutating func parseDocument(_ doc: JSON) -> WorkflowDocument? {
        guard case .object(let top) = doc else {
            issue("workflow", "expected an object, got \(doc.typeName)")
            return nil
        }
        for k in top.keys where !Self.topKeys.contains(k) { issue(k, "unknown field") }
        switch top["ferry"] {
        case nil: issue("ferry", "missing format version (expected \(WorkflowDocument.formatVersion))")
        case .some(let v) where v.intValue != WorkflowDocument.formatVersion:
            issue("ferry", "unsupported format version \(v.serialized()) (expected \(WorkflowDocument.formatVersion))")
        default: break
        }
        var name = "workflow"
        if let n = top["name"] {
            if let s = n.stringValue, !s.isEmpty { name = s } else { issue("name", "expected a non-empty string") }
        }
        let description = top["description"]?.stringValue

        // Inputs.
        var inputs: [InputSpec] = []
        if let iv = top["inputs"] {
            if case .object(let io) = iv {
                for (k, spec) in io { if let s = parseInput(k, spec) { inputs.append(s) } }
            } else { issue("inputs", "expected an object mapping input names to declarations") }
        }

        var defaultRetry = RetryPolicy()
        if let r = top["retry"] { defaultRetry = parseRetry(r, base: defaultRetry, at: "retry") }
        var defaultAttemptTimeout: Double?
        if let t = top["attempt_timeout"] { defaultAttemptTimeout = duration(t, at: "attempt_timeout") }

        var seen: [String: String] = [:]
        var steps: [StepSpec] = []
        var defined = Scope(inputs: Set(inputs.map(\.name)))
        for list in [top["steps"], top["on_failure"]] {
            for s in list?.arrayValue ?? [] { if let id = s["id"]?.stringValue { defined.later.insert(id) } }
        }
        switch top["steps"] {
        case .array(let a) where !a.isEmpty:
            for (i, s) in a.enumerated() {
                if let st = parseStep(s, at: "steps[\(i)]", retry: defaultRetry, attemptTimeout: defaultAttemptTimeout,
                                      seen: &seen, scope: &defined, compensation: false) { steps.append(st) }
            }
        case .array: issue("steps", "expected at least one step")
        case nil: issue("steps", "missing (expected an array of steps)")
        default: issue("steps", "expected an array of steps")
        }
        var onFailure: [StepSpec] = []
        if let f = top["on_failure"] {
            if case .array(let a) = f {
                for (i, s) in a.enumerated() {
                    if let st = parseStep(s, at: "on_failure[\(i)]", retry: defaultRetry,
                                          attemptTimeout: defaultAttemptTimeout, seen: &seen, scope: &defined,
                                          compensation: true) { onFailure.append(st) }
                }
            } else { issue("on_failure", "expected an array of steps") }
        }
        var outputs: TemplateValue?
        if let o = top["outputs"] {
            if case .object = o {
                outputs = template(o, at: "outputs", scope: defined, allowOutput: false)
            } else { issue("outputs", "expected an object") }
        }
        return WorkflowDocument(name: name, description: description, inputs: inputs, steps: steps,
                                onFailure: onFailure, outputs: outputs, raw: doc)
    }

    struct Scope {
        var inputs: Set<String>
        var steps: Set<String> = []
        var vars: Set<String> = []
        var later: Set<String> = []
    }

    mutating func parseInput(_ name: String, _ spec: JSON) -> InputSpec? {
        let at = "inputs.\(name)"
        guard isIdentifier(name) else { issue(at, "input names must be identifiers ([A-Za-z_][A-Za-z0-9_]*)"); return nil }
        guard case .object(let o) = spec else { issue(at, "expected an object (type, default, required, description, secret)"); return nil }
        for k in o.keys where !["type", "default", "required", "description", "secret"].contains(k) { issue("\(at).\(k)", "unknown field") }
        var type = "any"
        if let t = o["type"] {
            if let s = t.stringValue, WorkflowDocument.types.contains(s) { type = s } else {
                issue("\(at).type", "expected one of \(WorkflowDocument.types.sorted().joined(separator: ", "))")
            }
        }
        let required = o["required"]?.boolValue ?? (o["default"] == nil)
        if let r = o["required"], r.boolValue == nil { issue("\(at).required", "expected a boolean") }
        let secret = o["secret"]?.boolValue ?? false
        if let r = o["secret"], r.boolValue == nil { issue("\(at).secret", "expected a boolean") }
        // A forgotten `secret: true` would write a password into the store in clear, so a secret-like name must say.
        if o["secret"] == nil, Redaction.isSecretField(name) {
            issue(at, "the name looks like a secret: declare `secret: true` (kept in memory, never stored), "
                      + "or `secret: false` if it is not one")
        }
        if let d = o["default"], !d.isNull, !WorkflowDocument.matches(d, type: type) {
            issue("\(at).default", "expected \(type), got \(d.typeName)")
        }
        if secret, o["default"] != nil { issue("\(at).default", "a secret input cannot have a default (it would be stored in the definition)") }
        return InputSpec(name: name, type: type, defaultValue: o["default"], required: required,
                         description: o["description"]?.stringValue, secret: secret)
    }

    func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || ("a"..."z").contains(f) || ("A"..."Z").contains(f) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    mutating func duration(_ v: JSON, at: String) -> Double? {
        if let d = Durations.parse(v) { return d }
        issue(at, "invalid duration \(v.serialized()) (expected e.g. \"250ms\", \"30s\", \"5m\", \"1h\" or seconds; at most 100 years)")
        return nil
    }

    mutating func parseRetry(_ v: JSON, base: RetryPolicy, at: String) -> RetryPolicy {
        var r = base
        guard case .object(let o) = v else { issue(at, "expected an object"); return r }
        for k in o.keys where !Self.retryKeys.contains(k) { issue("\(at).\(k)", "unknown field") }
        if let m = o["max_attempts"] {
            if let n = m.intValue, n >= 1, n <= 1000 { r.maxAttempts = n } else { issue("\(at).max_attempts", "expected an integer from 1 to 1000") }
        }
        if let x = o["interval"], let d = duration(x, at: "\(at).interval") { r.interval = d }
        if let x = o["max_interval"], let d = duration(x, at: "\(at).max_interval") { r.maxInterval = d }
        if let x = o["backoff_rate"] {
            if let d = x.doubleValue, d >= 1, d <= 100 { r.backoffRate = d } else { issue("\(at).backoff_rate", "expected a number from 1 to 100") }
        }
        if let x = o["jitter"] {
            switch x {
            case .bool(let b): r.jitter = b
            case .string("full"): r.jitter = true
            case .string("none"): r.jitter = false
            default: issue("\(at).jitter", "expected \"full\", \"none\" or a boolean")
            }
        }
        if let x = o["errors"] {
            if case .array(let a) = x, a.allSatisfy({ $0.stringValue != nil }) {
                var set = Set<String>()
                for (i, e) in a.enumerated() {
                    let n = e.stringValue ?? ""
                    if n == "all" || ErrorCode.named(n) != nil { set.insert(n) } else { issue("\(at).errors[\(i)]", "unknown error code '\(n)'") }
                }
                if set.contains("all") { set = Set(ErrorCode.all.map(\.name)) }
                r.errors = set
            } else { issue("\(at).errors", "expected an array of error codes") }
        }
        return r
    }

    mutating func expression(_ v: JSON, at: String, scope: Scope, allowOutput: Bool) -> Expr? {
        guard let s = v.stringValue, !s.trimmingWhitespace().isEmpty else { issue(at, "expected an expression string"); return nil }
        // A condition may also be written as a single template.
        var src = s.trimmingWhitespace()
        var offset = s.unicodeScalars.prefix { $0 == " " }.count
        if src.hasPrefix("${"), src.hasSuffix("}"), let end = TemplateCompiler.matchingBrace(Array(src.unicodeScalars), from: 2),
           end == src.unicodeScalars.count - 1 {
            src = String(String.UnicodeScalarView(src.unicodeScalars.dropFirst(2).dropLast()))
            offset += 2
        }
        do {
            let e = try Expr(src)
            checkRefs(e.source, at: at, scope: scope, allowOutput: allowOutput)
            return e
        } catch {
            issue(at, "syntax error at column \(error.column + offset): \(error.message)", column: error.column + offset)
            return nil
        }
    }

    mutating func template(_ v: JSON, at: String, scope: Scope, allowOutput: Bool) -> TemplateValue? {
        do {
            let t = try TemplateCompiler.compile(v, location: at)
            for (e, loc, _) in t.expressions(at: at) { checkRefs(e.source, at: loc, scope: scope, allowOutput: allowOutput) }
            return t
        } catch {
            issue(error.location, error.message, column: error.column)
            return nil
        }
    }

    mutating func checkRefs(_ source: String, at: String, scope: Scope, allowOutput: Bool) {
        for r in ReferenceScanner.scan(source) {
            switch r.root {
            case "steps":
                if scope.steps.contains(r.name) { continue }
                if scope.later.contains(r.name) { issue(at, "reference steps.\(r.name) is to a step that has not run yet") } else { issue(at, "unknown reference steps.\(r.name)") }
            case "inputs":
                if !scope.inputs.contains(r.name) { issue(at, "unknown reference inputs.\(r.name)") }
            case "vars":
                if !scope.vars.contains(r.name) { issue(at, "unknown reference vars.\(r.name) (no earlier set step defines it)") }
            default: break
            }
        }
    }

    mutating func parseStep(_ v: JSON, at: String, retry: RetryPolicy, attemptTimeout: Double?,
                            seen: inout [String: String], scope: inout Scope, compensation: Bool) -> StepSpec? {
        guard case .object(let o) = v else { issue(at, "expected a step object"); return nil }
        var id = ""
        if let idv = o["id"] {
            if let s = idv.stringValue, isIdentifier(s) { id = s } else { issue("\(at).id", "expected an identifier ([A-Za-z_][A-Za-z0-9_-]*)") }
        } else { issue("\(at).id", "missing") }
        if !id.isEmpty {
            if let prev = seen[id] { issue("\(at).id", "duplicate step id '\(id)' (first used at \(prev))") } else { seen[id] = at }
        }
        let kinds = Self.stepKinds.filter { o[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first else {
            issue(at, kinds.isEmpty ? "missing step kind (one of: \(Self.stepKinds.joined(separator: ", ")))"
                                    : "a step has exactly one kind, found: \(kinds.joined(separator: ", "))")
            if !id.isEmpty { scope.steps.insert(id) }
            return nil
        }
        let allowed = Self.commonStepKeys.union(Self.kindKeys[kind] ?? []).union([kind])
        for k in o.keys where !allowed.contains(k) { issue("\(at).\(k)", "unknown field for a \(kind) step") }
        if compensation, kind == "gate" { issue("\(at).gate", "gates are not allowed in on_failure") }

        var cond: Expr?
        if let c = o["if"] {
            if case .bool(let b) = c { cond = try? Expr(b ? "`true`" : "`false`") } else {
                cond = expression(c, at: "\(at).if", scope: scope, allowOutput: false)
            }
        }
        var policy = retry
        if let r = o["retry"] { policy = parseRetry(r, base: retry, at: "\(at).retry") }
        var stepTimeout: Double?
        var attempt = attemptTimeout
        if let t = o["timeout"] {
            if case .object(let to) = t {
                for k in to.keys where k != "step" && k != "attempt" { issue("\(at).timeout.\(k)", "unknown field (expected step, attempt)") }
                if let s = to["step"] { stepTimeout = duration(s, at: "\(at).timeout.step") }
                if let a = to["attempt"] { attempt = duration(a, at: "\(at).timeout.attempt") }
            } else { stepTimeout = duration(t, at: "\(at).timeout") }
        }
        if let a = o["attempt_timeout"] { attempt = duration(a, at: "\(at).attempt_timeout") }

        var stepKind: StepKind?
        let body = o[kind] ?? .null
        switch kind {
        case "call", "poll":
            guard let op = body.stringValue, !op.isEmpty else { issue("\(at).\(kind)", "expected an operation name"); break }
            checkOperation(op, at: "\(at).\(kind)", poll: kind == "poll")
            let with = o["with"].map { v -> TemplateValue? in
                if v.objectValue == nil { issue("\(at).with", "expected an object of parameters"); return nil }
                return template(v, at: "\(at).with", scope: scope, allowOutput: false)
            } ?? .literal([:])
            if let w = with, w.isStatic, case .literal(let params) = w, let invoker {
                do { try invoker.validate(op, params: params) } catch { issue("\(at).with", error.message) }
            }
            if kind == "call" {
                stepKind = .call(operation: op, with: with ?? .literal([:]))
            } else {
                var interval = 10.0
                if let x = o["interval"], let d = duration(x, at: "\(at).interval") { interval = d }
                var backoff = 1.0
                if let x = o["backoff"] {
                    if let d = x.doubleValue, d >= 1, d <= 100 { backoff = d } else { issue("\(at).backoff", "expected a number from 1 to 100") }
                }
                var maxInterval: Double?
                if let x = o["max_interval"] { maxInterval = duration(x, at: "\(at).max_interval") }
                var pollScope = scope
                pollScope.steps.insert(id)
                guard let u = o["until"] else { issue("\(at).until", "missing (a poll needs a condition)"); break }
                let until = expression(u, at: "\(at).until", scope: pollScope, allowOutput: true)
                let failIf = o["fail_if"].flatMap { expression($0, at: "\(at).fail_if", scope: pollScope, allowOutput: true) }
                if let until {
                    stepKind = .poll(operation: op, with: with ?? .literal([:]), interval: interval, backoff: backoff,
                                     maxInterval: maxInterval, until: until, failIf: failIf)
                }
            }
        case "wait":
            if case .object(let wo) = body {
                for k in wo.keys where k != "for" && k != "until" { issue("\(at).wait.\(k)", "unknown field (expected for, until)") }
                if let f = wo["for"], wo["until"] == nil {
                    if let d = duration(f, at: "\(at).wait.for") { stepKind = .waitFor(d) }
                } else if let u = wo["until"], wo["for"] == nil {
                    if case .string(let s) = u, s.contains("${") {
                        if let t = template(u, at: "\(at).wait.until", scope: scope, allowOutput: false) { stepKind = .waitUntil(t) }
                    } else if Durations.parseTime(u) != nil {
                        stepKind = .waitUntil(.literal(u))
                    } else { issue("\(at).wait.until", "expected an RFC 3339 time, unix seconds, or a template") }
                } else { issue("\(at).wait", "expected exactly one of for, until") }
            } else if let d = duration(body, at: "\(at).wait") { stepKind = .waitFor(d) }
        case "assert":
            let msg = o["message"].flatMap { template($0, at: "\(at).message", scope: scope, allowOutput: false) }
            if let e = expression(body, at: "\(at).assert", scope: scope, allowOutput: false) { stepKind = .assert(e, message: msg) }
        case "gate":
            var signal: String?
            if let s = body.stringValue { signal = s } else if case .object(let go) = body {
                for k in go.keys where k != "signal" { issue("\(at).gate.\(k)", "unknown field (expected signal)") }
                signal = go["signal"]?.stringValue
            }
            if let s = signal, !s.isEmpty, !s.hasPrefix("ferry.") { stepKind = .gate(s) } else {
                issue("\(at).gate", "expected a signal name (names starting with 'ferry.' are reserved)")
            }
        case "set":
            guard case .object(let so) = body, !so.isEmpty else { issue("\(at).set", "expected a non-empty object of name: value"); break }
            var pairs: [(String, TemplateValue)] = []
            for (k, x) in so {
                if !isIdentifier(k) { issue("\(at).set.\(k)", "variable names must be identifiers") }
                if let t = template(x, at: "\(at).set.\(k)", scope: scope, allowOutput: false) { pairs.append((k, t)) }
            }
            for (k, _) in pairs { scope.vars.insert(k) }
            stepKind = .set(pairs)
        default: break
        }
        if !id.isEmpty { scope.steps.insert(id) }
        guard let stepKind, !id.isEmpty else { return nil }
        return StepSpec(id: id, location: at, kind: stepKind, condition: cond, retry: policy, attemptTimeout: attempt,
                        stepTimeout: stepTimeout, description: o["description"]?.stringValue)
    }

    mutating func checkOperation(_ op: String, at: String, poll: Bool) {
        guard let invoker else { return }
        guard let idem = invoker.idempotency(of: op) else { issue(at, "unknown operation '\(op)'"); return }
        if poll, idem == .nonIdempotentWrite { issue(at, "operation '\(op)' is a non-idempotent write and cannot be polled") }
    }
}
