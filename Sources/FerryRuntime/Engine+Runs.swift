import FerryCore
import FerryJSON

/// Durable runs on the engine: thin forwarding to `runs` (RunManager), so hosts can call them on the Engine.
/// Every function takes and returns JSON; errors are FerryErrors with stable codes.
extension Engine {
    public func validateWorkflow(_ doc: JSON) throws(FerryError) -> JSON { try runs.validateWorkflow(doc) }

    /// Records a new run; `options`: `run_id`, `advance`/`drive` (do work at once), `budget_seconds`.
    public func startRun(workflow: JSON, inputs: JSON, options: JSON) async throws(FerryError) -> JSON {
        try await runs.startRun(workflow: workflow, inputs: inputs, options: options)
    }

    /// One unit of work; `options.secrets` re-supplies secret inputs after a restart.
    public func advanceRun(_ runID: String, options: JSON) async throws(FerryError) -> JSON {
        try await runs.advanceRun(runID, options: options)
    }

    /// Units until done / failed / gate / needs attention / `options.budget_seconds` spent.
    public func driveRun(_ runID: String, options: JSON) async throws(FerryError) -> JSON {
        try await runs.driveRun(runID, options: options)
    }

    public func runStatus(_ runID: String) throws(FerryError) -> JSON { try runs.runStatus(runID) }
    public func listRuns(_ filter: JSON) throws(FerryError) -> JSON { try runs.listRuns(filter) }
    public func runHistory(_ runID: String, options: JSON) throws(FerryError) -> JSON { try runs.runHistory(runID, options: options) }

    public func cancelRun(_ runID: String, reason: String?) async throws(FerryError) -> JSON {
        try await runs.cancelRun(runID, reason: reason)
    }

    public func signalRun(_ runID: String, name: String, payload: JSON) throws(FerryError) -> JSON {
        try runs.signalRun(runID, name: name, payload: payload)
    }
}
