import Foundation

/// Where SwiftPM put the package's executables (the test runner lives beside them, or inside an
/// .xctest bundle beside them), for tests that start them as child processes.
public enum BuiltProducts {
    public static var directory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // The test runner may live inside an .xctest bundle directory.
        while dir.contains(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
        return dir
    }

    public static func path(_ name: String) -> String { directory + "/" + name }
}
