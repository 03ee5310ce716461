import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// The internode message codec: every message, request, reply, rejection and error case
/// survives a round trip with equal value and equal bytes; the worked examples of
/// data-format.md are what the encoder writes; truncated, extended, mutated and malformed
/// bytes are refused with a `WireError` (never a trap), and whatever decodes is canonical.
@Suite struct ClusterMessageCodecTests {
    typealias Codec = ClusterMessageCodec

    let phone = ReplicaID(node: 1, epoch: 1)
    let laptop = ReplicaID(node: 2, epoch: 7)

    // MARK: Values

    func cartRecord() throws -> StoredRecord {
        var cart = CartState()
        try cart.apply(.add(sku: "A1", quantity: 2,
                            details: CartItemDetails(name: "Mug", priceMinor: 1299, metadata: ["color": "red"])),
                       id: OperationID("k1"), at: phone, issuedCounter: 0, nowMs: 1_000)
        try cart.apply(.changeQuantity(sku: "A1", delta: -1), id: OperationID("k2"), at: laptop, issuedCounter: 0,
                       nowMs: 2_000)
        return .cart(cart)
    }

    func siblingsRecord() throws -> StoredRecord {
        var set = SiblingSet()
        try set.write(Sibling(value: [1, 2, 3], timestampMs: 10), context: VersionVector(), at: phone, issuedCounter: 0)
        try set.write(Sibling(value: [4], timestampMs: 20), context: VersionVector(), at: laptop, issuedCounter: 0)
        try set.write(.deletion(timestampMs: 30), context: VersionVector(), at: phone, issuedCounter: 1)
        return .siblings(set)
    }

    var vector: VersionVector { VersionVector([phone: 3, laptop: 1]) }

    /// A context with a gap: laptop's event 5 seen, 2…4 not.
    var contextWithCloud: CausalContext {
        CausalContext(versionVector: vector, dotCloud: [Dot(replica: laptop, counter: 5)])
    }

    func requests() -> [ClientRequest] {
        let key = Array("cart:7".utf8)
        let opaque = Array("kv:x".utf8)
        let details = CartItemDetails(name: "Mug", priceMinor: -5,
                                      metadata: ["size": "L", "color": "red", "é": "x", "": ""])
        let operations: [CartOperation] = [
            .add(sku: "A1", quantity: 2, details: details),
            .add(sku: "A2", quantity: Int64.max, details: CartItemDetails()),
            .changeQuantity(sku: "A1", delta: -1),
            .changeQuantity(sku: "A1", delta: Int64.min),
            .setQuantity(sku: "A1", quantity: 0),
            .updateDetails(sku: "A1", details: CartItemDetails(priceMinor: 0)),
            .updateDetails(sku: "A1", details: CartItemDetails(metadata: [:])),
            .remove(sku: "café"),
            .clear,
        ]
        var requests: [ClientRequest] = [
            ClientRequest(key: key, operation: .get),
            ClientRequest(key: key, operation: .get, r: 1, w: 3, timeoutMs: 5_000),
            ClientRequest(key: opaque, operation: .put(value: [0, 0xFF], context: nil)),
            ClientRequest(key: opaque, operation: .put(value: [], context: vector), r: 0, w: 0, timeoutMs: 0),
            ClientRequest(key: opaque, operation: .put(value: [1], context: VersionVector())),
            ClientRequest(key: opaque, operation: .delete(context: nil)),
            ClientRequest(key: opaque, operation: .delete(context: vector), timeoutMs: UInt64.max),
            ClientRequest(key: [], operation: .get),
        ]
        for (index, operation) in operations.enumerated() {
            let observed: CausalContext? = index % 2 == 0 ? contextWithCloud : nil
            requests.append(ClientRequest(key: key, operation: .cart(operation, id: OperationID("op-\(index)"),
                                                                     observed: observed)))
        }
        requests.append(ClientRequest(key: key, operation: .cart(.clear, id: OperationID("é"), observed: CausalContext())))
        let checkout = try! CheckoutID("co-1")
        requests.append(ClientRequest(key: key, operation: .checkout(checkout), timeoutMs: 900))
        requests.append(ClientRequest(key: checkout.orderKey, operation: .readOrder(checkout)))
        return requests
    }

    func quorumErrors() -> [QuorumError] {
        [
            .unreachable(needed: 2, answered: 1, failed: 2, replicas: 3),
            .unreachable(needed: Int.min, answered: -1, failed: Int.max, replicas: 0),
            .timedOut(needed: 3, answered: 0, replicas: 3),
        ]
    }

