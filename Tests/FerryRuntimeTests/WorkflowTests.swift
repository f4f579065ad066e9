import FerryCore
import FerryJSON
import XCTest
@testable import FerryRuntime

final class WorkflowTests: XCTestCase {
    func testDurations() {
        XCTAssertEqual(Durations.parse("250ms"), 0.25)
        XCTAssertEqual(Durations.parse("30s"), 30)
        XCTAssertEqual(Durations.parse("5m"), 300)
        XCTAssertEqual(Durations.parse("1h30m"), 5400)
        XCTAssertEqual(Durations.parse(.int(7)), 7)
        XCTAssertNil(Durations.parse("5 parsecs"))
        XCTAssertNil(Durations.parse(.int(-1)))
        XCTAssertEqual(Durations.parseRFC3339("1970-01-01T00:01:00Z"), 60)
        XCTAssertEqual(Durations.parseRFC3339("2026-11-22T15:00:00+01:00"), Durations.parseRFC3339("2026-11-22T14:00:00Z"))
        XCTAssertEqual(Durations.format(1_700_000_000.5), "2023-11-14T22:13:20.500Z")
        // Huge values are invalid, not a later Int-conversion trap (status, lease errors, timeouts).
        XCTAssertNil(Durations.parse("1e300"))
        XCTAssertNil(Durations.parse(.double(1e20)))
        XCTAssertNil(Durations.parse("99999999999999999999h"))
        XCTAssertEqual(Durations.parse("36500d"), 36500 * 86400)
        XCTAssertNil(Durations.parseTime(.double(1e300)))
        XCTAssertNil(Durations.parseTime(.double(-1e20)))
        XCTAssertEqual(Durations.format(1e300), "9999-12-31T23:59:59.000Z")
        XCTAssertEqual(Durations.format(.nan), "1970-01-01T00:00:00.000Z")
    }

