import CartTestSupport
import CartVersioning
import Testing
@testable import CartCluster

/// The checkout's wire and disk encodings (data-format.md, "Internode messages" and "Checkout
/// acceptor states"): every new message, operation, reply, rejection and vote survives a round
/// trip with equal value and equal bytes; the worked examples are what the encoder writes;
/// truncated, extended, mutated and malformed bytes are refused with a `WireError` (never a
/// trap); acceptor states round-trip and refuse what breaks their invariant or version; and the
/// encoder refuses what the decoder would refuse.
@Suite struct CheckoutCodecTests {
    typealias Codec = ClusterMessageCodec

    let phone = ReplicaID(node: 1, epoch: 1)
    let laptop = ReplicaID(node: 2, epoch: 7)

    // MARK: Values

    func id(_ text: String) throws -> CheckoutID { try CheckoutID(text) }

    /// A context with entries and a gap (laptop's event 5 seen, 2…4 not).
    var context: CausalContext {
        CausalContext(versionVector: VersionVector([phone: 3, laptop: 1]), dotCloud: [Dot(replica: laptop, counter: 5)])
    }

    func item(_ sku: String, _ quantity: Int64 = 1, name: String = "", priceMinor: Int64 = 0,
              metadata: [String: String] = [:], addedAtMs: UInt64 = 1_000, updatedAtMs: UInt64 = 2_000) -> CartItem {
        CartItem(sku: sku, quantity: quantity, name: name, priceMinor: priceMinor, metadata: metadata,
                 addedAtMs: addedAtMs, updatedAtMs: updatedAtMs)
    }

    /// Items sorted as an order holds them: ascending by SKU bytes.
    func ascending(_ items: [CartItem]) -> [CartItem] {
        items.sorted { Array($0.sku.utf8).lexicographicallyPrecedes(Array($1.sku.utf8)) }
    }

    /// The smallest order: one item, an empty context.
    func smallOrder() throws -> Order {
        Order(checkoutID: try id("c1"), cartKey: Array("cart:42".utf8),
              items: [item("A1", 2, name: "Mug", priceMinor: 1299, addedAtMs: 1_000, updatedAtMs: 1_000)],
              context: CausalContext(), createdMs: 1_000, coordinator: NodeID(2))
    }

    /// Several items with Unicode SKUs, names and metadata, a context with a dot cloud.
    func richOrder() throws -> Order {
        let items = ascending([
            item("A1", 2, name: "Mug", priceMinor: 1299, metadata: ["color": "red", "size": "L"]),
            item("café", 1, name: "Café crème ☕", priceMinor: 0, metadata: ["é": "ü€😀ß", "": ""]),
            item("ü€😀ß", 3, name: "Ünïcødé 😀", priceMinor: 5, metadata: ["emoji": "😀"]),
            item("Z", 1, name: "", priceMinor: 7, addedAtMs: 0, updatedAtMs: 0),
            item("日本", 4, name: "茶碗", priceMinor: 3_500),
        ])
        return Order(checkoutID: try id("ü-€ order 😀"), cartKey: Array("cart:café".utf8), items: items, context: context,
                     createdMs: 1_700_000_000_000, coordinator: NodeID(3))
    }

    /// Fields at their extremes: the longest id, the largest numbers.
    func extremeOrder() throws -> Order {
        let longID = String(repeating: "é", count: CheckoutID.bytesMax / 2)
        return Order(checkoutID: try id(longID), cartKey: [],
                     items: [item("", Int64.max, name: String(repeating: "x", count: 300), priceMinor: Int64.max,
                                  addedAtMs: UInt64.max, updatedAtMs: UInt64.max),
                             item("\u{0}", 1, priceMinor: 0)],
                     context: context, createdMs: UInt64.max, coordinator: NodeID(UInt64.max))
    }

    func orders() throws -> [Order] { [try smallOrder(), try richOrder(), try extremeOrder()] }

    let ballots: [Ballot] = [.zero, Ballot(round: 1, node: NodeID(2)), Ballot(round: 7, node: NodeID(1)),
                             Ballot(round: UInt64.max, node: NodeID(UInt64.max))]

    func votes() throws -> [CheckoutVote] {
        let rich = try richOrder()
        return [
            .granted(accepted: nil),
            .granted(accepted: AcceptedProposal(ballot: Ballot(round: 3, node: NodeID(2)), order: rich)),
            .granted(accepted: AcceptedProposal(ballot: .zero, order: try smallOrder())),
            .refused(promised: Ballot(round: 3, node: NodeID(1))),
            .refused(promised: .zero),
            .decided(rich),
            .decided(try extremeOrder()),
            .failed,
        ]
    }

    func checkoutIDs() throws -> [CheckoutID] {
        [try id("c1"), try id("x"), try id("ü-€ order 😀"), try id(String(repeating: "é", count: CheckoutID.bytesMax / 2)),
         try id(String(repeating: "k", count: CheckoutID.bytesMax))]
    }

