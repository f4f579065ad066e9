import FerryCore
import Synchronization

/// Keeps the leases of a manager's in-flight calls alive with ONE task per manager instead of a task and a
/// timer per call (creating, arming and cancelling those was a measurable part of a call step's cost). Every
/// `lease / 3` the task renews the lease of each call registered at that moment, so a call's lease is renewed
/// at most `lease / 3` after it starts and then every `lease / 3`, as the per-call heartbeat did. The task ends
/// at the first tick with no call in flight and is started again by the next call.
final class LeaseKeeper: Sendable {
    private struct Call { let runID: String; let owner: String }
    private struct State {
        var calls: [Int: Call] = [:]
        var nextID = 0
        var running = false
        var closed = false
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())
    private let store: RunStore
    private let clock: RuntimeClock
    private let lease: Double

    init(store: RunStore, clock: RuntimeClock, lease: Double) {
        self.store = store
        self.clock = clock
        self.lease = lease
    }

    /// Registers a call about to be sent; pass the result to `end` when it has returned.
    func begin(runID: String, owner: String) -> Int {
        state.withLock { s in
            s.nextID += 1
            s.calls[s.nextID] = Call(runID: runID, owner: owner)
            if !s.running && !s.closed {
                s.running = true
                s.task = Task.detached { await self.loop() }
            }
            return s.nextID
        }
    }

    func end(_ id: Int) {
        state.withLock { _ = $0.calls.removeValue(forKey: id) }
    }

    func close() {
        let t = state.withLock { s -> Task<Void, Never>? in
            s.closed = true
            return s.task
        }
        t?.cancel()
    }

    private func loop() async {
        while true {
            try? await clock.sleepForTimeout(until: clock.now() + lease / 3)
            let calls: [Call]? = state.withLock { s in
                if s.closed || s.calls.isEmpty {
                    s.running = false
                    s.task = nil
                    return nil
                }
                return Array(s.calls.values)
            }
            guard let calls else { return }
            // Renewed concurrently so they share the store's group commits: one after another, 1,000 calls in
            // flight at 10 ms per fsync would take 10 s, and late leases could expire under a running call.
            let until = clock.now() + lease
            let store = store
            await withTaskGroup(of: Void.self) { g in
                for c in calls { g.addTask { _ = try? await store.renewLease(c.runID, owner: c.owner, until: until) } }
            }
        }
    }
}
