import FerryCore
import Synchronization

/// Wall time for the runtime. Every deadline and wake-up is an absolute wall time (unix seconds) so a run
/// resumed in another process keeps its schedule. Injectable so tests never sleep for real.
public protocol RuntimeClock: Sendable {
    func now() -> Double
    /// Suspends until `deadline` (wall seconds); throws CancellationError when the task is cancelled.
    func sleep(until deadline: Double) async throws
    /// Sleeps for a timeout racing an operation. Same as `sleep` for real clocks; a virtual clock never jumps
    /// forward on its own for these (so an operation that completes at once always beats its timeout).
    func sleepForTimeout(until deadline: Double) async throws
}

extension RuntimeClock {
    public func sleepForTimeout(until deadline: Double) async throws { try await sleep(until: deadline) }
}

/// The real clock.
public struct SystemClock: RuntimeClock {
    public init() {}
    public func now() -> Double { WallClock.now() }
    public func sleep(until deadline: Double) async throws {
        let d = deadline - WallClock.now()
        if d > 0 { try await Task.sleep(nanoseconds: UInt64(min(d, 86_400 * 365) * 1e9)) }
    }
}

/// A virtual clock for tests. With `autoAdvance`, `sleep` jumps the clock to the deadline at once; timeout
/// sleepers (`sleepForTimeout`) always wait until something moves the clock past their deadline (a test's
/// `advance`, or another task's auto-advancing sleep).
public final class ManualClock: RuntimeClock, @unchecked Sendable {
    private struct Waiter { let id: Int; let deadline: Double; let cont: CheckedContinuation<Void, Error> }
    private struct State { var now: Double; var waiters: [Waiter] = []; var nextID = 0; var cancelled: Set<Int> = [] }
    private let state: Mutex<State>
    public let autoAdvance: Bool

    public init(start: Double = 1_700_000_000, autoAdvance: Bool = false) {
        state = Mutex(State(now: start))
        self.autoAdvance = autoAdvance
    }

    public func now() -> Double { state.withLock { $0.now } }

    public var waiterCount: Int { state.withLock { $0.waiters.count } }

    public func set(_ t: Double) {
        let ready: [Waiter] = state.withLock { s in
            s.now = max(s.now, t)
            let r = s.waiters.filter { $0.deadline <= s.now }
            s.waiters.removeAll { $0.deadline <= s.now }
            return r
        }
        for w in ready { w.cont.resume() }
    }

    public func advance(by seconds: Double) { set(now() + seconds) }

    /// Waits (really, briefly) until at least `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int, timeout: Double = 10) async {
        let end = WallClock.monotonic() + timeout
        while waiterCount < count && WallClock.monotonic() < end { try? await Task.sleep(nanoseconds: 1_000_000) }
    }

    public func sleep(until deadline: Double) async throws {
        if autoAdvance {
            await Task.yield()
            try Task.checkCancellation()
            set(deadline)
            return
        }
        try await sleepForTimeout(until: deadline)
    }

    public func sleepForTimeout(until deadline: Double) async throws {
        if deadline <= now() { return }
        let id: Int = state.withLock { s in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                // 0 = wait, 1 = fire now, 2 = already cancelled (the handler ran before we registered).
                let action: Int = state.withLock { s in
                    if s.cancelled.remove(id) != nil { return 2 }
                    if deadline <= s.now { return 1 }
                    s.waiters.append(Waiter(id: id, deadline: deadline, cont: c))
                    return 0
                }
                if action == 1 { c.resume() }
                if action == 2 { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let w: Waiter? = state.withLock { s in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else {
                    s.cancelled.insert(id)
                    return nil
                }
                return s.waiters.remove(at: i)
            }
            w?.cont.resume(throwing: CancellationError())
        }
    }
}

/// Randomness for retry jitter; injectable for tests.
public protocol RandomSource: Sendable {
    /// A uniformly distributed value in [0, 1).
    func unit() -> Double
}

public struct SystemRandom: RandomSource {
    public init() {}
    public func unit() -> Double { Double.random(in: 0..<1) }
}

/// Returns the given values in turn (cycling); for tests.
public final class SequenceRandom: RandomSource, @unchecked Sendable {
    private let values: [Double]
    private let index = Mutex(0)
    public init(_ values: [Double]) { self.values = values.isEmpty ? [0.5] : values }
    public func unit() -> Double {
        index.withLock { i in
            let v = values[i % values.count]
            i += 1
            return v
        }
    }
}
