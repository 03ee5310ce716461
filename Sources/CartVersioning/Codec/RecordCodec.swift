/// Encodes and decodes stored records and context tokens (data-format.md ("Record codec"), "Record codec").
///
/// Decoding accepts only the canonical encoding of a valid value: every value has exactly one
/// encoding, so `encode(decode(bytes)) == bytes` whenever decoding succeeds (replicas holding
/// equal values hold equal bytes, which anti-entropy hashes rely on). Decoding never traps:
/// truncated, oversized or malformed input is a `RecordCodecError` with offset and expectation.
/// Encoding refuses, with the same error type, anything the decoder would refuse.
///
/// Thread safety: stateless; call from anywhere.
public enum RecordCodec {
    /// Encodes a record.
    public static func encode(_ record: StoredRecord,
                              limits: VersioningLimits = .default) throws(RecordCodecError) -> [UInt8] {
        var writer = ByteWriter()
        switch record {
        case let .siblings(set):
            writeHeader(.siblings, into: &writer)
            try encodeSiblings(set, into: &writer, limits: limits)
        case let .cart(cart):
            writeHeader(.cart, into: &writer)
            try encodeCart(cart, into: &writer, limits: limits)
        }
        return try checkedSize(writer.bytes, limits: limits)
    }

    /// Decodes a record.
    public static func decode(_ bytes: [UInt8],
                              limits: VersioningLimits = .default) throws(RecordCodecError) -> StoredRecord {
        var reader = try headerCheckedReader(bytes, limits: limits)
        let record: StoredRecord
        switch try readKind(&reader, version: bytes[0]) {
        case .siblings:
            record = .siblings(try decodeSiblings(&reader, limits: limits))
        case .cart:
            record = .cart(try decodeCart(&reader, limits: limits))
        case .causalContext:
            throw RecordCodecError(.unexpectedKind, offset: 1, expected: "a stored record (kind 1 or 2), not a context token")
        }
        try finish(reader)
        return record
    }

    /// Encodes a causal context on its own (kind 3), the bytes behind a context token.
    public static func encode(_ context: CausalContext,
                              limits: VersioningLimits = .default) throws(RecordCodecError) -> [UInt8] {
        var writer = ByteWriter()
        writeHeader(.causalContext, into: &writer)
        let table = try encodeReplicaTable(context.replicas, into: &writer, limits: limits)
        try encodeContext(context, table: table, into: &writer, limits: limits)
        return try checkedSize(writer.bytes, limits: limits)
    }

    /// Decodes a causal context encoded on its own (kind 3).
    public static func decodeContext(_ bytes: [UInt8],
                                     limits: VersioningLimits = .default) throws(RecordCodecError) -> CausalContext {
        var reader = try headerCheckedReader(bytes, limits: limits)
        let kind = try readKind(&reader, version: bytes[0])
        guard kind == .causalContext else {
            throw RecordCodecError(.unexpectedKind, offset: 1, expected: "context token kind 3, got \(kind.rawValue)")
        }
        let table = try decodeReplicaTable(&reader, limits: limits)
        var used = [Bool](repeating: false, count: table.count)
        let context = try decodeContext(&reader, table: table, used: &used, limits: limits)
        try checkAllUsed(used, reader: reader)
        try finish(reader)
        return context
    }

    // MARK: Shared pieces

    /// Checks the total size and the version byte; returns a reader positioned at the kind byte.
    private static func headerCheckedReader(_ bytes: [UInt8],
                                            limits: VersioningLimits) throws(RecordCodecError) -> ByteReader {
        guard bytes.count <= limits.recordBytesMax else {
            throw RecordCodecError(.limitExceeded, offset: 0, expected: "a record of at most \(limits.recordBytesMax) bytes, got \(bytes.count)")
        }
        var reader = ByteReader(bytes)
        let rawVersion = try reader.u8("format version")
        guard RecordFormat.Version(rawValue: rawVersion) != nil else {
            throw RecordCodecError(.unsupportedVersion, offset: 0, expected: "format version 1 or 2, got \(rawVersion)")
        }
        return reader
    }

    /// `version:u8 kind:u8`, the version the kind is written at.
    private static func writeHeader(_ kind: RecordFormat.Kind, into writer: inout ByteWriter) {
        writer.u8(RecordFormat.version(of: kind).rawValue)
        writer.u8(kind.rawValue)
    }

