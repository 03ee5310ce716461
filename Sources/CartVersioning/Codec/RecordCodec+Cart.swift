/// Kind 2 (format version 2): a `CartState`; and the causal context shared with kind 3.
/// data-format.md ("Record codec") is the specification; counters are in
/// `RecordCodec+CartCounter.swift`, the operation log in `RecordCodec+OperationLog.swift`.
///
/// ```
/// cart      := replicas context itemCount:uvarint item{itemCount} opCount:uvarint operation{opCount}
/// replicas  := replicaCount:uvarint (node:uvarint epoch:uvarint){replicaCount}
///                                     ; strictly ascending, each referenced by the context
/// context   := vvCount:uvarint (replicaIndex:uvarint counter:uvarint){vvCount}
///              cloudCount:uvarint dot{cloudCount}
/// item      := sku:text                                    ; items strictly ascending by SKU bytes
///              counterCount:uvarint counter{counterCount}  ; strictly ascending by replica index
///              setCount:uvarint (dot quantity:uvarint addedAtMs:uvarint timestampMs:uvarint){setCount}
///              nameCount:uvarint (dot timestampMs:uvarint name:text){nameCount}
///              priceCount:uvarint (dot timestampMs:uvarint priceMinor:svarint){priceCount}
///              metadataCount:uvarint (dot timestampMs:uvarint pairCount:uvarint (key:text value:text){pairCount}){metadataCount}
///              incarnationCount:uvarint dot{incarnationCount}   ; strictly ascending
///              twinCount:uvarint twin{twinCount}           ; strictly ascending
/// twin      := replicaIndex:uvarint start:uvarint twinReplicaIndex:uvarint twinStart:uvarint
///              sign:u8 lower:uvarint upper:uvarint twinLower:uvarint twinUpper:uvarint
/// dot       := replicaIndex:uvarint counter:uvarint
/// text      := length:uvarint UTF-8 bytes
/// ```
extension RecordCodec {
    static func encodeCart(_ cart: CartState, into writer: inout ByteWriter,
                           limits: VersioningLimits) throws(RecordCodecError) {
        let table = try encodeReplicaTable(cart.context.replicas, into: &writer, limits: limits)
        try encodeContext(cart.context, table: table, into: &writer, limits: limits)
        writer.count(cart.items.count)
        for (sku, item) in cart.items.sorted(by: { $0.key < $1.key }) {
            try require(!sku.isEmpty && sku.bytes.count <= limits.skuBytesMax, "SKU of 1...\(limits.skuBytesMax) bytes")
            try require(!item.isEmpty, "no empty item")
            writer.lengthPrefixed(sku.bytes)
            try encodeCounters(item.counters, table: table, into: &writer, limits: limits)
            try encodeField(item.sets, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                try require(entry.quantity >= 1, "set quantities of at least 1")
                writer.uvarint(UInt64(entry.quantity))
                writer.uvarint(entry.addedAtMs)
                writer.uvarint(entry.timestampMs)
            }
            try encodeField(item.name, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                try require(entry.value.bytes.count <= limits.nameBytesMax, "name of at most \(limits.nameBytesMax) bytes")
                writer.uvarint(entry.timestampMs)
                writer.lengthPrefixed(entry.value.bytes)
            }
            try encodeField(item.price, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                writer.uvarint(entry.timestampMs)
                writer.svarint(entry.value)
            }
            try encodeField(item.metadata, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                let pairs = entry.value.pairs
                try require(pairs.count <= limits.metadataEntriesMax, "at most \(limits.metadataEntriesMax) metadata pairs")
                writer.uvarint(entry.timestampMs)
                writer.count(pairs.count)
                for pair in pairs {
                    try require(!pair.key.isEmpty && pair.key.bytes.count <= limits.metadataKeyBytesMax,
                                "metadata key of 1...\(limits.metadataKeyBytesMax) bytes")
                    try require(pair.value.bytes.count <= limits.metadataValueBytesMax,
                                "metadata value of at most \(limits.metadataValueBytesMax) bytes")
                    writer.lengthPrefixed(pair.key.bytes)
                    writer.lengthPrefixed(pair.value.bytes)
                }
            }
            writer.count(item.incarnations.entries.count)
            for dot in item.incarnations.entries.keys.sorted() {
                try encodeDot(dot, table: table, into: &writer, limits: limits)
            }
            try require(item.twins == Array(Set(item.twins)).sorted(), "twin links sorted and distinct")
            writer.count(item.twins.count)
            for link in item.twins {
                guard let index = table[link.replica], let twinIndex = table[link.twinReplica] else {
                    throw RecordCodecError(.invalidValue, offset: 0, expected: "twin link replicas inside the causal context")
                }
                try require(link.interval.isMinus == link.twinInterval.isMinus && link.interval.lower < link.interval.upper
                                && link.twinInterval.lower < link.twinInterval.upper
                                && link.interval.upper <= ActorCounter.unitsMax && link.twinInterval.upper <= ActorCounter.unitsMax,
                            "twin link intervals non-empty, of one sign, at most 2^62")
                writer.uvarint(index)
                writer.uvarint(link.start)
                writer.uvarint(twinIndex)
                writer.uvarint(link.twinStart)
                writer.u8(link.interval.isMinus ? 1 : 0)
                writer.uvarint(link.interval.lower)
                writer.uvarint(link.interval.upper)
                writer.uvarint(link.twinInterval.lower)
                writer.uvarint(link.twinInterval.upper)
            }
        }
        try encodeOperations(cart.operations, table: table, into: &writer, limits: limits)
    }

