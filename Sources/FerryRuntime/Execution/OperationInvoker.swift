import FerryCore
import FerryJSON

/// How safe it is to send an operation again when we do not know whether an earlier send took effect.
public enum OperationIdempotency: String, Sendable, Equatable {
    /// No side effect: always safe to repeat.
    case read
    /// A write whose repetition has the same effect as one send (update, delete, stop): safe to repeat.
    case idempotentWrite = "idempotent_write"
    /// A write that may act twice (create): never re-sent blindly; reconciled first.
    case nonIdempotentWrite = "non_idempotent_write"
}

/// How a run finds out whether an interrupted non-idempotent call took effect (mirrors the catalog's
/// reconcile spec). Paths are JMESPath expressions (dotted paths are valid JMESPath).
public struct ReconciliationHint: Sendable {
    public enum Strategy: String, Sendable {
        /// The call creates something: look for it in a list by the fields the run gave it (0 = resend,
        /// 1 = adopt it, more = ask an operator).
        case findByName = "find_by_name"
        /// The call changes something's state: find the item and read its state (a "not done" value = resend,
        /// another value = the call took effect).
        case checkState = "check_state"
    }
    public enum Source: Sendable {
        /// Copy the named parameter of the original call.
        case param(String)
        /// A fixed value.
        case value(JSON)
    }

    public var strategy: Strategy
    /// A read operation listing or showing the affected resources.
    public var listOperation: String
    public var listParams: [(String, Source)]
    /// Path of the item array in the lookup response; nil = the response itself is the one item.
    public var items: String?
    /// An item matches when every `field` (path in the item) equals the original call's `param`.
    public var match: [(field: String, param: String)]
    /// Item field holding the resource's id, and where the original call's response carried it, so an adopted
    /// item can stand in for the lost response (`steps.<id>.output.<responseIDField>` keeps working).
    public var idField: String?
    public var responseIDField: String?
    /// For `checkState`: the item field to read and the values meaning "the call has NOT taken effect".
    public var stateField: String?
    public var notDoneValues: [String]

    public init(strategy: Strategy = .findByName, listOperation: String, listParams: [(String, Source)] = [],
                items: String?, match: [(field: String, param: String)], idField: String? = nil,
                responseIDField: String? = nil, stateField: String? = nil, notDoneValues: [String] = []) {
        self.strategy = strategy
        self.listOperation = listOperation
        self.listParams = listParams
        self.items = items
        self.match = match
        self.idField = idField
        self.responseIDField = responseIDField
        self.stateField = stateField
        self.notDoneValues = notDoneValues
    }
}

/// What the runtime needs from the provider layer. The Engine supplies one backed by the catalog and the
/// ProviderClient; tests use a fake.
public protocol OperationInvoker: Sendable {
    /// Sends one request and returns the response body (or throws a FerryError with a stable code:
    /// throttled / unavailable / timeout are retryable by default).
    func invoke(_ operation: String, params: JSON) async throws(FerryError) -> JSON
    /// The operation's idempotency class, or nil when the operation is unknown.
    func idempotency(of operation: String) -> OperationIdempotency?
    /// For non-idempotent writes: how to look for what an interrupted send may have made.
    func reconciliation(for operation: String) -> ReconciliationHint?
    /// Checks params against the operation's schema (used at validation time for fully static params).
    func validate(_ operation: String, params: JSON) throws(FerryError)
    /// For deletes: a not-found answer to a repeated attempt means an earlier attempt succeeded.
    func notFoundMeansDone(_ operation: String) -> Bool
}

extension OperationInvoker {
    public func reconciliation(for operation: String) -> ReconciliationHint? { nil }
    public func validate(_ operation: String, params: JSON) throws(FerryError) {}
    public func notFoundMeansDone(_ operation: String) -> Bool { false }
}
