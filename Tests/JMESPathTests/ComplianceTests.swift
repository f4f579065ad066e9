import FerryJSON
import Foundation
import JMESPath
import XCTest

/// Runs every case of the JMESPath compliance suite kept in shared/jmespath-compliance (beside the repo).
final class ComplianceTests: XCTestCase {
    static var suiteDirectory: URL {
        // Tests/JMESPathTests/ComplianceTests.swift -> repo root -> its parent, which holds shared/.
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("shared/jmespath-compliance")
    }

    func testComplianceSuite() throws {
        let dir = Self.suiteDirectory
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") && $0 != "schema.json" }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 15, "compliance files not found in \(dir.path)")

        var total = 0
        var failures: [String] = []
        for file in files {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            let suites = try JSON.parse(text)
            guard case .array(let groups) = suites else { XCTFail("\(file): not a list of suites"); continue }
            for (g, group) in groups.enumerated() {
                let given = group["given"] ?? .null
                guard case .array(let cases)? = group["cases"] else { XCTFail("\(file)#\(g): no cases"); continue }
                for c in cases {
                    guard let expr = c["expression"]?.stringValue else { continue }
                    if c["bench"] != nil && c["result"] == nil && c["error"] == nil { continue }
                    total += 1
                    let label = "\(file)#\(g) \(expr.debugDescription)"
                    if let expectedError = c["error"]?.stringValue {
                        do {
                            let r = try Expression(compiling: expr).evaluate(given)
                            failures.append("\(label): expected \(expectedError) error, got \(r)")
                        } catch {
                            if error.kind.rawValue != expectedError {
                                failures.append("\(label): expected \(expectedError) error, got \(error.kind.rawValue): \(error.message)")
                            }
                        }
                    } else {
                        let expected = c["result"] ?? .null
                        do {
                            let r = try Expression(compiling: expr).evaluate(given)
                            if r != expected { failures.append("\(label): expected \(expected), got \(r)") }
                        } catch {
                            failures.append("\(label): expected \(expected), got error \(error)")
                        }
                    }
                }
            }
        }
        print("JMESPath compliance: \(total - failures.count)/\(total) cases passed across \(files.count) files")
        XCTAssertGreaterThan(total, 700)
        XCTAssert(failures.isEmpty, "\(failures.count) of \(total) compliance cases failed:\n" + failures.joined(separator: "\n"))
    }
}