    func cartErrors() -> [CartOperationError] {
        [
            .invalidSKU("", reason: "must not be empty"),
            .invalidQuantity(-3, reason: "must be >= 1"),
            .invalidQuantity(Int64.min, reason: ""),
            .invalidDetails("price must not be negative"),
            .itemNotFound(sku: "A1"),
            .cartFull(itemsMax: 256),
            .cartTooLarge(bytesMax: 256 << 10),
            .invalidOperationID(reason: "must have 1...64 bytes"),
            .staleContext(reason: "item A1"),
            .missingOwnWrites(replica: phone, seen: 3, issued: 5),
            .observedContextNotCovered,
            .tooManyReplicas(max: 128),
            .counterExhausted(laptop),
            .tooManyRecentOperations(max: 1_024),
        ]
    }

    func siblingErrors() -> [SiblingWriteError] {
        [
            .contextNotCovered,
            .missingOwnWrites(replica: laptop, seen: 0, issued: UInt64.max),
            .counterExhausted(ReplicaID(node: UInt64.max, epoch: UInt32.max)),
            .tooManyReplicas(max: 128),
            .valueTooLarge(bytes: 600_000, bytesMax: 512 << 10),
        ]
    }

    func rejections() -> [RequestRejection] {
        var rejections: [RequestRejection] = [
            .invalidQuorum(.n(0)),
            .invalidQuorum(.n(17)),
            .invalidQuorum(.r(-1, n: 3)),
            .invalidQuorum(.w(4, n: 3)),
            .invalidTimeout(ms: 0, maxMs: 60_000),
            .invalidTimeout(ms: UInt64.max, maxMs: 1),
            .invalidKey(bytes: 0, max: ReplicaStore.keyBytesMax),
            .invalidKey(bytes: 70_000, max: ReplicaStore.keyBytesMax),
        ]
        rejections += ConflictPolicy.allCases.map { RequestRejection.wrongKind(policy: $0) }
        rejections += cartErrors().map { RequestRejection.cart($0) }
        rejections += siblingErrors().map { RequestRejection.siblings($0) }
        rejections += [.emptyCart, .checkoutContended, .checkoutIDInUse(try! CheckoutID("co-é"))]
        return rejections
    }

    func replies() throws -> [ClientReply] {
        var replies: [ClientReply] = [
            .found(try cartRecord()),
            .found(try siblingsRecord()),
            .notFound,
            .written(record: try cartRecord(), dot: Dot(replica: laptop, counter: 1), duplicate: false, acks: 2),
            .written(record: try siblingsRecord(), dot: Dot(replica: ReplicaID(node: UInt64.max, epoch: UInt32.max),
                                                            counter: UInt64.max),
                     duplicate: true, acks: 0),
            .storageFailed("disk full: /data/000007.seg"),
            .storageFailed(""),
        ]
        replies += quorumErrors().map { ClientReply.unavailable($0) }
        replies += rejections().map { ClientReply.rejected($0) }
        replies += [.checkedOut(try order(), replayed: false), .checkedOut(try order(), replayed: true), .order(try order())]
        return replies
    }

    /// A one-item order (the checkout's codec has its own tests: CheckoutCodecTests).
    func order() throws -> Order {
        let item = CartItem(sku: "mug", quantity: 2, name: "Mug", priceMinor: 1299, metadata: ["size": "L"],
                            addedAtMs: 1, updatedAtMs: 2)
        return Order(checkoutID: try CheckoutID("co-1"), cartKey: Array("cart:7".utf8), items: [item],
                     context: CausalContext(), createdMs: 3, coordinator: NodeID(1))
    }

    /// The anti-entropy messages, at their limits and empty; digests deliberately out of key order
    /// (the codec requires none).
    func treeMessages() -> [ClusterMessage] {
        let topIndex = Codec.treeIndexMax - 1
        return [
            .treeHashes(id: 20, partition: 0, level: 0, indices: [0], hashes: [0x0123_4567_89AB_CDEF]),
            .treeHashes(id: 21, partition: Codec.treePartitionMax - 1, level: Codec.treeLevelMax,
                        indices: [0, 1, 15, 127, 128, 16_383, 16_384, topIndex],
                        hashes: [0, UInt64.max, 1, 2, 3, 4, 5, 0x8000_0000_0000_0000]),
            .treeHashes(id: 22, partition: 7, level: 1, indices: [], hashes: []),
            .treeHashesReply(id: 23, ready: true, differing: [2, 5]),
            .treeHashesReply(id: 24, ready: false, differing: []),
            .treeHashesReply(id: UInt64.max, ready: true, differing: [0, 127, 128, 16_383, 16_384, topIndex]),
            .treeKeys(id: 25, partition: 3, leaves: [4, 9, topIndex], digests: [
                KeyDigest(key: Array("cart:42".utf8), hash: 0xDEAD_BEEF),
                KeyDigest(key: [], hash: UInt64.max),
                KeyDigest(key: Array("a".utf8), hash: 0),
                KeyDigest(key: Array("a".utf8), hash: 0),
            ]),
            .treeKeys(id: 26, partition: 0, leaves: [], digests: []),
            .treeKeys(id: 27, partition: Codec.treePartitionMax - 1, leaves: [0],
                      digests: [KeyDigest(key: [0xFF, 0x00], hash: 1)]),
            .treeKeysReply(id: 28, wanted: [Array("cart:42".utf8), [], Array("cart:42".utf8)]),
            .treeKeysReply(id: 29, wanted: []),
        ]
    }

