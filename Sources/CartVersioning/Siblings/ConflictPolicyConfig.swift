/// Which `ConflictPolicy` applies to which keys: the longest matching key prefix wins,
/// otherwise `defaultPolicy`. A request may override the policy of a `siblings` or
/// `lastWriteWins` key with the other of the two; cart keys are never LWW (design.md:
/// "Last-write-wins drops acknowledged writes"), and opaque keys cannot become carts.
///
/// Example: `ConflictPolicyConfig(defaultPolicy: .siblings, prefixes: ["cart/": .cart, "session/": .lastWriteWins])`.
///
/// Thread safety: a `Sendable` value type.
public struct ConflictPolicyConfig: Hashable, Sendable {
    /// One prefix rule.
    public struct Rule: Hashable, Sendable {
        /// Key prefix, as bytes.
        public var prefix: [UInt8]
        /// Policy for keys starting with `prefix`.
        public var policy: ConflictPolicy
    }

    /// A request asked for a policy the key may not use.
    public struct OverrideRefused: Error, Hashable, Sendable, CustomStringConvertible {
        /// The key's configured policy.
        public var configured: ConflictPolicy
        /// The policy the request asked for.
        public var requested: ConflictPolicy
        /// Human-readable reason (for a 4xx answer).
        public var description: String {
            "conflict policy \(requested) refused for a key configured as \(configured)"
        }
    }

    /// Rules, longest prefix first (ties by prefix bytes, so lookups are deterministic).
    public private(set) var rules: [Rule]
    /// Policy of keys no rule matches.
    public var defaultPolicy: ConflictPolicy

    /// A configuration from `prefix → policy`.
    public init(defaultPolicy: ConflictPolicy = .siblings, prefixes: [String: ConflictPolicy] = [:]) {
        self.defaultPolicy = defaultPolicy
        self.rules = prefixes.map { Rule(prefix: Array($0.key.utf8), policy: $0.value) }.sorted { lhs, rhs in
            if lhs.prefix.count != rhs.prefix.count { return lhs.prefix.count > rhs.prefix.count }
            return lhs.prefix.lexicographicallyPrecedes(rhs.prefix)
        }
    }

    /// The configured policy of `key`.
    public func policy(forKey key: some Collection<UInt8>) -> ConflictPolicy {
        for rule in rules where key.starts(with: rule.prefix) {
            return rule.policy
        }
        return defaultPolicy
    }

    /// The configured policy of `key`.
    public func policy(forKey key: String) -> ConflictPolicy {
        policy(forKey: key.utf8)
    }

    /// The policy for one request: the configured one, or the request's override where allowed.
    public func policy(forKey key: some Collection<UInt8>,
                       requested: ConflictPolicy?) throws(OverrideRefused) -> ConflictPolicy {
        let configured = policy(forKey: key)
        guard let requested, requested != configured else { return configured }
        switch (configured, requested) {
        case (.siblings, .lastWriteWins), (.lastWriteWins, .siblings):
            return requested
        default:
            throw OverrideRefused(configured: configured, requested: requested)
        }
    }
}
