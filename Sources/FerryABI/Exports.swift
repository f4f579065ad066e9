// The C entry points declared in Include/ferry.h. Each one converts its arguments, runs Swift, and turns
// every outcome into a status code plus a JSON string; no Swift error or trap may cross into the host.
import FerryCore
import FerryJSON
import FerryRuntime
import Logging

#if canImport(Glibc)
import Glibc
#endif

public let ferryVersionMajor: Int32 = 0
public let ferryVersionMinor: Int32 = 1
public let ferryVersionPatch: Int32 = 0
let versionString: StaticString = "0.1.0"

// Each kind of handle lives in its own range (2^36 handles each), so one kind is never mistaken for another.
let engines = HandleTable<Engine>(kind: "engine", base: 0x1000_0000_0000)

@_cdecl("ferry_version")
public func ferry_version() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("ferry_version_number")
public func ferry_version_number() -> Int32 {
    ferryVersionMajor * 10000 + ferryVersionMinor * 100 + ferryVersionPatch
}

@_cdecl("ferry_error_name")
public func ferry_error_name(_ status: Int32) -> UnsafePointer<CChar> {
    let name: StaticString
    switch status {
    case 0: name = "ok"
    case -1: name = "invalid_json"
    case -2: name = "invalid_argument"
    case -3: name = "not_found"
    case -4: name = "closed"
    case -5: name = "internal"
    case -6: name = "too_large"
    case -7: name = "invalid_utf8"
    case -8: name = "busy"
    case -9: name = "timeout"
    case -10: name = "cancelled"
    case -11: name = "unsupported"
    case -20: name = "invalid_expression"
    case -21: name = "expression_failed"
    case -30: name = "throttled"
    case -31: name = "unavailable"
    case -32: name = "auth_failed"
    case -33: name = "permission_denied"
    case -34: name = "conflict"
    case -35: name = "provider_error"
    case -36: name = "missing_credentials"
    case -50: name = "invalid_workflow"
    case -51: name = "run_failed"
    case -52: name = "needs_attention"
    case -53: name = "missing_input"
    case -54: name = "store_error"
    case -70: name = "emulator_error"
    default: name = "unknown"
    }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("ferry_free")
public func ferry_free(_ p: UnsafeMutableRawPointer?) {
    free(p)
}

@_cdecl("ferry_engine_open")
public func ferry_engine_open(_ configJSON: CString?, _ outEngine: UnsafeMutablePointer<OpaquePointer?>?,
                              _ outError: OutString?) -> Int32 {
    outEngine?.pointee = nil
    return guarded(outError) { () throws(FerryError) -> JSON in
        guard let outEngine else { throw FerryError.invalidArgument("out_engine", "must not be NULL") }
        let config = try readJSON(configJSON, field: "config", limits: defaultLimits, absent: [:])
        let engine = try Engine(config: config)
        outEngine.pointee = engines.insert(engine)
        return .null
    }.clearingSuccessOutput(outError)
}

@_cdecl("ferry_engine_close")
public func ferry_engine_close(_ handle: OpaquePointer?) -> Int32 {
    do throws(FerryError) {
        // Refuse before removing the handle: a refused close must leave the engine open and usable.
        try CallbackGuard.refuseInsideCallback()
        let engine = try engines.remove(handle)
        return blocking { await engine.shutdown(); return .null }.statusCode
    } catch {
        return error.code.status
    }
}

@_cdecl("ferry_engine_set_log_hook")
public func ferry_engine_set_log_hook(
    _ handle: OpaquePointer?, _ minLevel: Int32,
    _ callback: (@convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void)?,
    _ userData: UnsafeMutableRawPointer?, _ outError: OutString?
) -> Int32 {
    guarded(outError) { () throws(FerryError) -> JSON in
        let engine = try engines.lookup(handle)
        guard let level = LogLevels.level(minLevel) else {
            throw FerryError.invalidArgument("min_level", "expected FERRY_LOG_TRACE (0) to FERRY_LOG_OFF (7), got \(minLevel)")
        }
        guard let callback, minLevel < LogLevels.off else {
            engine.logHook.set(level: .critical, sink: nil)
            return .null
        }
        let target = HostCallback(fn: callback, userData: userData)
        engine.logHook.set(level: level) { level, record in
            let text = record.serialized()
            CallbackGuard.run {
                text.withCString { target.fn(target.userData, LogLevels.number(level), $0) }
            }
        }
        return .null
    }.clearingSuccessOutput(outError)
}

/// A host function pointer and its context, carried into Swift tasks.
struct HostCallback: @unchecked Sendable {
    let fn: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void
    let userData: UnsafeMutableRawPointer?
}

enum LogLevels {
    static let order: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
    static let off: Int32 = 7
    static func level(_ n: Int32) -> Logger.Level? {
        if n == off { return .critical }
        return n >= 0 && Int(n) < order.count ? order[Int(n)] : nil
    }
    static func number(_ l: Logger.Level) -> Int32 { Int32(order.firstIndex(of: l) ?? 0) }
}

@_cdecl("ferry_query")
public func ferry_query(_ expression: CString?, _ documentJSON: CString?, _ out: OutString?) -> Int32 {
    guarded(out) { () throws(FerryError) -> JSON in
        let expr = try readString(expression, field: "expression", limits: defaultLimits)
        let data = try readJSON(documentJSON, field: "document", limits: defaultLimits)
        return try Engine.query(expr, data)
    }
}

extension Int32 {
    /// Functions whose success carries no result leave `*out` NULL on success.
    func clearingSuccessOutput(_ out: OutString?) -> Int32 {
        if self == 0, let p = out?.pointee {
            free(p)
            out?.pointee = nil
        }
        return self
    }
}
