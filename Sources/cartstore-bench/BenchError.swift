import CartStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can stop a benchmark run; printed by ArgumentParser as `Error: …`.
enum BenchError: Error, CustomStringConvertible {
    case storage(workload: String, StorageError)
    case system(call: String, errno: Int32)
    case unsafeDirectory(path: String, foreign: [String])
    case io(path: String, errno: Int32)

    var description: String {
        switch self {
        case let .storage(workload, e):
            return "\(workload): \(e)"
        case let .system(call, code):
            return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case let .unsafeDirectory(path, foreign):
            let shown = foreign.prefix(5).joined(separator: ", ")
            return "refusing to wipe \(path): it holds files CartStore does not own (\(shown)\(foreign.count > 5 ? ", …" : "")); pass another --db or --use-existing"
        case let .io(path, code):
            return "\(path): \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
