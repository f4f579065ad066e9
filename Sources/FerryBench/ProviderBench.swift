import FerryCatalog
import FerryCore
import FerryJSON
import FerryProviders
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

// `ferry-bench providers [--calls N] [--concurrency C] [--serve SECONDS]`
//
// Provider-client throughput against a canned local HTTP server (NIO, keep-alive, fixed JSON replies), per service:
//   - build_us: building + signing one request (no I/O)
//   - sequential: calls/s and p50/p99 latency, one call at a time
//   - concurrent: calls/s with C calls in flight
// `--serve SECONDS` only runs the canned server (prints {"port": N}) so bench/provider_sdk_bench.py can measure
// the official Python SDKs against the same server.
func runProviderBench(_ args: [String]) {
    var calls = 2000
    var concurrency = 64
    var serveSeconds: Double?
    var i = 0
    while i < args.count {
        let next = i + 1 < args.count ? args[i + 1] : ""
        switch args[i] {
        case "--calls": calls = Int(next) ?? calls; i += 1
        case "--concurrency": concurrency = Int(next) ?? concurrency; i += 1
        case "--serve": serveSeconds = Double(next) ?? 60; i += 1
        default: break
        }
        i += 1
    }
    let sema = DispatchSemaphore(value: 0)
    let box = ProviderBenchBox()
    Task.detached {
        do {
            if let serveSeconds {
                let server = try await CannedServer.start()
                print(JSON.object(["port": .int(server.port)]).serialized())
                fflush(nil)
                try await Task.sleep(for: .seconds(serveSeconds))
                try await server.stop()
            } else {
                box.value = try await providerBench(calls: max(calls, 10), concurrency: max(concurrency, 1))
            }
        } catch {
            box.value = ["error": .string(String(describing: error))]
        }
        sema.signal()
    }
    sema.wait()
    if serveSeconds == nil { print(box.value.serialized([.pretty, .sortedKeys])) }
}

private final class ProviderBenchBox: @unchecked Sendable { var value: JSON = .null }

/// One representative operation per service (the same ones as the SDK baselines in notes/swift-platform.md).
let providerBenchOps: [(String, JSON)] = [
    ("alibaba.rocketmq.FinishMigrationStage", ["migrationId": "7", "stageType": "MIGRATE_MESSAGE", "instanceId": "rmq-1"]),
    ("alibaba.mse.UpdateMigrationTask", ["Id": "42", "ProjectDesc": "bench task", "AcceptLanguage": "en"]),
    ("huawei.rocketmq.ListRocketMqMigrationTask", ["instance_id": "inst-1", "offset": 1, "limit": 10]),
    ("huawei.dcs.StopMigrationTask", ["task_id": "mt-1"]),
]

func providerBench(calls: Int, concurrency: Int) async throws -> JSON {
    let server = try await CannedServer.start()
    let url = "http://127.0.0.1:\(server.port)"
    let config = try ProvidersConfig(config: [
        "credentials": ["alibaba": ["access_key_id": "AKBENCH", "access_key_secret": "bench-secret"],
                        "huawei": ["ak": "HWBENCH", "sk": "bench-secret", "project_id": "0123456789abcdef0123456789abcdef"]],
        "endpoints": ["alibaba.rocketmq": .string(url), "alibaba.mse": .string(url), "huawei.rocketmq": .string(url),
                      "huawei.dcs": .string(url)],
    ], environment: [:])
    let client = ProviderClient(config: config, logger: LogHook().logger(label: "bench"))
    var results = JSONObject()
    for (name, params) in providerBenchOps {
        guard let op = Catalog.operation(name) else { continue }
        // Build + sign only.
        let buildN = 5000
        var t0 = WallClock.monotonic()
        for _ in 0..<buildN {
            _ = try RequestBuilder.build(op, params: params, config: config, unixTime: Int64(WallClock.now()), nonce: "0123456789abcdef0123456789abcdef")
        }
        let buildUs = (WallClock.monotonic() - t0) / Double(buildN) * 1e6

        for _ in 0..<min(200, calls) { _ = try await client.call(name, params: params) }  // warm-up
        var lat: [Double] = []
        lat.reserveCapacity(calls)
        t0 = WallClock.monotonic()
        for _ in 0..<calls {
            let s = WallClock.monotonic()
            _ = try await client.call(name, params: params)
            lat.append(WallClock.monotonic() - s)
        }
        let seqSeconds = WallClock.monotonic() - t0
        lat.sort()

        let concCalls = calls * 2
        let perWorker = concCalls / concurrency
        t0 = WallClock.monotonic()
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<concurrency {
                g.addTask {
                    for _ in 0..<perWorker { _ = try await client.call(name, params: params) }
                }
            }
            try await g.waitForAll()
        }
        let concSeconds = WallClock.monotonic() - t0
        results[name] = [
            "build_us": .double((buildUs * 10).rounded() / 10),
            "sequential_calls_per_s": .int(Int(Double(calls) / seqSeconds)),
            "sequential_p50_ms": .double((lat[lat.count / 2] * 1e5).rounded() / 100),
            "sequential_p99_ms": .double((lat[min(lat.count - 1, lat.count * 99 / 100)] * 1e5).rounded() / 100),
            "concurrent_calls_per_s": .int(Int(Double(perWorker * concurrency) / concSeconds)),
            "concurrency": .int(concurrency),
        ]
    }
    await client.shutdown()
    try await server.stop()
    return ["providers": .object(results), "calls": .int(calls), "server": "canned NIO HTTP/1.1 on 127.0.0.1"]
}

/// A keep-alive HTTP/1.1 server answering every request with a small fixed JSON body.
final class CannedServer: Sendable {
    let channel: any Channel
    let port: Int

    init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func start() async throws -> CannedServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap { ch.pipeline.addHandler(CannedHandler()) }
            }
        let ch = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return CannedServer(channel: ch, port: ch.localAddress?.port ?? 0)
    }

    func stop() async throws { try await channel.close() }
}

final class CannedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    static let body = Array(#"{"requestId":"bench","RequestId":"bench","success":true,"Success":true,"data":true,"task_id":"mt-1","status":"TERMINATING","total":0,"task":[]}"#.utf8)
    var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(Self.body.count))
            headers.add(name: "X-Request-Id", value: "bench")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: Self.body)))), promise: nil)
            let keep = keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keep { context.close(promise: nil) }
            }
        }
    }
}
