import FerryCore
import FerryJSON
import Synchronization

/// Maps the opaque pointers handed to hosts to live objects. A handle is a token, not an address, so a
/// closed, double-closed or made-up handle is detected and reported instead of dereferenced.
final class HandleTable<Object: AnyObject & Sendable>: Sendable {
    private struct State {
        var live: [UInt: Object] = [:]
        var next: UInt
    }

    private let kind: String
    private let base: UInt
    private static var stride: UInt { 16 }
    private let state: Mutex<State>

    init(kind: String, base: UInt) {
        self.kind = kind
        self.base = base
        self.state = Mutex(State(next: base))
    }

    func insert(_ object: Object) -> OpaquePointer {
        let id = state.withLock { s -> UInt in
            let id = s.next
            s.next += Self.stride
            s.live[id] = object
            return id
        }
        return OpaquePointer(bitPattern: id)!
    }

    /// The live object for `handle`, or `closed` / `invalid_argument` explaining why there is none.
    func lookup(_ handle: OpaquePointer?) throws(FerryError) -> Object {
        guard let handle else { throw FerryError(.invalidArgument, "\(kind): must not be NULL", details: ["field": .string(kind)]) }
        let id = UInt(bitPattern: handle)
        let found: Object?? = state.withLock { s in
            if let o = s.live[id] { return .some(o) }
            return self.wasIssued(id, next: s.next) ? .some(nil) : nil
        }
        switch found {
        case .some(.some(let o)): return o
        case .some(.none): throw FerryError(.closed, "\(kind): already closed", details: ["field": .string(kind)])
        case .none: throw FerryError(.invalidArgument, "\(kind): not a handle issued by Ferry", details: ["field": .string(kind)])
        }
    }

    /// Removes and returns the object; a second removal reports `closed`.
    func remove(_ handle: OpaquePointer?) throws(FerryError) -> Object {
        let object = try lookup(handle)
        let id = UInt(bitPattern: handle)
        let removed = state.withLock { $0.live.removeValue(forKey: id) }
        // Two threads closing at once: only one gets the object.
        guard removed != nil else { throw FerryError(.closed, "\(kind): already closed", details: ["field": .string(kind)]) }
        return object
    }

    private func wasIssued(_ id: UInt, next: UInt) -> Bool {
        id >= base && id < next && (id - base) % Self.stride == 0
    }
}
