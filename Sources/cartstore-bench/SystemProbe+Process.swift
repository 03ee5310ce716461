#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and peak memory of this process and of other processes (the servers under load).
extension SystemProbe {
    /// User + system CPU seconds this process has used so far (`getrusage(RUSAGE_SELF)`).
    static func selfCPUSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        // Glibc imports RUSAGE_SELF as an enum case (see the stack notes, pitfall 18).
        _ = getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        #else
        _ = getrusage(RUSAGE_SELF, &usage)
        #endif
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func seconds(_ t: timeval) -> Double {
        Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000
    }

    /// User + system CPU seconds process `pid` has used so far (utime + stime of
    /// /proc/PID/stat), nil where unavailable (no such process, not Linux).
    static func processCPUSeconds(pid: Int32) -> Double? {
        guard let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After the name: state (field 3) is fields[0], so utime (14) and stime (15) are [11], [12].
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (utime + stime) / ticks : nil
    }

    /// Peak resident set size of process `pid` in bytes (`VmHWM` of /proc/PID/status), nil
    /// where unavailable.
    static func peakResidentBytes(pid: Int32) -> UInt64? {
        guard let text = readSmallFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = UInt64(fields[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }
}
