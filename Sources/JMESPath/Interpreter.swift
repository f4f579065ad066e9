import FerryJSON

// The executable form of an expression: a tree of immutable final classes, each evaluating itself.
// Classes with `let` children (rather than enum payloads) let the optimizer read children without
// retain/release traffic, which dominated profiles of the enum-walking interpreter.
//
// Why `inout`: the value an op works on is passed `inout` purely so it can be handed over without a copy. With a
// plain or `borrowing` parameter Swift copies an array element before each call (retaining every buffer an
// object holds, then releasing them), and that reference counting was most of the cost of a projection. Ops
// never write to `v`. Array elements reach ops through `forEachElement`, which lends each one from a private
// scratch slot (see there), so the shared document itself is only ever read.

/// An evaluation node. Immutable after construction, hence safe to share between threads.
class Op: @unchecked Sendable {
    /// Evaluates against `v`. Implementations only read `v` (see the note above).
    func eval(_ v: inout JSON) throws(JMESPathError) -> JSON { v }

    /// Like `eval`, but `v` belongs to the caller and was freshly built by the previous step of a chain (a pipe
    /// or sub-expression), so no one else references it: the op may take it over and reuse its storage (sort,
    /// reverse, filter or slice an intermediate array in place). Whatever is left in `v` is discarded. Array
    /// mutation is copy-on-write, so this is only ever a performance matter, never a correctness one.
    func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON { try eval(&v) }

    /// Whether every array this op returns was freshly built (not shared with the input document).
    var returnsFresh: Bool { false }
}

/// Moves the value out of `v`, leaving null (no reference counting).
@inline(__always)
func take(_ v: inout JSON) -> JSON {
    var t = JSON.null
    swap(&t, &v)
    return t
}

/// Moves the array out of `v` (which must hold one) so that the result is uniquely referenced if `v` was.
@inline(__always)
func takeArray(_ v: inout JSON) -> [JSON] {
    guard case .array(let a) = take(&v) else { return [] }
    return a
}

/// Calls `body` with each element of `a`, without copying it (no reference counting per element).
///
/// Each element's bytes are copied into a private scratch slot that does not own them (no retain), and the slot
/// is lent to `body`; it is never deinitialized, so no release either. This is sound because `a` keeps every
/// element alive for the whole loop and ops never modify or consume the value they are given. The shared array
/// is only read, so concurrent evaluations over one document do not race (checked with ThreadSanitizer).
@inline(__always)
func forEachElement(_ a: [JSON], _ body: (inout JSON) throws(JMESPathError) -> Void) throws(JMESPathError) {
    try a.withUnsafeBufferPointer { (buf) throws(JMESPathError) in
        guard let start = buf.baseAddress else { return }
        try lendEach(UnsafeRawPointer(start), buf.count, body)
    }
}

/// Lends `count` JSON values stored contiguously at `start` to `body` through a scratch slot (see above).
@inline(__always)
func lendEach(_ start: UnsafeRawPointer, _ count: Int, _ body: (inout JSON) throws(JMESPathError) -> Void) throws(JMESPathError) {
    let stride = MemoryLayout<JSON>.stride
    // The slot lives on the stack and is never deinitialized: it never owned its contents.
    let failure = withUnsafeTemporaryAllocation(of: JSON.self, capacity: 1) { buf -> JMESPathError? in
        guard let slot = buf.baseAddress else { return evalError(.invalidValue, "no scratch slot") }
        let raw = UnsafeMutableRawPointer(slot)
        for i in 0..<count {
            raw.copyMemory(from: start + i * stride, byteCount: MemoryLayout<JSON>.size)
            do throws(JMESPathError) {
                try body(&slot.pointee)
            } catch {
                return error
            }
        }
        return nil
    }
    if let failure { throw failure }
}

/// Calls `body` with `value` lent through a scratch slot (see `lendEach`): no reference counting for the
/// evaluation's input. `value` stays alive (it is the caller's argument) for the whole call.
@inline(__always)
func lend(_ value: JSON, _ body: (inout JSON) throws(JMESPathError) -> JSON) throws(JMESPathError) -> JSON {
    let r = withUnsafePointer(to: value) { p -> Result<JSON, JMESPathError> in
        var out = JSON.null
        do throws(JMESPathError) {
            try lendEach(UnsafeRawPointer(p), 1) { (v) throws(JMESPathError) in out = try body(&v) }
        } catch {
            return .failure(error)
        }
        return .success(out)
    }
    return try r.get()
}

