import FerryCore
import FerryJSON
import Synchronization
import XCTest
@testable import FerryRuntime

/// A scripted provider: per-operation handlers, call log, idempotency classes and reconciliation hints.
final class FakeInvoker: OperationInvoker, @unchecked Sendable {
    typealias Handler = @Sendable (_ params: JSON, _ n: Int) async throws(FerryError) -> JSON
    struct Call: Sendable { var op: String; var params: JSON }
    private let state = Mutex<(calls: [Call], handlers: [String: Handler])>(([], [:]))
    var idempotencies: [String: OperationIdempotency] = [
        "svc.Get": .read, "svc.Update": .idempotentWrite, "svc.Create": .nonIdempotentWrite, "svc.List": .read,
        "svc.Status": .read, "svc.Delete": .idempotentWrite, "svc.Hang": .read, "svc.CreateNoHint": .nonIdempotentWrite, "svc.Set": .nonIdempotentWrite, "svc.Stop": .idempotentWrite,
    ]
    var hints: [String: ReconciliationHint] = [
        "svc.Create": ReconciliationHint(listOperation: "svc.List", listParams: [("region", .param("region")), ("page", .value(1))],
                                         items: "items", match: [(field: "name", param: "name")], idField: "id", responseIDField: "id"),
        "svc.Stop": ReconciliationHint(strategy: .checkState, listOperation: "svc.Get", listParams: [("id", .param("id"))],
                                       items: nil, match: [(field: "id", param: "id")], stateField: "state", notDoneValues: ["RUNNING"]),
        "svc.Set": ReconciliationHint(strategy: .checkState, listOperation: "svc.Get", listParams: [("id", .param("id"))],
                                      items: nil, match: [(field: "id", param: "id")], stateField: "state", notDoneValues: ["PENDING"]),
    ]

    init(_ handlers: [String: Handler] = [:]) { state.withLock { $0.handlers = handlers } }

    func on(_ op: String, _ h: @escaping Handler) { state.withLock { $0.handlers[op] = h } }

    var calls: [Call] { state.withLock { $0.calls } }
    func count(_ op: String) -> Int { calls.filter { $0.op == op }.count }

    func invoke(_ operation: String, params: JSON) async throws(FerryError) -> JSON {
        let (n, h): (Int, Handler?) = state.withLock { s in
            s.calls.append(Call(op: operation, params: params))
            return (s.calls.filter { $0.op == operation }.count, s.handlers[operation])
        }
        guard let h else { return ["ok": true, "op": .string(operation), "params": params] }
        return try await h(params, n)
    }

    func idempotency(of operation: String) -> OperationIdempotency? { idempotencies[operation] }
    func reconciliation(for operation: String) -> ReconciliationHint? { hints[operation] }
    func notFoundMeansDone(_ operation: String) -> Bool { operation == "svc.Delete" }
}

func makeManager(_ invoker: FakeInvoker, clock: RuntimeClock, store: String = ":memory:",
                 random: RandomSource = SequenceRandom([0.5]), lease: Double = 60) throws -> RunManager {
    try RunManager(config: ["store": .string(store), "runtime": ["lease_seconds": .double(lease)]], invoker: invoker,
                   clock: clock, random: random)
}

/// Writes a store as Ferry wrote it before schema version 2 (no `version` / `event_seq` columns), with one
/// running run `old` whose workflow is `definition`.
func writeSchemaOneStore(_ path: String, definition: JSON = [:]) throws {
    let c = try SQLiteConnection(path: path, busyTimeoutMs: 1000)
    defer { c.close() }
    try c.exec("""
        CREATE TABLE ferry_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE runs(
          run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL,
          created_at REAL NOT NULL, updated_at REAL NOT NULL, wake_at REAL,
          definition TEXT NOT NULL, inputs TEXT NOT NULL, state TEXT NOT NULL,
          lease_owner TEXT, lease_until REAL);
        CREATE TABLE events(
          run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL, step_id TEXT,
          data TEXT NOT NULL, PRIMARY KEY(run_id, seq));
        INSERT INTO ferry_meta VALUES ('schema_version', '1');
        """)
    try c.run("INSERT INTO runs(run_id, workflow, status, created_at, updated_at, definition, inputs, state) VALUES (?,?,?,?,?,?,?,?)",
              [.text("old"), .text("old"), .text("running"), .real(1), .real(1), .text(definition.serialized()), .text("{}"),
               .text(#"{"phase":"main","cursor":0,"comp_cursor":0,"vars":{},"secret_inputs":[]}"#)])
}

func tempPath(_ name: String) -> String {
    let p = "/tmp/ferry-rt-test-\(name)-\(RunManager.randomHex(8)).db"
    return p
}

func doc(_ text: String) throws -> JSON { try WorkflowLoader.parse(text: text) }

func events(_ m: RunManager, _ id: String) throws -> [JSON] {
    try m.runHistory(id)["events"]?.arrayValue ?? []
}

func eventTypes(_ m: RunManager, _ id: String, step: String? = nil) throws -> [String] {
    try events(m, id).filter { step == nil || $0["step"]?.stringValue == step }.compactMap { $0["type"]?.stringValue }
}

func XCTAssertThrowsFerry<T>(_ code: ErrorCode, _ body: () async throws -> T, file: StaticString = #filePath,
                             line: UInt = #line, _ check: (FerryError) -> Void = { _ in }) async {
    do {
        _ = try await body()
        XCTFail("expected \(code.name)", file: file, line: line)
    } catch let e as FerryError {
        XCTAssertEqual(e.code, code, "\(e)", file: file, line: line)
        check(e)
    } catch {
        XCTFail("unexpected \(error)", file: file, line: line)
    }
}
