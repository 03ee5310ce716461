import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TestDirectory {
    let path: String

    init(_ name: String = #function) {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "cartstore-test-\(clean)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func files(withSuffix suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    /// Copies the directory (without its LOCK holder) to a new test directory.
    func copy(_ suffix: String) -> TestDirectory {
        let d = TestDirectory(suffix)
        try? FileManager.default.removeItem(atPath: d.path)
        try? FileManager.default.copyItem(atPath: path, toPath: d.path)
        return d
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Byte-level file surgery for corruption tests.
enum FileSurgery {
    static func read(_ path: String) -> [UInt8] {
        (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        try? Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func flip(_ path: String, at offset: Int) {
        var b = read(path)
        b[offset] ^= 0x5A
        write(path, b)
    }

    static func truncate(_ path: String, to size: Int) {
        let b = read(path)
        write(path, Array(b.prefix(size)))
    }
}

/// Paths of the package's built executables (next to the test bundle).
extension String {
    var bytes: [UInt8] { Array(utf8) }
}
