#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `LOCK` file of a data directory, held with `flock(LOCK_EX | LOCK_NB)` for as long as an
/// engine has the directory open. The file's content is the holder's pid in decimal followed by
/// a newline, so that a refused opener can say who holds it.
///
/// A second open in the same process also fails: flock locks belong to the open file
/// description, and each open creates a new one.
final class PosixDirectoryLock: DirectoryLock {
    let directory: String
    private let descriptor: Atomic<Int32>

    private init(directory: String, fd: Int32) {
        self.directory = directory
        descriptor = Atomic(fd)
    }

    static func acquire(directory: String) throws(StorageError) -> PosixDirectoryLock {
        let path = directory + "/" + FileNames.lock
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            let holder = readPID(fd)
            _ = close(fd)
            if e == EWOULDBLOCK { throw .locked(directory: directory, holderPID: holder) }
            throw .io(operation: "flock", path: path, errno: e)
        }
        let pidLine = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pidLine.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return PosixDirectoryLock(directory: directory, fd: fd)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        let digits = String(decoding: buf[0..<n], as: UTF8.self).filter { $0.isNumber }
        return Int32(digits)
    }

    func release() {
        let fd = descriptor.exchange(-1, ordering: .relaxed)
        guard fd >= 0 else { return }
        _ = flock(fd, LOCK_UN)
        _ = close(fd)
    }

    deinit { release() }
}
