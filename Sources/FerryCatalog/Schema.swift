import FerryCore
import FerryJSON

/// Whether repeating a call is safe; drives the runtime's retry and reconcile policy.
public enum Idempotency: String, Sendable, CaseIterable {
    /// No side effects.
    case read
    /// Repeating it leaves the same state (it may report an error such as not-found the second time).
    case idempotentWrite = "idempotent_write"
    /// Repeating it may act twice; after an unknown outcome, reconcile instead of retrying.
    case nonIdempotentWrite = "non_idempotent_write"
}

/// How the SDK builds the request: Alibaba ROA, Alibaba RPC (on the ACS3 path), or Huawei.
public enum APIStyle: String, Sendable {
    case roa, rpc, huawei
}

public enum ParamLocation: String, Sendable {
    case path, query, body, header
}

/// The JSON shape of a value.
public indirect enum ValueSchema: Sendable {
    case string(enumValues: [String]? = nil)
    case integer(minimum: Int64? = nil, maximum: Int64? = nil)
    case boolean
    /// Free-form: any JSON value is passed through (SDK field typed `Any`/`object`).
    case any
    case array(ValueSchema)
    /// An object with known fields, serialized in this order (the SDK model's declaration order).
    case object([FieldSpec])
    /// An object used as a map: any key, each value of this schema.
    case map(ValueSchema)
    /// Any one of these (e.g. a task id the list operation returns as an integer and the update takes as a string).
    case union([ValueSchema])

    public static let string = ValueSchema.string(enumValues: nil)
    public static let integer = ValueSchema.integer(minimum: nil, maximum: nil)

    var typeName: String {
        switch self {
        case .string: return "string"
        case .integer: return "integer"
        case .boolean: return "boolean"
        case .any: return "any"
        case .array: return "array"
        case .object, .map: return "object"
        case .union(let a): return a.map(\.typeName).joined(separator: "|")
        }
    }

    /// JSON-Schema-like description for `ferry ops NAME`.
    public var json: JSON {
        var o = JSONObject()
        switch self {
        case .string(let e):
            o["type"] = "string"
            if let e { o["enum"] = .array(e.map { .string($0) }) }
        case .integer(let lo, let hi):
            o["type"] = "integer"
            if let lo { o["minimum"] = .int(lo) }
            if let hi { o["maximum"] = .int(hi) }
        case .boolean: o["type"] = "boolean"
        case .any: o["type"] = "any"
        case .array(let item):
            o["type"] = "array"
            o["items"] = item.json
        case .object(let fields):
            o["type"] = "object"
            o["fields"] = .array(fields.map(\.json))
        case .map(let v):
            o["type"] = "object"
            o["values"] = v.json
        case .union(let alts):
            o["type"] = .array(alts.map { .string($0.typeName) })
            for a in alts {
                if case .string(let e?) = a { o["enum"] = .array(e.map { .string($0) }) }
            }
        }
        return .object(o)
    }
}

/// A field of a nested object.
public struct FieldSpec: Sendable {
    public let name: String
    public let schema: ValueSchema
    public let required: Bool
    public let secret: Bool
    public let description: String

    public init(_ name: String, _ schema: ValueSchema, required: Bool = false, secret: Bool = false, _ description: String = "") {
        self.name = name
        self.schema = schema
        self.required = required
        self.secret = secret
        self.description = description
    }

    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        for (k, v) in schema.json.objectValue ?? [:] { o[k] = v }
        o["required"] = .bool(required)
        if secret { o["secret"] = true }
        if !description.isEmpty { o["description"] = .string(description) }
        return .object(o)
    }
}

/// One request parameter, keyed by its wire name.
public struct ParameterSpec: Sendable {
    public let name: String
    public let location: ParamLocation
    public let schema: ValueSchema
    public let required: Bool
    public let secret: Bool
    public let description: String
    /// Filled from the credentials (Huawei `project_id`) when the caller does not give it.
    public let fromCredentials: Bool
    /// Required only when another parameter has this value (DMS: `topic_config_table` when `type` is `rocketmq`).
    public let requiredWhen: (parameter: String, value: String)?