    static func decodeCart(_ reader: inout ByteReader,
                           limits: VersioningLimits) throws(RecordCodecError) -> CartState {
        let table = try decodeReplicaTable(&reader, limits: limits)
        var used = [Bool](repeating: false, count: table.count)
        let context = try decodeContext(&reader, table: table, used: &used, limits: limits)
        try checkAllUsed(used, reader: reader)
        // An item takes at least 9 bytes: a SKU (2) and seven counts.
        let itemCount = try reader.count("item count", max: Int.max, minimumElementBytes: 9)
        var items: [UTF8Text: ItemState] = [:]
        var previousSKU: UTF8Text?
        for _ in 0..<itemCount {
            let skuOffset = reader.offset
            let sku = try reader.text("SKU", maxBytes: limits.skuBytesMax)
            try checkAscendingKey(sku, after: &previousSKU, "SKU", offset: skuOffset)
            let item = try decodeItem(&reader, table: table, context: context, limits: limits)
            guard !item.isEmpty else {
                throw RecordCodecError(.invalidValue, offset: skuOffset, expected: "an item with at least one counter or entry")
            }
            items[sku] = item
        }
        let operations = try decodeOperations(&reader, table: table, context: context, limits: limits)
        let cart = CartState(validatedContext: context, items: items, operations: operations)
        // Canonical: settled, as every merge and operation leaves a state (a state that merging
        // with itself would change has no place in a record).
        var settled = cart
        settled.settle()
        guard settled == cart else {
            throw reader.error(.nonCanonical, "a settled cart (duplicate applications undone and linked, twin links applied)")
        }
        return cart
    }

    private static func decodeItem(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                   limits: VersioningLimits) throws(RecordCodecError) -> ItemState {
        var item = ItemState()
        item.counters = try decodeCounters(&reader, table: table, context: context, limits: limits)
        item.sets = try decodeField(&reader, "set", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> SetEntry in
            let quantity = try reader.uvarint("set quantity", in: 1...UInt64(Int64.max))
            let addedAtMs = try reader.uvarint("set addedAtMs")
            let timestampMs = try reader.uvarint("set timestampMs")
            return SetEntry(quantity: Int64(quantity), addedAtMs: addedAtMs, timestampMs: timestampMs)
        }
        item.name = try decodeField(&reader, "name", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> RegisterEntry<UTF8Text> in
            let timestampMs = try reader.uvarint("name timestampMs")
            let name = try reader.text("name", maxBytes: limits.nameBytesMax)
            return RegisterEntry(value: name, timestampMs: timestampMs)
        }
        item.price = try decodeField(&reader, "price", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> RegisterEntry<Int64> in
            let timestampMs = try reader.uvarint("price timestampMs")
            let priceMinor = try reader.svarint("priceMinor")
            return RegisterEntry(value: priceMinor, timestampMs: timestampMs)
        }
        item.metadata = try decodeField(&reader, "metadata", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> RegisterEntry<ItemMetadata> in
            let timestampMs = try reader.uvarint("metadata timestampMs")
            return RegisterEntry(value: try decodeMetadata(&reader, limits: limits), timestampMs: timestampMs)
        }
        for dot in try decodeDots(&reader, "incarnation", table: table, context: context, limits: limits) {
            item.incarnations.entries[dot] = ItemState.IncarnationMark()
        }
        item.twins = try decodeTwins(&reader, table: table, context: context)
        return item
    }

