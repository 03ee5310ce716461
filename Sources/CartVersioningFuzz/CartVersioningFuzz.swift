import CartVersioning

/// libFuzzer entry point: feeds arbitrary bytes to the record and context-token decoders.
///
/// Oracle: decoding never traps and only throws `RecordCodecError` (typed throws); whatever
/// decodes re-encodes to the identical bytes (the format is canonical); a decoded value can be
/// merged with itself and rendered without trapping. A violation aborts, which libFuzzer reports.
///
/// Build and run (see Package.swift):
///   CARTSTORE_FUZZ=1 swift build --sanitize fuzzer --sanitize address \
///       --product CartVersioningFuzz --scratch-path .build-fuzz
///   .build-fuzz/debug/CartVersioningFuzz -max_total_time=60 corpus/
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let record = try RecordCodec.decode(bytes)
        let again = try RecordCodec.encode(record)
        if again != bytes { fatalError("record decoded but re-encoded differently") }
        switch record {
        case let .siblings(set):
            if set.merging(set) != set { fatalError("sibling-set merge is not idempotent") }
            _ = set.lastWriteWinsWinner
        case let .cart(cart):
            if cart.merging(cart) != cart { fatalError("cart merge is not idempotent") }
            _ = cart.view
        }
    } catch {
        // A typed RecordCodecError: the expected outcome for most inputs.
    }
    do {
        let context = try RecordCodec.decodeContext(bytes)
        if try RecordCodec.encode(context) != bytes { fatalError("context decoded but re-encoded differently") }
    } catch {
        // A typed RecordCodecError.
    }
    return 0
}
