import ArgumentParser

/// The options that control how keys and values are printed.
struct EntryOptions: ParsableArguments {
    @Flag(name: .long, help: "Print every entry (key, sequence, kind and value).")
    var entries = false

    @Flag(name: .long, help: "Print keys and values in hex even when they are printable UTF-8.")
    var hex = false

    @Option(name: .long, help: "Cut values longer than this many bytes (0: print whole values).")
    var valueBytesMax = 256

    var formatter: ByteFormatter { ByteFormatter(forceHex: hex, valueBytesMax: valueBytesMax) }

    func validate() throws {
        guard valueBytesMax >= 0 else { throw ValidationError("--value-bytes-max must not be negative") }
    }
}
