/// What a read of an opaque key answers: its versions and the causal context to send back.
///
/// JSON (stable; keys sorted by the API's encoder):
/// `{"context":"<base64 token>","siblings":[{"counter":3,"deleted":false,
///   "replica":{"epoch":1,"node":"7"},"timestampMs":1700000000000,"value":"<base64>"}]}`.
/// Node ids are decimal strings (64-bit ids exceed exact JSON numbers); siblings ascend by dot.
///
/// Thread safety: a `Sendable` value type.
public struct SiblingsView: Hashable, Sendable, Codable {
    /// One version in JSON form.
    public struct Entry: Hashable, Sendable, Codable {
        /// Coordinating replica of the write.
        public var replica: ReplicaJSON
        /// Event number of the write at that replica.
        public var counter: UInt64
        /// True for a deletion (then `value` is empty).
        public var deleted: Bool
        /// Coordinator time of the write, ms since the Unix epoch.
        public var timestampMs: UInt64
        /// The value, base64.
        public var value: String
    }

    /// A replica id in JSON form.
    public struct ReplicaJSON: Hashable, Sendable, Codable {
        /// Node id as a decimal string.
        public var node: String
        /// Epoch.
        public var epoch: UInt32
    }

    /// The versions to show (all siblings, or the LWW winner).
    public var siblings: [Entry]
    /// Context token for the next write.
    public var context: String

    /// The view of `set` under `policy`.
    public init(_ set: SiblingSet, policy: ConflictPolicy) throws(RecordCodecError) {
        siblings = set.resolvedVersions(policy: policy).map { version in
            Entry(replica: ReplicaJSON(node: String(version.dot.replica.node), epoch: version.dot.replica.epoch),
                  counter: version.dot.counter, deleted: version.sibling.isDeletion,
                  timestampMs: version.sibling.timestampMs, value: Base64.encode(version.sibling.value))
        }
        context = try CausalContext(versionVector: set.context).token()
    }
}
