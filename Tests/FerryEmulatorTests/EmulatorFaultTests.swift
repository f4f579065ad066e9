import AsyncHTTPClient
import Foundation
import FerryCore
import FerryJSON
import FerrySigning
import NIOCore
import XCTest

@testable import FerryEmulator

final class EmulatorFaultTests: XCTestCase {
    func createOnline(_ h: EmuHarness, _ name: String = "online-1") -> EmulatorRequest {
        h.hw("POST", "/migration/instance", body: ["name": .string(name), "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"])
    }

    func testThrottleAndServerErrorsPerProvider() async throws {
        let h = try EmuHarness()
        _ = await h.admin("POST", "/_ferry/faults", ["faults": [
            ["kind": "throttle", "operation": "alibaba.*", "count": 1, "retry_after_ms": 250],
            ["kind": "throttle", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1],
            ["kind": "server_error", "operation": "alibaba.mse.ListMigrationTask", "count": 1, "status": 500],
            ["kind": "server_error", "operation": "huawei.dcs.*", "count": 1],
        ]])
        var r = await h.send(h.ali("ListMigrationTask", method: "POST"))
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.json?["Code"], "Throttling.User")
        XCTAssertEqual(r.header("x-acs-retry-after"), "250")
        r = await h.send(h.ali("ListMigrationTask", method: "POST"))
        XCTAssertEqual(r.status, 500)
        XCTAssertEqual(r.json?["Code"], "InternalError")
        r = await h.send(h.ali("ListMigrationTask", method: "POST"))
        XCTAssertEqual(r.status, 200)
        r = await h.send(createOnline(h))
        XCTAssertEqual(r.status, 429)
        XCTAssertEqual(r.json?["error_code"], "APIGW.0308")
        XCTAssertEqual(r.json?["request_id"]?.stringValue, r.header("X-Request-Id"))
        r = await h.send(createOnline(h))
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.json?["error_code"], "DCS.5000")
        r = await h.send(createOnline(h))
        XCTAssertEqual(r.status, 200)
        // Only the last create changed anything.
        let audit = await h.audit()
        XCTAssertEqual(audit.filter { $0["operation"] == "huawei.dcs.CreateOnlineMigrationTask" }.count, 1)
        let faults = await h.admin("GET", "/_ferry/faults")
        XCTAssertEqual(faults["faults"]?.arrayValue?.compactMap { $0["fired"]?.intValue }, [1, 1, 1, 1])
    }

    func testResetDropsBeforeTheChange() async throws {
        let h = try EmuHarness(["faults": [["kind": "reset", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1]]])
        let r = await h.send(createOnline(h))
        XCTAssertEqual(r.drop, .reset)
        let state = await h.admin("GET", "/_ferry/resources/huawei.dcs.task")
        XCTAssertEqual(state["items"]?.arrayValue?.count, 0)
        let audit = await h.audit()
        XCTAssertTrue(audit.isEmpty)
    }

    func testResponseLostAppliesAndAudits() async throws {
        let h = try EmuHarness(["faults": [["kind": "response_lost", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1]]])
        let r = await h.send(createOnline(h))
        XCTAssertEqual(r.drop, .close)
        let state = await h.admin("GET", "/_ferry/resources/huawei.dcs.task")
        XCTAssertEqual(state["items"]?.arrayValue?.count, 1)
        let audit = await h.audit()
        XCTAssertEqual(audit.count, 1)
        XCTAssertEqual(audit.first?["outcome"], "response_lost")
        XCTAssertEqual(audit.first?["operation"], "huawei.dcs.CreateOnlineMigrationTask")
        XCTAssertEqual(audit.first?["effect"]?["created"]?["task_name"], "online-1")
    }

    func testLatency() async throws {
        let h = try EmuHarness(["faults": [["kind": "latency", "operation": "huawei.dcs.ListMigrationTask", "latency_ms": 500, "count": 1]]])
        var t0 = WallClock.monotonic()
        var r = await h.send(h.hw("GET", "/migration-tasks"))
        XCTAssertEqual(r.status, 200)
        XCTAssertGreaterThanOrEqual(WallClock.monotonic() - t0, 0.49)
        // The fault is spent: the next call is not delayed. 400 ms of headroom, not 0, because the machine may be
        // busy (a < 140 ms bound on an undelayed call is at the mercy of the scheduler).
        t0 = WallClock.monotonic()
        r = await h.send(h.hw("GET", "/migration-tasks"))
        XCTAssertLessThan(WallClock.monotonic() - t0, 0.4)
    }

    func testProbabilityIsSeededAndDeterministic() async throws {
        func pattern(seed: Int) async throws -> [Int] {
            let h = try EmuHarness(["seed": .int(seed),
                                    "faults": [["kind": "server_error", "operation": "alibaba.mse.ListMigrationTask", "probability": 0.5]]])
            var out: [Int] = []
            for _ in 0..<40 { out.append(await h.send(h.ali("ListMigrationTask", method: "POST")).status) }
            return out
        }
        let a = try await pattern(seed: 11), b = try await pattern(seed: 11), c = try await pattern(seed: 12)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        let failures = a.filter { $0 == 503 }.count
        XCTAssertTrue((8...32).contains(failures), "\(failures) of 40 at p=0.5")
    }

    func testAdminFaultsResetAndClock() async throws {
        let h = try EmuHarness()
        var f = await h.admin("POST", "/_ferry/faults", ["kind": "throttle", "id": "f1"])
        XCTAssertEqual(f["faults"]?[0]?["id"], "f1")
        f = await h.admin("POST", "/_ferry/faults", ["kind": "nonsense"])
        XCTAssertEqual(f["code"], "invalid_argument")
        var r = await h.send(h.hw("GET", "/migration-tasks"))
        XCTAssertEqual(r.status, 429)
        _ = await h.admin("DELETE", "/_ferry/faults/f1")
        r = await h.send(h.hw("GET", "/migration-tasks"))
        XCTAssertEqual(r.status, 200)
        let c0 = await h.admin("GET", "/_ferry/clock")
        await h.advance(3600)
        let c1 = await h.admin("GET", "/_ferry/clock")
        XCTAssertEqual((c1["now"]?.doubleValue ?? 0) - (c0["now"]?.doubleValue ?? 0), 3600, accuracy: 0.001)
        _ = await h.send(createOnline(h))
        _ = await h.admin("POST", "/_ferry/reset")
        let st = await h.admin("GET", "/_ferry/state")
        XCTAssertEqual(st["resources"]?["huawei.dcs.task"]?.arrayValue?.count, 0)
        XCTAssertEqual(st["audit_count"], 0)
        let bad = await h.admin("GET", "/_ferry/resources/aws.thing")
        XCTAssertEqual(bad["code"], "not_found")
    }

    func testPersistenceSurvivesRestart() async throws {
        let path = "/tmp/ferry-emulator-persist-\(getpid())-\(Int(WallClock.now() * 1000)).json"
        defer { unlink(path) }
        let h1 = try EmuHarness(["persist_path": .string(path)])
        let created = await h1.call(createOnline(h1, "persisted"))
        let id = try XCTUnwrap(created.1["instance_id"]?.stringValue)
        await h1.advance(100)
        let h2 = try EmuHarness(["persist_path": .string(path)])
        let (s, b) = await h2.call(h2.hw("GET", "/migration-task/\(id)"))
        XCTAssertEqual(s, 200)
        XCTAssertEqual(b["task_name"], "persisted")
        XCTAssertEqual(b["status"], "RUNNING")
        let audit = await h2.audit()
        XCTAssertEqual(audit.count, 1)
        // The snapshot on disk holds no Redis password (configure the task, which carries both).
        let set = h2.hw("POST", "/migration/\(id)/task", body: [
            "migration_method": "full_amount_migration", "resume_mode": "auto",
            "source_instance": ["addrs": "10.0.0.1:6379", "password": "persisted-src-pw"],
            "target_instance": ["id": "dcs-2", "password": "persisted-tgt-pw"]])
        let (s2, b2) = await h2.call(set)
        XCTAssertEqual(s2, 200, "\(b2)")
        let disk = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(disk.contains("10.0.0.1:6379"), "the snapshot was written")
        XCTAssertFalse(disk.contains("persisted-src-pw") || disk.contains("persisted-tgt-pw"))
    }

    // MARK: over real HTTP

    func testServesHTTPAndDropsConnections() async throws {
        let emulator = Emulator(config: try EmulatorConfig(json: [
            "port": 0, "time_scale": 0,
            "faults": [["kind": "reset", "operation": "huawei.dcs.ListMigrationTask", "count": 1],
                       ["kind": "response_lost", "operation": "huawei.dcs.CreateOnlineMigrationTask", "count": 1]],
        ]))
        let info = try await emulator.start()
        let base = try XCTUnwrap(info["base_url"]?.stringValue)
        XCTAssertNotEqual(info["port"], 0)
        XCTAssertEqual(info["endpoints"]?["huawei.dcs"]?.stringValue, base)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let hostPort = String(base.dropFirst("http://".count))
            func send(_ r: EmulatorRequest) async throws -> (Int, JSON?) {
                var req = HTTPClientRequest(url: base + r.target)
                req.method = .init(rawValue: r.method)
                for (n, v) in r.headers where n.lowercased() != "host" { req.headers.add(name: n, value: v) }
                if !r.body.isEmpty { req.body = .bytes(ByteBuffer(bytes: r.body)) }
                let resp = try await client.execute(req, timeout: .seconds(10))
                let body = try await resp.body.collect(upTo: 1 << 20)
                return (Int(resp.status.code), try? JSONParser.parse(bytes: Array(body.readableBytesView)))
            }
            var h = try EmuHarness()
            h = EmuHarnessHost(h, host: hostPort)
            let health = try await send(EmulatorRequest(method: "GET", target: "/_ferry/health", headers: [], body: []))
            XCTAssertEqual(health.1?["ok"], true)
            do {
                _ = try await send(h.hw("GET", "/migration-tasks"))
                XCTFail("the reset fault should drop the connection")
            } catch {}
            let ok = try await send(h.hw("GET", "/migration-tasks"))
            XCTAssertEqual(ok.0, 200)
            do {
                _ = try await send(createOnline(h))
                XCTFail("the response should be lost")
            } catch {}
            let audit = await emulator.admin("GET", "/_ferry/audit")
            XCTAssertEqual(audit["entries"]?[0]?["outcome"], "response_lost")
            let list = try await send(h.hw("GET", "/migration-tasks"))
            XCTAssertEqual(list.1?["count"], 1)
            let bad = try await send(h.hw("GET", "/migration-tasks", secret: "wrong"))
            XCTAssertEqual(bad.0, 401)
        } catch {
            try? await client.shutdown()
            await emulator.stop()
            throw error
        }
        try await client.shutdown()
        await emulator.stop()
    }
}