    /// Every message case, with every request operation, cart operation, reply, rejection and
    /// error case inside `forward` and `forwardReply`.
    func allMessages() throws -> [ClusterMessage] {
        let cart = try cartRecord()
        let siblings = try siblingsRecord()
        var messages: [ClusterMessage] = [
            .read(id: 1, key: Array("cart:42".utf8)),
            .read(id: UInt64.max, key: []),
            .readReply(id: 2, record: cart, ok: true),
            .readReply(id: 3, record: siblings, ok: true),
            .readReply(id: 3, record: nil, ok: false),
            .readReply(id: 3, record: nil, ok: true),
            .write(id: 4, key: Array("kv:1".utf8), record: siblings, hintFor: nil),
            .write(id: 5, key: Array("cart:1".utf8), record: cart, hintFor: NodeID(9)),
            .writeReply(id: 6, ok: true),
            .writeReply(id: 7, ok: false),
            .forwardAccepted(id: 8),
            .repair(key: Array("cart:1".utf8), record: cart),
        ]
        for (index, request) in requests().enumerated() {
            messages.append(.forward(id: 100 + UInt64(index), request: request))
        }
        for (index, reply) in try replies().enumerated() {
            messages.append(.forwardReply(id: 200 + UInt64(index), reply: reply))
        }
        messages += treeMessages()
        let order = try order()
        let checkout = order.checkoutID
        let ballot = Ballot(round: 2, node: NodeID(3))
        messages += [
            .checkoutPrepare(id: 30, checkout: checkout, ballot: ballot),
            .checkoutAccept(id: 31, ballot: ballot, order: order),
            .checkoutVote(id: 32, vote: .granted(accepted: AcceptedProposal(ballot: ballot, order: order))),
            .checkoutVote(id: 32, vote: .refused(promised: ballot)),
            .checkoutCommit(id: 33, order: order),
            .checkoutCommitted(id: 34, ok: true),
            .orderRead(id: 35, checkout: checkout),
            .orderReadReply(id: 36, ok: true, order: order),
            .orderReadReply(id: 36, ok: false, order: nil),
            .gossip(records: [MemberRecord(node: NodeID(1), address: "127.0.0.1:7701", generation: 5, version: 9, status: .normal),
                              MemberRecord(node: NodeID(2), address: "", generation: .max, version: 0, status: .removed)]),
            .gossipReply(records: []),
        ]
        return messages
    }

    // MARK: Round trips

