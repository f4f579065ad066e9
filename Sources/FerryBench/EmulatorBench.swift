import FerryCore
import FerryEmulator
import FerryJSON
import FerrySigning
import Foundation

// `ferry-bench emulator [--seconds N] [--connections C]`
//
// 1. In-process: requests/s through the emulator's full request path (routing, signature verification, state) with
//    64 concurrent tasks — Huawei DCS ShowMigrationTask (one signed request replayed: SDK-HMAC-SHA256 has no nonce) and
//    Alibaba ListMigrationTask (signed fresh per request: ACS3 nonces are single-use, so signing cost is included).
// 2. Over loopback HTTP with wrk: the same signed Huawei request (headers set by a Lua script), and the unsigned
//    admin health endpoint as the loopback floor.
func runEmulatorBench(_ args: [String]) {
    var seconds = 5.0
    var connections = 64
    var httpOnly = false
    var i = 0
    while i < args.count {
        if args[i] == "--seconds", i + 1 < args.count { seconds = Double(args[i + 1]) ?? seconds; i += 1 }
        if args[i] == "--connections", i + 1 < args.count { connections = Int(args[i + 1]) ?? connections; i += 1 }
        if args[i] == "--http-only" { httpOnly = true }
        i += 1
    }
    let sema = DispatchSemaphore(value: 0)
    let box = ResultBox()
    Task.detached {
        box.value = await emulatorBench(seconds: seconds, connections: connections, httpOnly: httpOnly)
        sema.signal()
    }
    sema.wait()
    print(box.value.serialized([.pretty, .sortedKeys]))
}

final class ResultBox: @unchecked Sendable { var value: JSON = .null }

private let benchProject = EmulatorConfig.defaultHuaweiProjectID

/// ShowMigrationTask: the call a workflow makes most (polling one task).
func signedHuaweiShow(host: String, taskID: String) -> EmulatorRequest {
    let path = "/v2/\(benchProject)/migration-task/\(taskID)"
    let query: [(String, String)] = []
    var r = SignableRequest(method: "GET", path: path, query: query, headers: [
        ("Content-Type", "application/json"), ("User-Agent", "huaweicloud-usdk-python/3.0; ferry-bench"),
    ])
    HuaweiSigner.prepareAndSign(&r, accessKeyID: EmulatorConfig.defaultAccessKeyID,
                                secret: EmulatorConfig.defaultAccessKeySecret, projectID: benchProject,
                                date: SigningClock.sdkDate(unixSeconds: Int64(WallClock.now())), host: host)
    return EmulatorRequest(method: "GET", target: HuaweiSigner.requestURI(path: path, query: query), headers: r.headers,
                           body: [])
}

func signedAlibabaList(host: String) -> EmulatorRequest {
    var r = SignableRequest(method: "POST", path: "/", query: [("PageNum", "1"), ("PageSize", "10")], headers: [
        ("host", host), ("x-acs-version", "2019-05-31"), ("x-acs-action", "ListMigrationTask"),
        ("user-agent", "AlibabaCloud ferry-bench"), ("accept", "application/json"),
    ])
    ACS3Signer.prepareAndSign(&r, accessKeyID: EmulatorConfig.defaultAccessKeyID,
                              secret: EmulatorConfig.defaultAccessKeySecret,
                              date: SigningClock.acsDate(unixSeconds: Int64(WallClock.now())), nonce: ACS3Signer.makeNonce())
    return EmulatorRequest(method: "POST", target: "/?" + ACS3Signer.wireQueryString(r.query), headers: r.headers, body: [])
}

func inProcessRate(_ emulator: Emulator, seconds: Double, concurrency: Int,
                   make: @escaping @Sendable () -> EmulatorRequest) async -> (Double, Int) {
    let deadline = WallClock.monotonic() + seconds
    let start = WallClock.monotonic()
    let counts = await withTaskGroup(of: (Int, Int).self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var n = 0, bad = 0
                while WallClock.monotonic() < deadline {
                    let r = await emulator.handle(make())
                    if r.status == 200 { n += 1 } else { bad += 1 }
                }
                return (n, bad)
            }
        }
        var total = (0, 0)
        for await c in group { total.0 += c.0; total.1 += c.1 }
        return total
    }
    return (Double(counts.0) / (WallClock.monotonic() - start), counts.1)
}

func runWrk(url: String, seconds: Double, connections: Int, headers: [(String, String)]) -> Double? {
    let script = "/tmp/ferry-emulator-bench-\(getpid()).lua"
    var lua = "wrk.method = \"GET\"\n"
    for (n, v) in headers where n.lowercased() != "host" {
        lua += "wrk.headers[\"\(n)\"] = \"\(v.replacingOccurrences(of: "\"", with: "\\\""))\"\n"
    }
    try? lua.write(toFile: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: script) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
    p.arguments = ["-t2", "-c\(connections)", "-d\(Int(seconds))s", "-s", script, url]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return nil }
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    // "Requests/sec:  12345.67"; non-2xx responses are reported separately and must be zero.
    if out.contains("Non-2xx") { return -1 }
    for line in out.split(separator: "\n") where line.hasPrefix("Requests/sec:") {
        return Double(line.split(separator: " ").last ?? "")
    }
    return nil
}

func emulatorBench(seconds: Double, connections: Int, httpOnly: Bool = false) async -> JSON {
    let config: EmulatorConfig
    do { config = try EmulatorConfig(json: ["port": 0, "time_scale": 0]) } catch { return error.json }
    let emulator = Emulator(config: config)
    let info: JSON
    do { info = try await emulator.start() } catch { return error.json }
    defer { Task { await emulator.stop() } }
    let base = info["base_url"]?.stringValue ?? ""
    let host = String(base.dropFirst("http://".count))
    var taskID = ""
    for n in 0..<5 {
        let t = await emulator.admin("POST", "/_ferry/resources/huawei.dcs.task",
                                     ["task_name": .string("bench-\(n)x"), "status": "INCRMIGRATING"])
        taskID = t["task_id"]?.stringValue ?? taskID
    }
    let hw = signedHuaweiShow(host: host, taskID: taskID)
    var (hwRate, hwBad, aliRate, aliBad) = (0.0, 0, 0.0, 0)
    if !httpOnly {
        (hwRate, hwBad) = await inProcessRate(emulator, seconds: seconds, concurrency: connections) { hw }
        (aliRate, aliBad) = await inProcessRate(emulator, seconds: seconds, concurrency: connections) {
            signedAlibabaList(host: host)
        }
    }
    let wrkSigned = runWrk(url: base + hw.target, seconds: seconds, connections: connections, headers: hw.headers)
    let wrkFloor = runWrk(url: base + "/_ferry/health", seconds: seconds, connections: connections, headers: [])
    await emulator.stop()
    return [
        "benchmark": "emulator", "huawei_operation": "huawei.dcs.ShowMigrationTask",
        "alibaba_operation": "alibaba.mse.ListMigrationTask", "seconds": .double(seconds), "connections": .int(connections),
        "in_process_huawei_signed_rps": .double(hwRate.rounded()), "in_process_huawei_errors": .int(hwBad),
        "in_process_alibaba_sign_and_verify_rps": .double(aliRate.rounded()), "in_process_alibaba_errors": .int(aliBad),
        "http_wrk_huawei_signed_rps": wrkSigned.map { .double($0) } ?? .null,
        "http_wrk_admin_health_rps": wrkFloor.map { .double($0) } ?? .null,
    ]
}
