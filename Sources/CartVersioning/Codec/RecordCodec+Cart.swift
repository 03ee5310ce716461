/// Kind 2 (format version 2): a `CartState`; and the causal context shared with kind 3.
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
/// counter   := replicaIndex:uvarint start:uvarint resetPlus:uvarint resetMinus:uvarint
///              addedAtMs:uvarint timestampMs:uvarint
///              checkpointCount:uvarint (counter:uvarint plus:uvarint minus:uvarint){checkpointCount}
///              cancelCount:uvarint (sign:u8 lower:uvarint upper:uvarint){cancelCount}
///              eraCount:uvarint (incCount:uvarint dot{incCount} lower:uvarint upper:uvarint){eraCount}
/// operation := id:text timestampMs:uvarint appCount:uvarint application{appCount}   ; ids ascending by bytes
/// application := dot flags:u8 sku:text? (start:uvarint sign:u8 lower:uvarint upper:uvarint)?
///              ; flags bit 0: a SKU follows; bit 1: a change follows (needs bit 0)
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
        }
        try encodeOperations(cart.operations, table: table, into: &writer, limits: limits)
    }

    static func decodeCart(_ reader: inout ByteReader,
                           limits: VersioningLimits) throws(RecordCodecError) -> CartState {
        let table = try decodeReplicaTable(&reader, limits: limits)
        var used = [Bool](repeating: false, count: table.count)
        let context = try decodeContext(&reader, table: table, used: &used, limits: limits)
        try checkAllUsed(used, reader: reader)
        // An item takes at least 8 bytes: a SKU (2) and six counts.
        let itemCount = try reader.count("item count", max: Int.max, minimumElementBytes: 8)
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
            throw reader.error(.nonCanonical, "a settled cart (duplicate applications undone, ended decrements voided)")
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
        return item
    }

    /// Checks that `key` sorts strictly after `previous` by bytes and is not empty; updates it.
    private static func checkAscendingKey(_ key: UTF8Text, after previous: inout UTF8Text?, _ what: String,
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

    // MARK: - Counters

    private static func encodeCounters(_ counters: [ReplicaID: ActorCounter], table: [ReplicaID: UInt64],
                                       into writer: inout ByteWriter, limits: VersioningLimits) throws(RecordCodecError) {
        writer.count(counters.count)
        for (replica, c) in counters.sorted(by: { $0.key < $1.key }) {
            guard let index = table[replica] else {
                throw RecordCodecError(.invalidValue, offset: 0, expected: "counter of \(replica) inside the causal context")
            }
            try require(!c.checkpoints.isEmpty && c.checkpoints.count <= limits.checkpointsPerCounterMax,
                        "1...\(limits.checkpointsPerCounterMax) checkpoints per counter")
            try require(c.checkpoints[0].counter >= c.start && zip(c.checkpoints, c.checkpoints.dropFirst()).allSatisfy {
                $0.counter < $1.counter && $0.plus <= $1.plus && $0.minus <= $1.minus
            } && c.latest.plus <= ActorCounter.unitsMax && c.latest.minus <= ActorCounter.unitsMax,
                        "checkpoints ascending from the series start, totals non-decreasing and at most 2^62")
            try require(c.resetPlus <= c.latest.plus && c.resetMinus <= c.latest.minus, "resets within the series' totals")
            try require(c.cancellations == ActorCounter.union(c.cancellations) && c.cancellations.allSatisfy {
                $0.lower < $0.upper && $0.upper <= ($0.isMinus ? c.latest.minus : c.latest.plus)
                    && $0.lower >= ($0.isMinus ? c.resetMinus : c.resetPlus)
            }, "cancellations coalesced, inside the totals, at or above the resets")
            try require(c.eras == ActorCounter.union(c.eras) && c.eras.allSatisfy {
                !$0.incarnations.isEmpty && $0.lower < $0.upper && $0.upper <= c.latest.minus && $0.lower >= c.resetMinus
            }, "eras coalesced, inside the taken units, at or above the reset")
            writer.uvarint(index)
            writer.uvarint(c.start)
            writer.uvarint(c.resetPlus)
            writer.uvarint(c.resetMinus)
            writer.uvarint(c.addedAtMs)
            writer.uvarint(c.timestampMs)
            writer.count(c.checkpoints.count)
            for p in c.checkpoints {
                writer.uvarint(p.counter)
                writer.uvarint(p.plus)
                writer.uvarint(p.minus)
            }
            writer.count(c.cancellations.count)
            for x in c.cancellations {
                writer.u8(x.isMinus ? 1 : 0)
                writer.uvarint(x.lower)
                writer.uvarint(x.upper)
            }
            writer.count(c.eras.count)
            for era in c.eras {
                writer.count(era.incarnations.count)
                for dot in era.incarnations { try encodeDot(dot, table: table, into: &writer, limits: limits) }
                writer.uvarint(era.lower)
                writer.uvarint(era.upper)
            }
        }
    }

    private static func decodeCounters(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                       limits: VersioningLimits) throws(RecordCodecError) -> [ReplicaID: ActorCounter] {
        // A counter takes at least 12 bytes: six fields, a checkpoint (3) and three counts.
        let count = try reader.count("counter count", max: table.count, minimumElementBytes: 12)
        var counters: [ReplicaID: ActorCounter] = [:]
        var previousIndex: UInt64?
        for _ in 0..<count {
            let offset = reader.offset
            let index = try reader.uvarint("counter replica index", in: 0...UInt64(max(0, table.count - 1)))
            guard !table.isEmpty else { throw reader.error(.invalidValue, "a replica table entry for the counter") }
            if let previousIndex, previousIndex >= index {
                throw RecordCodecError(.nonCanonical, offset: offset, expected: "counters strictly ascending by replica")
            }
            previousIndex = index
            let replica = table[Int(index)]
            let start = try reader.uvarint("series start", in: 1...limits.counterMax)
            let resetPlus = try reader.uvarint("resetPlus")
            let resetMinus = try reader.uvarint("resetMinus")
            let addedAtMs = try reader.uvarint("counter addedAtMs")
            let timestampMs = try reader.uvarint("counter timestampMs")
            let checkpointCount = try reader.count("checkpoint count", max: limits.checkpointsPerCounterMax, minimumElementBytes: 3)
            guard checkpointCount >= 1 else { throw reader.error(.invalidValue, "at least one checkpoint") }
            var checkpoints: [ActorCounter.Checkpoint] = []
            for _ in 0..<checkpointCount {
                let at = reader.offset
                let p = ActorCounter.Checkpoint(counter: try reader.uvarint("checkpoint counter", in: start...limits.counterMax),
                                                plus: try reader.uvarint("checkpoint plus", in: 0...ActorCounter.unitsMax),
                                                minus: try reader.uvarint("checkpoint minus", in: 0...ActorCounter.unitsMax))
                if let last = checkpoints.last, !(last.counter < p.counter && last.plus <= p.plus && last.minus <= p.minus) {
                    throw RecordCodecError(.nonCanonical, offset: at, expected: "checkpoints ascending by counter with non-decreasing totals")
                }
                guard context.contains(Dot(replica: replica, counter: p.counter)) else {
                    throw RecordCodecError(.invalidValue, offset: at, expected: "checkpoint \(replica):\(p.counter) inside the causal context")
                }
                checkpoints.append(p)
            }
            guard context.contains(Dot(replica: replica, counter: start)) else {
                throw RecordCodecError(.invalidValue, offset: offset, expected: "series start \(replica):\(start) inside the causal context")
            }
            let latest = checkpoints[checkpoints.count - 1]
            guard resetPlus <= latest.plus, resetMinus <= latest.minus else {
                throw RecordCodecError(.invalidValue, offset: offset, expected: "resets within the series' totals")
            }
            let cancelCount = try reader.count("cancellation count", max: Int.max, minimumElementBytes: 3)
            var cancellations: [ActorCounter.Cancellation] = []
            for _ in 0..<cancelCount {
                let at = reader.offset
                let kind = try reader.u8("cancellation sign")
                guard kind <= 1 else { throw RecordCodecError(.invalidValue, offset: at, expected: "cancellation sign 0 (added) or 1 (taken)") }
                let c = ActorCounter.Cancellation(isMinus: kind == 1, lower: try reader.uvarint("cancellation lower"),
                                                  upper: try reader.uvarint("cancellation upper"))
                let total = c.isMinus ? latest.minus : latest.plus
                let reset = c.isMinus ? resetMinus : resetPlus
                guard c.lower < c.upper, c.upper <= total, c.lower >= reset else {
                    throw RecordCodecError(.invalidValue, offset: at, expected: "a cancelled interval inside the series, at or above its reset")
                }
                if let last = cancellations.last, !(last < c && (last.isMinus != c.isMinus || last.upper < c.lower)) {
                    throw RecordCodecError(.nonCanonical, offset: at, expected: "cancellations sorted, disjoint and not adjacent")
                }
                cancellations.append(c)
            }
            // An era takes at least 5 bytes: a count, a dot (2) and two bounds.
            let eraCount = try reader.count("era count", max: Int.max, minimumElementBytes: 5)
            var eras: [ActorCounter.Era] = []
            for _ in 0..<eraCount {
                let at = reader.offset
                let incarnations = try decodeDots(&reader, "era incarnation", table: table, context: context, limits: limits)
                let lower = try reader.uvarint("era lower", in: 0...ActorCounter.unitsMax)
                let upper = try reader.uvarint("era upper", in: 0...ActorCounter.unitsMax)
                guard !incarnations.isEmpty, lower < upper, upper <= latest.minus, lower >= resetMinus else {
                    throw RecordCodecError(.invalidValue, offset: at,
                                           expected: "an era with incarnations, inside the taken units, at or above the reset")
                }
                let era = ActorCounter.Era(incarnations: incarnations, lower: lower, upper: upper)
                if let last = eras.last, !(last.upper < lower || (last.upper == lower && last.incarnations != incarnations)) {
                    throw RecordCodecError(.nonCanonical, offset: at, expected: "eras ascending, disjoint, coalesced")
                }
                eras.append(era)
            }
            counters[replica] = ActorCounter(start: start, resetPlus: resetPlus, resetMinus: resetMinus, addedAtMs: addedAtMs,
                                             timestampMs: timestampMs, checkpoints: checkpoints, cancellations: cancellations,
                                             eras: eras)
        }
        return counters
    }

    // MARK: - Operation log

    private static func encodeOperations(_ log: OperationLog, table: [ReplicaID: UInt64], into writer: inout ByteWriter,
                                         limits: VersioningLimits) throws(RecordCodecError) {
        writer.count(log.entries.count)
        for (id, entry) in log.entries.sorted(by: { $0.key < $1.key }) {
            try require(!entry.applications.isEmpty, "at least one application per operation")
            writer.lengthPrefixed(id.text.bytes)
            writer.uvarint(entry.timestampMs)
            writer.count(entry.applications.count)
            for a in entry.applications {
                try encodeDot(a.dot, table: table, into: &writer, limits: limits)
                try require(a.change == nil || a.sku != nil, "a change only with a SKU")
                writer.u8((a.sku == nil ? 0 : 1) | (a.change == nil ? 0 : 2))
                if let sku = a.sku { writer.lengthPrefixed(sku.bytes) }
                if let change = a.change {
                    writer.uvarint(change.start)
                    writer.u8(change.interval.isMinus ? 1 : 0)
                    writer.uvarint(change.interval.lower)
                    writer.uvarint(change.interval.upper)
                }
            }
        }
    }

    private static func decodeOperations(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                         limits: VersioningLimits) throws(RecordCodecError) -> OperationLog {
        // An operation takes at least 6 bytes: an id (2), a timestamp, a count and a dot (2).
        // Merges are never capped, so the count is bounded only by the bytes present.
        let count = try reader.count("operation count", max: Int.max, minimumElementBytes: 6)
        var log = OperationLog()
        var previousID: UTF8Text?
        for _ in 0..<count {
            let offset = reader.offset
            let idText = try reader.text("operation id", maxBytes: limits.operationIDBytesMax)
            try checkAscendingKey(idText, after: &previousID, "operation id", offset: offset)
            let timestampMs = try reader.uvarint("operation timestampMs")
            let appCount = try reader.count("application count", max: Int.max, minimumElementBytes: 3)
            guard appCount >= 1 else { throw reader.error(.invalidValue, "at least one application") }
            var applications: [OperationLog.Application] = []
            for _ in 0..<appCount {
                let at = reader.offset
                let dot = try decodeDot(&reader, table: table, limits: limits)
                guard context.contains(dot) else {
                    throw RecordCodecError(.invalidValue, offset: at, expected: "application dot \(dot) inside the causal context")
                }
                if let last = applications.last, !(last.dot < dot) {
                    throw RecordCodecError(.nonCanonical, offset: at, expected: "applications strictly ascending by dot")
                }
                let flagsOffset = reader.offset
                let flags = try reader.u8("application flags")
                guard flags & ~3 == 0, flags & 2 == 0 || flags & 1 != 0 else {
                    throw RecordCodecError(.invalidValue, offset: flagsOffset, expected: "application flags with bits 0 and 1 only, bit 1 only with bit 0")
                }
                var application = OperationLog.Application(dot: dot, sku: nil, change: nil)
                if flags & 1 != 0 {
                    let skuOffset = reader.offset
                    let sku = try reader.text("application SKU", maxBytes: limits.skuBytesMax)
                    if sku.isEmpty { throw RecordCodecError(.invalidValue, offset: skuOffset, expected: "a non-empty SKU") }
                    application.sku = sku
                }
                if flags & 2 != 0 {
                    let start = try reader.uvarint("change series start", in: 1...limits.counterMax)
                    let kindOffset = reader.offset
                    let kind = try reader.u8("change sign")
                    guard kind <= 1 else { throw RecordCodecError(.invalidValue, offset: kindOffset, expected: "change sign 0 (added) or 1 (taken)") }
                    let interval = ActorCounter.Cancellation(isMinus: kind == 1,
                                                             lower: try reader.uvarint("change lower", in: 0...ActorCounter.unitsMax),
                                                             upper: try reader.uvarint("change upper", in: 0...ActorCounter.unitsMax))
                    guard interval.lower < interval.upper else {
                        throw RecordCodecError(.invalidValue, offset: kindOffset, expected: "a change interval lower < upper")
                    }
                    application.change = (start, interval)
                }
                applications.append(application)
            }
            log.entries[OperationID(idText)] = OperationLog.Entry(timestampMs: timestampMs, applications: applications)
        }
        return log
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
    private static func decodeDots(_ reader: inout ByteReader, _ what: String, table: [ReplicaID], context: CausalContext,
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