    public init(_ name: String, _ location: ParamLocation, _ schema: ValueSchema, required: Bool = false,
                secret: Bool = false, fromCredentials: Bool = false,
                requiredWhen: (parameter: String, value: String)? = nil, _ description: String = "") {
        self.name = name
        self.requiredWhen = requiredWhen
        self.location = location
        self.schema = schema
        self.required = required
        self.secret = secret
        self.description = description
        self.fromCredentials = fromCredentials
    }

    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o["in"] = .string(location.rawValue)
        for (k, v) in schema.json.objectValue ?? [:] { o[k] = v }
        o["required"] = .bool(required)
        if let requiredWhen { o["required_when"] = [requiredWhen.parameter: .string(requiredWhen.value)] }
        if fromCredentials { o["default"] = "from credentials (huawei project_id)" }
        if secret { o["secret"] = true }
        if !description.isEmpty { o["description"] = .string(description) }
        return .object(o)
    }
}

/// How a run can find out whether a non-idempotent call took effect when its outcome is unknown
/// (timeout, connection reset): which operation to call, with which parameters, and which item means "done".
public struct ReconcileSpec: Sendable {
    public enum Source: Sendable {
        /// Copy the named parameter of the original call.
        case param(String)
        /// A fixed value.
        case value(JSON)
    }

    /// `find_by_name`: the created resource is in a list; `check_state`: a field of one item shows the effect.
    public let strategy: String
    public let operation: String
    public let params: [(String, Source)]
    /// Dotted path (JMESPath-compatible) of the array of items in the reconcile response; nil = the response itself.
    public let listPath: String?
    /// Item field -> original parameter: an item matches when every listed field equals the parameter's value.
    public let match: [(field: String, param: String)]
    /// Item field holding the resource's id.
    public let idField: String?
    /// Field in the original call's response holding the created resource's id.
    public let responseIDField: String?
    /// For `check_state`: the item field to read and the values meaning the call has NOT taken effect yet.
    public let stateField: String?
    public let notDoneValues: [String]
    public let note: String

    public init(strategy: String = "find_by_name", operation: String, params: [(String, Source)], listPath: String?,
                match: [(field: String, param: String)], idField: String?, responseIDField: String?,
                stateField: String? = nil, notDoneValues: [String] = [], note: String = "") {
        self.strategy = strategy
        self.operation = operation
        self.params = params
        self.listPath = listPath
        self.match = match
        self.idField = idField
        self.responseIDField = responseIDField
        self.stateField = stateField
        self.notDoneValues = notDoneValues
        self.note = note
    }

    public var json: JSON {
        var o = JSONObject()
        o["strategy"] = .string(strategy)
        o["operation"] = .string(operation)
        var p = JSONObject()
        for (k, s) in params {
            switch s {
            case .param(let n): p[k] = ["from_param": .string(n)]
            case .value(let v): p[k] = ["value": v]
            }
        }
        o["params"] = .object(p)
        o["list"] = listPath.map { .string($0) } ?? .null
        var m = JSONObject()
        for (f, prm) in match { m[f] = .string(prm) }
        o["match"] = .object(m)
        o["id_field"] = idField.map { .string($0) } ?? .null
        o["response_id_field"] = responseIDField.map { .string($0) } ?? .null
        if let stateField {
            o["state_field"] = .string(stateField)
            o["not_done_values"] = .array(notDoneValues.map { .string($0) })
        }
        if !note.isEmpty { o["note"] = .string(note) }
        return .object(o)
    }
}

