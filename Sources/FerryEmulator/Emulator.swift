import FerryCore
import FerryJSON
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A local emulator of the four migration APIs (Alibaba ApsaraMQ for RocketMQ and MSE, Huawei DMS for RocketMQ and
/// DCS) on one loopback port, with signature checks, simulated state machines, an admin API and fault injection.
public final class Emulator: Sendable {
    let core: EmulatorCore
    private let server = Mutex<Task<Void, Never>?>(nil)

    public init(config: EmulatorConfig) {
        core = EmulatorCore(config: config)
    }

    /// Starts listening; returns the ready info once the port is bound:
    /// `{"base_url", "port", "endpoints": {...}, "access_keys": [ids], "admin_url", "huawei_project_id", "operations"}`.
    public func start() async throws(FerryError) -> JSON {
        if server.withLock({ $0 != nil }) {
            throw FerryError(.emulatorError, "the emulator is already running")
        }
        let config = core.config
        let (stream, continuation) = AsyncStream<Result<Int, FerryError>>.makeStream()
        var logger = Logger(label: "ferry.emulator")
        logger.logLevel = .critical
        let app = Application(
            responder: EmulatorResponder(core: core),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            onServerRunning: { channel in
                continuation.yield(.success(channel.localAddress?.port ?? config.port))
            },
            logger: logger)
        let task = Task {
            do {
                try await app.run()
            } catch {
                continuation.yield(.failure(FerryError(.emulatorError,
                    "cannot listen on \(config.host):\(config.port): \(error)")))
            }
            continuation.finish()
        }
        server.withLock { $0 = task }
        var result: Result<Int, FerryError>?
        for await r in stream { result = r; break }
        switch result {
        case .success(let port):
            core.baseURL.withLock { $0 = "http://\(Self.urlHost(config.host)):\(port)" }
            return core.readyInfo()
        case .failure(let e):
            server.withLock { $0 = nil }
            throw e
        case nil:
            server.withLock { $0 = nil }
            throw FerryError(.emulatorError, "the emulator stopped before it was ready")
        }
    }

    /// Stops listening and waits for the server to shut down. Idempotent.
    public func stop() async {
        guard let task = server.withLock({ t -> Task<Void, Never>? in defer { t = nil }; return t }) else { return }
        task.cancel()
        await task.value
        core.persist()
    }

    /// The ready info (valid after `start`).
    public var readyInfo: JSON { core.readyInfo() }

    /// Handles one request in-process, without HTTP (tests, benchmarks, embedding).
    public func handle(_ request: EmulatorRequest) async -> EmulatorResponse { await core.handle(request) }

    /// Calls the admin API in-process: `admin("POST", "/_ferry/clock/advance", ["seconds": 60])`.
    public func admin(_ method: String, _ path: String, _ body: JSON? = nil) async -> JSON {
        let r = await core.handle(EmulatorRequest(method: method, target: path, headers: [],
                                                  body: body.map { $0.bytes() } ?? []))
        return r.json ?? .null
    }

    static func urlHost(_ h: String) -> String { h.contains(":") && !h.hasPrefix("[") ? "[\(h)]" : h }
}

/// Request context that keeps the connection's channel, so a fault can drop the connection.
struct EmulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

struct DroppedConnection: Error {}

struct EmulatorResponder: HTTPResponder {
    typealias Context = EmulatorRequestContext
    let core: EmulatorCore
    static let maxBody = 8 << 20

    func respond(to request: Request, context: EmulatorRequestContext) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBody)
        var headers: [(String, String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        if let authority = request.head.authority { headers.append(("host", authority)) }
        for field in request.headers { headers.append((field.name.rawName, field.value)) }
        let req = EmulatorRequest(method: request.method.rawValue, target: request.head.path ?? "/", headers: headers,
                                  body: Array(buffer.readableBytesView))
        let r = await core.handle(req)
        if let drop = r.drop {
            if drop == .reset {
                // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                if let p = context.channel as? any SocketOptionProvider {
                    try? await p.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                }
            }
            try? await context.channel.close().get()
            throw DroppedConnection()
        }
        var fields = HTTPFields()
        for (n, v) in r.headers {
            if let name = HTTPField.Name(n) { fields.append(HTTPField(name: name, value: v)) }
        }
        var out = ByteBuffer()
        out.writeBytes(r.body)
        return Response(status: .init(code: r.status), headers: fields, body: .init(byteBuffer: out))
    }
}