/// Errors raised while evaluating; `Expression.evaluate` adds the expression text.
@inline(never)
func evalError(_ kind: JMESPathError.Kind, _ message: String) -> JMESPathError {
    JMESPathError(kind: kind, message: message, column: nil, expression: "")
}

/// Child ops kept in arrays. `subscript` hands out a child as an unretained reference read straight from the
/// array's storage: loading a class reference out of an array retains and releases it around every call, and
/// that reference counting on the shared tree was a large part of small evaluations. The array keeps every
/// child alive for the lifetime of the op.
struct OpList {
    private(set) var ops: [Op]
    init(_ ops: [Op]) { self.ops = ops }
    /// Only while the parser builds the tree; never after it is shared.
    mutating func append(_ op: Op) { ops.append(op) }
    var count: Int { ops.count }
    @inline(__always)
    subscript(i: Int) -> Unmanaged<Op> {
        precondition(i >= 0 && i < ops.count)  // internal invariant, not input-dependent
        return ops.withUnsafeBufferPointer { b in
            UnsafeRawPointer(b.baseAddress.unsafelyUnwrapped)
                .load(fromByteOffset: i &* MemoryLayout<Op>.stride, as: Unmanaged<Op>.self)
        }
    }
}

/// Function arguments: the first two held directly (no array for the usual one- or two-argument call).
struct ArgOps {
    private var a0: Op?
    private var a1: Op?
    private var more: [Op] = []
    private(set) var count = 0
    init() {}
    /// Only while the parser builds the call.
    mutating func append(_ op: Op) {
        switch count {
        case 0: a0 = op
        case 1: a1 = op
        default: more.append(op)
        }
        count += 1
    }
    func op(_ i: Int) -> Op {
        switch i {
        case 0: return a0.unsafelyUnwrapped
        case 1: return a1.unsafelyUnwrapped
        default: return more[i - 2]
        }
    }
    @inline(__always)
    subscript(i: Int) -> Unmanaged<Op> {
        precondition(i >= 0 && i < count)  // internal invariant, not input-dependent
        switch i {
        case 0: return Unmanaged.passUnretained(a0.unsafelyUnwrapped)
        case 1: return Unmanaged.passUnretained(a1.unsafelyUnwrapped)
        default:
            return more.withUnsafeBufferPointer { b in
                UnsafeRawPointer(b.baseAddress.unsafelyUnwrapped)
                    .load(fromByteOffset: (i &- 2) &* MemoryLayout<Op>.stride, as: Unmanaged<Op>.self)
            }
        }
    }
}

/// `evalFresh` on an unretained child.
@inline(__always)
func runFresh(_ r: Unmanaged<Op>, _ v: inout JSON) throws(JMESPathError) -> JSON {
    do {
        return try r._withUnsafeGuaranteedRef { try $0.evalFresh(&v) }
    } catch let e as JMESPathError {
        throw e
    } catch {
        throw evalError(.invalidValue, "\(error)")  // not reached: ops throw only JMESPathError
    }
}

/// Evaluates an unretained child (see `OpList`); the owning tree keeps it alive.
@inline(__always)
func run(_ r: Unmanaged<Op>, _ v: inout JSON) throws(JMESPathError) -> JSON {
    do {
        return try r._withUnsafeGuaranteedRef { try $0.eval(&v) }
    } catch let e as JMESPathError {
        throw e
    } catch {
        throw evalError(.invalidValue, "\(error)")  // not reached: ops throw only JMESPathError
    }
}

/// The value of `name` in `o`. Small objects (no hash table, up to 15 keys) are scanned directly over the key
/// buffer, which avoids the reference counting of the dictionary's own lookup; the byte count filters mismatches.
@inline(__always)
func lookup(_ o: JSONObject, _ name: String, _ nameCount: Int) -> JSON? {
    let d = o.storage
    let n = d.count
    if n > 15 { return d[name] }
    return d.keys.elements.withUnsafeBufferPointer { kb -> JSON? in
        for i in 0..<n where kb[i].utf8.count == nameCount && kb[i] == name { return d.values.elements[i] }
        return nil
    }
}

final class IdentityOp: Op, @unchecked Sendable {
    /// Stateless, so one instance serves every tree.
    static let shared = IdentityOp()
    override func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON { take(&v) }
}

