import FerryJSON

/// A Pratt (top-down operator precedence) parser with the reference implementation's binding powers, so that
/// precedence and projection-stopping behave exactly as the compliance suite expects. It builds the executable
/// `Op` tree directly (no intermediate syntax tree), folding common shapes into specialised ops as it goes.
struct Parser {
    let source: String
    /// The expression's UTF-8, borrowed while `parse` runs.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The tokens, in stack storage that lives while `parse` runs.
    let tokens: UnsafeBufferPointer<Token>
    /// Identifier names and literal values, indexed by the token's `number`.
    let names: [String]
    let literals: [JSON]
    var index = 0
    var depth = 0
    /// The first unknown-function or arity problem. Reported only once the whole expression has parsed, so a
    /// syntax error anywhere takes precedence (as with the reference implementation, which checks calls lazily).
    var functionError: JMESPathError?

    /// Bounds recursion on hostile input such as thousands of nested parentheses.
    static let maxDepth = 256
    /// Tokens with a binding power below this end a projection's right-hand side.
    static let projectionStop = 10

    init(source: String, bytes: UnsafeBufferPointer<UInt8>, lexer: Lexer, tokens: UnsafeBufferPointer<Token>) {
        self.source = source
        self.bytes = bytes
        self.tokens = tokens
        self.names = lexer.names
        self.literals = lexer.literals
    }

    static func parse(_ source: String) throws(JMESPathError) -> Op {
        // Lex and parse straight from the string's UTF-8 storage (no copy of the text).
        var text = source
        let result = text.withUTF8 { buf in
            Result { () throws(JMESPathError) -> Op in
                if let path = simplePath(buf) { return path }
                // Tokens go to a stack allocation (heap only for very long expressions).
                let parsed = withUnsafeTemporaryAllocation(of: Token.self, capacity: buf.count + 1) { tb in
                    Result { () throws(JMESPathError) -> Op in
                        guard let storage = tb.baseAddress else { throw JMESPathError.compile(.syntax, "no token storage", source: source, byteOffset: 0) }
                        var lexer = Lexer(source, bytes: buf)
                        let count = try lexer.tokenize(into: storage)
                        var parser = Parser(source: source, bytes: buf, lexer: lexer,
                                            tokens: UnsafeBufferPointer(start: storage, count: count))
                        let node = try parser.expression(0)
                        let t = parser.tokens[parser.index]
                        if t.kind != .eof {
                            throw parser.error("unexpected \(parser.describe(t)) after a complete expression", t)
                        }
                        if let e = parser.functionError { throw e }
                        return node
                    }
                }
                return try parsed.get()
            }
        }
        return try result.get()
    }

