import FerryJSON

/// A Pratt (top-down operator precedence) parser with the reference implementation's binding powers, so that
/// precedence and projection-stopping behave exactly as the compliance suite expects.
struct Parser {
    let source: String
    var tokens: [Token]
    var index = 0
    var depth = 0
    /// The first unknown-function or arity problem. Reported only once the whole expression has parsed, so a
    /// syntax error anywhere takes precedence (as with the reference implementation, which checks calls lazily).
    var functionError: JMESPathError?

    /// Bounds recursion on hostile input such as thousands of nested parentheses.
    static let maxDepth = 256
    /// Tokens with a binding power below this end a projection's right-hand side.
    static let projectionStop = 10

    init(source: String, tokens: [Token]) {
        self.source = source
        self.tokens = tokens
    }

    static func parse(_ source: String) throws(JMESPathError) -> Node {
        var lexer = Lexer(source)
        let tokens = try lexer.tokenize()
        var parser = Parser(source: source, tokens: tokens)
        let node = try parser.expression(0)
        let t = parser.tokens[parser.index]
        if t.kind != .eof {
            throw parser.error("unexpected \(parser.describe(t)) after a complete expression", t)
        }
        if let e = parser.functionError { throw e }
        return Optimizer.optimize(node)
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
        case .unquotedIdentifier: return "identifier '\(t.text)'"
        case .quotedIdentifier: return "quoted identifier \(JMESPathError.quote(t.text))"
        case .number: return "number \(t.number)"
        default: return t.kind.display
        }
    }

    func error(_ detail: String, _ t: Token) -> JMESPathError {
        JMESPathError.compile(.syntax, detail, source: source, byteOffset: t.start)
    }

    mutating func match(_ kind: TokenKind, _ context: String) throws(JMESPathError) {
        let t = tokens[index]
        guard t.kind == kind else {
            throw error("expected \(kind.display) \(context) but found \(describe(t))", t)
        }
        advance()
    }

    // MARK: - core loop

    mutating func expression(_ rbp: Int) throws(JMESPathError) -> Node {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth {
            throw error("expression nested more than \(Parser.maxDepth) levels deep", tokens[index])
        }
        let t = tokens[index]
        advance()
        var left = try nud(t)
        while rbp < current.bindingPower {
            let t = tokens[index]
            advance()
            left = try led(t, left)
        }
        return left
    }

    mutating func nud(_ t: Token) throws(JMESPathError) -> Node {
        switch t.kind {
        case .literal:
            return .literal(t.value)
        case .unquotedIdentifier:
            return .field(t.text)
        case .quotedIdentifier:
            if current == .lparen {
                throw error("a quoted identifier cannot be used as a function name", t)
            }
            return .field(t.text)
        case .star:
            if current == .rbracket { return .valueProjection(.identity, .identity) }
            return .valueProjection(.identity, try projectionRHS(TokenKind.star.bindingPower))
        case .filter:
            return try filter(left: .identity)
        case .lbrace:
            return try multiHash()
        case .lparen:
            let e = try expression(0)
            try match(.rparen, "to close '('")
            return e
        case .flatten:
            return .projection(.flatten(.identity), try projectionRHS(TokenKind.flatten.bindingPower))
        case .not:
            return .not(try expression(TokenKind.not.bindingPower))
        case .lbracket:
            if current == .number || current == .colon {
                let right = try indexExpression()
                return try projectIfSlice(.identity, right)
            }
            if current == .star && lookahead(1) == .rbracket {
                advance()
                advance()
                return .projection(.identity, try projectionRHS(TokenKind.star.bindingPower))
            }
            return try multiList()
        case .current:
            return .identity
        case .expref:
            return .expref(try expression(TokenKind.expref.bindingPower))
        case .eof:
            throw error("unexpected end of expression", t)
        default:
            throw error("unexpected \(describe(t))", t)
        }
    }

    mutating func led(_ t: Token, _ left: Node) throws(JMESPathError) -> Node {
        switch t.kind {
        case .dot:
            if current == .star {
                advance()
                return .valueProjection(left, try projectionRHS(TokenKind.dot.bindingPower))
            }
            let right = try dotRHS(TokenKind.dot.bindingPower)
            return Parser.chain(left, right)
        case .pipe:
            let right = try expression(TokenKind.pipe.bindingPower)
            if case .pipe(var steps) = left {
                steps.append(right)
                return .pipe(steps)
            }
            return .pipe([left, right])
        case .or:
            let right = try expression(TokenKind.or.bindingPower)
            if case .or(var terms) = left {
                terms.append(right)
                return .or(terms)
            }
            return .or([left, right])
        case .and:
            let right = try expression(TokenKind.and.bindingPower)
            if case .and(var terms) = left {
                terms.append(right)
                return .and(terms)
            }
            return .and([left, right])
        case .lparen:
            return try functionCall(left, paren: t)
        case .filter:
            return try filter(left: left)
        case .eq, .ne, .lt, .lte, .gt, .gte:
            let right = try expression(t.kind.bindingPower)
            let op: Comparator
            switch t.kind {
            case .eq: op = .eq
            case .ne: op = .ne
            case .lt: op = .lt
            case .lte: op = .lte
            case .gt: op = .gt
            default: op = .gte
            }
            return .compare(op, left, right)
        case .flatten:
            return .projection(.flatten(left), try projectionRHS(TokenKind.flatten.bindingPower))
        case .lbracket:
            if current == .number || current == .colon {
                let right = try indexExpression()
                return try projectIfSlice(left, right)
            }
            try match(.star, "in a bracket expression (a number, slice, '*' or '?')")
            try match(.rbracket, "after '[*'")
            return .projection(left, try projectionRHS(TokenKind.star.bindingPower))
        default:
            throw error("unexpected \(describe(t))", t)
        }
    }

    static func chain(_ left: Node, _ right: Node) -> Node {
        if case .chain(var steps) = left {
            steps.append(right)
            return .chain(steps)
        }
        return .chain([left, right])
    }

    // MARK: - pieces

    mutating func functionCall(_ left: Node, paren: Token) throws(JMESPathError) -> Node {
        guard case .field(let name) = left else {
            throw error("'(' must follow a function name", paren)
        }
        // The name token is the one just before '('.
        let nameToken = tokens[max(0, index - 2)]
        var args: [Node] = []
        if current == .rparen {
            advance()
        } else {
            while true {
                args.append(try expression(0))
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
        guard let fn = Builtin(rawValue: name) else {
            if functionError == nil {
                functionError = JMESPathError.compile(.unknownFunction, "unknown function \(name)()", source: source,
                                                      byteOffset: nameToken.start)
            }
            return .literal(.null)
        }
        let (minArgs, variadic) = fn.arity
        if args.count < minArgs || (!variadic && args.count > minArgs) {
            let expected = variadic ? "at least \(minArgs)" : "\(minArgs)"
            let noun = minArgs == 1 && !variadic ? "argument" : "arguments"
            if functionError == nil {
                functionError = JMESPathError.compile(
                    .invalidArity, "\(name)() takes \(expected) \(noun) but was given \(args.count)",
                    source: source, byteOffset: nameToken.start)
            }
        }
        return .function(fn, args)
    }

    mutating func filter(left: Node) throws(JMESPathError) -> Node {
        let condition = try expression(0)
        try match(.rbracket, "to close the filter '[?'")
        let right: Node
        if current == .flatten {
            right = .identity
        } else {
            right = try projectionRHS(TokenKind.filter.bindingPower)
        }
        return .filterProjection(left, right, condition: condition)
    }

    /// After `[` when the next token is a number or ':'.
    mutating func indexExpression() throws(JMESPathError) -> Node {
        if current == .colon || lookahead(1) == .colon {
            return try sliceExpression()
        }
        let t = tokens[index]
        advance()
        try match(.rbracket, "after the index")
        return .index(t.number)
    }

    mutating func sliceExpression() throws(JMESPathError) -> Node {
        var parts: [Int?] = [nil, nil, nil]
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
                parts[part] = t.number
                sawNumber = true
                advance()
            case .eof:
                throw error("unexpected end of expression in slice: expected ']'", t)
            default:
                throw error("unexpected \(describe(t)) in slice: expected a number, ':' or ']'", t)
            }
        }
        advance()
        return .slice(start: parts[0], stop: parts[1], step: parts[2])
    }

    mutating func projectIfSlice(_ left: Node, _ right: Node) throws(JMESPathError) -> Node {
        let indexed: Node
        if case .identity = left { indexed = right } else { indexed = Parser.chain(left, right) }
        if case .slice = right {
            return .projection(indexed, try projectionRHS(TokenKind.star.bindingPower))
        }
        return indexed
    }

    mutating func projectionRHS(_ rbp: Int) throws(JMESPathError) -> Node {
        if current.bindingPower < Parser.projectionStop { return .identity }
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

    mutating func dotRHS(_ rbp: Int) throws(JMESPathError) -> Node {
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

    mutating func multiList() throws(JMESPathError) -> Node {
        var items: [Node] = []
        while true {
            items.append(try expression(0))
            if current == .rbracket { break }
            try match(.comma, "between multi-select list items")
        }
        advance()
        return .multiList(items)
    }

    mutating func multiHash() throws(JMESPathError) -> Node {
        var pairs: [KeyedNode] = []
        while true {
            let t = tokens[index]
            guard t.kind == .quotedIdentifier || t.kind == .unquotedIdentifier else {
                throw error("expected a key name in multi-select hash but found \(describe(t))", t)
            }
            advance()
            try match(.colon, "after the key '\(t.text)'")
            let value = try expression(0)
            pairs.append(KeyedNode(key: t.text, node: value))
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
        return .multiHash(pairs)
    }
}

/// Rewrites common shapes into cheaper nodes. Semantics are unchanged.
enum Optimizer {
    static func optimize(_ node: Node) -> Node {
        switch node {
        case .identity, .field, .fieldPath, .index, .slice, .literal:
            return node
        case .chain(let steps):
            let steps = steps.map(optimize)
            // A chain made only of plain fields becomes one path lookup.
            var names: [String] = []
            for s in steps {
                if case .field(let n) = s { names.append(n) } else if case .fieldPath(let ns) = s { names.append(contentsOf: ns) } else { break }
            }
            if names.count >= steps.count && !steps.isEmpty {
                return .fieldPath(names)
            }
            return .chain(steps)
        case .projection(let l, let r): return .projection(optimize(l), optimize(r))
        case .valueProjection(let l, let r): return .valueProjection(optimize(l), optimize(r))
        case .filterProjection(let l, let r, let c): return .filterProjection(optimize(l), optimize(r), condition: optimize(c))
        case .flatten(let n): return .flatten(optimize(n))
        case .compare(let op, let l, let r):
            let l = optimize(l), r = optimize(r)
            if op == .eq || op == .ne {
                if case .field(let name) = l, case .literal(let v) = r { return .fieldEquals(name, v, negated: op == .ne) }
                if case .literal(let v) = l, case .field(let name) = r { return .fieldEquals(name, v, negated: op == .ne) }
            }
            return .compare(op, l, r)
        case .fieldEquals: return node
        case .or(let ns): return .or(ns.map(optimize))
        case .and(let ns): return .and(ns.map(optimize))
        case .not(let n): return .not(optimize(n))
        case .pipe(let ns): return .pipe(ns.map(optimize))
        case .multiList(let ns): return .multiList(ns.map(optimize))
        case .multiHash(let ps): return .multiHash(ps.map { KeyedNode(key: $0.key, node: optimize($0.node)) })
        case .function(let f, let args): return .function(f, args.map(optimize))
        case .expref(let n): return .expref(optimize(n))
        }
    }
}