final class FieldOp: Op, @unchecked Sendable {
    let name: String
    let nameCount: Int
    init(_ name: String) { self.name = name; self.nameCount = name.utf8.count }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .object(let o): return lookup(o, name, nameCount) ?? .null
        default: return .null
        }
    }
}

/// `a.b.c` made only of plain fields: one loop instead of a chain of nodes.
final class FieldPathOp: Op, @unchecked Sendable {
    /// Only appended to by the parser while it builds the tree; never mutated afterwards.
    @exclusivity(unchecked) private(set) var names: [String]
    init(_ names: [String]) {
        self.names = names
        self.names.reserveCapacity(4)
    }
    func append(_ name: String) { names.append(name) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        var cur: JSON
        switch v {
        case .object(let o):
            guard let first = lookup(o, names[0], names[0].utf8.count) else { return .null }
            cur = first
        default:
            return .null
        }
        for i in 1..<names.count {
            guard case .object(let o) = cur, let next = lookup(o, names[i], names[i].utf8.count) else { return .null }
            cur = next
        }
        return cur
    }
}

/// Sub-expressions, index expressions and pipes: each step runs on the previous result.
final class ChainOp: Op, @unchecked Sendable {
    /// The first two steps are held directly (most chains have two), later ones in `rest`.
    let first: Op, second: Op
    /// Only appended to by the parser while it builds the tree; never mutated afterwards.
    @exclusivity(unchecked) private(set) var rest: OpList
    init(_ first: Op, _ second: Op) {
        self.first = first
        self.second = second
        self.rest = OpList([])
    }
    func append(_ op: Op) { rest.append(op) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        var cur = try first.eval(&v)
        cur = first.returnsFresh ? try second.evalFresh(&cur) : try second.eval(&cur)
        if rest.count == 0 { return cur }
        var fresh = second.returnsFresh
        for i in 0..<rest.count {
            cur = fresh ? try runFresh(rest[i], &cur) : try run(rest[i], &cur)
            fresh = rest[i]._withUnsafeGuaranteedRef { $0.returnsFresh }
        }
        return cur
    }
    override var returnsFresh: Bool {
        rest.count == 0 ? second.returnsFresh : rest[rest.count - 1]._withUnsafeGuaranteedRef { $0.returnsFresh }
    }
}

final class IndexOp: Op, @unchecked Sendable {
    let index: Int
    init(_ index: Int) { self.index = index }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .array(let a):
            let j = index < 0 ? a.count + index : index
            return j >= 0 && j < a.count ? a[j] : .null
        default:
            return .null
        }
    }
}

final class SliceOp: Op, @unchecked Sendable {
    let start: Int?, stop: Int?, step: Int?
    init(_ start: Int?, _ stop: Int?, _ step: Int?) { self.start = start; self.stop = stop; self.step = step }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .array(let a): return .array(try sliceArray(a, start, stop, step))
        default: return .null
        }
    }
    override var returnsFresh: Bool { true }
    override func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON {
        // A contiguous slice of a fresh array: drop both ends in place.
        guard step == nil || step == 1, case .array = v else { return try eval(&v) }
        var a = takeArray(&v)
        let (s, e) = sliceBounds(a.count, start, stop, 1)
        if s >= e { return .array([]) }
        a.removeSubrange(e..<a.count)
        a.removeSubrange(0..<s)
        return .array(a)
    }
}

final class LiteralOp: Op, @unchecked Sendable {
    let value: JSON
    init(_ value: JSON) { self.value = value }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON { value }
}

