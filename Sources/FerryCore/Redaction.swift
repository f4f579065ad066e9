import FerryJSON

/// Removes secrets from anything Ferry writes out: logs, errors, history, outputs, CLI text.
public enum Redaction {
    public static let mask = "***"

    /// Field names whose values are secret wherever they appear (compared case-insensitively, ignoring `_` and `-`).
    public static let secretFieldNames: Set<String> = [
        "password", "passwd", "pwd", "secret", "accesskeysecret", "secretkey", "sk", "securitytoken", "token",
        "authorization", "sessiontoken", "xsecuritytoken", "xauthtoken", "sourcepassword", "targetpassword",
        "redispassword", "clientsecret", "privatekey",
    ]

    public static func isSecretField(_ name: String) -> Bool {
        var n = name.lowercased()
        n.removeAll { $0 == "_" || $0 == "-" }
        if secretFieldNames.contains(n) { return true }
        return n.hasSuffix("password") || n.hasSuffix("secret") || n.hasSuffix("token")
    }

    /// A copy of `value` with every secret-named field's value replaced by the mask, at any depth.
    public static func redactFields(_ value: JSON) -> JSON {
        switch value {
        case .object(let o):
            var r = JSONObject()
            for (k, v) in o {
                r[k] = isSecretField(k) && !v.isNull ? .string(mask) : redactFields(v)
            }
            return .object(r)
        case .array(let a): return .array(a.map(redactFields))
        default: return value
        }
    }

    /// Replaces every occurrence of each known secret value in `text` with the mask.
    public static func scrub(_ text: String, secrets: [String]) -> String {
        var t = text
        for s in secrets where s.count >= 4 { t = t.replacingAll(s, with: mask) }
        return t
    }
}

extension String {
    /// Literal substring replacement without Foundation.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, self.contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        result += rest
        return result
    }
}
