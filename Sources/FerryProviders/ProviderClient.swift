import AsyncHTTPClient
import FerryCatalog
import FerryCore
import FerryJSON
import FerrySigning
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A provider response: the parsed JSON body (secrets redacted unless asked), HTTP status and request id.
public struct ProviderResponse: Sendable {
    public let body: JSON
    public let status: Int
    public let requestID: String?

    public init(body: JSON, status: Int, requestID: String?) {
        self.body = body
        self.status = status
        self.requestID = requestID
    }
}

/// Calls the 24 catalog operations over HTTPS, signed exactly as the official SDKs sign them. One instance keeps
/// pooled connections per provider and proxy route; call `shutdown()` when done.
public final class ProviderClient: Sendable {
    public let config: ProvidersConfig
    let logger: Logger
    /// HTTP clients by route (provider timeouts differ; a proxy needs its own client).
    let clients = Mutex<[String: HTTPClient]>([:])
    let shutDown = Atomic<Bool>(false)
    /// The event loops every HTTP client here uses, one task executor per loop (see `LoopTaskExecutor`).
    let loops = LoopExecutors(group: .singleton)
    /// Largest response body accepted.
    public static let maxResponseBytes = 16 * 1024 * 1024

    public init(config: ProvidersConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    deinit {
        // Clients that were never shut down are shut down here (without blocking: deinit may run on any thread).
        let all = clients.withLock { d -> [HTTPClient] in
            let v = Array(d.values)
            d.removeAll()
            return v
        }
        for c in all { _ = c.shutdown() as EventLoopFuture<Void> }
    }

    /// Shuts down every pooled connection. Later calls fail with `closed`.
    public func shutdown() async {
        shutDown.store(true, ordering: .sequentiallyConsistent)
        let all = clients.withLock { d -> [HTTPClient] in
            let v = Array(d.values)
            d.removeAll()
            return v
        }
        for c in all { try? await c.shutdown() }
    }

    /// Calls `operation` (e.g. `huawei.dcs.ShowMigrationTask`) with parameters keyed by wire name.
    ///
    /// A caller whose task prefers one of the client's event loops (`preferredTaskExecutor()`) makes the whole
    /// call there, with no thread hand-off; any other caller pays hand-offs to the connection's loop and back
    /// (its own code never runs on a loop).
    public func call(_ operation: String, params: JSON, revealSecrets: Bool = false) async throws(FerryError)
        -> ProviderResponse
    {
        guard let op = Catalog.operation(operation) else {
            throw FerryError(.invalidArgument, "operation: unknown operation \(operation) (see `ferry ops`)",
                             details: ["field": "operation", "operation": .string(operation)])
        }
        return try await onLoopWhenAlone { () async throws(FerryError) -> ProviderResponse in
            let built = try RequestBuilder.build(op, params: params, config: config,
                                                 unixTime: Int64(WallClock.now()), nonce: ACS3Signer.makeNonce())
            return try await sendHere(built, op: op, revealSecrets: revealSecrets)
        }
    }

    /// Calls in flight on this client (decides whether an unpinned caller hops onto a loop).
    let inFlight = Atomic<Int>(0)

    /// An unpinned caller with no other call in flight makes its call on a loop: two hand-offs (onto the loop
    /// and back) instead of the six to nine that AsyncHTTPClient's callbacks cost from the global pool, which
    /// dominate one call's latency. With calls already in flight the threads are awake anyway and the call
    /// stays where it is. The task yields afterwards, so the caller's own code resumes on the global pool.
    func onLoopWhenAlone<T: Sendable>(_ body: () async throws(FerryError) -> T) async throws(FerryError) -> T {
        let alone = inFlight.wrappingAdd(1, ordering: .relaxed).oldValue == 0
        defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
        guard alone, loops.current() == nil, #available(macOS 15.0, *) else { return try await body() }
        let result: Result<T, FerryError>
        do {
            result = .success(try await withTaskExecutorPreference(loops.pick()) { () async throws(FerryError) -> T in
                try await body()
            })
        } catch {
            result = .failure(error)
        }
        await Task.yield()
        return try result.get()
    }

    /// A task executor on one of this client's event loops (round robin). A host task that does little but
    /// provider calls can run with this preference (`Task(executorPreference:)`, `withTaskExecutorPreference`):
    /// its calls then run on the loop that owns their connection, with no thread hand-offs (one call in
    /// flight: about 1.5x the calls/s, less CPU per call). Code run there must not block (no file I/O or fsync,
    /// no long-held locks, no semaphores), since it stalls every connection of that loop.
    public func preferredTaskExecutor() -> any TaskExecutor { loops.pick() }

    /// Sends an already built request (benchmarks and tests use this to separate building from I/O).
    public func send(_ built: BuiltRequest, op: OperationSpec, revealSecrets: Bool = false) async throws(FerryError)
        -> ProviderResponse
    {
        try await sendHere(built, op: op, revealSecrets: revealSecrets)
    }

    func sendHere(_ built: BuiltRequest, op: OperationSpec, revealSecrets: Bool) async throws(FerryError)
        -> ProviderResponse
    {
        if shutDown.load(ordering: .sequentiallyConsistent) {
            throw FerryError(.closed, "provider client is shut down")
        }
        let secrets = knownSecrets(built)
        let client = try httpClient(for: op.provider, endpoint: built.endpoint)
        var headerFields = HTTPHeaders()
        headerFields.reserveCapacity(built.request.headers.count)
        for (k, v) in built.request.headers { headerFields.add(name: k, value: v) }
        let started = WallClock.monotonic()
        let (connectMs, readMs) = timeouts(op.provider)
        let status: Int
        var headers: [(String, String)] = []
        var bytes: [UInt8] = []
        do {
            // AsyncHTTPClient sets the framing: Content-Length: 0 on a body-less POST/PUT, as requests does.
            let request = try HTTPClient.Request(
                url: built.url, method: HTTPMethod(rawValue: built.request.method), headers: headerFields,
                body: built.request.body.isEmpty ? nil : .bytes(built.request.body))
            // EventLoopFuture API: no per-request cancel actor task or body stream as in the async API. On a
            // loop-pinned task `.indifferent` puts the response callbacks on the loop this task runs on and
            // prefers an idle connection of that loop, so the exchange usually needs no thread hand-off; the
            // future's completion resumes this task in place. (`.delegateAndChannel`
            // would force it, but AsyncHTTPClient then opens "overflow" connections it closes after each request.)
            // The overall deadline guards against a server trickling bytes forever; per-read and connect
            // timeouts are configured on the client.
            let task = client.execute(request: request, delegate: ResponseCollector(maxBytes: Self.maxResponseBytes),
                                      eventLoop: .indifferent,
                                      deadline: .now() + .milliseconds(Int64(connectMs + readMs * 2)))
            let response = try await withTaskCancellationHandler {
                try await task.futureResult.get()
            } onCancel: {
                task.cancel()
            }
            status = response.status
            headers = response.headers.map { ($0.name, $0.value) }
            var buf = response.body
            bytes = buf.readBytes(length: buf.readableBytes) ?? []
        } catch {
            let mapped = transportError(error, op: op, endpoint: built.endpoint)
            logger.debug("provider call failed", metadata: [
                "operation": .string(op.name), "code": .string(mapped.code.name),
                "elapsed_ms": .stringConvertible(Int((WallClock.monotonic() - started) * 1000)),
            ])
            throw mapped
        }
        let elapsedMs = Int((WallClock.monotonic() - started) * 1000)
        if status >= 300 {
            let err: FerryError
            if status < 400 {
                err = FerryError(.providerError, "\(op.name) failed: unexpected redirect (HTTP \(status))",
                                 details: ["provider": .string(op.provider), "operation": .string(op.name),
                                           "http_status": .int(status), "retryable": false,
                                           "provider_code": .null, "provider_message": .null, "request_id": .null])
            } else {
                err = ProviderErrorMapper.map(provider: op.provider, operation: op.name, status: status,
                                              headers: headers, body: bytes, secrets: secrets)
            }
            logger.info("provider call failed", metadata: [
                "operation": .string(op.name), "http_status": .stringConvertible(status), "code": .string(err.code.name),
                "request_id": .string(err.details["request_id"]?.stringValue ?? ""), "elapsed_ms": .stringConvertible(elapsedMs),
            ])
            throw err
        }
        let body: JSON
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            body = .object([:])
        } else {
            do {
                body = try JSONParser.parse(bytes: bytes)
            } catch {
                throw FerryError(.providerError, "\(op.name): HTTP \(status) response body is not JSON",
                                 details: ["provider": .string(op.provider), "operation": .string(op.name),
                                           "http_status": .int(status), "retryable": false, "provider_code": .null,
                                           "provider_message": .string(Redaction.scrub(ProviderErrorMapper.text(bytes), secrets: secrets)),
                                           "request_id": responseRequestID(op, headers, nil).map { .string($0) } ?? .null])
            }
        }
        if let field = op.successField, case .bool(false)? = body[field] {
            let err = ProviderErrorMapper.mapUnsuccessful(provider: op.provider, operation: op.name, status: status,
                                                          body: body, headers: headers, secrets: secrets)
            logger.info("provider call unsuccessful", metadata: [
                "operation": .string(op.name), "code": .string(err.code.name), "elapsed_ms": .stringConvertible(elapsedMs),
            ])
            throw err
        }
        let requestID = responseRequestID(op, headers, body)
        logger.debug("provider call", metadata: [
            "operation": .string(op.name), "http_status": .stringConvertible(status),
            "request_id": .string(requestID ?? ""), "elapsed_ms": .stringConvertible(elapsedMs),
        ])
        return ProviderResponse(body: revealSecrets ? body : SecretRedactor.redact(body, op: op), status: status,
                                requestID: requestID)
    }