/// List projection; `rhs == nil` means nothing follows (only nulls are dropped).
final class ProjectionOp: Op, @unchecked Sendable {
    let lhs: Op, rhs: Op?
    /// For `[a:b].rhs` and `x[a:b].rhs` (non-zero step): the slice, and `x` (nil for the input itself). The
    /// sliced elements are then projected straight from the array, without building the slice.
    let slice: SliceOp?, sliceOf: Op?
    init(_ lhs: Op, _ rhs: Op?) {
        self.lhs = lhs
        self.rhs = rhs
        if rhs != nil, let s = lhs as? SliceOp, s.step != 0 {
            slice = s
            sliceOf = nil
        } else if rhs != nil, let c = lhs as? ChainOp, c.rest.count == 0, let s = c.second as? SliceOp, s.step != 0 {
            slice = s
            sliceOf = c.first
        } else {
            slice = nil
            sliceOf = nil
        }
    }
    override var returnsFresh: Bool { rhs != nil || lhs.returnsFresh }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        if let slice, let rhs {
            guard let sliceOf else { return try projectSlice(v, slice, rhs) }
            return try projectSlice(try sliceOf.eval(&v), slice, rhs)
        }
        return try project(try lhs.eval(&v))
    }
    override func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON {
        if slice != nil { return try eval(&v) }
        return try project(try lhs.evalFresh(&v))
    }
    private func projectSlice(_ x: JSON, _ slice: SliceOp, _ rhs: Op) throws(JMESPathError) -> JSON {
        guard case .array(let a) = x else { return .null }
        let step = slice.step ?? 1
        let (s, e) = sliceBounds(a.count, slice.start, slice.stop, step)
        var out: [JSON] = []
        try a.withUnsafeBufferPointer { (buf) throws(JMESPathError) in
            guard let start = buf.baseAddress else { return }
            let raw = UnsafeRawPointer(start)
            var i = s
            while step > 0 ? i < e : i > e {
                try lendEach(raw + i * MemoryLayout<JSON>.stride, 1) { (el) throws(JMESPathError) in
                    let r = try rhs.eval(&el)
                    if case .null = r { return }
                    out.append(r)
                }
                let (next, overflow) = i.addingReportingOverflow(step)
                if overflow { break }
                i = next
            }
        }
        return .array(out)
    }
    @inline(__always)
    private func project(_ left: JSON) throws(JMESPathError) -> JSON {
        guard case .array(let base) = left else { return .null }
        guard let rhs else {
            if !base.contains(where: { $0.isNull }) { return .array(base) }
            return .array(base.filter { !$0.isNull })
        }
        var out: [JSON] = []
        out.reserveCapacity(base.count)
        try forEachElement(base) { (e) throws(JMESPathError) in
            let r = try rhs.eval(&e)
            if case .null = r { return }
            out.append(r)
        }
        return .array(out)
    }
}

final class ValueProjectionOp: Op, @unchecked Sendable {
    let lhs: Op, rhs: Op?
    init(_ lhs: Op, _ rhs: Op?) { self.lhs = lhs; self.rhs = rhs }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        guard case .object(let base) = try lhs.eval(&v) else { return .null }
        var out: [JSON] = []
        out.reserveCapacity(base.count)
        // Values are lent as in `forEachElement` (this collection's API is untyped `rethrows`).
        let failure = base.storage.values.withUnsafeBufferPointer { buf -> JMESPathError? in
            guard let start = buf.baseAddress else { return nil }
            do throws(JMESPathError) {
                try lendEach(UnsafeRawPointer(start), buf.count) { (e) throws(JMESPathError) in
                    let r = try rhs?.eval(&e) ?? e
                    if case .null = r { return }
                    out.append(r)
                }
            } catch {
                return error
            }
            return nil
        }
        if let failure { throw failure }
        return .array(out)
    }
    override var returnsFresh: Bool { true }
}

final class FilterProjectionOp: Op, @unchecked Sendable {
    let lhs: Op, rhs: Op?, condition: Op
    let lhsIsIdentity: Bool
    init(_ lhs: Op, _ rhs: Op?, _ condition: Op) {
        self.lhs = lhs; self.rhs = rhs; self.condition = condition; self.lhsIsIdentity = lhs is IdentityOp
    }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        guard case .array(let base) = try lhs.eval(&v) else { return .null }
        var out: [JSON] = []
        try forEachElement(base) { (e) throws(JMESPathError) in
            guard try condition.eval(&e).isTruthy else { return }
            let r = try rhs?.eval(&e) ?? e
            if case .null = r { return }
            out.append(r)
        }
        return .array(out)
    }
    override var returnsFresh: Bool { true }
    override func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON {
        // `[?cond]` applied to a fresh array: keep the passing elements in place (moved, not copied).
        guard rhs == nil, lhsIsIdentity, case .array = v else { return try eval(&v) }
        var a = takeArray(&v)
        let n = a.count
        var kept = 0
        let cond = Unmanaged.passUnretained(condition)
        let failure = a.withUnsafeMutableBufferPointer { buf -> JMESPathError? in
            for i in 0..<n {
                do throws(JMESPathError) {
                    guard try run(cond, &buf[i]).isTruthy, !buf[i].isNull else { continue }
                } catch {
                    return error
                }
                if i != kept { buf.swapAt(i, kept) }
                kept += 1
            }
            return nil
        }
        if let failure { throw failure }
        a.removeLast(n - kept)
        return .array(a)
    }
}