    func testYAMLAliasExpansionIsRefused() throws {
        // An alias that copies a block larger than its own text is refused.
        let block = (0..<20).map { "  k\($0): v" }.joined(separator: "\n")
        XCTAssertThrowsError(try doc("ferry: 1\nx: &a\n\(block)\ny: [\(Array(repeating: "*a", count: 40).joined(separator: ", "))]\nsteps: []\n")) { e in
            XCTAssertEqual((e as? FerryError)?.code, .invalidWorkflow)
            XCTAssertTrue((e as? FerryError)?.message.contains("aliases are not supported") ?? false, "\(e)")
        }
        // Dense flow documents are within the budget.
        XCTAssertNoThrow(try doc("ferry: 1\nsteps: [{id: a, set: {x: [1, 2, {}, [], {a}, [b: 1]]}}]\n"))
        // Nested aliases would expand to 10^9 values; refused at once instead.
        var lines = ["ferry: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 { lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]") }
        XCTAssertThrowsError(try doc(lines.joined(separator: "\n") + "\nsteps: []\n")) { e in
            XCTAssertEqual((e as? FerryError)?.code, .invalidWorkflow)
        }
    }

    func testHugeWaitIsAStructuredErrorNotATrap() async throws {
        let m = try makeManager(FakeInvoker(), clock: ManualClock(autoAdvance: true))
        await XCTAssertThrowsFerry(.invalidWorkflow, {
            try await m.startRun(workflow: ["ferry": 1, "steps": [["id": "w", "wait": 1e20]]], inputs: nil, options: ["run_id": "a"])
        })
        // A wait.until resolved at run time from an input: the step fails with invalid_argument; status still renders.
        let wf: JSON = ["ferry": 1, "inputs": ["at": ["type": "number"]], "steps": [["id": "w", "wait": ["until": "${inputs.at}"]]]]
        _ = try await m.startRun(workflow: wf, inputs: ["at": .double(1e300)], options: ["run_id": "b"])
        let s = try await m.driveRun("b")
        XCTAssertEqual(s["status"], "failed")
        XCTAssertEqual(s["error"]?["code"], "invalid_argument")
    }

    func testTemplatesWholeEmbeddedAndEscape() throws {
        let ctx: JSON = ["inputs": ["n": 3, "name": "alpha", "list": [1, 2]], "vars": ["x": nil]]
        let whole = try TemplateCompiler.compile("${ inputs.list }", location: "t")
        XCTAssertEqual(try whole.resolve(ctx, location: "t"), [1, 2])
        let num = try TemplateCompiler.compile("${inputs.n}", location: "t")
        XCTAssertEqual(try num.resolve(ctx, location: "t"), 3)
        let text = try TemplateCompiler.compile("task-${inputs.name}-${inputs.n}-${inputs.list}-${vars.x}", location: "t")
        XCTAssertEqual(try text.resolve(ctx, location: "t"), "task-alpha-3-[1,2]-")
        let esc = try TemplateCompiler.compile("$${literal} ${inputs.name}", location: "t")
        XCTAssertEqual(try esc.resolve(ctx, location: "t"), "${literal} alpha")
        let obj = try TemplateCompiler.compile(["a": "${ {k: inputs.name} }", "b": ["${inputs.n}", "x"]], location: "t")
        XCTAssertEqual(try obj.resolve(ctx, location: "t"), ["a": ["k": "alpha"], "b": [3, "x"]])
        XCTAssertThrowsError(try TemplateCompiler.compile("${ inputs.n", location: "t"))
    }

    func testValidationErrorsHaveLocations() throws {
        let inv = FakeInvoker()
        let m = try makeManager(inv, clock: ManualClock())
        func errors(_ d: JSON) -> [String] {
            do { _ = try m.validateWorkflow(d); return [] } catch {
                return error.details["errors"]?.arrayValue?.compactMap { e in
                    "\(e["location"]?.stringValue ?? ""): \(e["message"]?.stringValue ?? "")"
                } ?? [error.message]
            }
        }
        let bad: JSON = [
            "ferry": 1, "inputs": ["region": ["type": "string"]],
            "steps": [
                ["id": "create", "call": "svc.Create", "with": ["name": "x", "region": "${inputs.region}"]],
                ["id": "use", "call": "svc.Get", "with": ["task_id": "${steps.crate.output.id}"]],
                ["id": "wait", "poll": "svc.Status", "interval": "5s", "until": "output.status == 'DONE' &&"],
                ["id": "use", "set": ["x": 1]],
                ["id": "bogus", "call": "svc.Nope"],
                ["id": "two", "call": "svc.Get", "wait": "5s"],
                ["id": "cond", "assert": "vars.y == `1`", "if": "inputs.zone"],
                ["id": "d", "wait": "5 parsecs"],
                ["id": "fwd", "call": "svc.Get", "with": ["x": "${steps.later.output}"], "retry": ["max_attempts": 0]],
                ["id": "later", "gate": "go", "extra": true],
            ],
        ]
        let errs = errors(bad)
        let expect = [
            "steps[1].with.task_id: unknown reference steps.crate",
            "steps[2].until: syntax error at column",
            "steps[3].id: duplicate step id 'use' (first used at steps[1])",
            "steps[4].call: unknown operation 'svc.Nope'",
            "steps[5]: a step has exactly one kind, found: call, wait",
            "steps[6].if: unknown reference inputs.zone",
            "steps[6].assert: unknown reference vars.y",
            "steps[7].wait: invalid duration",
            "steps[8].retry.max_attempts: expected an integer from 1 to 1000",
            "steps[8].with.x: reference steps.later is to a step that has not run yet",
            "steps[9].extra: unknown field for a gate step",
        ]
        for e in expect { XCTAssertTrue(errs.contains { $0.hasPrefix(e) }, "missing: \(e)\n got: \(errs)") }
        // The thrown error names the first problem and its location.
        do { _ = try m.validateWorkflow(bad); XCTFail() } catch {
            XCTAssertEqual(error.code, .invalidWorkflow)
            XCTAssertEqual(error.details["location"], "steps[1].with.task_id")
        }
        // Column of a syntax error inside an embedded template is the column in the field's string.
        let t: JSON = ["ferry": 1, "steps": [["id": "a", "set": ["v": "abc ${ foo[ }"]]]]
        XCTAssertTrue(errors(t).first?.hasPrefix("steps[0].set.v: syntax error at column") ?? false, "\(errors(t))")
        XCTAssertTrue(errors(["steps": [["id": "a", "set": ["v": 1]]]]).contains { $0.hasPrefix("ferry: missing format version") })
        XCTAssertTrue(errors(["ferry": 2, "steps": [["id": "a", "set": ["v": 1]]]]).contains { $0.hasPrefix("ferry: unsupported format version") })
        XCTAssertTrue(errors(["ferry": 1, "steps": []]).contains { $0.hasPrefix("steps: expected at least one step") })
        XCTAssertTrue(errors(["ferry": 1, "stepz": []]).contains { $0.hasPrefix("stepz: unknown field") })
        // An input named like a secret must say whether it is one, so a password is never stored by omission.
        let steps: JSON = [["id": "a", "set": ["v": 1]]]
        XCTAssertTrue(errors(["ferry": 1, "inputs": ["redis_password": ["type": "string"]], "steps": steps])
            .contains { $0.hasPrefix("inputs.redis_password: the name looks like a secret") }, "\(errors(["ferry": 1]))")
        XCTAssertEqual(errors(["ferry": 1, "inputs": ["redis_password": ["type": "string", "secret": true]], "steps": steps]), [])
        XCTAssertEqual(errors(["ferry": 1, "inputs": ["page_token": ["type": "string", "secret": false]], "steps": steps]), [])
        XCTAssertEqual(errors(["ferry": 1, "inputs": ["region": ["type": "string"]], "steps": steps]), [])
    }

    func testYAMLDocumentValidates() throws {
        let yaml = """
        ferry: 1
        name: demo
        inputs:
          region: {type: string, default: cn-hangzhou}
          count: {type: integer, required: false}
          password: {type: string, secret: true}
        steps:
          - id: list
            call: svc.List
            with: {region: "${inputs.region}"}
          - id: check
            assert: "length(steps.list.output.items || `[]`) >= `0`"
        """
        let m = try makeManager(FakeInvoker(), clock: ManualClock())
        let v = try m.validateWorkflow(try doc(yaml))
        XCTAssertEqual(v["name"], "demo")
        XCTAssertEqual(v["steps"]?.arrayValue?.count, 2)
        XCTAssertEqual(v["inputs"]?[2]?["secret"], true)
        // Also accepts the YAML text itself.
        XCTAssertEqual(try m.validateWorkflow(.string(yaml))["valid"], true)
        XCTAssertThrowsError(try WorkflowLoader.parse(text: "ferry: 1\nsteps: [\n")) { e in
            XCTAssertEqual((e as? FerryError)?.code, .invalidWorkflow)
        }
    }
}
