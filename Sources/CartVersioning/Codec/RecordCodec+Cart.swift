/// Kind 2: a `CartState`; and the causal context shared with kind 3.
///
/// ```
/// cart     := replicas context itemCount:uvarint item{itemCount}     ; items strictly ascending by SKU bytes
/// replicas := replicaCount:uvarint (node:uvarint epoch:uvarint){replicaCount}
///                                              ; strictly ascending, each referenced by the context
/// context  := vvCount:uvarint (replicaIndex:uvarint counter:uvarint){vvCount}
///             cloudCount:uvarint dot{cloudCount}
/// item     := sku:string
///             quantityCount:uvarint (dot delta:svarint addedAtMs:uvarint timestampMs:uvarint)*
///             nameCount:uvarint     (dot timestampMs:uvarint name:string)*
///             priceCount:uvarint    (dot timestampMs:uvarint priceMinor:svarint)*
///             metadataCount:uvarint (dot timestampMs:uvarint pairCount:uvarint (key:string value:string)*)*
/// dot      := replicaIndex:uvarint counter:uvarint
/// ```
extension RecordCodec {
    static func encodeCart(_ cart: CartState, into writer: inout ByteWriter,
                           limits: VersioningLimits) throws(RecordCodecError) {
        let table = try encodeReplicaTable(cart.context.replicas, into: &writer, limits: limits)
        try encodeContext(cart.context, table: table, into: &writer, limits: limits)
        try require(cart.items.count <= limits.cartItemsMax, "at most \(limits.cartItemsMax) items")
        writer.count(cart.items.count)
        for (sku, item) in cart.items.sorted(by: { $0.key.utf8Precedes($1.key) }) {
            try require(!sku.isEmpty && sku.utf8.count <= limits.skuBytesMax, "SKU of 1...\(limits.skuBytesMax) bytes")
            try require(!item.isEmpty, "no empty item")
            writer.string(sku)
            try encodeField(item.quantity, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                writer.svarint(entry.delta)
                writer.uvarint(entry.addedAtMs)
                writer.uvarint(entry.timestampMs)
            }
            try encodeField(item.name, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                try require(entry.value.utf8.count <= limits.nameBytesMax, "name of at most \(limits.nameBytesMax) bytes")
                writer.uvarint(entry.timestampMs)
                writer.string(entry.value)
            }
            try encodeField(item.price, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                writer.uvarint(entry.timestampMs)
                writer.svarint(entry.value)
            }
            try encodeField(item.metadata, table: table, into: &writer, limits: limits) { (entry, writer: inout ByteWriter) throws(RecordCodecError) in
                let pairs = entry.value.sortedPairs
                try require(pairs.count <= limits.metadataEntriesMax, "at most \(limits.metadataEntriesMax) metadata pairs")
                writer.uvarint(entry.timestampMs)
                writer.count(pairs.count)
                for pair in pairs {
                    try require(!pair.key.isEmpty && pair.key.utf8.count <= limits.metadataKeyBytesMax,
                                "metadata key of 1...\(limits.metadataKeyBytesMax) bytes")
                    try require(pair.value.utf8.count <= limits.metadataValueBytesMax,
                                "metadata value of at most \(limits.metadataValueBytesMax) bytes")
                    writer.string(pair.key)
                    writer.string(pair.value)
                }
            }
        }
    }

    static func decodeCart(_ reader: inout ByteReader,
                           limits: VersioningLimits) throws(RecordCodecError) -> CartState {
        let table = try decodeReplicaTable(&reader, limits: limits)
        var used = [Bool](repeating: false, count: table.count)
        let context = try decodeContext(&reader, table: table, used: &used, limits: limits)
        try checkAllUsed(used, reader: reader)
        let itemCount = try reader.count("item count", max: limits.cartItemsMax, minimumElementBytes: 6)
        var items: [String: CartItemState] = [:]
        var previousSKU: [UInt8]?
        for _ in 0..<itemCount {
            let skuOffset = reader.offset
            let sku = try decodeOrderedKey(&reader, "SKU", maxBytes: limits.skuBytesMax,
                                           previous: &previousSKU) { items[$0] != nil }
            let item = try decodeItem(&reader, table: table, context: context, limits: limits)
            guard !item.isEmpty else {
                throw RecordCodecError(.invalidValue, offset: skuOffset, expected: "an item with at least one entry")
            }
            items[sku] = item
        }
        return CartState(validatedContext: context, items: items)
    }

