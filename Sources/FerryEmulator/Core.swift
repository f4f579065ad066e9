import FerryCore
import FerryJSON
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The transport-independent emulator: takes a request, returns a response (or a dropped connection).
/// The HTTP server and in-process callers (tests, benchmarks) both go through `handle`.
final class EmulatorCore: Sendable {
    let config: EmulatorConfig
    let keys: [EmulatorAccessKey]
    let state: Mutex<EmulatorState>
    /// Base URL once the server listens (for ready info and admin responses).
    let baseURL = Mutex<String?>(nil)
    private let persistLock = Mutex<Int>(0)
    let nonces: Mutex<NonceCache>

    init(config: EmulatorConfig) {
        self.config = config
        keys = config.effectiveKeys
        var s = EmulatorState(config: config)
        if let path = config.persistPath, let loaded = Self.load(path: path, config: config) {
            s = loaded
        }
        state = Mutex(s)
        nonces = Mutex(NonceCache(window: config.maxSkewSeconds * 2))
    }

    // MARK: request handling

    func handle(_ req: EmulatorRequest) async -> EmulatorResponse {
        let path = req.path
        if path == "/_ferry" || path.hasPrefix("/_ferry/") {
            return admin(req)
        }
        let host = req.header("host") ?? ""
        let route: Route
        switch Router.route(req) {
        case .success(let r): route = r
        case .failure(let f):
            let family = f.family ?? .hwDCS
            let rid = state.withLock { $0.requestId(family) }
            if f.family == nil {
                return EmulatorResponse(status: 404, headers: [], json: [
                    "error_code": .string(f.error.code), "error_msg": .string(f.error.message),
                ])
            }
            return family.render(f.error, requestId: rid, host: host)
        }
        let family = route.family
        let op = route.op
        let realNow = WallClock.now()

        // Authentication first: an unauthenticated call consumes no fault and changes nothing.
        var accessKeyId: String?
        var rid = ""
        var authError: ProviderError?
        if config.verifySignatures {
            let result: Result<String, ProviderError>
            if family.isAlibaba {
                result = Auth.alibaba(req, keys: keys, realNow: realNow, maxSkew: config.maxSkewSeconds) { nonce in
                    self.nonces.withLock { $0.seenBefore(nonce, now: realNow) }
                }
            } else {
                result = Auth.huawei(req, project: route.projectId, configuredProject: config.huaweiProjectID,
                                     keys: keys, realNow: realNow, maxSkew: config.maxSkewSeconds)
            }
            switch result {
            case .success(let id): accessKeyId = id
            case .failure(let e): authError = e
            }
        }
        let decision: FaultDecision
        (rid, decision) = state.withLock { s in
            (s.requestId(family), authError == nil ? s.faults.decide(op) : FaultDecision())
        }
        if let e = authError { return family.render(e, requestId: rid, host: host) }

        if decision.latencyMs > 0 {
            try? await Task.sleep(for: .milliseconds(decision.latencyMs))
        }
        if let f = decision.outcome {
            switch f.kind {
            case .reset:
                persistFaultCounters()
                return EmulatorResponse(drop: .reset)
            case .throttle:
                var e = family.isAlibaba ? Errors.aliThrottled() : Errors.hwThrottled()
                if let s = f.status { e.status = s }
                if family.isAlibaba { e.retryAfterMs = f.retryAfterMs }
                persistFaultCounters()
                return family.render(e, requestId: rid, host: host)
            case .serverError:
                let status = f.status ?? 503
                let e = family.isAlibaba ? Errors.aliServer(status) : Errors.hwServer(family, status)
                persistFaultCounters()
                return family.render(e, requestId: rid, host: host)
            default:
                break
            }
        }
        let lost = decision.outcome?.kind == .responseLost
        let ctxBase = OpContext(op: op, family: family, request: req, now: 0, requestId: rid,
                                pathParams: route.pathParams, query: req.query, projectId: route.projectId,
                                accessKeyId: accessKeyId, host: host, terminalFailure: decision.terminalFailure)
        let (response, changed): (EmulatorResponse, Bool) = state.withLock { s in
            let now = s.now
            s.settle(now)
            var ctx = ctxBase
            ctx.now = now
            do throws(ProviderError) {
                var r = try s.dispatch(route.action, ctx)
                if r.effect == nil, let tf = decision.terminalFailure {
                    // A terminal failure that fires on a read still dooms the resource the read names.
                    let delay = tf.afterSeconds ?? s.timings.failAfterS
                    let doomed = s.scheduleFailure(route, ctx, at: now + delay)
                    if !doomed.isEmpty { r.effect = ["failure_scheduled": .array(doomed.map { .string($0) })] }
                }
                if let effect = r.effect {
                    var eff = effect
                    if let tf = decision.terminalFailure { eff["terminal_failure_fault"] = .string(tf.id) }
                    s.record(op, requestId: rid, accessKeyId: accessKeyId, params: r.params, effect: eff,
                             outcome: lost ? "response_lost" : "ok")
                } else if lost {
                    // A read (or no-op) whose response is lost: still noted, so a test can see the fault fired.
                    s.record(op, requestId: rid, accessKeyId: accessKeyId, params: r.params, effect: .null,
                             outcome: "response_lost")
                }
                let changed = r.effect != nil || lost || !decision.fired.isEmpty
                return (family.success(r.body, requestId: rid, status: r.status), changed)
            } catch {
                return (family.render(error, requestId: rid, host: host), !decision.fired.isEmpty)
            }
        }
        // Snapshot only when something changed (a timed transition alone is recomputed from timestamps on load).
        if changed { persist() }
        if lost { return EmulatorResponse(drop: .close) }
        return response
    }

    // MARK: persistence

    struct Snapshot: Codable {
        var version = 1
        var virtualNow: Double
        var state: EmulatorState
    }

    static func load(path: String, config: EmulatorConfig) -> EmulatorState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard var snap = try? JSONDecoder().decode(Snapshot.self, from: data) else { return nil }
        snap.state.clock.reanchor(at: snap.virtualNow)
        snap.state.clock.scale = config.timeScale
        snap.state.timings = config.timings
        return snap.state
    }

    /// Writes a JSON snapshot (atomically: temp file + rename) when persistence is on.
    func persist() {
        guard let path = config.persistPath else { return }
        persistLock.withLock { _ in
            let data: Data? = state.withLock { s in
                try? JSONEncoder().encode(Snapshot(virtualNow: s.now, state: s))
            }
            guard let data else { return }
            let tmp = path + ".tmp"
            do {
                try data.write(to: URL(fileURLWithPath: tmp))
                _ = try? FileManager.default.removeItem(atPath: path)
                try FileManager.default.moveItem(atPath: tmp, toPath: path)
            } catch {
                // Persistence is best effort; the in-memory state stays authoritative.
            }
        }
    }

    func persistFaultCounters() { persist() }
}
