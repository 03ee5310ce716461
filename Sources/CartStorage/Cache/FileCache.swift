import Synchronization

/// Bounds the number of segment files held open. Segment readers ask it for their file on each
/// data-block read; the least recently used descriptors are closed when more than
/// `capacity` are open.
///
/// Ownership: a `PosixFile` closes its descriptor when the last reference goes away, so a read
/// in progress on another thread keeps its file open even if the cache evicts it meanwhile.
/// Thread safety: all methods may be called from any thread.
final class FileCache: @unchecked Sendable {
    struct State {
        var files: [UInt64: (file: PosixFile, used: UInt64)] = [:]
        var tick: UInt64 = 0
        var opens: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// The open file for segment `number` at `path`, opening it (and closing the least recently
    /// used one if the cache is full) when needed.
    func file(_ number: UInt64, path: String) throws(StorageError) -> PosixFile {
        if let f = state.withLock({ s -> PosixFile? in
            s.tick += 1
            guard let e = s.files[number] else { return nil }
            s.files[number] = (e.file, s.tick)
            return e.file
        }) { return f }
        let opened = try PosixFile.openForReading(path)
        return state.withLock { s in
            if let e = s.files[number] { return e.file } // another thread won the race
            if s.files.count >= capacity, let victim = s.files.min(by: { $0.value.used < $1.value.used })?.key {
                s.files[victim] = nil
            }
            s.tick += 1
            s.opens += 1
            s.files[number] = (opened, s.tick)
            return opened
        }
    }

    /// Forgets a deleted segment's descriptor.
    func evict(_ number: UInt64) { _ = state.withLock { $0.files.removeValue(forKey: number) } }

    var openCount: Int { state.withLock { $0.files.count } }
}