    /// Every new operation, reply and rejection, inside `forward` and `forwardReply`.
    func requestsAndReplies() throws -> [ClusterMessage] {
        var messages: [ClusterMessage] = []
        var index: UInt64 = 100
        for checkout in try checkoutIDs() {
            index += 1
            messages.append(.forward(id: index, request: ClientRequest(key: Array("cart:7".utf8), operation: .checkout(checkout))))
            messages.append(.forward(id: index, request: ClientRequest(key: checkout.orderKey, operation: .readOrder(checkout),
                                                                       r: 1, w: 3, timeoutMs: 5_000)))
            messages.append(.forwardReply(id: index, reply: .rejected(.checkoutIDInUse(checkout))))
        }
        messages.append(.forward(id: 1, request: ClientRequest(key: [], operation: .checkout(try id("c")), r: 0, w: 0,
                                                               timeoutMs: UInt64.max)))
        for order in try orders() {
            index += 1
            messages.append(.forwardReply(id: index, reply: .checkedOut(order, replayed: false)))
            messages.append(.forwardReply(id: index, reply: .checkedOut(order, replayed: true)))
            messages.append(.forwardReply(id: index, reply: .order(order)))
        }
        messages.append(.forwardReply(id: 1, reply: .rejected(.emptyCart)))
        messages.append(.forwardReply(id: UInt64.max, reply: .rejected(.checkoutContended)))
        return messages
    }

    /// Every checkout message case, with every vote kind, and every new operation, reply and
    /// rejection case.
    func allMessages() throws -> [ClusterMessage] {
        var messages: [ClusterMessage] = []
        for (index, checkout) in try checkoutIDs().enumerated() {
            messages.append(.checkoutPrepare(id: UInt64(index), checkout: checkout, ballot: ballots[index % ballots.count]))
            messages.append(.orderRead(id: UInt64.max - UInt64(index), checkout: checkout))
        }
        for (index, order) in try orders().enumerated() {
            messages.append(.checkoutAccept(id: 10 + UInt64(index), ballot: ballots[(index + 1) % ballots.count], order: order))
            messages.append(.checkoutCommit(id: 20 + UInt64(index), order: order))
            messages.append(.orderReadReply(id: 30 + UInt64(index), ok: true, order: order))
        }
        for (index, vote) in try votes().enumerated() {
            messages.append(.checkoutVote(id: 40 + UInt64(index), vote: vote))
        }
        messages += [
            .checkoutCommitted(id: 50, ok: true),
            .checkoutCommitted(id: UInt64.max, ok: false),
            .orderReadReply(id: 51, ok: true, order: nil),
            .orderReadReply(id: 52, ok: false, order: nil),
        ]
        messages += try requestsAndReplies()
        return messages
    }

    /// Acceptor states reached by real transitions, and a few built directly.
    func acceptorStates() throws -> [CheckoutAcceptor] {
        let small = try smallOrder(), rich = try richOrder()
        var states: [CheckoutAcceptor] = [CheckoutAcceptor()]
        var state = CheckoutAcceptor()
        _ = state.prepare(Ballot(round: 1, node: NodeID(2)))
        states.append(state)
        _ = state.accept(rich, ballot: Ballot(round: 1, node: NodeID(2)))
        states.append(state)
        _ = state.prepare(Ballot(round: 5, node: NodeID(3)))
        states.append(state)
        _ = state.commit(rich)
        states.append(state)
        var committedOnly = CheckoutAcceptor()
        _ = committedOnly.commit(small)
        states.append(committedOnly)
        states.append(CheckoutAcceptor(promised: Ballot(round: UInt64.max, node: NodeID(UInt64.max)),
                                       accepted: AcceptedProposal(ballot: Ballot(round: UInt64.max, node: NodeID(UInt64.max)),
                                                                  order: try extremeOrder()),
                                       committed: try extremeOrder()))
        states.append(CheckoutAcceptor(promised: Ballot(round: 9, node: NodeID(1)),
                                       accepted: AcceptedProposal(ballot: .zero, order: small), committed: rich))
        return states
    }

    // MARK: Helpers

