/// Gossip's member records on the wire (data-format.md, "Gossip messages").
extension ClusterMessageCodec {
    /// Most member records in one gossip message.
    public static let gossipRecordsMax = 4_096

    /// `records := count:uvarint record*`, strictly ascending by node id, with
    /// `record := node:u64 generation:u64 version:u64 status:u8 address:string (≤ 256 bytes)`.
    static func encodeMemberRecords(_ records: [MemberRecord], into writer: inout WireWriter) throws(WireError) {
        try writer.count(records.count, "member record count", max: gossipRecordsMax)
        var previous: NodeID? = nil
        for record in records {
            if let previous, !(previous < record.node) {
                throw WireError(.invalidValue, offset: 0, expected: "member records strictly ascending by node id")
            }
            writer.u64(record.node.value)
            writer.u64(record.generation)
            writer.u64(record.version)
            writer.u8(record.status.rawValue)
            try writer.string(record.address, "member address", maxBytes: MemberRecord.addressBytesMax)
            previous = record.node
        }
    }

    static func decodeMemberRecords(_ reader: inout WireReader) throws(WireError) -> [MemberRecord] {
        // Each record takes at least 26 bytes (three u64, the status, the address length).
        let count = try reader.count("member record count", max: gossipRecordsMax, minimumElementBytes: 26)
        var records: [MemberRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let start = reader.offset
            let node = NodeID(try reader.u64("member node id"))
            if let previous = records.last, !(previous.node < node) {
                throw WireError(.invalidValue, offset: start, expected: "member records strictly ascending by node id")
            }
            let generation = try reader.u64("member generation")
            let version = try reader.u64("member version")
            let status = try readTag(MemberStatus.self, "member status", from: &reader)
            let address = try reader.string("member address", maxBytes: MemberRecord.addressBytesMax)
            records.append(MemberRecord(node: node, address: address, generation: generation, version: version, status: status))
        }
        return records
    }
}
