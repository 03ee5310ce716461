import Synchronization

/// Whether the node serves: set once it is up, cleared when a graceful shutdown begins.
public final class ServingState: Sendable {
    private let serving = Atomic<Bool>(false)
    public init() {}
    public var isServing: Bool { serving.load(ordering: .relaxed) }
    public func set(_ value: Bool) { serving.store(value, ordering: .relaxed) }
}