    func responseRequestID(_ op: OperationSpec, _ headers: [(String, String)], _ body: JSON?) -> String? {
        if op.provider == "alibaba" {
            return body?["requestId"]?.stringValue ?? body?["RequestId"]?.stringValue
                ?? ProviderErrorMapper.header(headers, "x-acs-request-id")
        }
        return ProviderErrorMapper.header(headers, "x-request-id")
    }

    func knownSecrets(_ built: BuiltRequest) -> [String] {
        var s = built.secretValues
        for v in [config.alibaba.accessKeySecret, config.alibaba.securityToken, config.huawei.sk, config.huawei.securityToken] {
            if let v { s.append(v) }
        }
        return s
    }

    /// (connect, read) in ms: the config's, else each SDK's defaults (Alibaba 5 s / 10 s, Huawei 60 s / 120 s).
    func timeouts(_ provider: String) -> (Int, Int) {
        let alibaba = provider == "alibaba"
        return (config.connectTimeoutMs ?? (alibaba ? 5_000 : 60_000), config.readTimeoutMs ?? (alibaba ? 10_000 : 120_000))
    }

    /// Proxy route for an endpoint: HTTP(S)_PROXY by scheme unless NO_PROXY matches the host.
    func proxy(for endpoint: Endpoint) -> ProvidersConfig.Proxy? {
        let p = endpoint.scheme == "https" ? config.httpsProxy : config.httpProxy
        guard let p else { return nil }
        return config.bypassesProxy(host: endpoint.host, port: endpoint.port) ? nil : p
    }

