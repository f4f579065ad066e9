import FerryCatalog
import FerryCore
import FerryJSON
import FerryProviders

/// The runtime's view of the providers: the catalog says what is safe to repeat and how to reconcile,
/// the ProviderClient sends. Secrets in responses stay masked inside runs (they would reach the store).
struct CatalogInvoker: OperationInvoker {
    let client: ProviderClient

    func invoke(_ operation: String, params: JSON) async throws(FerryError) -> JSON {
        try await client.call(operation, params: params).body
    }

    func idempotency(of operation: String) -> OperationIdempotency? {
        guard let op = Catalog.operation(operation) else { return nil }
        switch op.idempotency {
        case .read: return .read
        case .idempotentWrite: return .idempotentWrite
        case .nonIdempotentWrite: return .nonIdempotentWrite
        }
    }

    func reconciliation(for operation: String) -> ReconciliationHint? {
        guard let r = Catalog.operation(operation)?.reconcile else { return nil }
        return ReconciliationHint(
            strategy: r.strategy == "check_state" ? .checkState : .findByName,
            listOperation: r.operation,
            listParams: r.params.map { key, source in
                switch source {
                case .param(let name): return (key, .param(name))
                case .value(let v): return (key, .value(v))
                }
            },
            items: r.listPath, match: r.match, idField: r.idField, responseIDField: r.responseIDField,
            stateField: r.stateField, notDoneValues: r.notDoneValues)
    }

    func validate(_ operation: String, params: JSON) throws(FerryError) {
        guard let op = Catalog.operation(operation) else {
            throw FerryError(.notFound, "unknown operation '\(operation)' (see `ferry ops`)", details: ["operation": .string(operation)])
        }
        try op.validate(params)
    }

    func notFoundMeansDone(_ operation: String) -> Bool {
        Catalog.operation(operation)?.notFoundMeansDone ?? false
    }
}
