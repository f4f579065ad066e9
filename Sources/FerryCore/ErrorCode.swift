import FerryJSON

/// A stable error code: its name appears in every error JSON as `code`, its number is the C ABI status.
/// Numbers and names never change once released; new codes get new numbers. docs/errors.md lists them.
public struct ErrorCode: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let status: Int32
    /// Whether retrying the same request later can succeed (drives the runtime's default retry policy).
    public let retryable: Bool

    public var description: String { name }

    init(_ name: String, _ status: Int32, retryable: Bool = false) {
        self.name = name
        self.status = status
        self.retryable = retryable
    }

    // Generic (-1 ... -19)
    public static let invalidJSON = ErrorCode("invalid_json", -1)
    public static let invalidArgument = ErrorCode("invalid_argument", -2)
    public static let notFound = ErrorCode("not_found", -3)
    public static let closed = ErrorCode("closed", -4)
    public static let `internal` = ErrorCode("internal", -5)
    public static let tooLarge = ErrorCode("too_large", -6)
    public static let invalidUTF8 = ErrorCode("invalid_utf8", -7)
    public static let busy = ErrorCode("busy", -8, retryable: true)
    public static let timeout = ErrorCode("timeout", -9, retryable: true)
    public static let cancelled = ErrorCode("cancelled", -10)
    public static let unsupported = ErrorCode("unsupported", -11)
    // Expressions (-20 ... -29)
    public static let invalidExpression = ErrorCode("invalid_expression", -20)
    public static let expressionFailed = ErrorCode("expression_failed", -21)
    // Providers (-30 ... -49)
    public static let throttled = ErrorCode("throttled", -30, retryable: true)
    public static let unavailable = ErrorCode("unavailable", -31, retryable: true)
    public static let authFailed = ErrorCode("auth_failed", -32)
    public static let permissionDenied = ErrorCode("permission_denied", -33)
    public static let conflict = ErrorCode("conflict", -34)
    public static let providerError = ErrorCode("provider_error", -35)
    public static let missingCredentials = ErrorCode("missing_credentials", -36)
    // Workflows and runs (-50 ... -69)
    public static let invalidWorkflow = ErrorCode("invalid_workflow", -50)
    public static let runFailed = ErrorCode("run_failed", -51)
    public static let needsAttention = ErrorCode("needs_attention", -52)
    public static let missingInput = ErrorCode("missing_input", -53)
    public static let storeError = ErrorCode("store_error", -54)
    // Emulator (-70 ...)
    public static let emulatorError = ErrorCode("emulator_error", -70)

    public static let all: [ErrorCode] = [
        .invalidJSON, .invalidArgument, .notFound, .closed, .internal, .tooLarge, .invalidUTF8, .busy, .timeout,
        .cancelled, .unsupported, .invalidExpression, .expressionFailed, .throttled, .unavailable, .authFailed,
        .permissionDenied, .conflict, .providerError, .missingCredentials, .invalidWorkflow, .runFailed,
        .needsAttention, .missingInput, .storeError, .emulatorError,
    ]

    public static func named(_ name: String) -> ErrorCode? { all.first { $0.name == name } }
    public static func status(_ status: Int32) -> ErrorCode? { all.first { $0.status == status } }
}

/// The one error shape of Ferry: `{"code": "...", "message": "...", "details": {...}}`.
/// Messages and details must never carry secrets; build them from names and positions, not values.
public struct FerryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var details: JSONObject

    public init(_ code: ErrorCode, _ message: String, details: JSONObject = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var retryable: Bool { details["retryable"]?.boolValue ?? code.retryable }

    public var json: JSON {
        .object(["code": .string(code.name), "message": .string(message), "details": .object(details)])
    }

    public var description: String { "\(code.name): \(message)" }

    /// Rebuilds an error from its JSON shape (e.g. one stored in a run's history).
    public init?(json: JSON) {
        guard let name = json["code"]?.stringValue, let code = ErrorCode.named(name) else { return nil }
        self.init(code, json["message"]?.stringValue ?? "", details: json["details"]?.objectValue ?? [:])
    }

    public static func invalidArgument(_ field: String, _ message: String) -> FerryError {
        FerryError(.invalidArgument, "\(field): \(message)", details: ["field": .string(field)])
    }

    public static func `internal`(_ message: String) -> FerryError { FerryError(.internal, message) }
}

extension FerryError {
    /// Maps a JSON parse failure of the argument `field` to `invalid_json` (or `invalid_utf8`) with its position.
    public static func from(_ e: JSONParseError, field: String) -> FerryError {
        let code: ErrorCode = e.kind == .invalidUTF8 ? .invalidUTF8 : (e.kind == .tooDeep ? .tooLarge : .invalidJSON)
        return FerryError(code, "\(field): \(e.message) at line \(e.line), column \(e.column)", details: [
            "field": .string(field), "offset": .int(e.offset), "line": .int(e.line), "column": .int(e.column),
            "reason": .string(e.kind.rawValue),
        ])
    }
}
