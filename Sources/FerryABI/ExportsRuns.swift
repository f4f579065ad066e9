// C entry points for durable runs. Each takes an engine and returns the run's status (or list, history) JSON.
import FerryCore
import FerryJSON
import FerryRuntime

/// Looks up the engine, reads the arguments on the calling thread, then runs the work for a blocking caller.
private func runCall(_ handle: OpaquePointer?, _ out: OutString?,
                     _ read: (Engine) throws(FerryError) -> @Sendable () async throws(FerryError) -> JSON) -> Int32 {
    out?.pointee = nil
    let work: Result<@Sendable () async throws(FerryError) -> JSON, FerryError> = Result { () throws(FerryError) in
        let engine = try engines.lookup(handle)
        return try read(engine)
    }
    switch work {
    case .failure(let e): return finish(.failure(e), out)
    case .success(let w): return finish(blocking(w), out)
    }
}

@_cdecl("ferry_validate")
public func ferry_validate(_ handle: OpaquePointer?, _ workflowJSON: CString?, _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let doc = try readJSON(workflowJSON, field: "workflow", limits: engine.limits)
        return { () throws(FerryError) -> JSON in try engine.runs.validateWorkflow(doc) }
    }
}

@_cdecl("ferry_run_start")
public func ferry_run_start(_ handle: OpaquePointer?, _ workflowJSON: CString?, _ inputsJSON: CString?,
                            _ optionsJSON: CString?, _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let doc = try readJSON(workflowJSON, field: "workflow", limits: engine.limits)
        let inputs = try readJSON(inputsJSON, field: "inputs", limits: engine.limits, absent: [:])
        let options = try checkOptions(readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:]),
                                       field: "options", schema: OptionSchemas.start)
        return { () throws(FerryError) -> JSON in try await engine.runs.startRun(workflow: doc, inputs: inputs, options: options) }
    }
}

@_cdecl("ferry_run_advance")
public func ferry_run_advance(_ handle: OpaquePointer?, _ runID: CString?, _ optionsJSON: CString?,
                              _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        let options = try checkOptions(readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:]),
                                       field: "options", schema: OptionSchemas.advance)
        return { () throws(FerryError) -> JSON in try await engine.runs.advanceRun(id, options: options) }
    }
}

@_cdecl("ferry_run_drive")
public func ferry_run_drive(_ handle: OpaquePointer?, _ runID: CString?, _ optionsJSON: CString?,
                            _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        let options = try checkOptions(readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:]),
                                       field: "options", schema: OptionSchemas.drive)
        return { () throws(FerryError) -> JSON in try await engine.runs.driveRun(id, options: options) }
    }
}

@_cdecl("ferry_run_status")
public func ferry_run_status(_ handle: OpaquePointer?, _ runID: CString?, _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        return { () throws(FerryError) -> JSON in try engine.runs.runStatus(id) }
    }
}

@_cdecl("ferry_run_list")
public func ferry_run_list(_ handle: OpaquePointer?, _ filterJSON: CString?, _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let filter = try readJSON(filterJSON, field: "filter", limits: engine.limits, absent: [:])
        return { () throws(FerryError) -> JSON in try engine.runs.listRuns(filter) }
    }
}

@_cdecl("ferry_run_history")
public func ferry_run_history(_ handle: OpaquePointer?, _ runID: CString?, _ optionsJSON: CString?,
                              _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        let options = try checkOptions(readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:]),
                                       field: "options", schema: OptionSchemas.history)
        return { () throws(FerryError) -> JSON in try engine.runs.runHistory(id, options: options) }
    }
}

@_cdecl("ferry_run_cancel")
public func ferry_run_cancel(_ handle: OpaquePointer?, _ runID: CString?, _ reason: CString?,
                             _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        let why = try readOptionalString(reason, field: "reason", limits: engine.limits)
        return { () throws(FerryError) -> JSON in try await engine.runs.cancelRun(id, reason: why) }
    }
}

@_cdecl("ferry_run_signal")
public func ferry_run_signal(_ handle: OpaquePointer?, _ runID: CString?, _ name: CString?,
                             _ payloadJSON: CString?, _ out: OutString?) -> Int32 {
    runCall(handle, out) { engine throws(FerryError) in
        let id = try readString(runID, field: "run_id", limits: engine.limits)
        let signal = try readString(name, field: "name", limits: engine.limits)
        let payload = try readJSON(payloadJSON, field: "payload", limits: engine.limits, absent: .null)
        return { () throws(FerryError) -> JSON in try engine.runs.signalRun(id, name: signal, payload: payload) }
    }
}
