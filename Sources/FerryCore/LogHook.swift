import FerryJSON
import Logging
import Synchronization

/// Where Ferry's structured log records go: a host callback above a level, silent by default.
/// Each record is a JSON object `{"ts": unix-seconds, "level": "...", "logger": "...", "message": "...", "fields": {...}}`.
/// Field values are passed through `Redaction` and known secret values are scrubbed before the sink sees them.
public final class LogHook: Sendable {
    public typealias Sink = @Sendable (Logger.Level, JSON) -> Void

    private struct State {
        var sink: Sink?
        var level: Logger.Level = .critical
        var secrets: [String] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Installs (or with nil, removes) the sink receiving records at `level` and above.
    public func set(level: Logger.Level, sink: Sink?) {
        state.withLock { $0.sink = sink; $0.level = level }
    }

    /// Registers a secret value that must be scrubbed from any message that mentions it.
    public func addSecret(_ secret: String) {
        guard secret.count >= 4 else { return }
        state.withLock { if !$0.secrets.contains(secret) { $0.secrets.append(secret) } }
    }

    public var secrets: [String] { state.withLock { $0.secrets } }

    /// A swift-log Logger whose records go to this hook.
    public func logger(label: String) -> Logger {
        Logger(label: label, factory: { [self] label in HookLogHandler(label: label, hook: self) })
    }

    func emit(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, timestamp: Double) {
        let (sink, min, secrets) = state.withLock { ($0.sink, $0.level, $0.secrets) }
        guard let sink, level >= min else { return }
        var fields = JSONObject()
        for (k, v) in metadata { fields[k] = Self.json(v) }
        let redacted = Redaction.redactFields(.object(fields))
        let record: JSON = [
            "ts": .double(timestamp), "level": .string(level.rawValue), "logger": .string(label),
            "message": .string(Redaction.scrub(message, secrets: secrets)),
            "fields": Self.scrubStrings(redacted, secrets),
        ]
        sink(level, record)
    }

    static func json(_ v: Logger.MetadataValue) -> JSON {
        switch v {
        case .string(let s): return .string(s)
        case .stringConvertible(let c): return .string(c.description)
        case .array(let a): return .array(a.map(json))
        case .dictionary(let d):
            var o = JSONObject()
            for (k, x) in d { o[k] = json(x) }
            return .object(o)
        }
    }

    static func scrubStrings(_ v: JSON, _ secrets: [String]) -> JSON {
        guard !secrets.isEmpty else { return v }
        switch v {
        case .string(let s): return .string(Redaction.scrub(s, secrets: secrets))
        case .array(let a): return .array(a.map { scrubStrings($0, secrets) })
        case .object(let o):
            var r = JSONObject()
            for (k, x) in o { r[k] = scrubStrings(x, secrets) }
            return .object(r)
        default: return v
        }
    }
}

struct HookLogHandler: LogHandler {
    let label: String
    let hook: LogHook
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let m = event.metadata { merged.merge(m) { _, new in new } }
        hook.emit(level: event.level, label: label, message: event.message.description, metadata: merged,
                  timestamp: WallClock.now())
    }
}