    func httpClient(for provider: String, endpoint: Endpoint) throws(FerryError) -> HTTPClient {
        let proxy = proxy(for: endpoint)
        let key = provider + "|" + (proxy.map { "\($0.host):\($0.port)" } ?? "direct")
        let result: Result<HTTPClient, FerryError> = clients.withLock { d in
            if let c = d[key] { return .success(c) }
            do {
                let c = try makeClient(provider: provider, proxy: proxy)
                d[key] = c
                return .success(c)
            } catch let e as FerryError {
                return .failure(e)
            } catch {
                return .failure(FerryError(.invalidArgument, "config.http: \(error)"))
            }
        }
        return try result.get()
    }

    func makeClient(provider: String, proxy: ProvidersConfig.Proxy?) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !config.verifyTLS { tls.certificateVerification = .none }
        if let ca = config.caBundle {
            do {
                let certs = try NIOSSLCertificate.fromPEMFile(ca)
                tls.trustRoots = .certificates(certs)
            } catch {
                throw FerryError(.invalidArgument, "config.http.ca_bundle: cannot read PEM certificates from \(ca)",
                                 details: ["field": "config.http.ca_bundle"])
            }
        }
        let (connectMs, readMs) = timeouts(provider)
        var conf = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectMs)), read: .milliseconds(Int64(readMs))),
            proxy: proxy.map { p in
                if let u = p.username {
                    return .server(host: p.host, port: p.port, authorization: .basic(username: u, password: p.password ?? ""))
                }
                return .server(host: p.host, port: p.port)
            },
            ignoreUncleanSSLShutdown: false, decompression: .disabled)
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60),
                                                           concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // Fail fast on a refused connection instead of retrying until the connect timeout.
        pool.retryConnectionEstablishment = false
        conf.connectionPool = pool
        conf.httpVersion = .http1Only
        return HTTPClient(eventLoopGroup: loops.group, configuration: conf)
    }

    /// Transport failures: timeouts, refused/reset connections, TLS, DNS. `details.sent` tells whether the
    /// request may have reached the server (a reconcile is needed for non-idempotent writes when true).
    func transportError(_ error: any Error, op: OperationSpec, endpoint: Endpoint) -> FerryError {
        let text = String(describing: error)
        var code: ErrorCode = .unavailable
        var reason = "connection_failed"
        var sent = false
        var retryable = true
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .httpProxyHandshakeTimeout,
                 .socksHandshakeTimeout:
                code = .timeout; reason = "connect_timeout"
            case .readTimeout, .deadlineExceeded, .writeTimeout:
                code = .timeout; reason = "read_timeout"; sent = true
            case .remoteConnectionClosed:
                reason = "connection_reset"; sent = true
            case .cancelled:
                code = .cancelled; reason = "cancelled"; sent = true; retryable = false
            case .proxyAuthenticationRequired, .invalidProxyResponse:
                reason = "proxy"; retryable = false
            case .invalidURL, .emptyHost, .emptyScheme:
                code = .invalidArgument; reason = "invalid_url"; retryable = false
            default:
                reason = "http_error"
            }
        } else if error is NIOTooManyBytesError {
            code = .tooLarge; reason = "response_too_large"; sent = true; retryable = false
        } else if error is NIOSSLError || error is BoringSSLError || text.contains("NIOSSL") || text.contains("handshakeFailed") {
            reason = "tls"; retryable = false
        } else if text.lowercased().contains("refused") || text.contains("errno: 111") {
            // Checked before "reset": NIO words a refused connect as "connection reset (error set): Connection refused".
            reason = "connection_refused"
        } else if text.contains("reset") || text.contains("errno: 104") {
            reason = "connection_reset"; sent = true
        } else if text.contains("NIOConnectionError") || text.contains("getaddrinfo") || text.contains("resolve") {
            reason = "connection_failed"
        } else if error is CancellationError {
            code = .cancelled; reason = "cancelled"; retryable = false; sent = true
        }
        let msg = "\(op.name): \(reason.replacingUnderscores()) calling \(endpoint.baseURL)"
        return FerryError(code, msg, details: [
            "provider": .string(op.provider), "operation": .string(op.name), "reason": .string(reason),
            "http_status": .null, "provider_code": .null, "provider_message": .null, "request_id": .null,
            "retryable": .bool(retryable), "sent": .bool(sent), "transport_error": .string(String(text.prefix(300))),
        ])
    }
}

extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}

/// Masks the response fields the catalog marks secret (paths like `source_instance.password`, `list[].x`), and any
/// secret-named field inside free-form data.
public enum SecretRedactor {
    public static func redact(_ body: JSON, op: OperationSpec) -> JSON {
        var out = body
        for path in op.secretResponseFields {
            out = mask(out, path.split(separator: ".").map(String.init)[...])
        }
        return Redaction.redactFields(out)
    }

    static func mask(_ v: JSON, _ path: ArraySlice<String>) -> JSON {
        guard let head = path.first else { return v }
        let isArray = head.hasSuffix("[]")
        let key = isArray ? String(head.dropLast(2)) : head
        guard case .object(var o) = v, let child = o[key] else { return v }
        let rest = path.dropFirst()
        if isArray {
            guard case .array(let items) = child else { return v }
            o[key] = .array(items.map { mask($0, rest) })
        } else if rest.isEmpty {
            if !child.isNull { o[key] = .string(Redaction.mask) }
        } else {
            o[key] = mask(child, rest)
        }
        return .object(o)
    }
}

/// Collects status, headers and the body (up to a limit) of one response, on the request's event loop.
final class ResponseCollector: HTTPClientResponseDelegate, @unchecked Sendable {
    struct Collected: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    let maxBytes: Int
    // Touched only on the delegate's event loop (AsyncHTTPClient calls every method there).
    var head: HTTPResponseHead?
    var body = ByteBuffer()

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    func didReceiveHead(task: HTTPClient.Task<Collected>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head = head
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Collected>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard body.readableBytes + buffer.readableBytes <= maxBytes else {
            return task.eventLoop.makeFailedFuture(NIOTooManyBytesError(maxBytes: maxBytes))
        }
        if body.readableBytes == 0 {
            body = buffer
        } else {
            var b = buffer
            body.writeBuffer(&b)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Collected>) throws -> Collected {
        guard let head else { throw HTTPClientError.remoteConnectionClosed }
        return Collected(status: Int(head.status.code), headers: head.headers, body: body)
    }
}