final class FlattenOp: Op, @unchecked Sendable {
    let inner: Op
    init(_ inner: Op) { self.inner = inner }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        guard case .array(let base) = try inner.eval(&v) else { return .null }
        var out: [JSON] = []
        out.reserveCapacity(base.count)
        for e in base {
            if case .array(let sub) = e { out.append(contentsOf: sub) } else { out.append(e) }
        }
        return .array(out)
    }
    override var returnsFresh: Bool { true }
}

final class CompareOp: Op, @unchecked Sendable {
    let op: Comparator, lhs: Op, rhs: Op
    init(_ op: Comparator, _ lhs: Op, _ rhs: Op) { self.op = op; self.lhs = lhs; self.rhs = rhs }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        let a = try lhs.eval(&v)
        let b = try rhs.eval(&v)
        return compareValues(op, a, b)
    }
}

/// `field <op> literal` (or `literal <op> field`, flipped at compile time): the usual filter condition.
final class FieldCompareOp: Op, @unchecked Sendable {
    let op: Comparator, name: String, literal: JSON
    let nameCount: Int
    init(_ op: Comparator, _ name: String, _ literal: JSON) {
        self.op = op; self.name = name; self.literal = literal; self.nameCount = name.utf8.count
    }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .object(let o):
            guard let f = lookup(o, name, nameCount) else { return compareValues(op, .null, literal) }
            return compareValues(op, f, literal)
        default:
            return compareValues(op, .null, literal)
        }
    }
}

final class OrOp: Op, @unchecked Sendable {
    /// Only appended to by the parser while it builds the tree; never mutated afterwards.
    @exclusivity(unchecked) private(set) var terms: OpList
    init(_ terms: [Op]) { self.terms = OpList(terms) }
    func append(_ op: Op) { terms.append(op) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        var last = JSON.null
        for i in 0..<terms.count {
            last = try run(terms[i], &v)
            if last.isTruthy { return last }
        }
        return last
    }
}

final class AndOp: Op, @unchecked Sendable {
    /// Only appended to by the parser while it builds the tree; never mutated afterwards.
    @exclusivity(unchecked) private(set) var terms: OpList
    init(_ terms: [Op]) { self.terms = OpList(terms) }
    func append(_ op: Op) { terms.append(op) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        var last = JSON.null
        for i in 0..<terms.count {
            last = try run(terms[i], &v)
            if !last.isTruthy { return last }
        }
        return last
    }
}

final class NotOp: Op, @unchecked Sendable {
    let inner: Op
    init(_ inner: Op) { self.inner = inner }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON { .bool(!(try inner.eval(&v).isTruthy)) }
}

final class MultiListOp: Op, @unchecked Sendable {
    let items: OpList
    init(_ items: [Op]) { self.items = OpList(items) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .null: return .null
        default: break
        }
        var out: [JSON] = []
        out.reserveCapacity(items.count)
        for i in 0..<items.count { out.append(try run(items[i], &v)) }
        return .array(out)
    }
    override var returnsFresh: Bool { true }
}

/// Multi-select hash with distinct keys: the key list is shared by every object built (no hashing per object).
final class MultiHashOp: Op, @unchecked Sendable {
    let keys: ContiguousArray<String>
    let values: OpList
    init(_ keys: ContiguousArray<String>, _ values: [Op]) { self.keys = keys; self.values = OpList(values) }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .null: return .null
        default: break
        }
        var vals = ContiguousArray<JSON>()
        vals.reserveCapacity(values.count)
        for i in 0..<values.count { vals.append(try run(values[i], &v)) }
        return .object(JSONObject(.init(uncheckedUniqueKeys: keys, values: vals)))
    }
}

/// Multi-select hash that repeats a key: the last value wins, in the first key's position.
final class MultiHashDupOp: Op, @unchecked Sendable {
    let keys: [String]
    let values: [Op]
    init(_ keys: [String], _ values: [Op]) { self.keys = keys; self.values = values }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        switch v {
        case .null: return .null
        default: break
        }
        var obj = JSONObject()
        for i in 0..<keys.count { obj.storage[keys[i]] = try values[i].eval(&v) }
        return .object(obj)
    }
}

