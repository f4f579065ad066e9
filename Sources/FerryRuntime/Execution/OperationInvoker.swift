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

/// How to find what a non-idempotent create may have made, by the name the run gave it.
/// All expressions are JMESPath.
public struct ReconciliationHint: Sendable, Equatable {
    /// A read operation listing the resources the create makes.
    public var listOperation: String
    /// Expression over the create's params giving the list call's params (e.g. `{instance_id: instance_id}`);
    /// nil sends `{}`.
    public var listParams: String?
    /// Expression over the create's params giving the name the run chose (e.g. `task_name`).
    public var nameFromParams: String
    /// Expression over the list response giving the array of candidate items (e.g. `migration_tasks`).
    public var items: String
    /// Expression over one item giving its name (e.g. `task_name`).
    public var itemName: String
    /// Expression over the found item giving what the create would have returned; nil uses the item itself.
    public var output: String?

    public init(listOperation: String, listParams: String? = nil, nameFromParams: String, items: String,
                itemName: String, output: String? = nil) {
        self.listOperation = listOperation
        self.listParams = listParams
        self.nameFromParams = nameFromParams
        self.items = items
        self.itemName = itemName
        self.output = output
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
}

extension OperationInvoker {
    public func reconciliation(for operation: String) -> ReconciliationHint? { nil }
    public func validate(_ operation: String, params: JSON) throws(FerryError) {}
}
