import ArgumentParser
import CartStorage

/// `--sync always|none|interval:MS`.
struct SyncArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let policy: StorageOptions.SyncPolicy

    init(_ policy: StorageOptions.SyncPolicy) { self.policy = policy }

    init?(argument: String) {
        switch argument {
        case "always": policy = .always
        case "none": policy = .none
        default:
            guard argument.hasPrefix("interval:"), let ms = Int(argument.dropFirst("interval:".count)), ms >= 1 else { return nil }
            policy = .interval(milliseconds: ms)
        }
    }

    var description: String {
        switch policy {
        case .always: return "always"
        case .none: return "none"
        case let .interval(ms): return "interval:\(ms)"
        }
    }

    static var allValueStrings: [String] { ["always", "none", "interval:MS"] }
}

/// `--compression none|zlib|zlib:LEVEL` (zlib alone is level 1, the engine's default).
struct CompressionArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let compression: StorageOptions.Compression

    init(_ compression: StorageOptions.Compression) { self.compression = compression }

    init?(argument: String) {
        switch argument {
        case "none": compression = .none
        case "zlib": compression = .zlib(level: 1)
        default:
            guard argument.hasPrefix("zlib:"), let level = Int(argument.dropFirst("zlib:".count)), (1...9).contains(level) else { return nil }
            compression = .zlib(level: level)
        }
    }

    var description: String {
        switch compression {
        case .none: return "none"
        case let .zlib(level): return level == 1 ? "zlib" : "zlib:\(level)"
        }
    }

    static var allValueStrings: [String] { ["none", "zlib", "zlib:LEVEL"] }
}

/// A byte count: a plain number, or with a K/M/G suffix (KiB, MiB, GiB; `64M`, `64MiB`).
struct ByteCountArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let bytes: Int

    init(_ bytes: Int) { self.bytes = bytes }

    init?(argument: String) {
        var digits = Substring(argument)
        var unit = 1
        for (suffixes, multiplier) in [(["KiB", "K", "k"], 1 << 10), (["MiB", "M", "m"], 1 << 20), (["GiB", "G", "g"], 1 << 30)] {
            if let s = suffixes.first(where: { argument.hasSuffix($0) }) {
                digits = digits.dropLast(s.count)
                unit = multiplier
                break
            }
        }
        guard let n = Int(digits), n >= 0 else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        bytes = product
    }

    var description: String {
        if bytes > 0 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        return "\(bytes)"
    }
}
