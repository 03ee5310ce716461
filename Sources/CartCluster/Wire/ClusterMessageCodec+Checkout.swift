import CartVersioning

/// The checkout's values on the wire and on disk (data-format.md, "Checkout"): ballots, orders,
/// votes, and an acceptor's durable state.
extension ClusterMessageCodec {
    /// Most items in one order.
    public static let orderItemsMax = 65_536
    /// The version byte of an encoded acceptor state (`encodeAcceptor`). Never renumber.
    public static let acceptorStateVersion: UInt8 = 1

    // MARK: Ballot, checkout id

    /// `ballot := round:u64 node:u64`.
    static func encodeBallot(_ ballot: Ballot, into writer: inout WireWriter) {
        writer.u64(ballot.round)
        writer.u64(ballot.node.value)
    }

    static func decodeBallot(_ reader: inout WireReader) throws(WireError) -> Ballot {
        let round = try reader.u64("ballot round")
        return Ballot(round: round, node: NodeID(try reader.u64("ballot node")))
    }

    /// `checkout-id := length:uvarint (1…48) UTF-8` (see `CheckoutID`).
    static func encodeCheckoutID(_ id: CheckoutID, into writer: inout WireWriter) throws(WireError) {
        try writer.string(id.text, "checkout id", maxBytes: CheckoutID.bytesMax)
    }

    static func decodeCheckoutID(_ reader: inout WireReader) throws(WireError) -> CheckoutID {
        let start = reader.offset
        let text = try reader.string("checkout id", maxBytes: CheckoutID.bytesMax)
        do throws(CheckoutID.Invalid) {
            return try CheckoutID(text)
        } catch {
            throw WireError(.invalidValue, offset: start, expected: "a checkout id: \(error.reason)")
        }
    }

    // MARK: Order

