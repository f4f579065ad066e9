// C entry points for the operations catalog, provider calls and the emulator.
import FerryCatalog
import FerryCore
import FerryEmulator
import FerryJSON
import FerryRuntime

let emulators = HandleTable<Emulator>(kind: "emulator", base: 0x2000_0000_0000)

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
        let options = try checkOptions(readJSON(optionsJSON, field: "options", limits: engine.limits, absent: [:]),
                                       field: "options", schema: OptionSchemas.call)
        let reveal = options["reveal_secrets"]?.boolValue ?? false
        return (engine, op, params, reveal)
    }
    switch prepared {
    case .failure(let e): return finish(.failure(e), out)
    case .success(let (engine, op, params, reveal)):
        return finish(blocking(preferring: engine.providers.preferredTaskExecutor()) { () throws(FerryError) -> JSON in
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
        try CallbackGuard.refuseInsideCallback()
        let emulator = try emulators.remove(handle)
        return blocking { await emulator.stop(); return .null }.statusCode
    } catch {
        return error.code.status
    }
}

/// The options objects hosts may pass, field by field: an unknown field or a wrongly typed value is an
/// `invalid_argument` naming it, never silently ignored.
enum OptionKind {
    case bool, string, nonNegativeNumber, positiveInteger, nonNegativeInteger, stringMap
}

enum OptionSchemas {
    static let call: [String: OptionKind] = ["reveal_secrets": .bool]
    static let start: [String: OptionKind] = [
        "run_id": .string, "drive": .bool, "advance": .bool, "secrets": .stringMap, "budget_seconds": .nonNegativeNumber,
        "max_units": .positiveInteger,
    ]
    static let advance: [String: OptionKind] = ["secrets": .stringMap]
    static let drive: [String: OptionKind] = ["secrets": .stringMap, "budget_seconds": .nonNegativeNumber, "max_units": .positiveInteger]
    static let history: [String: OptionKind] = ["after_seq": .nonNegativeInteger, "limit": .positiveInteger]
}

/// Checks an options object against its schema and returns it unchanged.
@discardableResult
func checkOptions(_ value: JSON, field: String, schema: [String: OptionKind]) throws(FerryError) -> JSON {
    guard case .object(let o) = value else {
        throw FerryError.invalidArgument(field, "expected a JSON object, got \(value.typeName)")
    }
    for (key, v) in o {
        let name = "\(field).\(key)"
        guard let kind = schema[key] else {
            throw FerryError.invalidArgument(name, "unknown field (expected one of: \(schema.keys.sorted().joined(separator: ", ")))")
        }
        if v.isNull { continue }
        switch kind {
        case .bool:
            if v.boolValue == nil { throw FerryError.invalidArgument(name, "expected true or false") }
        case .string:
            if v.stringValue == nil { throw FerryError.invalidArgument(name, "expected a string") }
        case .nonNegativeNumber:
            guard let d = v.doubleValue, d >= 0 else { throw FerryError.invalidArgument(name, "expected a number >= 0") }
        case .positiveInteger:
            guard let n = v.numberValue, n.isIntegral, let i = n.int64Value, i >= 1 else {
                throw FerryError.invalidArgument(name, "expected an integer >= 1")
            }
        case .nonNegativeInteger:
            guard let n = v.numberValue, n.isIntegral, let i = n.int64Value, i >= 0 else {
                throw FerryError.invalidArgument(name, "expected an integer >= 0")
            }
        case .stringMap:
            guard case .object(let m) = v else { throw FerryError.invalidArgument(name, "expected an object of strings") }
            for (k, x) in m where x.stringValue == nil {
                throw FerryError.invalidArgument("\(name).\(k)", "expected a string")
            }
        }
    }
    return value
}