final class FunctionOp: Op, @unchecked Sendable {
    let fn: Builtin
    /// The argument ops; for `&expr` arguments, the referenced expression itself (passed unevaluated).
    let args: ArgOps
    /// Bit i set when argument i is written `&expr`.
    let exprefMask: UInt64
    /// `args` holds the referenced expression itself for each `&expr` argument, marked in `exprefMask`.
    init(_ fn: Builtin, _ args: ArgOps, exprefMask mask: UInt64) {
        self.fn = fn
        self.args = args
        self.exprefMask = mask
        var last = -1
        for i in 0..<args.count where i >= 64 || mask & (1 << UInt64(i)) == 0 { last = i }
        self.moveIndex = last >= 0 && args.op(last) is IdentityOp ? last : -1
    }
    /// The last evaluated argument when it is `@`: given a fresh input, that argument takes it over.
    let moveIndex: Int

    override var returnsFresh: Bool {
        switch fn {
        case .sort, .sortBy, .reverse, .map, .keys, .values: return true
        default: return false
        }
    }

    override func evalFresh(_ v: inout JSON) throws(JMESPathError) -> JSON {
        guard moveIndex >= 0 else { return try eval(&v) }
        if moveIndex == 0, case .array = v {
            // sort(@), sort_by(@, &key), reverse(@) on a fresh array: reorder it in place.
            switch fn {
            case .reverse:
                var a = takeArray(&v)
                a.reverse()
                return .array(a)
            case .sort:
                var a = takeArray(&v)
                permute(&a, sortedOrder(try valueSortKeys(a, "sort", 0)))
                return .array(a)
            case .sortBy where args.count == 2 && exprefMask == 0b10:
                var a = takeArray(&v)
                if a.isEmpty { return .array(a) }
                permute(&a, try sortByOrder(a, args[1], "sort_by"))
                return .array(a)
            default:
                break
            }
        }
        var resolved = ArgumentList()
        for i in 0..<args.count {
            if i < 64 && exprefMask & (1 << UInt64(i)) != 0 {
                resolved.append(.expref(args[i]))
            } else if i == moveIndex {
                resolved.append(.value(take(&v)))
            } else {
                resolved.append(.value(try run(args[i], &v)))
            }
        }
        return try callBuiltin(fn, resolved)
    }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        // Direct paths for two frequent calls on well-typed arguments; anything else (including every type
        // error) goes through `callBuiltin`.
        switch fn {
        case .length where args.count == 1 && exprefMask == 0:
            switch try run(args[0], &v) {
            case .string(let s): return .int(scalarCount(s))
            case .array(let a): return .int(a.count)
            case .object(let o): return .int(o.count)
            default: break
            }
        case .contains where args.count == 2 && exprefMask == 0:
            let haystack = try run(args[0], &v)
            let needle = try run(args[1], &v)
            switch haystack {
            case .array(let a): return .bool(a.contains { jsonEqual($0, needle) })
            case .string(let s):
                guard case .string(let n) = needle else { return .bool(false) }
                return .bool(utf8Contains(s, n))
            default: break
            }
        default:
            break
        }
        return try evalGeneral(&v)
    }

    /// Evaluates every argument, then runs the builtin with its type checks.
    private func evalGeneral(_ v: inout JSON) throws(JMESPathError) -> JSON {
        // All arguments are evaluated before any is type-checked, as in the reference implementation.
        var resolved = ArgumentList()
        for i in 0..<args.count {
            if i < 64 && exprefMask & (1 << UInt64(i)) != 0 {
                resolved.append(.expref(args[i]))
            } else {
                resolved.append(.value(try run(args[i], &v)))
            }
        }
        return try callBuiltin(fn, resolved)
    }
}

/// `&expr`. As a function argument it is passed unevaluated; anywhere else it is an error.
final class ExprefOp: Op, @unchecked Sendable {
    let inner: Op
    init(_ inner: Op) { self.inner = inner }
    override func eval(_ v: inout JSON) throws(JMESPathError) -> JSON {
        throw evalError(.invalidType, "an expression reference (&...) can only be used as a function argument")
    }
}

extension Comparator {
    /// The comparator with its operands swapped: `a < b` is `b > a`.
    var flipped: Comparator {
        switch self {
        case .eq, .ne: return self
        case .lt: return .gt
        case .lte: return .gte
        case .gt: return .lt
        case .gte: return .lte
        }
    }
}

// MARK: - value semantics shared by comparisons and functions

