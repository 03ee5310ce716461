/// Kind 1: a `SiblingSet`.
///
/// ```
/// siblings := entryCount:uvarint entry{entryCount}          ; strictly ascending by replica
/// entry    := node:uvarint epoch:uvarint counter:uvarint valueCount:uvarint sibling{valueCount}
///                                                            ; 1 <= counter, valueCount <= counter,
///                                                            ; values newest first
/// sibling  := flags:u8 timestampMs:uvarint valueLength:uvarint valueBytes
///                                                            ; flags bit 0 = deletion (then length 0)
/// ```
extension RecordCodec {
    static func encodeSiblings(_ set: SiblingSet, into writer: inout ByteWriter,
                               limits: VersioningLimits) throws(RecordCodecError) {
        writer.count(set.entries.count)
        for entry in set.entries {
            try require(entry.counter >= 1 && entry.counter <= limits.counterMax, "counter in 1...\(limits.counterMax)")
            writer.uvarint(entry.replica.node)
            writer.uvarint(UInt64(entry.replica.epoch))
            writer.uvarint(entry.counter)
            writer.count(entry.values.count)
            for sibling in entry.values {
                writer.u8(sibling.isDeletion ? RecordFormat.siblingFlagDeletion : 0)
                writer.uvarint(sibling.timestampMs)
                writer.lengthPrefixed(sibling.isDeletion ? [] : sibling.value)
            }
        }
    }

    static func decodeSiblings(_ reader: inout ByteReader,
                               limits: VersioningLimits) throws(RecordCodecError) -> SiblingSet {
        // An entry takes at least 4 bytes: node, epoch, counter, value count.
        // Merges are never capped, so counts are bounded only by the bytes present.
        let entryCount = try reader.count("clock entry count", max: Int.max, minimumElementBytes: 4)
        var entries: [SiblingSet.Entry] = []
        for _ in 0..<entryCount {
            let start = reader.offset
            let node = try reader.uvarint("replica node id")
            let epoch = try reader.uvarint("replica epoch", in: 0...UInt64(UInt32.max))
            let replica = ReplicaID(node: node, epoch: UInt32(epoch))
            if let previous = entries.last, !(previous.replica < replica) {
                throw RecordCodecError(.nonCanonical, offset: start, expected: "clock entries strictly ascending by replica")
            }
            let counter = try reader.uvarint("entry counter", in: 1...limits.counterMax)
            let countOffset = reader.offset
            let valueCount = try reader.count("sibling count", max: Int.max, minimumElementBytes: 3)
            guard UInt64(valueCount) <= counter else {
                throw RecordCodecError(.invalidValue, offset: countOffset, expected: "at most \(counter) values (the entry counter)")
            }
            var values: [Sibling] = []
            for _ in 0..<valueCount {
                values.append(try decodeSibling(&reader, limits: limits))
            }
            entries.append(SiblingSet.Entry(replica: replica, counter: counter, values: values))
        }
        return SiblingSet(validatedEntries: entries)
    }

    private static func decodeSibling(_ reader: inout ByteReader,
                                      limits: VersioningLimits) throws(RecordCodecError) -> Sibling {
        let flagsOffset = reader.offset
        let flags = try reader.u8("sibling flags")
        guard flags & ~RecordFormat.siblingFlagsKnown == 0 else {
            throw RecordCodecError(.invalidValue, offset: flagsOffset, expected: "sibling flags with only bit 0 defined, got \(flags)")
        }
        let timestampMs = try reader.uvarint("sibling timestampMs")
        let valueOffset = reader.offset
        let value = try reader.lengthPrefixed("sibling value", maxBytes: limits.recordBytesMax)
        if flags & RecordFormat.siblingFlagDeletion != 0 {
            guard value.isEmpty else {
                throw RecordCodecError(.invalidValue, offset: valueOffset, expected: "an empty value for a deletion")
            }
            return .deletion(timestampMs: timestampMs)
        }
        return Sibling(value: value, timestampMs: timestampMs)
    }
}
