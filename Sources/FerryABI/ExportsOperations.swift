// C entry points for the operations catalog, provider calls and the emulator.
import FerryCatalog
import FerryCore
import FerryEmulator
import FerryJSON
import FerryRuntime

let emulators = HandleTable<Emulator>(kind: "emulator", base: 0x20_0000)

@_cdecl("ferry_ops")
public func ferry_ops(_ name: CString?, _ out: OutString?) -> Int32 {
    guarded(out) { () throws(FerryError) -> JSON in
        guard let name = try readOptionalString(name, field: "name", limits: defaultLimits), !name.isEmpty else {
            return Catalog.summaryJSON
        }
        guard let op = Catalog.operation(name) else {
            throw FerryError(.notFound, "name: no operation named '\(name)' (ferry_ops(NULL, ...) lists them)",
                             details: ["field": "name"])
        }
        return op.json
    }
}

@_cdecl("ferry_call")
public func ferry_call(_ handle: OpaquePointer?, _ operation: CString?, _ paramsJSON: CString?,
                       _ optionsJSON: CString?, _ out: OutString?) -> Int32 {
    out?.pointee = nil
    let prepared: Result<(Engine, String, JSON, Bool), FerryError> = Result { () throws(FerryError) in
        let engine = try engines.lookup(handle)
        let op = try readString(operation, field: "operation", limits: engine.limits)
        let params = try readJSON(paramsJSON, field: "params", limits: engine.limits, absent: [:])
        let options = try readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:])
        let reveal = try Options(options, field: "options").bool("reveal_secrets") ?? false
        return (engine, op, params, reveal)
    }
    switch prepared {
    case .failure(let e): return finish(.failure(e), out)
    case .success(let (engine, op, params, reveal)):
        return finish(blocking { () throws(FerryError) -> JSON in
            try await engine.call(op, params: params, revealSecrets: reveal)
        }, out)
    }
}

@_cdecl("ferry_emulator_start")
public func ferry_emulator_start(_ configJSON: CString?, _ outEmulator: UnsafeMutablePointer<OpaquePointer?>?,
                                 _ out: OutString?) -> Int32 {
    outEmulator?.pointee = nil
    out?.pointee = nil
    let prepared: Result<Emulator, FerryError> = Result { () throws(FerryError) in
        guard outEmulator != nil else { throw FerryError.invalidArgument("out_emulator", "must not be NULL") }
        let config = try readJSON(configJSON, field: "config", limits: defaultLimits, absent: [:])
        return Emulator(config: try EmulatorConfig(json: config))
    }
    switch prepared {
    case .failure(let e): return finish(.failure(e), out)
    case .success(let emulator):
        let started = blocking { () throws(FerryError) -> JSON in try await emulator.start() }
        if case .success = started { outEmulator?.pointee = emulators.insert(emulator) }
        return finish(started, out)
    }
}

@_cdecl("ferry_emulator_stop")
public func ferry_emulator_stop(_ handle: OpaquePointer?) -> Int32 {
    do throws(FerryError) {
        let emulator = try emulators.remove(handle)
        _ = blocking { await emulator.stop(); return .null }
        return 0
    } catch {
        return error.code.status
    }
}

/// Reads typed fields of an options object, rejecting unknown ones by name.
struct Options {
    let object: JSONObject
    let field: String

    init(_ value: JSON, field: String, allowed: Set<String>? = nil) throws(FerryError) {
        guard case .object(let o) = value else { throw FerryError.invalidArgument(field, "expected a JSON object") }
        if let allowed {
            for k in o.keys where !allowed.contains(k) {
                throw FerryError.invalidArgument("\(field).\(k)", "unknown field")
            }
        }
        self.object = o
        self.field = field
    }

    func bool(_ key: String) throws(FerryError) -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw FerryError.invalidArgument("\(field).\(key)", "expected true or false") }
        return b
    }
}