    /// `order := checkout-id coordinator:u64 createdMs:u64 cartKey:key context itemCount:uvarint item*`
    /// with `item := sku:string quantity:svarint name:string priceMinor:svarint
    /// metadata addedAtMs:uvarint updatedAtMs:uvarint`;
    /// items strictly ascending by SKU bytes, metadata pairs strictly ascending by key bytes,
    /// at least one item, quantities ≥ 1, prices ≥ 0.
    public static func encodeOrder(_ order: Order) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        try encodeOrder(order, into: &writer)
        return writer.bytes
    }

    /// Decodes what `encodeOrder(_:)` wrote, and nothing else.
    public static func decodeOrder(_ bytes: [UInt8]) throws(WireError) -> Order {
        var reader = WireReader(bytes)
        let order = try decodeOrder(&reader)
        try reader.finish()
        return order
    }

    static func encodeOrder(_ order: Order, into writer: inout WireWriter) throws(WireError) {
        try encodeCheckoutID(order.checkoutID, into: &writer)
        writer.u64(order.coordinator.value)
        writer.u64(order.createdMs)
        try encodeKey(order.cartKey, into: &writer)
        try encodeContext(order.context, "order context", into: &writer)
        guard !order.items.isEmpty else { throw WireError(.invalidValue, offset: 0, expected: "an order with items") }
        try writer.count(order.items.count, "order item count", max: orderItemsMax)
        var previous: [UInt8]? = nil
        for item in order.items {
            let sku = Array(item.sku.utf8)
            if let previous, !previous.lexicographicallyPrecedes(sku) {
                throw WireError(.invalidValue, offset: 0, expected: "order items strictly ascending by SKU")
            }
            guard item.quantity >= 1, item.priceMinor >= 0 else {
                throw WireError(.invalidValue, offset: 0, expected: "an order item with quantity >= 1 and price >= 0")
            }
            try writer.string(item.sku, "SKU", maxBytes: stringBytesMax)
            writer.svarint(item.quantity)
            try writer.string(item.name, "name", maxBytes: stringBytesMax)
            writer.svarint(item.priceMinor)
            try encodeMetadata(item.metadata, into: &writer)
            writer.uvarint(item.addedAtMs)
            writer.uvarint(item.updatedAtMs)
            previous = sku
        }
    }

    static func decodeOrder(_ reader: inout WireReader) throws(WireError) -> Order {
        let checkoutID = try decodeCheckoutID(&reader)
        let coordinator = NodeID(try reader.u64("order coordinator"))
        let createdMs = try reader.u64("order createdMs")
        let cartKey = try decodeKey(&reader)
        let context = try decodeContext("order context", from: &reader)
        let count = try reader.count("order item count", max: orderItemsMax, minimumElementBytes: 7)
        guard count >= 1 else { throw reader.error(.invalidValue, "an order with items") }
        var items: [CartItem] = []
        items.reserveCapacity(count)
        var previous: [UInt8]? = nil
        for _ in 0..<count {
            let start = reader.offset
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            if let previous, !previous.lexicographicallyPrecedes(Array(sku.utf8)) {
                throw WireError(.invalidValue, offset: start, expected: "order items strictly ascending by SKU")
            }
            let quantity = try reader.svarint("quantity")
            guard quantity >= 1 else { throw reader.error(.invalidValue, "an order quantity >= 1, got \(quantity)") }
            let name = try reader.string("name", maxBytes: stringBytesMax)
            let priceMinor = try reader.svarint("priceMinor")
            guard priceMinor >= 0 else { throw reader.error(.invalidValue, "an order price >= 0, got \(priceMinor)") }
            let metadata = try decodeMetadata(&reader)
            let addedAtMs = try reader.uvarint("addedAtMs")
            let updatedAtMs = try reader.uvarint("updatedAtMs")
            items.append(CartItem(sku: sku, quantity: quantity, name: name, priceMinor: priceMinor, metadata: metadata,
                                  addedAtMs: addedAtMs, updatedAtMs: updatedAtMs))
            previous = Array(sku.utf8)
        }
        return Order(checkoutID: checkoutID, cartKey: cartKey, items: items, context: context, createdMs: createdMs,
                     coordinator: coordinator)
    }

    /// `opt(ballot order)`: an acceptor's accepted proposal, if any (in a granted vote and in
    /// the acceptor state).
    static func encodeAccepted(_ accepted: AcceptedProposal?, into writer: inout WireWriter) throws(WireError) {
        guard let accepted else { return writer.bool(false) }
        writer.bool(true)
        encodeBallot(accepted.ballot, into: &writer)
        try encodeOrder(accepted.order, into: &writer)
    }

    static func decodeAccepted(_ reader: inout WireReader) throws(WireError) -> AcceptedProposal? {
        guard try reader.bool("accepted present") else { return nil }
        let ballot = try decodeBallot(&reader)
        return AcceptedProposal(ballot: ballot, order: try decodeOrder(&reader))
    }

    /// `opt(order)` (an order read's answer, the acceptor state's decision).
    static func encodeOptionalOrder(_ order: Order?, into writer: inout WireWriter) throws(WireError) {
        guard let order else { return writer.bool(false) }
        writer.bool(true)
        try encodeOrder(order, into: &writer)
    }

    /// `presence` names the presence byte in errors.
    static func decodeOptionalOrder(_ reader: inout WireReader, presence: String) throws(WireError) -> Order? {
        try reader.bool(presence) ? try decodeOrder(&reader) : nil
    }

    // MARK: Vote

    /// `vote := 0 present:u8 [ballot order]` (granted, with the accepted proposal if present)
    /// `| 1 ballot` (refused) `| 2 order` (decided) `| 3` (failed).
    static func encodeVote(_ vote: CheckoutVote, into writer: inout WireWriter) throws(WireError) {
        switch vote {
        case let .granted(accepted):
            writer.u8(0)
            try encodeAccepted(accepted, into: &writer)
        case let .refused(promised):
            writer.u8(1)
            encodeBallot(promised, into: &writer)
        case let .decided(order):
            writer.u8(2)
            try encodeOrder(order, into: &writer)
        case .failed:
            writer.u8(3)
        }
    }

    static func decodeVote(_ reader: inout WireReader) throws(WireError) -> CheckoutVote {
        let start = reader.offset
        switch try reader.u8("vote kind") {
        case 0: return .granted(accepted: try decodeAccepted(&reader))
        case 1: return .refused(promised: try decodeBallot(&reader))
        case 2: return .decided(try decodeOrder(&reader))
        case 3: return .failed
        case let kind: throw WireError(.invalidValue, offset: start, expected: "vote kind 0...3, got \(kind)")
        }
    }

    // MARK: Acceptor state (on disk)

    /// `acceptor := version:u8 (1) promised:ballot accepted-present:u8 [ballot order]
    /// committed-present:u8 [order]`.
    public static func encodeAcceptor(_ state: CheckoutAcceptor) throws(WireError) -> [UInt8] {
        if let problem = state.checkInvariants() { throw WireError(.invalidValue, offset: 0, expected: "an acceptor state: \(problem)") }
        var writer = WireWriter()
        writer.u8(acceptorStateVersion)
        encodeBallot(state.promised, into: &writer)
        try encodeAccepted(state.accepted, into: &writer)
        try encodeOptionalOrder(state.committed, into: &writer)
        return writer.bytes
    }

    /// Decodes what `encodeAcceptor(_:)` wrote, and nothing else.
    public static func decodeAcceptor(_ bytes: [UInt8]) throws(WireError) -> CheckoutAcceptor {
        var reader = WireReader(bytes)
        let version = try reader.u8("acceptor state version")
        guard version == acceptorStateVersion else {
            throw WireError(.unsupportedVersion, offset: 0, expected: "acceptor state version \(acceptorStateVersion), got \(version)")
        }
        let promised = try decodeBallot(&reader)
        let accepted = try decodeAccepted(&reader)
        let committed = try decodeOptionalOrder(&reader, presence: "committed present")
        try reader.finish()
        let state = CheckoutAcceptor(promised: promised, accepted: accepted, committed: committed)
        if let problem = state.checkInvariants() { throw WireError(.invalidValue, offset: 0, expected: "an acceptor state: \(problem)") }
        return state
    }
}
