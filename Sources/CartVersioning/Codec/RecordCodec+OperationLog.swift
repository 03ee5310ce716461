/// A cart's operation log (`OperationLog`), at the end of kind 2 (see `RecordCodec+Cart.swift`).
///
/// ```
/// operation   := id:text appCount:uvarint application{appCount}   ; ids strictly ascending by bytes
/// application := dot timestampMs:uvarint flags:u8 sku:text? change?  ; strictly ascending by dot
/// change      := start:uvarint sign:u8 lower:uvarint upper:uvarint
///                ; flags bit 0: a SKU follows; bit 1: a change follows (only with bit 0)
/// ```
extension RecordCodec {
    static func encodeOperations(_ log: OperationLog, table: [ReplicaID: UInt64], into writer: inout ByteWriter,
                                 limits: VersioningLimits) throws(RecordCodecError) {
        writer.count(log.entries.count)
        for (id, applications) in log.entries.sorted(by: { $0.key < $1.key }) {
            try require(!applications.isEmpty, "at least one application per operation")
            try require(!id.text.isEmpty && id.text.bytes.count <= limits.operationIDBytesMax,
                        "operation ids of 1...\(limits.operationIDBytesMax) bytes")
            writer.lengthPrefixed(id.text.bytes)
            writer.count(applications.entries.count)
            for (dot, a) in applications.sortedEntries {
                try encodeDot(dot, table: table, into: &writer, limits: limits)
                writer.uvarint(a.timestampMs)
                try require(a.change == nil || a.sku != nil, "a change only with a SKU")
                writer.u8((a.sku == nil ? 0 : 1) | (a.change == nil ? 0 : 2))
                if let sku = a.sku {
                    try require(!sku.isEmpty && sku.bytes.count <= limits.skuBytesMax, "SKU of 1...\(limits.skuBytesMax) bytes")
                    writer.lengthPrefixed(sku.bytes)
                }
                if let change = a.change {
                    try require(change.start >= 1 && change.start <= dot.counter && change.interval.lower < change.interval.upper
                                    && change.interval.upper <= ActorCounter.unitsMax,
                                "a change of a series begun at or before its application, a non-empty interval of at most 2^62")
                    writer.uvarint(change.start)
                    writer.u8(change.interval.isMinus ? 1 : 0)
                    writer.uvarint(change.interval.lower)
                    writer.uvarint(change.interval.upper)
                }
            }
        }
    }

    static func decodeOperations(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                 limits: VersioningLimits) throws(RecordCodecError) -> OperationLog {
        // Merges are never capped, so the count is bounded only by the bytes present. An
        // operation takes at least 6 bytes: an id (2), a count, a dot (2) and a timestamp.
        let count = try reader.count("operation count", max: Int.max, minimumElementBytes: 6)
        var log = OperationLog()
        var previousID: UTF8Text?
        for _ in 0..<count {
            let offset = reader.offset
            let idText = try reader.text("operation id", maxBytes: limits.operationIDBytesMax)
            try checkAscendingKey(idText, after: &previousID, "operation id", offset: offset)
            // An application takes at least 4 bytes: a dot (2), a timestamp and flags.
            let appCount = try reader.count("application count", max: Int.max, minimumElementBytes: 4)
            guard appCount >= 1 else { throw reader.error(.invalidValue, "at least one application") }
            var applications = DotMap<OperationLog.Application>()
            var previous: Dot?
            for _ in 0..<appCount {
                let at = reader.offset
                let dot = try decodeDot(&reader, table: table, limits: limits)
                guard context.contains(dot) else {
                    throw RecordCodecError(.invalidValue, offset: at, expected: "application dot \(dot) inside the causal context")
                }
                if let previous, !(previous < dot) {
                    throw RecordCodecError(.nonCanonical, offset: at, expected: "applications strictly ascending by dot")
                }
                previous = dot
                let timestampMs = try reader.uvarint("application timestampMs")
                let flagsOffset = reader.offset
                let flags = try reader.u8("application flags")
                guard flags & ~3 == 0, flags & 2 == 0 || flags & 1 != 0 else {
                    throw RecordCodecError(.invalidValue, offset: flagsOffset, expected: "application flags with bits 0 and 1 only, bit 1 only with bit 0")
                }
                var application = OperationLog.Application(sku: nil, change: nil, timestampMs: timestampMs)
                if flags & 1 != 0 {
                    let skuOffset = reader.offset
                    let sku = try reader.text("application SKU", maxBytes: limits.skuBytesMax)
                    if sku.isEmpty { throw RecordCodecError(.invalidValue, offset: skuOffset, expected: "a non-empty SKU") }
                    application.sku = sku
                }
                if flags & 2 != 0 {
                    // A series begins at or before each of its changes (so a twin link settling
                    // derives from this application names a series inside the causal context).
                    let start = try reader.uvarint("change series start", in: 1...dot.counter)
                    let signOffset = reader.offset
                    let sign = try reader.u8("change sign")
                    guard sign <= 1 else { throw RecordCodecError(.invalidValue, offset: signOffset, expected: "change sign 0 (added) or 1 (taken)") }
                    let interval = ActorCounter.Cancellation(isMinus: sign == 1,
                                                             lower: try reader.uvarint("change lower", in: 0...ActorCounter.unitsMax),
                                                             upper: try reader.uvarint("change upper", in: 0...ActorCounter.unitsMax))
                    guard interval.lower < interval.upper else {
                        throw RecordCodecError(.invalidValue, offset: signOffset, expected: "a change interval lower < upper")
                    }
                    application.change = (start, interval)
                }
                applications.entries[dot] = application
            }
            log.entries[OperationID(idText)] = applications
        }
        return log
    }
}