@inline(__always)
func compareValues(_ op: Comparator, _ a: borrowing JSON, _ b: borrowing JSON) -> JSON {
    switch op {
    case .eq: return .bool(jsonEqual(a, b))
    case .ne: return .bool(!jsonEqual(a, b))
    default:
        // Ordering is defined only between numbers; anything else yields null.
        let x: JSONNumber, y: JSONNumber
        switch a {
        case .number(let n): x = n
        default: return .null
        }
        switch b {
        case .number(let n): y = n
        default: return .null
        }
        switch op {
        case .lt: return .bool(numberLess(x, y))
        case .lte: return .bool(!numberLess(y, x))
        case .gt: return .bool(numberLess(y, x))
        default: return .bool(!numberLess(x, y))
        }
    }
}

/// Start and end positions of a slice over `n` elements (step not 0), clamped as Python does.
@inline(__always)
func sliceBounds(_ n: Int, _ start: Int?, _ stop: Int?, _ step: Int) -> (Int, Int) {
    let lower = step < 0 ? -1 : 0
    let upper = step < 0 ? n - 1 : n
    func clamp(_ v: Int?, _ def: Int) -> Int {
        guard var v else { return def }
        if v < 0 {
            v += n
            if v < lower { v = lower }
        } else if v > upper {
            v = upper
        }
        return v
    }
    return (clamp(start, step < 0 ? upper : lower), clamp(stop, step < 0 ? lower : upper))
}

/// Python slice semantics: out-of-range bounds clamp, negative bounds count from the end, step 0 is an error.
func sliceArray(_ a: [JSON], _ start: Int?, _ stop: Int?, _ step: Int?) throws(JMESPathError) -> [JSON] {
    let step = step ?? 1
    if step == 0 { throw evalError(.invalidValue, "slice step cannot be 0") }
    let (s, e) = sliceBounds(a.count, start, stop, step)
    if step == 1 { return s < e ? Array(a[s..<e]) : [] }
    var out: [JSON] = []
    var i = s
    if step > 0 {
        while i < e {
            out.append(a[i])
            let (next, overflow) = i.addingReportingOverflow(step)
            if overflow { break }
            i = next
        }
    } else {
        while i > e {
            out.append(a[i])
            let (next, overflow) = i.addingReportingOverflow(step)
            if overflow { break }
            i = next
        }
    }
    return out
}

/// Deep equality with JMESPath rules: numbers by value, strings by code points, objects ignoring key order.
func jsonEqual(_ a: borrowing JSON, _ b: borrowing JSON) -> Bool {
    switch a {
    case .null:
        switch b {
        case .null: return true
        default: return false
        }
    case .bool(let x):
        switch b {
        case .bool(let y): return x == y
        default: return false
        }
    case .number(let x):
        switch b {
        case .number(let y):
            if case .int(let i) = x, case .int(let j) = y { return i == j }
            return x == y
        default: return false
        }
    case .string(let x):
        switch b {
        case .string(let y): return utf8Equal(x, y)
        default: return false
        }
    case .array(let x):
        switch b {
        case .array(let y):
            guard x.count == y.count else { return false }
            for i in 0..<x.count where !jsonEqual(x[i], y[i]) { return false }
            return true
        default: return false
        }
    case .object(let x):
        switch b {
        case .object(let y):
            guard x.count == y.count else { return false }
            for (k, v) in x.storage {
                guard let w = y.storage[k], jsonEqual(v, w) else { return false }
            }
            return true
        default: return false
        }
    }
}

/// Byte equality of the UTF-8 forms, i.e. code point equality (Swift's `==` would apply canonical equivalence).
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    let au = a.utf8, bu = b.utf8
    guard au.count == bu.count else { return false }
    if let r = au.withContiguousStorageIfAvailable({ pa in
        bu.withContiguousStorageIfAvailable { pb in
            pa.elementsEqual(pb)
        }
    }), let r { return r }
    return au.elementsEqual(bu)
}

/// Code point order, which for UTF-8 is plain byte order.
@inline(__always)
func codepointLess(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in
            let n = Swift.min(pa.count, pb.count)
            var i = 0
            while i < n {
                let x = pa[i], y = pb[i]
                if x != y { return x < y }
                i += 1
            }
            return pa.count < pb.count
        }
    }
}

@inline(__always)
func numberLess(_ x: JSONNumber, _ y: JSONNumber) -> Bool {
    if case .int(let i) = x, case .int(let j) = y { return i < j }
    if case .double(let i) = x, case .double(let j) = y { return i < j }
    return x < y
}
