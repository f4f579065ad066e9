import ArgumentParser

/// `ferry`: drive migration runbooks, call provider operations, query JSON, run the emulator.
/// Exit codes: see `ExitCodes`.
@main
struct Ferry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "Durable, resumable cloud migration runbooks.",
        version: FerryVersion.string,
        subcommands: [VersionCommand.self, QueryCommand.self, ErrorsCommand.self] + extraCommands
    )
}