    /// Reads the kind byte and checks that `version` is the one the kind is written at.
    private static func readKind(_ reader: inout ByteReader, version: UInt8) throws(RecordCodecError) -> RecordFormat.Kind {
        let kindOffset = reader.offset
        let rawKind = try reader.u8("record kind")
        guard let kind = RecordFormat.Kind(rawValue: rawKind) else {
            throw RecordCodecError(.unknownKind, offset: kindOffset, expected: "record kind 1, 2 or 3, got \(rawKind)")
        }
        let expected = RecordFormat.version(of: kind)
        guard version == expected.rawValue else {
            if kind == .cart, version < expected.rawValue {
                throw RecordCodecError(.unsupportedVersion, offset: 0,
                                       expected: "a cart record of format version 2 (version 1 carts, with folded quantities, are no longer read; their quantities cannot be made exact)")
            }
            throw RecordCodecError(.unsupportedVersion, offset: 0,
                                   expected: "kind \(rawKind) at format version \(expected.rawValue), got \(version)")
        }
        return kind
    }

    private static func finish(_ reader: ByteReader) throws(RecordCodecError) {
        guard reader.remaining == 0 else {
            throw reader.error(.trailingBytes, "end of record, \(reader.remaining) bytes left")
        }
    }

    private static func checkedSize(_ bytes: [UInt8], limits: VersioningLimits) throws(RecordCodecError) -> [UInt8] {
        guard bytes.count <= limits.recordBytesMax else {
            throw RecordCodecError(.limitExceeded, offset: 0, expected: "a record of at most \(limits.recordBytesMax) bytes, would be \(bytes.count)")
        }
        return bytes
    }

    /// An encoding-side limit check.
    static func require(_ condition: Bool, _ expected: @autoclosure () -> String) throws(RecordCodecError) {
        guard condition else { throw RecordCodecError(.limitExceeded, offset: 0, expected: expected()) }
    }

    /// `replica := node:uvarint epoch:uvarint`, table strictly ascending. Returns replica → index.
    static func encodeReplicaTable(_ replicas: [ReplicaID], into writer: inout ByteWriter,
                                   limits: VersioningLimits) throws(RecordCodecError) -> [ReplicaID: UInt64] {
        writer.count(replicas.count)
        var table: [ReplicaID: UInt64] = [:]
        for (index, replica) in replicas.enumerated() {
            writer.uvarint(replica.node)
            writer.uvarint(UInt64(replica.epoch))
            table[replica] = UInt64(index)
        }
        return table
    }

    static func decodeReplicaTable(_ reader: inout ByteReader,
                                   limits: VersioningLimits) throws(RecordCodecError) -> [ReplicaID] {
        // Merges are never capped, so the count is bounded only by the bytes present.
        let count = try reader.count("replica count", max: Int.max, minimumElementBytes: 2)
        var table: [ReplicaID] = []
        for _ in 0..<count {
            let start = reader.offset
            let node = try reader.uvarint("replica node id")
            let epoch = try reader.uvarint("replica epoch", in: 0...UInt64(UInt32.max))
            let replica = ReplicaID(node: node, epoch: UInt32(epoch))
            if let previous = table.last, !(previous < replica) {
                throw RecordCodecError(.nonCanonical, offset: start, expected: "replicas strictly ascending by (node, epoch)")
            }
            table.append(replica)
        }
        return table
    }

    /// `dot := replicaIndex:uvarint counter:uvarint`.
    static func encodeDot(_ dot: Dot, table: [ReplicaID: UInt64], into writer: inout ByteWriter,
                          limits: VersioningLimits) throws(RecordCodecError) {
        guard let index = table[dot.replica] else {
            throw RecordCodecError(.invalidValue, offset: 0, expected: "dot \(dot) inside the causal context")
        }
        try require(dot.counter >= 1 && dot.counter <= limits.counterMax, "counter in 1...\(limits.counterMax)")
        writer.uvarint(index)
        writer.uvarint(dot.counter)
    }

    static func decodeDot(_ reader: inout ByteReader, table: [ReplicaID],
                          limits: VersioningLimits) throws(RecordCodecError) -> Dot {
        let index = try reader.uvarint("replica index", in: 0...UInt64(max(0, table.count - 1)))
        guard !table.isEmpty else { throw reader.error(.invalidValue, "a replica table entry for the dot") }
        let counter = try reader.uvarint("dot counter", in: 1...limits.counterMax)
        return Dot(replica: table[Int(index)], counter: counter)
    }

    static func checkAllUsed(_ used: [Bool], reader: ByteReader) throws(RecordCodecError) {
        if let unused = used.firstIndex(of: false) {
            throw reader.error(.nonCanonical, "replica table entry \(unused) to be referenced")
        }
    }
}