    /// Runs `decode`, which must fail with `code` (at `offset`, if given).
    func expectRefused<T>(_ code: WireError.Code, at offset: Int? = nil, _ comment: @autoclosure () -> String = "",
                          sourceLocation: SourceLocation = #_sourceLocation, _ decode: () throws -> T) {
        do {
            let value = try decode()
            Issue.record("decoded \(value), expected \(code) \(comment())", sourceLocation: sourceLocation)
        } catch let error as WireError {
            if error.code != code {
                Issue.record("\(error), expected \(code) \(comment())", sourceLocation: sourceLocation)
            } else if let offset, error.offset != offset {
                Issue.record("\(error), expected offset \(offset) \(comment())", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("\(error) is not a WireError, expected \(code) \(comment())", sourceLocation: sourceLocation)
        }
    }

    /// Runs `encode`, which must fail with `code` at offset 0.
    func expectUnencodable<T>(_ code: WireError.Code, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ encode: () throws -> T) {
        do {
            _ = try encode()
            Issue.record("encoded, expected \(code): \(comment)", sourceLocation: sourceLocation)
        } catch let error as WireError {
            #expect(error.code == code && error.offset == 0, "\(error): \(comment)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error) is not a WireError, expected \(code): \(comment)", sourceLocation: sourceLocation)
        }
    }

    /// An item as raw wire fields, for orders the encoder would refuse.
    struct RawItem {
        var sku: [UInt8]
        var quantity: Int64 = 1
        var name = "n"
        var priceMinor: Int64 = 0
        var metadata: [(key: [UInt8], value: [UInt8])] = []
    }

    func raw(_ sku: String, _ quantity: Int64 = 1, priceMinor: Int64 = 0) -> RawItem {
        RawItem(sku: Array(sku.utf8), quantity: quantity, priceMinor: priceMinor)
    }

    /// The bytes of an order with these raw fields (no validation), and the offset of each item.
    func rawOrder(id: [UInt8] = Array("c1".utf8), count: Int? = nil,
                  items: [RawItem]) throws(WireError) -> (bytes: [UInt8], itemOffsets: [Int]) {
        var writer = WireWriter()
        try writer.lengthPrefixed(id, "checkout id", maxBytes: Int.max)
        writer.u64(2)
        writer.u64(1_000)
        try Codec.encodeKey(Array("cart:42".utf8), into: &writer)
        try Codec.encodeContext(CausalContext(), "order context", into: &writer)
        writer.uvarint(UInt64(count ?? items.count))
        var offsets: [Int] = []
        for item in items {
            offsets.append(writer.bytes.count)
            try writer.lengthPrefixed(item.sku, "SKU", maxBytes: Int.max)
            writer.svarint(item.quantity)
            try writer.string(item.name, "name", maxBytes: Int.max)
            writer.svarint(item.priceMinor)
            writer.uvarint(UInt64(item.metadata.count))
            for pair in item.metadata {
                try writer.lengthPrefixed(pair.key, "metadata key", maxBytes: Int.max)
                try writer.lengthPrefixed(pair.value, "metadata value", maxBytes: Int.max)
            }
            writer.uvarint(1_000)
            writer.uvarint(2_000)
        }
        return (writer.bytes, offsets)
    }

    /// `checkoutCommit` (01 10 id(8), the order from offset 10) around raw order bytes.
    func commitMessage(_ order: [UInt8]) -> [UInt8] {
        var writer = WireWriter()
        writer.u8(Codec.version)
        writer.u8(Codec.MessageTag.checkoutCommit.rawValue)
        writer.u64(1)
        return writer.bytes + order
    }

    /// `checkoutPrepare` (01 0d id(8), the checkout id from offset 10) with a raw id.
    func prepareMessage(id: [UInt8], ballot: Ballot = Ballot(round: 1, node: NodeID(2))) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        writer.u8(Codec.version)
        writer.u8(Codec.MessageTag.checkoutPrepare.rawValue)
        writer.u64(1)
        try writer.lengthPrefixed(id, "checkout id", maxBytes: Int.max)
        Codec.encodeBallot(ballot, into: &writer)
        return writer.bytes
    }

    /// The bytes of an acceptor state with raw fields (no invariant check).
    func rawAcceptor(version: UInt8 = Codec.acceptorStateVersion, promised: Ballot, accepted: AcceptedProposal?,
                     committed: Order?) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        writer.u8(version)
        Codec.encodeBallot(promised, into: &writer)
        if let accepted {
            writer.bool(true)
            Codec.encodeBallot(accepted.ballot, into: &writer)
            try Codec.encodeOrder(accepted.order, into: &writer)
        } else {
            writer.bool(false)
        }
        if let committed {
            writer.bool(true)
            try Codec.encodeOrder(committed, into: &writer)
        } else {
            writer.bool(false)
        }
        return writer.bytes
    }

    // MARK: Round trips