    private static func decodeTwins(_ reader: inout ByteReader, table: [ReplicaID],
                                    context: CausalContext) throws(RecordCodecError) -> [TwinLink] {
        // A link takes at least 9 bytes.
        let count = try reader.count("twin link count", max: Int.max, minimumElementBytes: 9)
        var links: [TwinLink] = []
        for _ in 0..<count {
            let at = reader.offset
            let maxIndex = UInt64(max(0, table.count - 1))
            let index = try reader.uvarint("twin link replica index", in: 0...maxIndex)
            let start = try reader.uvarint("twin link series start")
            let twinIndex = try reader.uvarint("twin link twin replica index", in: 0...maxIndex)
            let twinStart = try reader.uvarint("twin link twin series start")
            let signOffset = reader.offset
            let sign = try reader.u8("twin link sign")
            guard sign <= 1 else { throw RecordCodecError(.invalidValue, offset: signOffset, expected: "sign 0 (added) or 1 (taken)") }
            let lower = try reader.uvarint("twin link lower", in: 0...ActorCounter.unitsMax)
            let upper = try reader.uvarint("twin link upper", in: 0...ActorCounter.unitsMax)
            let twinLower = try reader.uvarint("twin link twin lower", in: 0...ActorCounter.unitsMax)
            let twinUpper = try reader.uvarint("twin link twin upper", in: 0...ActorCounter.unitsMax)
            guard !table.isEmpty else { throw RecordCodecError(.invalidValue, offset: at, expected: "a replica table entry for the link") }
            let link = TwinLink(replica: table[Int(index)], start: start,
                                interval: ActorCounter.Cancellation(isMinus: sign == 1, lower: lower, upper: upper),
                                twinReplica: table[Int(twinIndex)], twinStart: twinStart,
                                twinInterval: ActorCounter.Cancellation(isMinus: sign == 1, lower: twinLower, upper: twinUpper))
            guard lower < upper, twinLower < twinUpper, context.contains(Dot(replica: link.replica, counter: start)),
                  context.contains(Dot(replica: link.twinReplica, counter: twinStart)) else {
                throw RecordCodecError(.invalidValue, offset: at, expected: "a twin link of non-empty intervals of series inside the causal context")
            }
            if let last = links.last, !(last < link) {
                throw RecordCodecError(.nonCanonical, offset: at, expected: "twin links strictly ascending")
            }
            links.append(link)
        }
        return links
    }

    /// Checks that `key` sorts strictly after `previous` by bytes and is not empty; updates it.
    static func checkAscendingKey(_ key: UTF8Text, after previous: inout UTF8Text?, _ what: String,
                                          offset: Int) throws(RecordCodecError) {
        if key.isEmpty {
            throw RecordCodecError(.invalidValue, offset: offset, expected: "a non-empty \(what)")
        }
        if let previous, !(previous < key) {
            throw RecordCodecError(.nonCanonical, offset: offset, expected: "\(what)s strictly ascending by UTF-8 bytes")
        }
        previous = key
    }

    private static func decodeMetadata(_ reader: inout ByteReader,
                                       limits: VersioningLimits) throws(RecordCodecError) -> ItemMetadata {
        let count = try reader.count("metadata pair count", max: limits.metadataEntriesMax, minimumElementBytes: 3)
        var pairs: [(key: UTF8Text, value: UTF8Text)] = []
        var previousKey: UTF8Text?
        for _ in 0..<count {
            let keyOffset = reader.offset
            let key = try reader.text("metadata key", maxBytes: limits.metadataKeyBytesMax)
            try checkAscendingKey(key, after: &previousKey, "metadata key", offset: keyOffset)
            pairs.append((key, try reader.text("metadata value", maxBytes: limits.metadataValueBytesMax)))
        }
        return ItemMetadata(validatedPairs: pairs)
    }

    // MARK: - Shared field and context encodings

    /// `count:uvarint (dot payload)*`, dots strictly ascending.
    private static func encodeField<Payload>(
        _ field: DotMap<Payload>, table: [ReplicaID: UInt64], into writer: inout ByteWriter, limits: VersioningLimits,
        payload: (Payload, inout ByteWriter) throws(RecordCodecError) -> Void
    ) throws(RecordCodecError) {
        writer.count(field.entries.count)
        for (dot, value) in field.sortedEntries {
            try encodeDot(dot, table: table, into: &writer, limits: limits)
            try payload(value, &writer)
        }
    }