    @Test func everyMessageRoundTripsWithEqualBytes() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            let decoded = try Codec.decode(bytes)
            #expect(decoded == message, "\(message)")
            #expect(try Codec.encode(decoded) == bytes, "\(message)")
        }
    }

    /// The value lists above reach every tag of every enum the codec writes.
    @Test func theMessagesCoverEveryTag() throws {
        let encoded = try allMessages().map { try Codec.encode($0) }
        func tags<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> Set<UInt8> where T.RawValue == UInt8 {
            Set(T.allCases.map(\.rawValue))
        }
        #expect(Set(encoded.map { $0[1] }) == tags(Codec.MessageTag.self))

        let forwards = encoded.filter { $0[1] == Codec.MessageTag.forward.rawValue }
        // version, tag, id (8), key length (1 byte for these keys), key, operation tag.
        #expect(Set(forwards.map { $0[11 + Int($0[10])] }) == tags(Codec.OperationTag.self))
        let cartForwards = forwards.filter { $0[11 + Int($0[10])] == Codec.OperationTag.cart.rawValue }
        #expect(Set(cartForwards.map { $0[12 + Int($0[10])] }) == tags(Codec.CartOperationTag.self))

        let replies = encoded.filter { $0[1] == Codec.MessageTag.forwardReply.rawValue }
        #expect(Set(replies.map { $0[10] }) == tags(Codec.ReplyTag.self))
        let unavailable = replies.filter { $0[10] == Codec.ReplyTag.unavailable.rawValue }
        #expect(Set(unavailable.map { $0[11] }) == tags(Codec.QuorumErrorTag.self))
        let rejected = replies.filter { $0[10] == Codec.ReplyTag.rejected.rawValue }
        #expect(Set(rejected.map { $0[11] }) == tags(Codec.RejectionTag.self))
        func nested(_ tag: Codec.RejectionTag) -> Set<UInt8> {
            Set(rejected.filter { $0[11] == tag.rawValue }.map { $0[12] })
        }
        #expect(nested(.invalidQuorum) == tags(Codec.QuorumInvalidTag.self))
        #expect(nested(.wrongKind) == tags(ConflictPolicy.self))
        #expect(nested(.cart) == tags(Codec.CartErrorTag.self))
        #expect(nested(.siblings) == tags(Codec.SiblingErrorTag.self))
    }

    /// The worked examples of data-format.md ("Internode messages").
    @Test func workedExamplesMatchTheDocument() throws {
        #expect(try Codec.encode(.read(id: 1, key: Array("cart:42".utf8))) == [
            0x01, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x07, 0x63, 0x61, 0x72, 0x74, 0x3a, 0x34, 0x32,
        ])
        #expect(try Codec.encode(.writeReply(id: 258, ok: true)) == [
            0x01, 0x04,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
            0x01,
        ])
        #expect(try Codec.encode(.forwardReply(id: 5, reply: .rejected(.invalidQuorum(.r(4, n: 3))))) == [
            0x01, 0x07,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
            0x04, 0x01, 0x02, 0x08, 0x06,
        ])
        #expect(try Codec.encode(.treeHashesReply(id: 1, ready: true, differing: [2, 5])) == [
            0x01, 0x0A,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x01,
            0x02, 0x02, 0x05,
        ])
    }

    // MARK: Refusals

    /// Decodes `bytes`, which must fail with `code` (at `offset`, if given).
    func expectRefused(_ bytes: [UInt8], _ code: WireError.Code, at offset: Int? = nil,
                       _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        do throws(WireError) {
            let message = try Codec.decode(bytes)
            Issue.record("decoded \(message), expected \(code) \(comment())", sourceLocation: sourceLocation)
        } catch {
            // Plain checks, so that the (long) comment is built only for a failure.
            if error.code != code {
                Issue.record("\(error), expected \(code) \(comment())", sourceLocation: sourceLocation)
            } else if let offset, error.offset != offset {
                Issue.record("\(error), expected offset \(offset) \(comment())", sourceLocation: sourceLocation)
            }
        }
    }

    /// Encodes `message`, which must fail with `code`.
    func expectUnencodable(_ message: ClusterMessage, _ code: WireError.Code, _ comment: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        do throws(WireError) {
            let bytes = try Codec.encode(message)
            Issue.record("encoded \(bytes.count) bytes, expected \(code): \(comment)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code && error.offset == 0, "\(error): \(comment)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyStrictPrefixIsRefused() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            for length in 0..<bytes.count {
                expectRefused(Array(bytes[..<length]), .truncated, "\(message) cut to \(length) bytes")
            }
        }
    }

    @Test func trailingBytesAreRefused() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            expectRefused(bytes + [0], .trailingBytes, at: bytes.count, "\(message)")
        }
    }

    @Test func unknownVersionsAndTagsAreRefused() throws {
        func setting(_ bytes: [UInt8], at index: Int, with value: UInt8) -> [UInt8] {
            var copy = bytes
            copy[index] = value
            return copy
        }
        let read = try Codec.encode(.read(id: 1, key: [0x6b]))
        expectRefused(setting(read, at: 0, with: 0), .unsupportedVersion, at: 0)
        expectRefused(setting(read, at: 0, with: 2), .unsupportedVersion, at: 0)
        for tag: UInt8 in [0, 22, 0xFF] {
            expectRefused(setting(read, at: 1, with: tag), .unknownTag, at: 1)
        }

        // forward: 01 05 id(8) 01 6b, then the operation tag at 12 (and a cart operation's at 13).
        let get = try Codec.encode(.forward(id: 1, request: ClientRequest(key: [0x6b], operation: .get)))
        expectRefused(setting(get, at: 12, with: 0), .unknownTag, at: 12)
        expectRefused(setting(get, at: 12, with: 7), .unknownTag, at: 12)
        let clear = try Codec.encode(.forward(id: 1, request: ClientRequest(key: [0x6b],
                                                                             operation: .cart(.clear, id: OperationID("i"), observed: nil))))
        expectRefused(setting(clear, at: 13, with: 7), .unknownTag, at: 13)

        // forwardReply: 01 07 id(8), then the reply tag at 10 and nested tags at 11 and 12.
        func reply(_ reply: ClientReply) throws -> [UInt8] { try Codec.encode(.forwardReply(id: 1, reply: reply)) }
        expectRefused(setting(try reply(.notFound), at: 10, with: 9), .unknownTag, at: 10)
        expectRefused(setting(try reply(.notFound), at: 10, with: 0), .unknownTag, at: 10)
        expectRefused(setting(try reply(.unavailable(.timedOut(needed: 1, answered: 0, replicas: 1))), at: 11, with: 3),
                      .unknownTag, at: 11)
        expectRefused(setting(try reply(.rejected(.invalidTimeout(ms: 0, maxMs: 1))), at: 11, with: 10), .unknownTag, at: 11)
        expectRefused(setting(try reply(.rejected(.invalidQuorum(.n(0)))), at: 12, with: 4), .unknownTag, at: 12)
        expectRefused(setting(try reply(.rejected(.wrongKind(policy: .cart))), at: 12, with: 0), .unknownTag, at: 12)
        expectRefused(setting(try reply(.rejected(.wrongKind(policy: .cart))), at: 12, with: 4), .unknownTag, at: 12)
        expectRefused(setting(try reply(.rejected(.cart(.observedContextNotCovered))), at: 12, with: 14),
                      .unknownTag, at: 12)
        expectRefused(setting(try reply(.rejected(.siblings(.contextNotCovered))), at: 12, with: 6),
                      .unknownTag, at: 12)
    }

    @Test func booleansAndPresenceBytesAreZeroOrOne() throws {
        let writeReply = try Codec.encode(.writeReply(id: 1, ok: true))
        var bad = writeReply
        bad[10] = 2
        expectRefused(bad, .invalidValue, at: 10)
        // readReply: 01 02 id(8), record presence at 10.
        var readReply = try Codec.encode(.readReply(id: 1, record: nil, ok: true))
        readReply[10] = 0xFF
        expectRefused(readReply, .invalidValue, at: 10)
    }

    /// Replaces the first occurrence of `pattern` in `bytes`.
    func replacing(_ pattern: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where Array(bytes[start..<(start + pattern.count)]) == pattern {
            var result = bytes
            result.replaceSubrange(start..<(start + pattern.count), with: replacement)
            return result
        }
        return nil
    }

    @Test func invalidUTF8IsRefused() throws {
        // "ZZ" is `02 5a 5a` on the wire: its two bytes are swapped for invalid UTF-8.
        let carriers: [ClusterMessage] = [
            .forwardReply(id: 1, reply: .storageFailed("ZZ")),
            .forwardReply(id: 1, reply: .rejected(.cart(.invalidSKU("ZZ", reason: "r")))),
            .forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(.remove(sku: "ZZ"), id: OperationID("i"),
                                                                                  observed: nil))),
            .forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(.clear, id: OperationID("ZZ"),
                                                                                  observed: nil))),
            .forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(
                .updateDetails(sku: "A", details: CartItemDetails(metadata: ["ZZ": "v"])), id: OperationID("i"), observed: nil))),
            .forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(
                .updateDetails(sku: "A", details: CartItemDetails(metadata: ["k": "ZZ"])), id: OperationID("i"), observed: nil))),
        ]
        let invalid: [[UInt8]] = [[0xC3, 0x28], [0xC0, 0xAF], [0xFF, 0xFE], [0xED, 0xA0], [0x80, 0x80]]
        for message in carriers {
            let bytes = try Codec.encode(message)
            for sequence in invalid {
                let mutated = try #require(replacing([0x02, 0x5A, 0x5A], with: [0x02] + sequence, in: bytes))
                expectRefused(mutated, .invalidUTF8, "\(message) with \(sequence)")
            }
        }
    }

    @Test func metadataKeysMustBeStrictlyAscendingAndDistinct() throws {
        let message = ClusterMessage.forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(
            .updateDetails(sku: "A", details: CartItemDetails(metadata: ["a": "1", "b": "2"])), id: OperationID("i"), observed: nil)))
        let bytes = try Codec.encode(message)
        let pairs: [UInt8] = [0x01, 0x61, 0x01, 0x31, 0x01, 0x62, 0x01, 0x32]
        let swapped: [UInt8] = [0x01, 0x62, 0x01, 0x32, 0x01, 0x61, 0x01, 0x31]
        expectRefused(try #require(replacing(pairs, with: swapped, in: bytes)), .nonCanonical, "descending keys")
        let repeated: [UInt8] = [0x01, 0x61, 0x01, 0x31, 0x01, 0x61, 0x01, 0x32]
        expectRefused(try #require(replacing(pairs, with: repeated, in: bytes)), .nonCanonical, "repeated key")
        // "é" decomposed (65 cc 81) then precomposed (c3 a9): ascending bytes, one `String`.
        let equivalent: [UInt8] = [0x03, 0x65, 0xCC, 0x81, 0x01, 0x31, 0x02, 0xC3, 0xA9, 0x01, 0x32]
        expectRefused(try #require(replacing(pairs, with: equivalent, in: bytes)), .nonCanonical, "equivalent keys")
    }

    @Test func nonMinimalVarintsAreRefused() throws {
        // read: 01 01 id(8) 01 6b; the key length 1 written as 81 00.
        let bytes = try Codec.encode(.read(id: 1, key: [0x6b]))
        expectRefused(Array(bytes[..<10]) + [0x81, 0x00, 0x6b], .nonMinimalVarint, at: 10)
    }

    @Test func aVersionVectorWithADotCloudIsRefused() throws {
        var writer = WireWriter()
        writer.u8(Codec.version)
        writer.u8(Codec.MessageTag.forward.rawValue)
        writer.u64(1)
        try writer.lengthPrefixed([0x6b], "key", maxBytes: Codec.keyBytesMax)
        writer.u8(Codec.OperationTag.delete.rawValue)
        writer.bool(true)
        try writer.lengthPrefixed(try RecordCodec.encode(contextWithCloud), "context", maxBytes: Codec.blobBytesMax)
        writer.bool(false)
        writer.bool(false)
        writer.bool(false)
        // 01 05 id(8) 01 6b 03 01, then the vector's length at 14.
        expectRefused(writer.bytes, .nonCanonical, at: 14)
    }

    @Test func aCorruptRecordIsRefusedWithTheRecordCodecsReason() throws {
        let record = try cartRecord()
        var bytes = try Codec.encode(.repair(key: [0x6b], record: record))
        let start = bytes.count - (try RecordCodec.encode(record)).count
        bytes[start] = 9
        do throws(WireError) {
            let message = try Codec.decode(bytes)
            Issue.record("decoded \(message)")
        } catch {
            #expect(error.code == .invalidRecord && error.offset == start, "\(error)")
            #expect(error.cause?.code == .unsupportedVersion, "\(error)")
        }
    }

    @Test func encodingRefusesWhatDecodingWould() throws {
        let longKey = [UInt8](repeating: 0x61, count: Codec.keyBytesMax + 1)
        expectUnencodable(.read(id: 1, key: longKey), .limitExceeded, "key too long")
        expectUnencodable(.forward(id: 1, request: ClientRequest(key: [0x6b], operation: .get, r: -1)), .invalidValue,
                          "negative R")
        expectUnencodable(.forwardReply(id: 1, reply: .storageFailed(String(repeating: "x", count: Codec.stringBytesMax + 1))),
                          .limitExceeded, "string too long")
        expectUnencodable(.forwardReply(id: 1, reply: .written(record: try cartRecord(), dot: Dot(replica: phone, counter: 0),
                                                               duplicate: false, acks: 1)),
                          .invalidValue, "dot counter 0")
        expectUnencodable(.forwardReply(id: 1, reply: .written(record: try cartRecord(), dot: Dot(replica: phone, counter: 1),
                                                               duplicate: false, acks: -1)),
                          .invalidValue, "negative ack count")
        expectUnencodable(.forward(id: 1, request: ClientRequest(key: [0x6b], operation: .delete(context: VersionVector([phone: UInt64.max])))),
                          .invalidRecord, "a vector counter beyond counterMax")
        var metadata: [String: String] = [:]
        for index in 0...Codec.metadataPairsMax { metadata["k\(index)"] = "" }
        expectUnencodable(.forward(id: 1, request: ClientRequest(key: [0x6b], operation: .cart(
            .updateDetails(sku: "A", details: CartItemDetails(metadata: metadata)), id: OperationID("i"), observed: nil))),
                          .limitExceeded, "too many metadata pairs")
    }

    // MARK: Anti-entropy messages

    @Test func treeMessagesRefuseIndicesNotStrictlyAscending() {
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 1, indices: [3, 1], hashes: [0, 0]),
                          .nonCanonical, "descending indices")
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 1, indices: [2, 2], hashes: [0, 0]),
                          .nonCanonical, "repeated index")
        expectUnencodable(.treeHashesReply(id: 1, ready: true, differing: [5, 2]), .nonCanonical, "descending differing")
        expectUnencodable(.treeKeys(id: 1, partition: 0, leaves: [1, 1], digests: []), .nonCanonical, "repeated leaf")
        expectUnencodable(.treeKeys(id: 1, partition: 0, leaves: [0, 4, 3], digests: []), .nonCanonical, "descending leaves")
    }

    @Test func treeMessagesRefuseFieldsBeyondTheirLimits() {
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 1, indices: [0, 1], hashes: [0]),
                          .invalidValue, "fewer hashes than indices")
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 1, indices: [0], hashes: [0, 1]),
                          .invalidValue, "more hashes than indices")
        expectUnencodable(.treeHashes(id: 1, partition: Codec.treePartitionMax, level: 0, indices: [], hashes: []),
                          .limitExceeded, "partition at treePartitionMax")
        expectUnencodable(.treeKeys(id: 1, partition: Codec.treePartitionMax, leaves: [], digests: []),
                          .limitExceeded, "treeKeys partition at treePartitionMax")
        expectUnencodable(.treeHashes(id: 1, partition: -1, level: 0, indices: [], hashes: []),
                          .invalidValue, "negative partition")
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: Codec.treeLevelMax + 1, indices: [], hashes: []),
                          .limitExceeded, "level beyond treeLevelMax")
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: -1, indices: [], hashes: []),
                          .invalidValue, "negative level")
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 1, indices: [Codec.treeIndexMax], hashes: [0]),
                          .limitExceeded, "index at treeIndexMax")
        expectUnencodable(.treeHashesReply(id: 1, ready: true, differing: [-1]), .invalidValue, "negative index")
        let tooMany = Array(0...Codec.treeIndicesMax)
        expectUnencodable(.treeHashes(id: 1, partition: 0, level: 3, indices: tooMany,
                                      hashes: Array(repeating: 0, count: tooMany.count)),
                          .limitExceeded, "too many hashes")
        expectUnencodable(.treeHashesReply(id: 1, ready: true, differing: tooMany), .limitExceeded, "too many differing")
        expectUnencodable(.treeKeys(id: 1, partition: 0, leaves: tooMany, digests: []), .limitExceeded, "too many leaves")
        expectUnencodable(.treeKeys(id: 1, partition: 0, leaves: [0],
                                    digests: Array(repeating: KeyDigest(key: [], hash: 0), count: Codec.treeDigestsMax + 1)),
                          .limitExceeded, "too many digests")
        expectUnencodable(.treeKeysReply(id: 1, wanted: Array(repeating: [], count: Codec.treeWantedMax + 1)),
                          .limitExceeded, "too many wanted keys")
        let longKey = [UInt8](repeating: 0x61, count: Codec.keyBytesMax + 1)
        expectUnencodable(.treeKeys(id: 1, partition: 0, leaves: [0], digests: [KeyDigest(key: longKey, hash: 0)]),
                          .limitExceeded, "digest key too long")
        expectUnencodable(.treeKeysReply(id: 1, wanted: [longKey]), .limitExceeded, "wanted key too long")
    }

    @Test func decodingRefusesTreeIndicesNotStrictlyAscending() {
        // treeHashesReply: 01 0a id(8) ready count, then the indices from offset 12.
        func reply(_ indices: [UInt8]) -> [UInt8] {
            var writer = WireWriter()
            writer.u8(Codec.version)
            writer.u8(Codec.MessageTag.treeHashesReply.rawValue)
            writer.u64(1)
            writer.bool(true)
            writer.uvarint(UInt64(indices.count))
            for index in indices { writer.uvarint(UInt64(index)) }
            return writer.bytes
        }
        expectRefused(reply([5, 2]), .nonCanonical, at: 13, "descending differing")
        expectRefused(reply([2, 2]), .nonCanonical, at: 13, "repeated differing")
        expectRefused(reply([0, 1, 0]), .nonCanonical, at: 14, "descending after ascending")

        // treeHashes: 01 09 id(8) partition level count, then (index hash) pairs from offset 13.
        var writer = WireWriter()
        writer.u8(Codec.version)
        writer.u8(Codec.MessageTag.treeHashes.rawValue)
        writer.u64(1)
        writer.uvarint(0)
        writer.uvarint(1)
        writer.uvarint(2)
        writer.uvarint(7)
        writer.u64(0xAA)
        writer.uvarint(6)
        writer.u64(0xBB)
        expectRefused(writer.bytes, .nonCanonical, at: 22, "descending tree hash indices")

        // treeKeys: 01 0b id(8) partition count, then the leaves from offset 12, then the digests.
        var keys = WireWriter()
        keys.u8(Codec.version)
        keys.u8(Codec.MessageTag.treeKeys.rawValue)
        keys.u64(1)
        keys.uvarint(0)
        keys.uvarint(2)
        keys.uvarint(3)
        keys.uvarint(3)
        keys.uvarint(0)
        expectRefused(keys.bytes, .nonCanonical, at: 13, "repeated leaf")
    }

    @Test func decodingRefusesTreeFieldsBeyondTheirLimits() throws {
        // treeHashes: 01 09 id(8), partition at 10, level after it.
        func hashes(partition: UInt64, level: UInt64, indices: [UInt64] = []) -> [UInt8] {
            var writer = WireWriter()
            writer.u8(Codec.version)
            writer.u8(Codec.MessageTag.treeHashes.rawValue)
            writer.u64(1)
            writer.uvarint(partition)
            writer.uvarint(level)
            writer.uvarint(UInt64(indices.count))
            for index in indices {
                writer.uvarint(index)
                writer.u64(0)
            }
            return writer.bytes
        }
        #expect(try Codec.decode(hashes(partition: UInt64(Codec.treePartitionMax - 1), level: UInt64(Codec.treeLevelMax)))
                == .treeHashes(id: 1, partition: Codec.treePartitionMax - 1, level: Codec.treeLevelMax, indices: [], hashes: []))
        expectRefused(hashes(partition: UInt64(Codec.treePartitionMax), level: 0), .limitExceeded, at: 10, "partition")
        expectRefused(hashes(partition: 0, level: UInt64(Codec.treeLevelMax) + 1), .limitExceeded, at: 11, "level")
        expectRefused(hashes(partition: 0, level: 1, indices: [UInt64(Codec.treeIndexMax)]), .limitExceeded, at: 13,
                      "index at treeIndexMax")

        // A count beyond its limit, and one that cannot fit the bytes left.
        var tooMany = WireWriter()
        tooMany.u8(Codec.version)
        tooMany.u8(Codec.MessageTag.treeKeysReply.rawValue)
        tooMany.u64(1)
        tooMany.uvarint(UInt64(Codec.treeWantedMax) + 1)
        expectRefused(tooMany.bytes, .limitExceeded, at: 10, "too many wanted keys")
        var unfit = WireWriter()
        unfit.u8(Codec.version)
        unfit.u8(Codec.MessageTag.treeHashesReply.rawValue)
        unfit.u64(1)
        unfit.bool(true)
        unfit.uvarint(UInt64(Codec.treeIndicesMax))
        unfit.uvarint(0)
        expectRefused(unfit.bytes, .truncated, at: 11, "a count larger than the bytes left")
    }

    // MARK: Robustness

    /// Random bit flips, byte replacements and insertions in encoded messages, and random
    /// garbage: decoding returns or throws, never traps, and whatever decodes re-encodes to the
    /// same bytes.
    @Test func mutatedMessagesNeverTrap() throws {
        let seed = TestSeed.make("mutatedMessagesNeverTrap")
        var rng = SeededRandom(seed: seed)
        let encoded = try allMessages().map { try Codec.encode($0) }
        var decoded = 0
        var refused = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 10 == 9 {
                let count = rng.below(64)
                bytes = rng.bytes(count)
                if bytes.count >= 2, rng.chance(80) {
                    bytes[0] = Codec.version
                    bytes[1] = UInt8(1 + rng.below(Codec.MessageTag.allCases.count))
                }
            } else {
                bytes = rng.pick(encoded)
                let mutations = 1 + rng.below(3)
                for _ in 0..<mutations {
                    let kind = rng.below(4)
                    let index = rng.below(bytes.count + (kind == 3 ? 1 : 0))
                    let random = UInt8(truncatingIfNeeded: rng.next())
                    switch kind {
                    case 0, 1: bytes[index] ^= UInt8(1) << (random % 8)
                    case 2: bytes[index] = random
                    default: bytes.insert(random, at: index)
                    }
                }
            }
            let message: ClusterMessage
            do {
                message = try Codec.decode(bytes)
            } catch {
                refused += 1
                continue
            }
            decoded += 1
            let again = try? Codec.encode(message)
            #expect(again == bytes,
                    "round \(round): decoded bytes are not canonical; \(TestSeed.repro(seed, "mutatedMessagesNeverTrap"))")
        }
        print("wire mutations: \(decoded) decoded, \(refused) refused")
        #expect(refused > 0)
    }
}
