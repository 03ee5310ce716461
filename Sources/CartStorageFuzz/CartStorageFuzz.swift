import CartStorage

/// libFuzzer entry point: the first input byte picks one of the engine's decoders (log framing,
/// write batch, block, index entry, footer, meta block, manifest edit, bloom filter, whole
/// segment file, whole manifest), the rest is fed to it (`_StorageFuzzHooks`).
///
/// Oracle: no trap (the sanitizers report memory errors), failures only as `StorageError`, and
/// an error offset inside the input. A violation aborts, which libFuzzer reports.
///
/// Build and run (see Package.swift and the README):
///   CARTSTORE_FUZZ=1 swift build --sanitize fuzzer --sanitize address \
///       --product CartStorageFuzz --scratch-path .build-fuzz
///   .build-fuzz/debug/CartStorageFuzz -max_total_time=60 storage-corpus/
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let (decoder, outcome) = _StorageFuzzHooks.run(bytes)
    if case let .violation(problem) = outcome { fatalError("\(decoder): \(problem)") }
    return 0
}