    @Test func everyCheckoutMessageRoundTripsWithEqualBytes() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            let decoded = try Codec.decode(bytes)
            #expect(decoded == message, "\(message)")
            #expect(try Codec.encode(decoded) == bytes, "\(message)")
        }
    }

    /// Unicode SKUs, names and metadata keep their exact bytes (never normalized).
    @Test func ordersKeepTheirTextByteForByte() throws {
        let decomposed = "cafe\u{301}"
        let order = Order(checkoutID: try id("nfd-\(decomposed)"), cartKey: Array("cart:\(decomposed)".utf8),
                          items: [item(decomposed, 1, name: decomposed, metadata: [decomposed: decomposed])],
                          context: CausalContext(), createdMs: 1, coordinator: NodeID(1))
        let decoded = try Codec.decodeOrder(try Codec.encodeOrder(order))
        #expect(Array(decoded.checkoutID.text.utf8) == Array("nfd-\(decomposed)".utf8))
        #expect(Array(decoded.items[0].sku.utf8) == Array(decomposed.utf8))
        #expect(Array(decoded.items[0].name.utf8) == Array(decomposed.utf8))
        #expect(decoded.items[0].metadata.keys.map { Array($0.utf8) } == [Array(decomposed.utf8)])
        #expect(decoded.cartKey == Array("cart:\(decomposed)".utf8))
    }

    @Test func ordersRoundTripOnTheirOwn() throws {
        for order in try orders() {
            let bytes = try Codec.encodeOrder(order)
            let decoded = try Codec.decodeOrder(bytes)
            #expect(decoded == order)
            #expect(try Codec.encodeOrder(decoded) == bytes)
            expectRefused(.trailingBytes, at: bytes.count, "order with a trailing byte") { try Codec.decodeOrder(bytes + [0]) }
        }
    }

    @Test func acceptorStatesRoundTrip() throws {
        for state in try acceptorStates() {
            let bytes = try Codec.encodeAcceptor(state)
            #expect(bytes.first == Codec.acceptorStateVersion)
            let decoded = try Codec.decodeAcceptor(bytes)
            #expect(decoded == state, "\(state)")
            #expect(try Codec.encodeAcceptor(decoded) == bytes, "\(state)")
            #expect(decoded.checkInvariants() == nil)
        }
    }

    /// The value lists above reach every new tag: message tags 13–19, operations 5–6, replies
    /// 7–8, rejections 7–9, and the four vote kinds.
    @Test func theMessagesCoverEveryCheckoutTag() throws {
        let encoded = try allMessages().map { try Codec.encode($0) }
        let checkoutTags: [Codec.MessageTag] = [.checkoutPrepare, .checkoutAccept, .checkoutVote, .checkoutCommit,
                                                .checkoutCommitted, .orderRead, .orderReadReply]
        #expect(checkoutTags.map(\.rawValue) == Array(13...19))
        #expect(Set(encoded.map { $0[1] }).isSuperset(of: checkoutTags.map(\.rawValue)))
        // checkoutVote: 01 0f id(8), then the vote kind at 10.
        let votes = encoded.filter { $0[1] == Codec.MessageTag.checkoutVote.rawValue }
        #expect(Set(votes.map { $0[10] }) == [0, 1, 2, 3])
        // forward: 01 05 id(8) key, then the operation tag.
        let forwards = encoded.filter { $0[1] == Codec.MessageTag.forward.rawValue }
        #expect(Set(forwards.map { $0[11 + Int($0[10])] }) == [Codec.OperationTag.checkout.rawValue,
                                                               Codec.OperationTag.readOrder.rawValue])
        #expect(Codec.OperationTag.checkout.rawValue == 5 && Codec.OperationTag.readOrder.rawValue == 6)
        // forwardReply: 01 07 id(8), the reply tag at 10, a rejection's tag at 11.
        let replies = encoded.filter { $0[1] == Codec.MessageTag.forwardReply.rawValue }
        #expect(Set(replies.map { $0[10] }) == [Codec.ReplyTag.checkedOut.rawValue, Codec.ReplyTag.order.rawValue,
                                                Codec.ReplyTag.rejected.rawValue])
        #expect(Codec.ReplyTag.checkedOut.rawValue == 7 && Codec.ReplyTag.order.rawValue == 8)
        let rejections = replies.filter { $0[10] == Codec.ReplyTag.rejected.rawValue }
        #expect(Set(rejections.map { $0[11] }) == [7, 8, 9])
        #expect(Codec.RejectionTag.emptyCart.rawValue == 7 && Codec.RejectionTag.checkoutContended.rawValue == 8
                && Codec.RejectionTag.checkoutIDInUse.rawValue == 9)
    }

    // MARK: Worked examples

    /// The checkout examples of data-format.md ("Internode messages", "Worked examples"; "Hints
    /// and node metadata", "Checkout acceptor states").
    @Test func workedExamplesMatchTheDocument() throws {
        let c1 = try id("c1")
        #expect(try Codec.encode(.checkoutPrepare(id: 1, checkout: c1, ballot: Ballot(round: 1, node: NodeID(2)))) == [
            0x01, 0x0D,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x02, 0x63, 0x31,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        ])
        #expect(try Codec.encode(.checkoutVote(id: 1, vote: .refused(promised: Ballot(round: 3, node: NodeID(1))))) == [
            0x01, 0x0F,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ])
        let reply = try Codec.encode(.orderReadReply(id: 2, ok: true, order: try smallOrder()))
        #expect(reply == [
            0x01, 0x13,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x01, 0x01,
            0x02, 0x63, 0x31,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8,
            0x07, 0x63, 0x61, 0x72, 0x74, 0x3A, 0x34, 0x32,
            0x05, 0x01, 0x03, 0x00, 0x00, 0x00,
            0x01,
            0x02, 0x41, 0x31,
            0x04,
            0x03, 0x4D, 0x75, 0x67,
            0xA6, 0x14,
            0x00,
            0xE8, 0x07,
            0xE8, 0x07,
        ])
        #expect(reply.count == 61)

        var promised = CheckoutAcceptor()
        #expect(promised.prepare(Ballot(round: 1, node: NodeID(2))) == .granted(accepted: nil))
        #expect(try Codec.encodeAcceptor(promised) == [
            0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x00,
        ])
        #expect(CheckoutStore.storedKey(c1) == [0x03, 0x63, 0x31])
    }

    // MARK: Truncation, trailing bytes, tags

    @Test func everyStrictPrefixIsRefused() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            for length in 0..<bytes.count {
                expectRefused(.truncated, "\(message) cut to \(length) bytes") { try Codec.decode(Array(bytes[..<length])) }
            }
        }
        for order in try orders() {
            let bytes = try Codec.encodeOrder(order)
            for length in 0..<bytes.count {
                expectRefused(.truncated, "order cut to \(length) bytes") { try Codec.decodeOrder(Array(bytes[..<length])) }
            }
        }
        for state in try acceptorStates() {
            let bytes = try Codec.encodeAcceptor(state)
            for length in 0..<bytes.count {
                expectRefused(.truncated, "acceptor state cut to \(length) bytes") {
                    try Codec.decodeAcceptor(Array(bytes[..<length]))
                }
            }
        }
    }

    @Test func trailingBytesAreRefused() throws {
        for message in try allMessages() {
            let bytes = try Codec.encode(message)
            expectRefused(.trailingBytes, at: bytes.count, "\(message)") { try Codec.decode(bytes + [0]) }
        }
        for state in try acceptorStates() {
            let bytes = try Codec.encodeAcceptor(state)
            expectRefused(.trailingBytes, at: bytes.count, "\(state)") { try Codec.decodeAcceptor(bytes + [0]) }
        }
    }

    /// The first value above the checkout's tags that the enum does not know (later features
    /// may take the next numbers).
    func firstUnknown<T: RawRepresentable & CaseIterable>(_ type: T.Type, above: UInt8) -> UInt8 where T.RawValue == UInt8 {
        (above...UInt8.max).first { T(rawValue: $0) == nil } ?? 0
    }

    @Test func tagsBeyondTheKnownOnesAreUnknown() throws {
        func setting(_ bytes: [UInt8], at index: Int, with value: UInt8) -> [UInt8] {
            var copy = bytes
            copy[index] = value
            return copy
        }
        let c = try id("c")
        let read = try Codec.encode(.orderRead(id: 1, checkout: c))
        for tag: UInt8 in [0, firstUnknown(Codec.MessageTag.self, above: 19), 0xFF] {
            expectRefused(.unknownTag, at: 1, "message tag \(tag)") { try Codec.decode(setting(read, at: 1, with: tag)) }
        }
        // forward: 01 05 id(8) 01 6b, then the operation tag at 12.
        let checkout = try Codec.encode(.forward(id: 1, request: ClientRequest(key: [0x6B], operation: .checkout(c))))
        #expect(checkout[12] == 5)
        let operation = firstUnknown(Codec.OperationTag.self, above: 6)
        expectRefused(.unknownTag, at: 12, "operation tag \(operation)") {
            try Codec.decode(setting(checkout, at: 12, with: operation))
        }
        // forwardReply: 01 07 id(8), then the reply tag at 10 and a rejection's at 11.
        let empty = try Codec.encode(.forwardReply(id: 1, reply: .rejected(.emptyCart)))
        #expect(Array(empty[10...]) == [4, 7])
        let rejection = firstUnknown(Codec.RejectionTag.self, above: 9)
        expectRefused(.unknownTag, at: 11, "rejection tag \(rejection)") { try Codec.decode(setting(empty, at: 11, with: rejection)) }
        let order = try Codec.encode(.forwardReply(id: 1, reply: .order(try smallOrder())))
        #expect(order[10] == 8)
        let reply = firstUnknown(Codec.ReplyTag.self, above: 8)
        expectRefused(.unknownTag, at: 10, "reply tag \(reply)") { try Codec.decode(setting(order, at: 10, with: reply)) }
    }

    // MARK: Malformed checkout values

    @Test func badCheckoutIDsAreRefused() throws {
        // checkoutPrepare: 01 0d id(8), the checkout id's length at 10.
        expectRefused(.invalidValue, at: 10, "empty id") { try Codec.decode(try prepareMessage(id: [])) }
        expectRefused(.invalidValue, at: 10, "a slash") { try Codec.decode(try prepareMessage(id: Array("a/b".utf8))) }
        expectRefused(.invalidValue, at: 10, "a control character") { try Codec.decode(try prepareMessage(id: [0x61, 0x07])) }
        expectRefused(.invalidValue, at: 10, "a C1 control character") {
            try Codec.decode(try prepareMessage(id: Array("a\u{85}".utf8)))
        }
        expectRefused(.invalidValue, at: 10, "NUL") { try Codec.decode(try prepareMessage(id: [0x00])) }
        expectRefused(.limitExceeded, at: 10, "49 bytes") {
            try Codec.decode(try prepareMessage(id: [UInt8](repeating: 0x61, count: CheckoutID.bytesMax + 1)))
        }
        expectRefused(.invalidUTF8, at: 10, "invalid UTF-8") { try Codec.decode(try prepareMessage(id: [0xC3, 0x28])) }
        #expect(try Codec.decode(try prepareMessage(id: [UInt8](repeating: 0x61, count: CheckoutID.bytesMax)))
                == .checkoutPrepare(id: 1, checkout: try id(String(repeating: "a", count: CheckoutID.bytesMax)),
                                    ballot: Ballot(round: 1, node: NodeID(2))))

        // The same in an order, an operation and a rejection.
        let order = try rawOrder(id: Array("a/b".utf8), items: [raw("A")]).bytes
        expectRefused(.invalidValue, at: 10, "an order's id") { try Codec.decode(commitMessage(order)) }
        expectRefused(.invalidValue, at: 0, "an order's id") { try Codec.decodeOrder(order) }
        var operation = WireWriter()
        operation.u8(Codec.version)
        operation.u8(Codec.MessageTag.forward.rawValue)
        operation.u64(1)
        try operation.lengthPrefixed([0x6B], "key", maxBytes: 10)
        operation.u8(Codec.OperationTag.readOrder.rawValue)
        try operation.lengthPrefixed([], "checkout id", maxBytes: 10)
        operation.bool(false)
        operation.bool(false)
        operation.bool(false)
        expectRefused(.invalidValue, at: 13, "readOrder of an empty id") { try Codec.decode(operation.bytes) }
        var rejection = WireWriter()
        rejection.u8(Codec.version)
        rejection.u8(Codec.MessageTag.forwardReply.rawValue)
        rejection.u64(1)
        rejection.u8(Codec.ReplyTag.rejected.rawValue)
        rejection.u8(Codec.RejectionTag.checkoutIDInUse.rawValue)
        try rejection.lengthPrefixed(Array("x\ny".utf8), "checkout id", maxBytes: 10)
        expectRefused(.invalidValue, at: 12, "checkoutIDInUse with a newline") { try Codec.decode(rejection.bytes) }
    }

    @Test func ordersBreakingTheirInvariantsAreRefused() throws {
        // The order starts at offset 10 of a checkoutCommit.
        func expectOrderRefused(_ order: (bytes: [UInt8], itemOffsets: [Int]), _ code: WireError.Code, at offset: Int? = nil,
                                _ comment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectRefused(code, at: offset, comment, sourceLocation: sourceLocation) { try Codec.decodeOrder(order.bytes) }
            expectRefused(code, at: offset.map { $0 + 10 }, "\(comment) in checkoutCommit", sourceLocation: sourceLocation) {
                try Codec.decode(commitMessage(order.bytes))
            }
        }
        // Baseline: the raw writer writes what the codec reads.
        let valid = try rawOrder(items: [raw("A"), raw("B", 2, priceMinor: 5)])
        #expect(try Codec.decodeOrder(valid.bytes).items.map(\.sku) == ["A", "B"])

        let descending = try rawOrder(items: [raw("B"), raw("A")])
        expectOrderRefused(descending, .invalidValue, at: descending.itemOffsets[1], "items not ascending")
        let repeated = try rawOrder(items: [raw("A"), raw("A")])
        expectOrderRefused(repeated, .invalidValue, at: repeated.itemOffsets[1], "a repeated SKU")
        // "é" precomposed (c3 a9) sorts after "f": bytes, not characters, decide.
        let byBytes = try rawOrder(items: [raw("é"), raw("f")])
        expectOrderRefused(byBytes, .invalidValue, at: byBytes.itemOffsets[1], "items ascending as text, not as bytes")
        #expect(try Codec.decodeOrder(try rawOrder(items: [raw("f"), raw("é")]).bytes).items.count == 2)

        expectOrderRefused(try rawOrder(items: [raw("A", 0)]), .invalidValue, "quantity 0")
        expectOrderRefused(try rawOrder(items: [raw("A", -1)]), .invalidValue, "a negative quantity")
        expectOrderRefused(try rawOrder(items: [raw("A", Int64.min)]), .invalidValue, "quantity Int64.min")
        expectOrderRefused(try rawOrder(items: [raw("A", 1, priceMinor: -1)]), .invalidValue, "a negative price")
        expectOrderRefused(try rawOrder(items: [raw("A"), raw("B", 1, priceMinor: Int64.min)]), .invalidValue,
                           "a negative price in the second item")
        expectOrderRefused(try rawOrder(items: []), .invalidValue, "an order without items")
        expectOrderRefused(try rawOrder(count: Codec.orderItemsMax + 1, items: []), .limitExceeded, "too many items")
        expectOrderRefused(try rawOrder(count: 3, items: [raw("A")]), .truncated, "fewer items than counted")

        var metadata = raw("A")
        metadata.metadata = [(Array("b".utf8), [0x31]), (Array("a".utf8), [0x32])]
        expectOrderRefused(try rawOrder(items: [metadata]), .nonCanonical, "metadata keys descending")
        let badSKU = try rawOrder(items: [RawItem(sku: [0xFF, 0xFE])])
        expectOrderRefused(badSKU, .invalidUTF8, at: badSKU.itemOffsets[0], "a SKU that is not UTF-8")
    }

    @Test func unknownVoteKindsAndBadPresenceBytesAreRefused() throws {
        // checkoutVote: 01 0f id(8), the vote kind at 10.
        let granted = try Codec.encode(.checkoutVote(id: 1, vote: .granted(accepted: nil)))
        #expect(Array(granted[10...]) == [0, 0])
        for kind: UInt8 in [4, 5, 0x7F, 0xFF] {
            var bytes = granted
            bytes[10] = kind
            bytes.removeLast()
            expectRefused(.invalidValue, at: 10, "vote kind \(kind)") { try Codec.decode(bytes) }
        }
        var presence = granted
        presence[11] = 2
        expectRefused(.invalidValue, at: 11, "accepted presence 2") { try Codec.decode(presence) }
        // orderReadReply: 01 13 id(8) ok presence.
        var reply = try Codec.encode(.orderReadReply(id: 1, ok: true, order: nil))
        reply[11] = 0xFF
        expectRefused(.invalidValue, at: 11, "order presence 0xff") { try Codec.decode(reply) }
        var ok = try Codec.encode(.checkoutCommitted(id: 1, ok: true))
        ok[10] = 2
        expectRefused(.invalidValue, at: 10, "ok 2") { try Codec.decode(ok) }
        var replayed = try Codec.encode(.forwardReply(id: 1, reply: .checkedOut(try smallOrder(), replayed: true)))
        replayed[replayed.count - 1] = 3
        expectRefused(.invalidValue, at: replayed.count - 1, "replayed 3") { try Codec.decode(replayed) }
    }

    @Test func malformedAcceptorStatesAreRefused() throws {
        let order = try smallOrder()
        let high = Ballot(round: 2, node: NodeID(1)), low = Ballot(round: 1, node: NodeID(9))
        // Baseline: the raw writer writes what the codec reads.
        #expect(try Codec.decodeAcceptor(try rawAcceptor(promised: high, accepted: AcceptedProposal(ballot: low, order: order),
                                                         committed: nil)).promised == high)
        expectRefused(.invalidValue, at: 0, "accepted above promised") {
            try Codec.decodeAcceptor(try rawAcceptor(promised: low, accepted: AcceptedProposal(ballot: high, order: order),
                                                     committed: nil))
        }
        expectRefused(.invalidValue, at: 0, "accepted above promised (same round, higher node)") {
            try Codec.decodeAcceptor(try rawAcceptor(promised: Ballot(round: 2, node: NodeID(1)),
                                                     accepted: AcceptedProposal(ballot: Ballot(round: 2, node: NodeID(2)), order: order),
                                                     committed: order))
        }
        expectRefused(.invalidValue, at: 0, "accepted above the zero promise") {
            try Codec.decodeAcceptor(try rawAcceptor(promised: .zero, accepted: AcceptedProposal(ballot: low, order: order),
                                                     committed: nil))
        }
        for version: UInt8 in [0, 2, 0xFF] {
            expectRefused(.unsupportedVersion, at: 0, "version \(version)") {
                try Codec.decodeAcceptor(try rawAcceptor(version: version, promised: high, accepted: nil, committed: nil))
            }
        }
        expectRefused(.truncated, at: 0, "no bytes") { try Codec.decodeAcceptor([]) }
        // 01 ballot(16), the accepted presence at 17, the committed presence after it.
        var presence = try rawAcceptor(promised: high, accepted: nil, committed: nil)
        presence[17] = 2
        expectRefused(.invalidValue, at: 17, "accepted presence 2") { try Codec.decodeAcceptor(presence) }
        presence[17] = 0
        presence[18] = 0xFF
        expectRefused(.invalidValue, at: 18, "committed presence 0xff") { try Codec.decodeAcceptor(presence) }
        let badOrder = try rawOrder(items: [raw("A", 0)]).bytes
        expectRefused(.invalidValue, "a committed order with quantity 0") {
            try Codec.decodeAcceptor(Array(try rawAcceptor(promised: high, accepted: nil, committed: nil).dropLast()) + [1] + badOrder)
        }
    }

    // MARK: The encoder refuses what the decoder would

    @Test func encodingRefusesOrdersTheDecoderWouldRefuse() throws {
        let base = try smallOrder()
        func order(_ items: [CartItem], cartKey: [UInt8] = Array("cart:1".utf8), context: CausalContext = CausalContext()) -> Order {
            Order(checkoutID: base.checkoutID, cartKey: cartKey, items: items, context: context, createdMs: 1, coordinator: NodeID(1))
        }
        var tooMuchMetadata: [String: String] = [:]
        for index in 0...Codec.metadataPairsMax { tooMuchMetadata["k\(index)"] = "" }
        let cases: [(Order, WireError.Code, String)] = [
            (order([]), .invalidValue, "no items"),
            (order([item("B"), item("A")]), .invalidValue, "items not ascending"),
            (order([item("A"), item("A")]), .invalidValue, "a repeated SKU"),
            (order([item("é"), item("f")]), .invalidValue, "items ascending as text, not bytes"),
            (order([item("A", 0)]), .invalidValue, "quantity 0"),
            (order([item("A", -3)]), .invalidValue, "a negative quantity"),
            (order([item("A", priceMinor: -1)]), .invalidValue, "a negative price"),
            (order(Array(repeating: item("A"), count: Codec.orderItemsMax + 1)), .limitExceeded, "too many items"),
            (order([item(String(repeating: "s", count: Codec.stringBytesMax + 1))]), .limitExceeded, "a SKU too long"),
            (order([item("A", name: String(repeating: "n", count: Codec.stringBytesMax + 1))]), .limitExceeded, "a name too long"),
            (order([item("A", metadata: tooMuchMetadata)]), .limitExceeded, "too many metadata pairs"),
            (order([item("A")], cartKey: [UInt8](repeating: 0x61, count: Codec.keyBytesMax + 1)), .limitExceeded,
             "a cart key too long"),
            (order([item("A")], context: CausalContext(versionVector: VersionVector([phone: UInt64.max]))), .invalidRecord,
             "a context counter beyond counterMax"),
        ]
        for (bad, code, comment) in cases {
            expectUnencodable(code, comment) { try Codec.encodeOrder(bad) }
            expectUnencodable(code, "\(comment) in checkoutAccept") {
                try Codec.encode(.checkoutAccept(id: 1, ballot: Ballot(round: 1, node: NodeID(1)), order: bad))
            }
            expectUnencodable(code, "\(comment) in checkoutCommit") { try Codec.encode(.checkoutCommit(id: 1, order: bad)) }
            expectUnencodable(code, "\(comment) in a vote") { try Codec.encode(.checkoutVote(id: 1, vote: .decided(bad))) }
            expectUnencodable(code, "\(comment) in an accepted proposal") {
                try Codec.encode(.checkoutVote(id: 1, vote: .granted(accepted: AcceptedProposal(ballot: .zero, order: bad))))
            }
            expectUnencodable(code, "\(comment) in orderReadReply") { try Codec.encode(.orderReadReply(id: 1, ok: true, order: bad)) }
            expectUnencodable(code, "\(comment) in checkedOut") {
                try Codec.encode(.forwardReply(id: 1, reply: .checkedOut(bad, replayed: false)))
            }
            expectUnencodable(code, "\(comment) in order") { try Codec.encode(.forwardReply(id: 1, reply: .order(bad))) }
            expectUnencodable(code, "\(comment) committed in an acceptor state") {
                try Codec.encodeAcceptor(CheckoutAcceptor(promised: .zero, accepted: nil, committed: bad))
            }
            expectUnencodable(code, "\(comment) accepted in an acceptor state") {
                try Codec.encodeAcceptor(CheckoutAcceptor(promised: .zero, accepted: AcceptedProposal(ballot: .zero, order: bad),
                                                          committed: nil))
            }
        }
    }

    /// `decodeAcceptor` refuses a state whose accepted ballot is above its promised one, so
    /// `encodeAcceptor` must refuse to write it.
    @Test func encodingRefusesAnAcceptorStateTheDecoderWouldRefuse() throws {
        let broken = CheckoutAcceptor(promised: Ballot(round: 1, node: NodeID(1)),
                                      accepted: AcceptedProposal(ballot: Ballot(round: 2, node: NodeID(1)), order: try smallOrder()),
                                      committed: nil)
        #expect(broken.checkInvariants() != nil)
        expectUnencodable(.invalidValue, "accepted ballot above promised") { try Codec.encodeAcceptor(broken) }
    }

    // MARK: Robustness

    /// Random bit flips, byte replacements, insertions and cuts in encoded checkout messages and
    /// acceptor states: decoding returns or throws, never traps, and whatever decodes re-encodes
    /// to the same bytes.
    @Test func mutatedCheckoutBytesNeverTrap() throws {
        let name = "mutatedCheckoutBytesNeverTrap"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        let messages = try allMessages().map { try Codec.encode($0) }
        let states = try acceptorStates().map { try Codec.encodeAcceptor($0) }
        var decoded = 0, refused = 0
        for round in 0..<20_000 {
            let isState = round % 4 == 3
            var bytes = isState ? rng.pick(states) : rng.pick(messages)
            for _ in 0..<(1 + rng.below(3)) {
                let kind = rng.below(5)
                let index = rng.below(bytes.count + (kind == 3 ? 1 : 0))
                let random = UInt8(truncatingIfNeeded: rng.next())
                switch kind {
                case 0, 1: bytes[index] ^= UInt8(1) << (random % 8)
                case 2: bytes[index] = random
                case 3: bytes.insert(random, at: index)
                default: bytes.removeSubrange(index...)
                }
                if bytes.isEmpty { break }
            }
            do {
                if isState {
                    let state = try Codec.decodeAcceptor(bytes)
                    #expect(state.checkInvariants() == nil, "round \(round); \(TestSeed.repro(seed, name))")
                    #expect(try Codec.encodeAcceptor(state) == bytes, "round \(round): not canonical; \(TestSeed.repro(seed, name))")
                } else {
                    let message = try Codec.decode(bytes)
                    #expect(try Codec.encode(message) == bytes, "round \(round): not canonical; \(TestSeed.repro(seed, name))")
                }
                decoded += 1
            } catch {
                refused += 1
            }
        }
        print("checkout wire mutations: \(decoded) decoded, \(refused) refused")
        #expect(refused > 0 && decoded > 0)
    }
}