/// One catalog operation: everything needed to build, sign and interpret the call.
public struct OperationSpec: Sendable {
    public let name: String
    public let provider: String
    public let service: String
    public let action: String
    public let style: APIStyle
    public let version: String
    /// Endpoint product id (`rocketmq`, `mse`, `dms`, `dcs`).
    public let product: String
    public let method: String
    /// Path template with `{param}` placeholders (`/` for RPC).
    public let pathTemplate: String
    /// `Content-Type` sent (nil = none).
    public let contentType: String?
    /// Alibaba ROA JSON operations send `{}` even when no body parameter is given.
    public let alwaysSendBody: Bool
    public let parameters: [ParameterSpec]
    public let idempotency: Idempotency
    /// Dotted paths (`[]` marks array items) of response fields that hold secrets.
    public let secretResponseFields: [String]
    public let reconcile: ReconcileSpec?
    /// For deletes: a not-found on a retry means the earlier attempt succeeded.
    public let notFoundMeansDone: Bool
    /// Where the 2xx body reports failure (`success` / `Success`), if it does.
    public let successField: String?
    public let summary: String

    public init(name: String, style: APIStyle, version: String, product: String, method: String, path: String,
                contentType: String?, alwaysSendBody: Bool = false, parameters: [ParameterSpec],
                idempotency: Idempotency, secretResponseFields: [String] = [], reconcile: ReconcileSpec? = nil,
                notFoundMeansDone: Bool = false, successField: String? = nil, summary: String) {
        self.name = name
        let parts = name.split(separator: ".").map(String.init)
        provider = parts.first ?? ""
        service = parts.count > 1 ? parts[1] : ""
        action = parts.last ?? ""
        self.style = style
        self.version = version
        self.product = product
        self.method = method
        pathTemplate = path
        self.contentType = contentType
        self.alwaysSendBody = alwaysSendBody
        self.parameters = parameters
        self.idempotency = idempotency
        self.secretResponseFields = secretResponseFields
        self.reconcile = reconcile
        self.notFoundMeansDone = notFoundMeansDone
        self.successField = successField
        self.summary = summary
    }

    /// `provider.service` (the key of `endpoints` in the engine config).
    public var serviceKey: String { provider + "." + service }

    public func parameter(_ name: String) -> ParameterSpec? { parameters.first { $0.name == name } }

    /// Paths of request parameters (and nested fields) that hold secrets, e.g. `source_instance.password`.
    public var secretParameterPaths: [String] {
        var out: [String] = []
        func walk(_ s: ValueSchema, _ prefix: String) {
            switch s {
            case .object(let fields):
                for f in fields {
                    if f.secret { out.append(prefix + "." + f.name) } else { walk(f.schema, prefix + "." + f.name) }
                }
            case .array(let i): walk(i, prefix + "[]")
            case .map(let v): walk(v, prefix + ".*")
            default: break
            }
        }
        for p in parameters {
            if p.secret { out.append(p.name) } else { walk(p.schema, p.name) }
        }
        return out
    }

    /// The full entry, as `ferry ops NAME` prints it.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o["provider"] = .string(provider)
        o["service"] = .string(service)
        o["action"] = .string(action)
        o["summary"] = .string(summary)
        o["api"] = ["style": .string(style.rawValue), "version": .string(version), "product": .string(product)]
        o["method"] = .string(method)
        o["path"] = .string(pathTemplate)
        o["content_type"] = contentType.map { .string($0) } ?? .null
        o["body"] = .string(parameters.contains { $0.location == .body } || alwaysSendBody ? "json" : "none")
        o["parameters"] = .array(parameters.map(\.json))
        o["idempotency"] = .string(idempotency.rawValue)
        o["secret_parameters"] = .array(secretParameterPaths.map { .string($0) })
        o["secret_response_fields"] = .array(secretResponseFields.map { .string($0) })
        o["reconcile"] = reconcile?.json ?? .null
        o["not_found_means_done"] = .bool(notFoundMeansDone)
        o["success_field"] = successField.map { .string($0) } ?? .null
        return .object(o)
    }

    /// One line of `ferry ops`.
    public var summaryJSON: JSON {
        [
            "name": .string(name), "provider": .string(provider), "service": .string(service), "action": .string(action),
            "method": .string(method), "path": .string(pathTemplate), "idempotency": .string(idempotency.rawValue),
            "summary": .string(summary),
        ]
    }
}
