/// A full compaction requested by `compactAll`, done against the data present when it was
/// requested: level by level from the top, the segments a level held when its turn came
/// (`pending`) are merged into the level below, one step at a time. Segments that arrive later
/// (new flushes, automatic compactions) are not waited for, so the request finishes however
/// fast writes continue; automatic compactions alternate with its steps, so they do not starve.
struct ManualCompaction {
    /// Identifies the request (its caller waits for this one to finish).
    let id: UInt64
    /// The level whose pending segments are being pushed down.
    var level: Int
    /// The level everything is merged into (at least 1): the deepest non-empty level, which an
    /// automatic compaction running meanwhile may push one deeper.
    var bottom: Int
    /// File numbers of `level` still to push down.
    var pending: Set<UInt64>
}