/// The harness signing for a different Host header (the live server's host:port).
func EmuHarnessHost(_ h: EmuHarness, host: String) -> EmuHarness {
    var copy = h
    copy.hostOverride = host
    return copy
}

final class EmulatorConcurrencyTests: XCTestCase {
    func testConcurrentMutationsAreSerializedInTheAuditLog() async throws {
        let h = try EmuHarness()
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<32 {
                group.addTask {
                    let name = "task-\(i)xx"
                    _ = await h.send(h.hw("POST", "/migration/instance",
                                          body: ["name": .string(name), "vpc_id": "v", "subnet_id": "s", "security_group_id": "g"]))
                    _ = await h.send(h.hw("GET", "/migration-tasks", query: [("name", name)]))
                    _ = await h.send(h.ali("AddMigrationTask", method: "POST", query: [("OriginInstanceName", name)]))
                }
            }
        }
        let audit = await h.audit()
        XCTAssertEqual(audit.count, 64)
        XCTAssertEqual(audit.compactMap { $0["seq"]?.intValue }, Array(1...64))
        let tasks = await h.admin("GET", "/_ferry/resources/huawei.dcs.task")
        XCTAssertEqual(tasks["items"]?.arrayValue?.count, 32)
        let ids = Set((tasks["items"]?.arrayValue ?? []).compactMap { $0["task_id"]?.stringValue })
        XCTAssertEqual(ids.count, 32)
        let mse = await h.admin("GET", "/_ferry/resources/alibaba.mse.task")
        XCTAssertEqual(Set((mse["items"]?.arrayValue ?? []).compactMap { $0["Id"]?.intValue }), Set(1...32))
    }
}

final class EmulatorReadFaultTests: XCTestCase {
    func testTerminalFailureFiredOnAReadDoomsThatTask() async throws {
        let h = try EmuHarness(["faults": [["kind": "terminal_failure", "operation": "huawei.dcs.*", "count": 1, "after_seconds": 5]]])
        let seeded = await h.admin("POST", "/_ferry/resources/huawei.dcs.task", ["status": "FULLMIGRATING", "task_name": "doomed-1"])
        let id = try XCTUnwrap(seeded["task_id"]?.stringValue)
        var (s, b) = await h.call(h.hw("GET", "/migration-task/\(id)"))
        XCTAssertEqual(s, 200)
        XCTAssertEqual(b["status"], "FULLMIGRATING")
        await h.advance(5)
        (s, b) = await h.call(h.hw("GET", "/migration-task/\(id)"))
        XCTAssertEqual(b["status"], "MIGRATION_FAILED")
        let audit = await h.audit()
        let entry = try XCTUnwrap(audit.first { $0["operation"] == "huawei.dcs.ShowMigrationTask" })
        XCTAssertEqual(entry["effect"]?["failure_scheduled"], [.string(id)])
    }
}
