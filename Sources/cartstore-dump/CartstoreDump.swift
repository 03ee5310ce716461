import ArgumentParser

/// `cartstore-dump`: inspects the files of a CartStore data directory and verifies their
/// checksums, in the manner of RocksDB's `sst_dump` and `ldb`.
///
/// Every subcommand opens files read-only and never takes the directory's `LOCK`, so it may run
/// on a copy or on a directory a server has open.
///
/// Exit status: 0 when everything read is intact; 1 when damage was found (a checksum mismatch,
/// a malformed structure, an unsupported format version, a file that is not what it should be);
/// 2 when a file cannot be read at all (missing, permissions); 64 for usage errors.
@main
struct CartstoreDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartstore-dump",
        abstract: "Inspect CartStore segments, write-ahead logs and manifests, and verify their checksums.",
        discussion: """
        Files are opened read-only and the data directory's LOCK is never taken.
        Exit status: 0 intact, 1 damage found, 2 a file could not be read, 64 usage error.
        """,
        subcommands: [SegmentCommand.self, WALCommand.self, ManifestCommand.self, VerifyCommand.self]
    )
}
