import FerryJSON

/// Tree-walking evaluator. Stateless apart from the expression text used in error messages, so one compiled
/// expression can be evaluated from any number of threads at once.
struct Interpreter {
    let source: String

    func fail(_ kind: JMESPathError.Kind, _ message: String) -> JMESPathError {
        JMESPathError(kind: kind, message: "\(message) (in \(JMESPathError.quote(source)))", column: nil, expression: source)
    }

    func eval(_ node: Node, _ value: JSON) throws(JMESPathError) -> JSON {
        switch node {
        case .identity:
            return value
        case .field(let name):
            if case .object(let o) = value { return o.storage[name] ?? .null }
            return .null
        case .fieldPath(let names):
            var cur = value
            for name in names {
                guard case .object(let o) = cur, let next = o.storage[name] else { return .null }
                cur = next
            }
            return cur
        case .chain(let steps):
            var cur = value
            for step in steps { cur = try eval(step, cur) }
            return cur
        case .index(let i):
            guard case .array(let a) = value else { return .null }
            let j = i < 0 ? a.count + i : i
            return j >= 0 && j < a.count ? a[j] : .null
        case .slice(let start, let stop, let step):
            guard case .array(let a) = value else { return .null }
            return .array(try slice(a, start, stop, step))
        case .literal(let v):
            return v
        case .projection(let lhs, let rhs):
            guard case .array(let base) = try eval(lhs, value) else { return .null }
            if case .identity = rhs {
                // Nothing to apply: only drop nulls, and skip the copy when there are none.
                if !base.contains(where: { $0.isNull }) { return .array(base) }
                return .array(base.filter { !$0.isNull })
            }
            var out: [JSON] = []
            out.reserveCapacity(base.count)
            for e in base {
                let r = try eval(rhs, e)
                if case .null = r { continue }
                out.append(r)
            }
            return .array(out)
        case .valueProjection(let lhs, let rhs):
            guard case .object(let base) = try eval(lhs, value) else { return .null }
            var out: [JSON] = []
            out.reserveCapacity(base.count)
            for e in base.storage.values {
                let r = try eval(rhs, e)
                if case .null = r { continue }
                out.append(r)
            }
            return .array(out)
        case .filterProjection(let lhs, let rhs, let condition):
            guard case .array(let base) = try eval(lhs, value) else { return .null }
            var out: [JSON] = []
            for e in base where try eval(condition, e).isTruthy {
                let r = try eval(rhs, e)
                if case .null = r { continue }
                out.append(r)
            }
            return .array(out)
        case .flatten(let inner):
            guard case .array(let base) = try eval(inner, value) else { return .null }
            var out: [JSON] = []
            out.reserveCapacity(base.count)
            for e in base {
                if case .array(let sub) = e { out.append(contentsOf: sub) } else { out.append(e) }
            }
            return .array(out)
        case .compare(let op, let lhs, let rhs):
            let a = try eval(lhs, value)
            let b = try eval(rhs, value)
            return compare(op, a, b)
        case .fieldEquals(let name, let literal, let negated):
            var v = JSON.null
            if case .object(let o) = value, let f = o.storage[name] { v = f }
            return .bool(jsonEqual(v, literal) != negated)
        case .or(let terms):
            var last = JSON.null
            for t in terms {
                last = try eval(t, value)
                if last.isTruthy { return last }
            }
            return last
        case .and(let terms):
            var last = JSON.null
            for t in terms {
                last = try eval(t, value)
                if !last.isTruthy { return last }
            }
            return last
        case .not(let inner):
            return .bool(!(try eval(inner, value).isTruthy))
        case .pipe(let steps):
            var cur = value
            for step in steps { cur = try eval(step, cur) }
            return cur
        case .multiList(let items):
            if case .null = value { return .null }
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try eval(item, value)) }
            return .array(out)
        case .multiHash(let pairs):
            if case .null = value { return .null }
            var obj = JSONObject()
            obj.storage.reserveCapacity(pairs.count)
            for p in pairs { obj.storage[p.key] = try eval(p.node, value) }
            return .object(obj)
        case .function(let fn, let args):
            return try call(fn, args, value)
        case .expref:
            throw fail(.invalidType, "an expression reference (&...) can only be used as a function argument")
        }
    }

    func compare(_ op: Comparator, _ a: JSON, _ b: JSON) -> JSON {
        switch op {
        case .eq: return .bool(jsonEqual(a, b))
        case .ne: return .bool(!jsonEqual(a, b))
        default:
            // Ordering is defined only between numbers; anything else yields null.
            guard case .number(let x) = a, case .number(let y) = b else { return .null }
            switch op {
            case .lt: return .bool(numberLess(x, y))
            case .lte: return .bool(!numberLess(y, x))
            case .gt: return .bool(numberLess(y, x))
            default: return .bool(!numberLess(x, y))
            }
        }
    }

    /// Python slice semantics: out-of-range bounds clamp, negative bounds count from the end, step 0 is an error.
    func slice(_ a: [JSON], _ start: Int?, _ stop: Int?, _ step: Int?) throws(JMESPathError) -> [JSON] {
        let step = step ?? 1
        if step == 0 { throw fail(.invalidValue, "slice step cannot be 0") }
        let n = a.count
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
        let s = clamp(start, step < 0 ? upper : lower)
        let e = clamp(stop, step < 0 ? lower : upper)
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
}

// MARK: - value semantics shared by comparisons and functions

/// Deep equality with JMESPath rules: numbers by value, strings by code points, objects ignoring key order.
func jsonEqual(_ a: JSON, _ b: JSON) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.string(let x), .string(let y)): return utf8Equal(x, y)
    case (.array(let x), .array(let y)):
        guard x.count == y.count else { return false }
        for i in 0..<x.count where !jsonEqual(x[i], y[i]) { return false }
        return true
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        for (k, v) in x.storage {
            guard let w = y.storage[k], jsonEqual(v, w) else { return false }
        }
        return true
    default: return false
    }
}

/// Byte equality of the UTF-8 forms, i.e. code point equality (Swift's `==` would apply canonical equivalence).
@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { pa in
        b.withUTF8 { pb in
            guard pa.count == pb.count else { return false }
            if pa.baseAddress == pb.baseAddress { return true }
            for i in 0..<pa.count where pa[i] != pb[i] { return false }
            return true
        }
    }
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
