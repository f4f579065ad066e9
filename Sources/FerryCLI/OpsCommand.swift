import ArgumentParser
import FerryCatalog
import FerryCore
import FerryJSON

/// `ferry ops` lists the catalog; `ferry ops NAME` prints one operation's full entry as JSON.
struct OpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "List the provider operations, or show one as JSON.")
    @Argument(help: "Operation name, e.g. huawei.dcs.ShowMigrationTask.") var name: String?
    @Flag(help: "Compact JSON output.") var compact = false

    func run() throws {
        let options: JSONWriteOptions = compact ? [] : [.pretty]
        guard let name else {
            print(Catalog.summaryJSON.serialized(options))
            return
        }
        guard let op = Catalog.operation(name) else {
            throw CLIError(FerryError(.notFound, "unknown operation \(name) (run `ferry ops` for the list)",
                                      details: ["operation": .string(name)]))
        }
        print(op.json.serialized(options))
    }
}