    /// `name(.name)*` with plain identifiers and nothing else (the most common expression): built directly,
    /// without a token array. Nil for anything else, which the full parser handles.
    static func simplePath(_ b: UnsafeBufferPointer<UInt8>) -> Op? {
        let n = b.count
        var count = 0
        var i = 0
        while true {
            guard i < n else { return nil }
            let c = b[i]
            let isStart = (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || c == UInt8(ascii: "_")
            guard isStart else { return nil }
            i += 1
            while i < n, Lexer.isIdentifierByte(b[i]) { i += 1 }
            count += 1
            if i == n { break }
            guard b[i] == UInt8(ascii: "."), count < 64 else { return nil }
            i += 1
        }
        func text(_ from: Int, _ to: Int) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self)
        }
        if count == 1 { return FieldOp(text(0, n)) }
        var names: [String] = []
        names.reserveCapacity(Swift.max(count, 4))
        var start = 0
        for j in 0...n where j == n || b[j] == UInt8(ascii: ".") {
            names.append(text(start, j))
            start = j + 1
        }
        return FieldPathOp(names)
    }

    /// The name of an identifier token.
    func name(_ ti: Int) -> String {
        let t = tokens[ti]
        if t.kind == .quotedIdentifier { return names[t.number] }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[t.start..<t.number]), as: UTF8.self)
    }

    // MARK: - helpers

    var current: TokenKind { tokens[index].kind }

    func lookahead(_ n: Int) -> TokenKind {
        let i = index + n
        return i < tokens.count ? tokens[i].kind : .eof
    }

    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .unquotedIdentifier:
            return "identifier '\(String(decoding: UnsafeBufferPointer(rebasing: bytes[t.start..<t.number]), as: UTF8.self))'"
        case .quotedIdentifier: return "quoted identifier \(JMESPathError.quote(names[t.number]))"
        case .number: return "number \(t.number)"
        default: return t.kind.display
        }
    }

    func error(_ detail: String, _ t: Token) -> JMESPathError {
        JMESPathError.compile(.syntax, detail, source: source, byteOffset: t.start)
    }

    /// `context` is only built when the match fails.
    mutating func match(_ kind: TokenKind, _ context: @autoclosure () -> String) throws(JMESPathError) {
        guard tokens[index].kind == kind else {
            let t = tokens[index]
            throw error("expected \(kind.display) \(context()) but found \(describe(t))", t)
        }
        advance()
    }

    // MARK: - core loop

    mutating func expression(_ rbp: Int) throws(JMESPathError) -> Op {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth {
            throw error("expression nested more than \(Parser.maxDepth) levels deep", tokens[index])
        }
        let ti = index
        advance()
        var left = try nud(ti)
        while rbp < current.bindingPower {
            let ti = index
            advance()
            left = try led(ti, left)
        }
        return left
    }

    /// Tokens are read in place by index: copying a `Token` would retain its payloads.
    mutating func nud(_ ti: Int) throws(JMESPathError) -> Op {
        switch tokens[ti].kind {
        case .literal:
            return LiteralOp(literals[tokens[ti].number])
        case .unquotedIdentifier:
            // `name(` is always a call ('(' binds tighter than anything): parse it here rather than building a
            // field op for the name first.
            if current == .lparen {
                let paren = index
                advance()
                return try functionCall(name(ti), paren: paren)
            }
            return FieldOp(name(ti))
        case .quotedIdentifier:
            if current == .lparen {
                throw error("a quoted identifier cannot be used as a function name", tokens[ti])
            }
            return FieldOp(name(ti))
        case .star:
            if current == .rbracket { return ValueProjectionOp(IdentityOp.shared, nil) }
            return ValueProjectionOp(IdentityOp.shared, try projectionRHS(TokenKind.star.bindingPower))
        case .filter:
            return try filter(left: IdentityOp.shared)
        case .lbrace:
            return try multiHash()
        case .lparen:
            let e = try expression(0)
            try match(.rparen, "to close '('")
            return e
        case .flatten:
            return ProjectionOp(FlattenOp(IdentityOp.shared), try projectionRHS(TokenKind.flatten.bindingPower))
        case .not:
            return NotOp(try expression(TokenKind.not.bindingPower))
        case .lbracket:
            if current == .number || current == .colon {
                let right = try indexExpression()
                return try projectIfSlice(IdentityOp.shared, right)
            }
            if current == .star && lookahead(1) == .rbracket {
                advance()
                advance()
                return ProjectionOp(IdentityOp.shared, try projectionRHS(TokenKind.star.bindingPower))
            }
            return try multiList()
        case .current:
            return IdentityOp.shared
        case .expref:
            return ExprefOp(try expression(TokenKind.expref.bindingPower))
        case .eof:
            throw error("unexpected end of expression", tokens[ti])
        default:
            throw error("unexpected \(describe(tokens[ti]))", tokens[ti])
        }
    }

    mutating func led(_ ti: Int, _ left: Op) throws(JMESPathError) -> Op {
        let kind = tokens[ti].kind
        switch kind {
        case .dot:
            if current == .star {
                advance()
                return ValueProjectionOp(left, try projectionRHS(TokenKind.dot.bindingPower))
            }
            // Fast path for `.name` that stays a plain field (nothing binding tighter than '.' follows):
            // extend a field path in place instead of building a field op first.
            if current == .unquotedIdentifier || current == .quotedIdentifier,
               lookahead(1).bindingPower <= TokenKind.dot.bindingPower,
               left is FieldOp || left is FieldPathOp {
                let name = self.name(index)
                advance()
                if let l = left as? FieldPathOp {
                    l.append(name)
                    return l
                }
                return FieldPathOp([(left as! FieldOp).name, name])
            }
            let right = try dotRHS(TokenKind.dot.bindingPower)
            return Parser.chain(left, right)
        case .pipe:
            // A pipe and a sub-expression both evaluate the right side on the left's result.
            return Parser.chain(left, try expression(TokenKind.pipe.bindingPower))
        case .or:
            let right = try expression(TokenKind.or.bindingPower)
            if let l = left as? OrOp {
                l.append(right)
                return l
            }
            return OrOp([left, right])
        case .and:
            let right = try expression(TokenKind.and.bindingPower)
            if let l = left as? AndOp {
                l.append(right)
                return l
            }
            return AndOp([left, right])
        case .lparen:
            return try functionCall(left, paren: ti)
        case .filter:
            return try filter(left: left)
        case .eq, .ne, .lt, .lte, .gt, .gte:
            let right = try expression(kind.bindingPower)
            let op: Comparator
            switch kind {
            case .eq: op = .eq
            case .ne: op = .ne
            case .lt: op = .lt
            case .lte: op = .lte
            case .gt: op = .gt
            default: op = .gte
            }
            if let f = left as? FieldOp, let l = right as? LiteralOp { return FieldCompareOp(op, f.name, l.value) }
            if let l = left as? LiteralOp, let f = right as? FieldOp { return FieldCompareOp(op.flipped, f.name, l.value) }
            return CompareOp(op, left, right)
        case .flatten:
            return ProjectionOp(FlattenOp(left), try projectionRHS(TokenKind.flatten.bindingPower))
        case .lbracket:
            if current == .number || current == .colon {
                let right = try indexExpression()
                return try projectIfSlice(left, right)
            }
            try match(.star, "in a bracket expression (a number, slice, '*' or '?')")
            try match(.rbracket, "after '[*'")
            return ProjectionOp(left, try projectionRHS(TokenKind.star.bindingPower))
        default:
            throw error("unexpected \(describe(tokens[ti]))", tokens[ti])
        }
    }

    /// Left-to-right application of `right` to the result of `left`, flattening chains and folding
    /// runs of plain fields into one path lookup. `left` was just built by this parser and is referenced
    /// nowhere else, so it may be extended in place.
    static func chain(_ left: Op, _ right: Op) -> Op {
        if let r = right as? FieldOp {
            if let l = left as? FieldOp { return FieldPathOp([l.name, r.name]) }
            if let l = left as? FieldPathOp {
                l.append(r.name)
                return l
            }
        }
        if let l = left as? ChainOp {
            l.append(right)
            return l
        }
        return ChainOp(left, right)
    }

    // MARK: - pieces

    mutating func functionCall(_ left: Op, paren: Int) throws(JMESPathError) -> Op {
        guard let nameOp = left as? FieldOp else {
            throw error("'(' must follow a function name", tokens[paren])
        }
        return try functionCall(nameOp.name, paren: paren)
    }

    mutating func functionCall(_ name: String, paren: Int) throws(JMESPathError) -> Op {
        // The name token is the one just before '('.
        let nameStart = tokens[max(0, paren - 1)].start
        var args = ArgOps()
        var exprefs: UInt64 = 0
        if current == .rparen {
            advance()
        } else {
            while true {
                if current == .expref && args.count < 64 {
                    // `&expr` argument: kept unevaluated (no ExprefOp node needed here).
                    advance()
                    exprefs |= 1 << UInt64(args.count)
                    args.append(try expression(TokenKind.expref.bindingPower))
                } else {
                    let arg = try expression(0)
                    if let e = arg as? ExprefOp, args.count < 64 {
                        // e.g. `(&expr)`: still an expression reference.
                        exprefs |= 1 << UInt64(args.count)
                        args.append(e.inner)
                    } else {
                        args.append(arg)
                    }
                }
                if current == .comma {
                    advance()
                    continue
                }
                if current == .rparen {
                    advance()
                    break
                }
                throw error("expected ',' or ')' in the arguments of \(name)() but found \(describe(tokens[index]))",
                            tokens[index])
            }
        }
        guard let fn = Builtin.named(name) else {
            if functionError == nil {
                functionError = JMESPathError.compile(.unknownFunction, "unknown function \(name)()", source: source,
                                                      byteOffset: nameStart)
            }
            return LiteralOp(.null)
        }
        let (minArgs, variadic) = fn.arity
        if args.count < minArgs || (!variadic && args.count > minArgs) {
            let expected = variadic ? "at least \(minArgs)" : "\(minArgs)"
            let noun = minArgs == 1 && !variadic ? "argument" : "arguments"
            if functionError == nil {
                functionError = JMESPathError.compile(
                    .invalidArity, "\(name)() takes \(expected) \(noun) but was given \(args.count)",
                    source: source, byteOffset: nameStart)
            }
        }
        return FunctionOp(fn, args, exprefMask: exprefs)
    }

    mutating func filter(left: Op) throws(JMESPathError) -> Op {
        let condition = try expression(0)
        try match(.rbracket, "to close the filter '[?'")
        let right: Op?
        if current == .flatten {
            right = nil
        } else {
            right = try projectionRHS(TokenKind.filter.bindingPower)
        }
        return FilterProjectionOp(left, right, condition)
    }

    /// After `[` when the next token is a number or ':'.
    mutating func indexExpression() throws(JMESPathError) -> Op {
        if current == .colon || lookahead(1) == .colon {
            return try sliceExpression()
        }
        let n = tokens[index].number
        advance()
        try match(.rbracket, "after the index")
        return IndexOp(n)
    }

    mutating func sliceExpression() throws(JMESPathError) -> Op {
        var parts: (Int?, Int?, Int?) = (nil, nil, nil)
        var part = 0
        var sawNumber = false
        while current != .rbracket {
            let t = tokens[index]
            switch t.kind {
            case .colon:
                part += 1
                sawNumber = false
                if part == 3 { throw error("too many ':' in slice", t) }
                advance()
            case .number where !sawNumber:
                switch part {
                case 0: parts.0 = t.number
                case 1: parts.1 = t.number
                default: parts.2 = t.number
                }
                sawNumber = true
                advance()
            case .eof:
                throw error("unexpected end of expression in slice: expected ']'", t)
            default:
                throw error("unexpected \(describe(t)) in slice: expected a number, ':' or ']'", t)
            }
        }
        advance()
        return SliceOp(parts.0, parts.1, parts.2)
    }

    mutating func projectIfSlice(_ left: Op, _ right: Op) throws(JMESPathError) -> Op {
        let indexed = left is IdentityOp ? right : Parser.chain(left, right)
        if right is SliceOp {
            return ProjectionOp(indexed, try projectionRHS(TokenKind.star.bindingPower))
        }
        return indexed
    }

    /// The right-hand side of a projection; nil when nothing follows (the identity).
    mutating func projectionRHS(_ rbp: Int) throws(JMESPathError) -> Op? {
        if current.bindingPower < Parser.projectionStop { return nil }
        switch current {
        case .lbracket, .filter:
            return try expression(rbp)
        case .dot:
            advance()
            return try dotRHS(rbp)
        default:
            let t = tokens[index]
            throw error("unexpected \(describe(t)) after a projection: expected '.', '[' or '[?'", t)
        }
    }

    mutating func dotRHS(_ rbp: Int) throws(JMESPathError) -> Op {
        switch current {
        case .quotedIdentifier, .unquotedIdentifier, .star:
            return try expression(rbp)
        case .lbracket:
            advance()
            return try multiList()
        case .lbrace:
            advance()
            return try multiHash()
        default:
            let t = tokens[index]
            throw error("unexpected \(describe(t)) after '.': expected an identifier, '*', '[' or '{'", t)
        }
    }

    mutating func multiList() throws(JMESPathError) -> Op {
        var items: [Op] = []
        items.reserveCapacity(4)
        while true {
            items.append(try expression(0))
            if current == .rbracket { break }
            try match(.comma, "between multi-select list items")
        }
        advance()
        return MultiListOp(items)
    }

    mutating func multiHash() throws(JMESPathError) -> Op {
        var keys = ContiguousArray<String>()
        var values: [Op] = []
        keys.reserveCapacity(4)
        values.reserveCapacity(4)
        while true {
            let kind = tokens[index].kind
            guard kind == .quotedIdentifier || kind == .unquotedIdentifier else {
                throw error("expected a key name in multi-select hash but found \(describe(tokens[index]))", tokens[index])
            }
            let key = name(index)
            advance()
            try match(.colon, "after the key '\(key)'")
            values.append(try expression(0))
            keys.append(key)
            if current == .comma {
                advance()
                continue
            }
            if current == .rbrace {
                advance()
                break
            }
            let u = tokens[index]
            throw error("expected ',' or '}' in multi-select hash but found \(describe(u))", u)
        }
        // Distinct keys (the norm) share one key list across every object built.
        var distinct = true
        for i in 1..<max(1, keys.count) where distinct {
            for j in 0..<i where keys[j] == keys[i] { distinct = false; break }
        }
        return distinct ? MultiHashOp(keys, values) : MultiHashDupOp(Array(keys), values)
    }
}