    private static func decodeItem(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                   limits: VersioningLimits) throws(RecordCodecError) -> CartItemState {
        var item = CartItemState()
        item.quantity = try decodeField(&reader, "quantity", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> QuantityEntry in
            let delta = try reader.svarint("quantity delta")
            let addedAtMs = try reader.uvarint("addedAtMs")
            let timestampMs = try reader.uvarint("quantity timestampMs")
            return QuantityEntry(delta: delta, addedAtMs: addedAtMs, timestampMs: timestampMs)
        }
        item.name = try decodeField(&reader, "name", table: table, context: context, limits: limits) {
            (reader: inout ByteReader) throws(RecordCodecError) -> RegisterEntry<String> in
            let timestampMs = try reader.uvarint("name timestampMs")
            let name = try reader.string("name", maxBytes: limits.nameBytesMax)
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
        return item
    }

    /// Reads a map key in canonical form: a non-empty string (`what`, at most `maxBytes`) that
    /// sorts strictly after `previous` by UTF-8 bytes and, as a Unicode string, differs from
    /// every key read before (`isDuplicate`). Updates `previous`.
    private static func decodeOrderedKey(_ reader: inout ByteReader, _ what: String, maxBytes: Int,
                                         previous: inout [UInt8]?,
                                         isDuplicate: (String) -> Bool) throws(RecordCodecError) -> String {
        let offset = reader.offset
        let key = try reader.string(what, maxBytes: maxBytes)
        let bytes = Array(key.utf8)
        if bytes.isEmpty {
            throw RecordCodecError(.invalidValue, offset: offset, expected: "a non-empty \(what)")
        }
        if let previous, !previous.lexicographicallyPrecedes(bytes) {
            throw RecordCodecError(.nonCanonical, offset: offset, expected: "\(what)s strictly ascending by UTF-8 bytes")
        }
        previous = bytes
        guard !isDuplicate(key) else {
            throw RecordCodecError(.nonCanonical, offset: offset, expected: "\(what)s distinct as Unicode strings")
        }
        return key
    }

    private static func decodeMetadata(_ reader: inout ByteReader,
                                       limits: VersioningLimits) throws(RecordCodecError) -> ItemMetadata {
        let count = try reader.count("metadata pair count", max: limits.metadataEntriesMax, minimumElementBytes: 3)
        var pairs: [String: String] = [:]
        var previousKey: [UInt8]?
        for _ in 0..<count {
            let key = try decodeOrderedKey(&reader, "metadata key", maxBytes: limits.metadataKeyBytesMax,
                                           previous: &previousKey) { pairs[$0] != nil }
            pairs[key] = try reader.string("metadata value", maxBytes: limits.metadataValueBytesMax)
        }
        return ItemMetadata(pairs: pairs)
    }

    /// `count:uvarint (dot payload)*`, dots strictly ascending.
    private static func encodeField<Payload>(
        _ field: DotMap<Payload>, table: [ReplicaID: UInt64], into writer: inout ByteWriter, limits: VersioningLimits,
        payload: (Payload, inout ByteWriter) throws(RecordCodecError) -> Void
    ) throws(RecordCodecError) {
        try require(field.entries.count <= limits.itemFieldEntriesMax, "at most \(limits.itemFieldEntriesMax) entries per item field")
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
        let count = try reader.count("\(what) entry count", max: limits.itemFieldEntriesMax, minimumElementBytes: 4)
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

    /// `context := vvCount (replicaIndex counter)* cloudCount dot*`.
    static func encodeContext(_ context: CausalContext, table: [ReplicaID: UInt64], into writer: inout ByteWriter,
                              limits: VersioningLimits) throws(RecordCodecError) {
        let vector = context.versionVector.entries
        writer.count(vector.count)
        for dot in vector {
            try encodeDot(dot, table: table, into: &writer, limits: limits)
        }
        try require(context.dotCloud.count <= limits.dotCloudMax, "at most \(limits.dotCloudMax) cloud dots")
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
        let cloudCount = try reader.count("dot cloud count", max: limits.dotCloudMax, minimumElementBytes: 2)
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