    private static func decodeField<Payload>(
        _ reader: inout ByteReader, _ what: String, table: [ReplicaID], context: CausalContext,
        limits: VersioningLimits, payload: (inout ByteReader) throws(RecordCodecError) -> Payload
    ) throws(RecordCodecError) -> DotMap<Payload> {
        // An entry takes at least 4 bytes: a dot (2) and two more fields.
        let count = try reader.count("\(what) entry count", max: Int.max, minimumElementBytes: 4)
        var field = DotMap<Payload>()
        var previous: Dot?
        for _ in 0..<count {
            let dotOffset = reader.offset
            let dot = try decodeDot(&reader, table: table, limits: limits)
            if let previous, !(previous < dot) {
                throw RecordCodecError(.nonCanonical, offset: dotOffset, expected: "\(what) dots strictly ascending")
            }
            guard context.contains(dot) else {
                throw RecordCodecError(.invalidValue, offset: dotOffset, expected: "\(what) dot \(dot) inside the causal context")
            }
            previous = dot
            field.entries[dot] = try payload(&reader)
        }
        return field
    }

    /// `count:uvarint dot{count}`, dots strictly ascending and inside `context`.
    static func decodeDots(_ reader: inout ByteReader, _ what: String, table: [ReplicaID], context: CausalContext,
                                   limits: VersioningLimits) throws(RecordCodecError) -> [Dot] {
        let count = try reader.count("\(what) count", max: Int.max, minimumElementBytes: 2)
        var dots: [Dot] = []
        for _ in 0..<count {
            let at = reader.offset
            let dot = try decodeDot(&reader, table: table, limits: limits)
            if let last = dots.last, !(last < dot) {
                throw RecordCodecError(.nonCanonical, offset: at, expected: "\(what) dots strictly ascending")
            }
            guard context.contains(dot) else {
                throw RecordCodecError(.invalidValue, offset: at, expected: "\(what) dot \(dot) inside the causal context")
            }
            dots.append(dot)
        }
        return dots
    }

    /// `context := vvCount (replicaIndex counter)* cloudCount dot*`.
    static func encodeContext(_ context: CausalContext, table: [ReplicaID: UInt64], into writer: inout ByteWriter,
                              limits: VersioningLimits) throws(RecordCodecError) {
        let vector = context.versionVector.entries
        writer.count(vector.count)
        for dot in vector {
            try encodeDot(dot, table: table, into: &writer, limits: limits)
        }
        writer.count(context.dotCloud.count)
        for dot in context.dotCloud.sorted() {
            try encodeDot(dot, table: table, into: &writer, limits: limits)
        }
    }

    static func decodeContext(_ reader: inout ByteReader, table: [ReplicaID], used: inout [Bool],
                              limits: VersioningLimits) throws(RecordCodecError) -> CausalContext {
        let vectorCount = try reader.count("version vector entry count", max: table.count, minimumElementBytes: 2)
        var vector = VersionVector()
        var previousIndex: UInt64?
        for _ in 0..<vectorCount {
            let entryOffset = reader.offset
            let index = try reader.uvarint("replica index", in: 0...UInt64(max(0, table.count - 1)))
            if let previousIndex, previousIndex >= index {
                throw RecordCodecError(.nonCanonical, offset: entryOffset, expected: "version vector entries strictly ascending")
            }
            previousIndex = index
            let counter = try reader.uvarint("version vector counter", in: 1...limits.counterMax)
            vector.raise(table[Int(index)], to: counter)
            used[Int(index)] = true
        }
        let cloudCount = try reader.count("dot cloud count", max: Int.max, minimumElementBytes: 2)
        var cloud: Set<Dot> = []
        var previous: Dot?
        for _ in 0..<cloudCount {
            let dotOffset = reader.offset
            let dot = try decodeDot(&reader, table: table, limits: limits)
            if let previous, !(previous < dot) {
                throw RecordCodecError(.nonCanonical, offset: dotOffset, expected: "cloud dots strictly ascending")
            }
            guard dot.counter > vector[dot.replica] + 1 else {
                throw RecordCodecError(.nonCanonical, offset: dotOffset, expected: "a compacted dot cloud (dot beyond vector + 1)")
            }
            previous = dot
            cloud.insert(dot)
            if let index = table.firstIndex(of: dot.replica) { used[index] = true }
        }
        return CausalContext(versionVector: vector, dotCloud: cloud)
    }
}
