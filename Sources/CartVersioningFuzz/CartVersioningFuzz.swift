import CartVersioning

/// libFuzzer entry point: feeds arbitrary bytes to the record and context-token decoders.
///
/// Oracle: decoding never traps and only throws `RecordCodecError` (typed throws); whatever
/// decodes re-encodes to the identical bytes (the format is canonical); a decoded value can be
/// merged with itself and rendered without trapping. A decoded cart is then operated on (every
/// kind of operation, at a known and an unknown replica, with and without its own context as the
/// token), merged with the empty cart and with what the operations made, and compacted: whatever
/// an operation accepts, and every merge and compaction, must encode and read back equal (a cart
/// the store could not write, or could not read again, would be lost). A violation aborts, which
/// libFuzzer reports. Seed the corpus with honest records:
/// `CARTSTORE_FUZZ_SEEDS=<dir> swift test --filter decodedMutantsSurviveMergeApplyAndCompaction`.
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
            exercise(cart, choice: bytes.count)
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

/// Applies operations to a decoded cart, merges and compacts, and aborts if any result fails to
/// encode or read back.
func exercise(_ cart: CartState, choice: Int) {
    let known = cart.context.replicas.first ?? ReplicaID(node: 1, epoch: 1)
    let replicas = [known, ReplicaID(node: 99, epoch: 7)]
    let skus = cart.view.items.map(\.sku) + ["A"]
    let sku = skus[choice % skus.count]
    let operations: [CartOperation] = [
        .add(sku: sku, quantity: 2, details: CartItemDetails(name: "n", priceMinor: 5)),
        .changeQuantity(sku: sku, delta: 1), .changeQuantity(sku: sku, delta: -1),
        .changeQuantity(sku: sku, delta: -1_000), .setQuantity(sku: sku, quantity: 3),
        .setQuantity(sku: sku, quantity: 0), .updateDetails(sku: sku, details: CartItemDetails(name: "m")),
        .remove(sku: sku), .clear,
    ]
    var state = cart
    for (index, operation) in operations.enumerated() {
        let replica = replicas[(choice + index) % replicas.count]
        var next = state
        let observed = (choice + index) % 3 == 0 ? cart.context : nil
        guard (try? next.apply(operation, id: OperationID("fuzz-\(index % 4)"), at: replica,
                               issuedCounter: next.context.highestCounter(of: replica), nowMs: UInt64(1_000 + index),
                               observed: observed)) != nil else { continue }
        mustRoundTrip(next, "after \(operation)")
        state = next
    }
    let merged = cart.merging(state)
    mustRoundTrip(merged, "merge of the decoded cart and the operated one")
    if merged != state.merging(cart) { fatalError("cart merge is not commutative") }
    var compacted = merged
    compacted.compactAfterRound(with: [merged], nowMs: 10_000_000)
    mustRoundTrip(compacted, "after compaction")
    if compacted.view.items != merged.view.items { fatalError("compaction changed what the cart shows") }
}

func mustRoundTrip(_ cart: CartState, _ what: String) {
    guard let bytes = try? RecordCodec.encode(.cart(cart)) else { fatalError("\(what): the cart does not encode") }
    guard case let .cart(back)? = try? RecordCodec.decode(bytes), back == cart else {
        fatalError("\(what): the cart does not read back")
    }
}
