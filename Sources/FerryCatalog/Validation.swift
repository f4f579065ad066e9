import FerryCore
import FerryJSON

extension OperationSpec {
    /// Checks caller parameters (one object keyed by wire names) against the catalog: unknown names, missing
    /// required ones, JSON types, enums and ranges. Errors are `invalid_argument` naming the parameter path,
    /// e.g. `params.instance_id: required parameter missing`. Values are never echoed (they may be secrets).
    public func validate(_ params: JSON) throws(FerryError) {
        let object: JSONObject
        switch params {
        case .null: object = [:]
        case .object(let o): object = o
        default:
            throw FerryError.invalidArgument("params", "must be an object keyed by parameter name, got \(params.typeName)")
        }
        for key in object.keys where parameter(key) == nil {
            let known = parameters.map(\.name).joined(separator: ", ")
            throw FerryError(.invalidArgument, "params.\(key): unknown parameter for \(name) (accepted: \(known))",
                             details: ["field": .string("params.\(key)"), "operation": .string(name)])
        }
        for p in parameters {
            let path = "params.\(p.name)"
            guard let v = object[p.name], !v.isNull else {
                if p.required && !p.fromCredentials {
                    throw FerryError(.invalidArgument, "\(path): required parameter missing",
                                     details: ["field": .string(path), "operation": .string(name)])
                }
                if let (other, value) = p.requiredWhen, object[other]?.stringValue == value {
                    throw FerryError(.invalidArgument, "\(path): required when \(other) is \(value)",
                                     details: ["field": .string(path), "operation": .string(name)])
                }
                continue
            }
            try Self.check(v, p.schema, path)
            if p.location == .path, case .string(let s) = v, s.isEmpty {
                throw FerryError.invalidArgument(path, "path parameter must not be empty")
            }
        }
    }

    static func check(_ v: JSON, _ schema: ValueSchema, _ path: String) throws(FerryError) {
        if let problem = mismatch(v, schema, path) { throw problem }
    }

    /// nil when `v` fits `schema`; otherwise the error for the first problem found.
    static func mismatch(_ v: JSON, _ schema: ValueSchema, _ path: String) -> FerryError? {
        func typeError() -> FerryError {
            FerryError.invalidArgument(path, "must be \(article(schema.typeName)), got \(v.typeName)")
        }
        switch schema {
        case .any:
            return nil
        case .string(let e):
            guard case .string(let s) = v else { return typeError() }
            if let e, !e.contains(s) {
                return FerryError(.invalidArgument, "\(path): must be one of \(e.joined(separator: ", "))",
                                  details: ["field": .string(path), "allowed": .array(e.map { .string($0) })])
            }
            return nil
        case .integer(let lo, let hi):
            guard case .number(let n) = v, n.isIntegral else { return typeError() }
            guard let i = n.int64Value else { return FerryError.invalidArgument(path, "integer out of range") }
            if let lo, i < lo { return FerryError.invalidArgument(path, "must be >= \(lo)") }
            if let hi, i > hi { return FerryError.invalidArgument(path, "must be <= \(hi)") }
            return nil
        case .boolean:
            guard case .bool = v else { return typeError() }
            return nil
        case .array(let item):
            guard case .array(let a) = v else { return typeError() }
            for (i, e) in a.enumerated() {
                if e.isNull { return FerryError.invalidArgument("\(path)[\(i)]", "must not be null") }
                if let m = mismatch(e, item, "\(path)[\(i)]") { return m }
            }
            return nil
        case .map(let valueSchema):
            guard case .object(let o) = v else { return typeError() }
            for (k, e) in o where !e.isNull {
                if let m = mismatch(e, valueSchema, "\(path).\(k)") { return m }
            }
            return nil
        case .object(let fields):
            guard case .object(let o) = v else { return typeError() }
            for k in o.keys where !fields.contains(where: { $0.name == k }) {
                return FerryError.invalidArgument("\(path).\(k)",
                    "unknown field (accepted: \(fields.map(\.name).joined(separator: ", ")))")
            }
            for f in fields {
                guard let e = o[f.name], !e.isNull else {
                    if f.required { return FerryError.invalidArgument("\(path).\(f.name)", "required field missing") }
                    continue
                }
                if let m = mismatch(e, f.schema, "\(path).\(f.name)") { return m }
            }
            return nil
        case .union(let alts):
            var last: FerryError?
            for a in alts {
                guard let m = mismatch(v, a, path) else { return nil }
                last = m
            }
            // Prefer the enum/range message of an alternative of the right type over a bare type error.
            for a in alts where sameKind(v, a) { return mismatch(v, a, path) }
            return last.map { _ in typeError() }
        }
    }

    static func sameKind(_ v: JSON, _ s: ValueSchema) -> Bool {
        switch (v, s) {
        case (.string, .string), (.number, .integer), (.bool, .boolean), (.array, .array), (.object, .object),
             (.object, .map):
            return true
        default: return false
        }
    }

    static func article(_ t: String) -> String {
        if t.contains("|") { return t.replacingOccurrencesOfPipe() }
        return (t.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + t
    }
}

extension String {
    fileprivate func replacingOccurrencesOfPipe() -> String {
        split(separator: "|").joined(separator: " or ")
    }
}
