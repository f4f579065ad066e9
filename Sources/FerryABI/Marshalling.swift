import Dispatch
import FerryCore
import FerryJSON
import FerryRuntime

#if canImport(Glibc)
import Glibc
#endif

public typealias CString = UnsafePointer<CChar>
public typealias OutString = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

/// Default input limit for functions that take no engine (engine functions use the engine's `limits`).
let defaultLimits = Limits()

/// Copies `text` into a malloc'd NUL-terminated buffer the host releases with `ferry_free`.
func cString(_ text: String) -> UnsafeMutablePointer<CChar>? {
    var text = text
    return text.withUTF8 { buf in
        guard let p = malloc(buf.count + 1)?.assumingMemoryBound(to: CChar.self) else { return nil }
        buf.withMemoryRebound(to: CChar.self) { src in
            if let base = src.baseAddress { p.update(from: base, count: buf.count) }
        }
        p[buf.count] = 0
        return p
    }
}

/// Writes the outcome to `out` (when the host gave one) and returns the status code.
func finish(_ result: Result<JSON, FerryError>, _ out: OutString?) -> Int32 {
    switch result {
    case .success(let value):
        out?.pointee = cString(value.serialized())
        return 0
    case .failure(let error):
        out?.pointee = cString(error.json.serialized())
        return error.code.status
    }
}

/// Reads a required C string argument: NULL, oversized and invalid UTF-8 are rejected with their own codes.
func readString(_ p: CString?, field: String, limits: Limits) throws(FerryError) -> String {
    guard let p else { throw FerryError(.invalidArgument, "\(field): must not be NULL", details: ["field": .string(field)]) }
    // Bounded scan: a missing terminator in a huge buffer must not be read past the limit.
    let n = strnlen(p, limits.maxInputBytes + 1)
    if n > limits.maxInputBytes {
        throw FerryError(.tooLarge, "\(field): larger than the limit of \(limits.maxInputBytes) bytes",
                         details: ["field": .string(field), "limit": .int(limits.maxInputBytes)])
    }
    let buf = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
    if let bad = firstInvalidUTF8Offset(buf) {
        throw FerryError(.invalidUTF8, "\(field): invalid UTF-8 at byte \(bad)",
                         details: ["field": .string(field), "offset": .int(bad)])
    }
    return String(decoding: buf, as: UTF8.self)
}

/// Reads an optional C string argument (NULL means absent).
func readOptionalString(_ p: CString?, field: String, limits: Limits) throws(FerryError) -> String? {
    guard p != nil else { return nil }
    return try readString(p, field: field, limits: limits)
}

/// Reads and parses a JSON argument. NULL or an empty string yields `absent` when given, else an error.
func readJSON(_ p: CString?, field: String, limits: Limits, absent: JSON? = nil) throws(FerryError) -> JSON {
    if p == nil, let absent { return absent }
    let text = try readString(p, field: field, limits: limits)
    if text.isEmpty, let absent { return absent }
    do {
        return try JSONParser.parse(text, maxDepth: limits.maxDepth)
    } catch {
        throw FerryError.from(error, field: field)
    }
}

/// A one-shot box for handing a result from a task back to the blocked host thread.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    var value: T?
}

/// Runs async work to completion for a blocking C caller. The host thread waits on a semaphore while the
/// work runs on Swift's cooperative pool; host threads are never pool threads, so this cannot starve the pool
/// unless a host calls back into Ferry from a Ferry callback, which `CallbackGuard` refuses.
/// `preferring` runs the work on that executor instead of the global pool; `ferry_call` passes the provider
/// client's event loop, so a call makes no thread hand-off. Never pass it for work that blocks (SQLite, waits).
func blocking(preferring executor: (any TaskExecutor)? = nil,
              _ work: @escaping @Sendable () async throws(FerryError) -> JSON) -> Result<JSON, FerryError> {
    do throws(FerryError) { try CallbackGuard.refuseInsideCallback() } catch { return .failure(error) }
    let box = ResultBox<Result<JSON, FerryError>>()
    let done = DispatchSemaphore(value: 0)
    Task.detached(executorPreference: executor) {
        do throws(FerryError) {
            box.value = .success(try await work())
        } catch {
            box.value = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return box.value ?? .failure(.internal("lost result"))
}

/// Runs a synchronous body and converts any thrown FerryError into a status, so no Swift error escapes to C.
func guarded(_ out: OutString?, _ body: () throws(FerryError) -> JSON) -> Int32 {
    out?.pointee = nil
    do throws(FerryError) {
        return finish(.success(try body()), out)
    } catch {
        return finish(.failure(error), out)
    }
}

/// Marks the current thread as running a host callback, so a re-entrant blocking call fails fast instead of
/// deadlocking the cooperative pool.
enum CallbackGuard {
    nonisolated(unsafe) static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    static var isInsideCallback: Bool { pthread_getspecific(key) != nil }

    /// Blocking calls from a callback would wait on work that needs the very thread the callback holds.
    static func refuseInsideCallback() throws(FerryError) {
        if isInsideCallback {
            throw FerryError(.busy, "re-entrant call: blocking Ferry functions must not be called from inside a Ferry callback")
        }
    }

    static func run(_ body: () -> Void) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(key, previous)
    }
}

extension Result where Success == JSON, Failure == FerryError {
    var statusCode: Int32 {
        switch self {
        case .success: return 0
        case .failure(let e): return e.code.status
        }
    }
}
