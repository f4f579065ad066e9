import NIOCore
import NIOPosix
import Synchronization

/// A Swift `TaskExecutor` that runs a task's jobs on one NIO event loop.
///
/// Why: a provider call crosses between the Swift cooperative pool and the event loop that owns the connection
/// several times (request hand-off, response head, body, deadline timer, AsyncHTTPClient's cancel actor). On a
/// small VM each cross-thread wake-up costs tens of µs, more than the rest of the call. With the call's task
/// preferring the loop's executor, all of those continuations resume on the loop thread itself (an in-loop
/// `execute` wakes nobody).
///
/// Work run here must never block: it delays every connection on that loop.
public final class LoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// One executor per loop of the event loop group the HTTP clients use.
final class LoopExecutors: Sendable {
    let group: MultiThreadedEventLoopGroup
    let executors: [LoopTaskExecutor]
    private let next = Atomic<Int>(0)

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
        var all: [LoopTaskExecutor] = []
        for loop in group.makeIterator() { all.append(LoopTaskExecutor(loop)) }
        executors = all
    }

    /// The executor of the loop this thread runs, if it is one of ours.
    func current() -> LoopTaskExecutor? {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        for e in executors where e.loop === loop { return e }
        return nil
    }

    /// Round robin over the loops (spreads concurrent callers and so their connections).
    func pick() -> LoopTaskExecutor {
        let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return executors[(i & Int.max) % executors.count]
    }
}
