import CartVersioning

/// Encodes and decodes the internode messages (`ClusterMessage`) for the peer transport
/// (data-format.md, "Internode messages (CartCluster)").
///
/// `message := version:u8 tag:u8 body`; fixed-width integers are big-endian, lengths and counts
/// minimal LEB128, optional fields a presence byte (0 or 1) then the value. Records and causal
/// contexts are the record codec's bytes (`RecordCodec`), length-prefixed.
///
/// Invariants: decoding accepts only what the encoder writes, so whenever `decode(b)` succeeds,
/// `encode(decode(b)) == b`, and `decode(encode(m)) == m` for every message that encodes.
/// Decoding never traps: truncated, oversized or malformed input is a `WireError` with the
/// offset and what was expected. Encoding refuses (with a `WireError` at offset 0) what the
/// decoder would refuse: a record or context the record codec refuses, a key, string or count
/// beyond the limits below, a negative R, W or ack count, a dot with counter 0, a tree
/// partition, level or index out of range, tree indices not strictly ascending, and (having no
/// encoding) a `treeHashes` whose hashes and indices differ in number.
///
/// Thread safety: stateless; call from anywhere.
public enum ClusterMessageCodec {
    /// The message format version, the first byte of every message. Never renumber.
    public static let version: UInt8 = 1

    // MARK: Limits (each checked on encoding and on decoding)

    /// Longest key, in bytes (a stored key adds 9 bytes of namespace and token).
    public static let keyBytesMax = ReplicaStore.keyBytesMax
    /// Longest record, causal context, version vector or put value, in bytes: the record
    /// codec's own bound (the storage engine's value limit, 64 MiB).
    public static let blobBytesMax = VersioningLimits.default.recordBytesMax
    /// Longest string (SKU, name, metadata key or value, operation id, error text), in bytes.
    public static let stringBytesMax = 64 << 10
    /// Most metadata pairs in one cart operation's details.
    public static let metadataPairsMax = 1_024
    /// Bound on an anti-entropy message's partition (`treeHashes`, `treeKeys`): the partition
    /// must be less than this (a ring has at most 2^16 partitions).
    public static let treePartitionMax = 1 << 16
    /// Deepest Merkle tree level in a `treeHashes` (0 is a partition's root): the level must be
    /// at most this.
    public static let treeLevelMax = 8
    /// Most tree node indices in one `treeHashes` (`indices`), `treeHashesReply` (`differing`)
    /// or `treeKeys` (`leaves`).
    public static let treeIndicesMax = 4_096
    /// Bound on a tree node or leaf index within its level and partition: every index must be
    /// less than this (2^24).
    public static let treeIndexMax = 1 << 24
    /// Most key digests in one `treeKeys`.
    public static let treeDigestsMax = 16_384
    /// Most keys in one `treeKeysReply`.
    public static let treeWantedMax = 16_384

    // MARK: Messages

    /// Encodes a message.
    /// - Throws: `WireError` if a record or context does not encode (`invalidRecord`, with the
    ///   record codec's error as `cause`) or a field breaks a wire limit.
    public static func encode(_ message: ClusterMessage) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        writer.u8(version)
        switch message {
        case let .read(id, key):
            writer.u8(MessageTag.read.rawValue)
            writer.u64(id)
            try encodeKey(key, into: &writer)
        case let .readReply(id, record, ok):
            writer.u8(MessageTag.readReply.rawValue)
            writer.u64(id)
            if let record {
                writer.bool(true)
                try encodeRecord(record, into: &writer)
            } else {
                writer.bool(false)
            }
            writer.bool(ok)
        case let .write(id, key, record, hintFor):
            writer.u8(MessageTag.write.rawValue)
            writer.u64(id)
            try encodeKey(key, into: &writer)
            try encodeRecord(record, into: &writer)
            if let hintFor {
                writer.bool(true)
                writer.u64(hintFor.value)
            } else {
                writer.bool(false)
            }
        case let .writeReply(id, ok):
            writer.u8(MessageTag.writeReply.rawValue)
            writer.u64(id)
            writer.bool(ok)
        case let .forward(id, request):
            writer.u8(MessageTag.forward.rawValue)
            writer.u64(id)
            try encodeRequest(request, into: &writer)
        case let .forwardAccepted(id):
            writer.u8(MessageTag.forwardAccepted.rawValue)
            writer.u64(id)
        case let .forwardReply(id, reply):
            writer.u8(MessageTag.forwardReply.rawValue)
            writer.u64(id)
            try encodeReply(reply, into: &writer)
        case let .repair(key, record):
            writer.u8(MessageTag.repair.rawValue)
            try encodeKey(key, into: &writer)
            try encodeRecord(record, into: &writer)
        case let .treeHashes(id, partition, level, indices, hashes):
            writer.u8(MessageTag.treeHashes.rawValue)
            writer.u64(id)
            try encodeTreePartition(partition, into: &writer)
            try writer.count(level, "tree level", max: treeLevelMax)
            guard hashes.count == indices.count else {
                throw WireError(.invalidValue, offset: 0,
                                expected: "one hash per tree index, got \(hashes.count) hashes for \(indices.count) indices")
            }
            try writer.count(indices.count, "tree hash count", max: treeIndicesMax)
            var previous: Int? = nil
            for (index, hash) in zip(indices, hashes) {
                try encodeTreeIndex(index, "tree index", after: previous, into: &writer)
                writer.u64(hash)
                previous = index
            }
        case let .treeHashesReply(id, ready, differing):
            writer.u8(MessageTag.treeHashesReply.rawValue)
            writer.u64(id)
            writer.bool(ready)
            try encodeTreeIndices(differing, "differing tree index", into: &writer)
        case let .treeKeys(id, partition, leaves, digests):
            writer.u8(MessageTag.treeKeys.rawValue)
            writer.u64(id)
            try encodeTreePartition(partition, into: &writer)
            try encodeTreeIndices(leaves, "tree leaf index", into: &writer)
            try writer.count(digests.count, "key digest count", max: treeDigestsMax)
            for digest in digests {
                try encodeKey(digest.key, into: &writer)
                writer.u64(digest.hash)
            }
        case let .treeKeysReply(id, wanted):
            writer.u8(MessageTag.treeKeysReply.rawValue)
            writer.u64(id)
            try writer.count(wanted.count, "wanted key count", max: treeWantedMax)
            for key in wanted {
                try encodeKey(key, into: &writer)
            }
        case let .checkoutPrepare(id, checkout, ballot):
            writer.u8(MessageTag.checkoutPrepare.rawValue)
            writer.u64(id)
            try encodeCheckoutID(checkout, into: &writer)
            encodeBallot(ballot, into: &writer)
        case let .checkoutAccept(id, ballot, order):
            writer.u8(MessageTag.checkoutAccept.rawValue)
            writer.u64(id)
            encodeBallot(ballot, into: &writer)
            try encodeOrder(order, into: &writer)
        case let .checkoutVote(id, vote):
            writer.u8(MessageTag.checkoutVote.rawValue)
            writer.u64(id)
            try encodeVote(vote, into: &writer)
        case let .checkoutCommit(id, order):
            writer.u8(MessageTag.checkoutCommit.rawValue)
            writer.u64(id)
            try encodeOrder(order, into: &writer)
        case let .checkoutCommitted(id, ok):
            writer.u8(MessageTag.checkoutCommitted.rawValue)
            writer.u64(id)
            writer.bool(ok)
        case let .orderRead(id, checkout):
            writer.u8(MessageTag.orderRead.rawValue)
            writer.u64(id)
            try encodeCheckoutID(checkout, into: &writer)
        case let .gossip(records):
            writer.u8(MessageTag.gossip.rawValue)
            try encodeMemberRecords(records, into: &writer)
        case let .gossipReply(records):
            writer.u8(MessageTag.gossipReply.rawValue)
            try encodeMemberRecords(records, into: &writer)
        case let .orderReadReply(id, ok, order):
            writer.u8(MessageTag.orderReadReply.rawValue)
            writer.u64(id)
            writer.bool(ok)
            try encodeOptionalOrder(order, into: &writer)
        }
        return writer.bytes
    }

    /// Decodes a message: exactly `bytes`, no more (trailing bytes are refused).
    /// - Throws: `WireError` with the offset and what was expected there.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> ClusterMessage {
        var reader = WireReader(bytes)
        let rawVersion = try reader.u8("message format version")
        guard rawVersion == version else {
            throw WireError(.unsupportedVersion, offset: 0, expected: "message format version \(version), got \(rawVersion)")
        }
        let message: ClusterMessage
        switch try readTag(MessageTag.self, "message tag", from: &reader) {
        case .read:
            let id = try reader.u64("request id")
            let key = try decodeKey(&reader)
            message = .read(id: id, key: key)
        case .readReply:
            let id = try reader.u64("request id")
            let record: StoredRecord? = try reader.present("record") ? try decodeRecord(&reader) : nil
            let ok = try reader.bool("ok")
            message = .readReply(id: id, record: record, ok: ok)
        case .write:
            let id = try reader.u64("request id")
            let key = try decodeKey(&reader)
            let record = try decodeRecord(&reader)
            let hintFor: NodeID? = try reader.present("hint target") ? NodeID(try reader.u64("hint target node id")) : nil
            message = .write(id: id, key: key, record: record, hintFor: hintFor)
        case .writeReply:
            let id = try reader.u64("request id")
            let ok = try reader.bool("ok")
            message = .writeReply(id: id, ok: ok)
        case .forward:
            let id = try reader.u64("request id")
            let request = try decodeRequest(&reader)
            message = .forward(id: id, request: request)
        case .forwardAccepted:
            message = .forwardAccepted(id: try reader.u64("request id"))
        case .forwardReply:
            let id = try reader.u64("request id")
            let reply = try decodeReply(&reader)
            message = .forwardReply(id: id, reply: reply)
        case .repair:
            let key = try decodeKey(&reader)
            let record = try decodeRecord(&reader)
            message = .repair(key: key, record: record)
        case .treeHashes:
            let id = try reader.u64("request id")
            let partition = try decodeTreePartition(&reader)
            let level = try reader.countValue("tree level", max: treeLevelMax)
            // Each pair takes at least a one-byte index and an 8-byte hash.
            let count = try reader.count("tree hash count", max: treeIndicesMax, minimumElementBytes: 9)
            var indices: [Int] = []
            var hashes: [UInt64] = []
            indices.reserveCapacity(count)
            hashes.reserveCapacity(count)
            for _ in 0..<count {
                let index = try decodeTreeIndex("tree index", after: indices.last, from: &reader)
                let hash = try reader.u64("tree hash")
                indices.append(index)
                hashes.append(hash)
            }
            message = .treeHashes(id: id, partition: partition, level: level, indices: indices, hashes: hashes)
        case .treeHashesReply:
            let id = try reader.u64("request id")
            let ready = try reader.bool("ready")
            let differing = try decodeTreeIndices("differing tree index", from: &reader)
            message = .treeHashesReply(id: id, ready: ready, differing: differing)
        case .treeKeys:
            let id = try reader.u64("request id")
            let partition = try decodeTreePartition(&reader)
            let leaves = try decodeTreeIndices("tree leaf index", from: &reader)
            // Each digest takes at least a one-byte key length and an 8-byte hash.
            let count = try reader.count("key digest count", max: treeDigestsMax, minimumElementBytes: 9)
            var digests: [KeyDigest] = []
            digests.reserveCapacity(count)
            for _ in 0..<count {
                let key = try decodeKey(&reader)
                let hash = try reader.u64("key hash")
                digests.append(KeyDigest(key: key, hash: hash))
            }
            message = .treeKeys(id: id, partition: partition, leaves: leaves, digests: digests)
        case .treeKeysReply:
            let id = try reader.u64("request id")
            // Each key takes at least its length byte.
            let count = try reader.count("wanted key count", max: treeWantedMax)
            var wanted: [[UInt8]] = []
            wanted.reserveCapacity(count)
            for _ in 0..<count {
                let key = try decodeKey(&reader)
                wanted.append(key)
            }
            message = .treeKeysReply(id: id, wanted: wanted)
        case .checkoutPrepare:
            let id = try reader.u64("request id")
            let checkout = try decodeCheckoutID(&reader)
            message = .checkoutPrepare(id: id, checkout: checkout, ballot: try decodeBallot(&reader))
        case .checkoutAccept:
            let id = try reader.u64("request id")
            let ballot = try decodeBallot(&reader)
            message = .checkoutAccept(id: id, ballot: ballot, order: try decodeOrder(&reader))
        case .checkoutVote:
            let id = try reader.u64("request id")
            message = .checkoutVote(id: id, vote: try decodeVote(&reader))
        case .checkoutCommit:
            let id = try reader.u64("request id")
            message = .checkoutCommit(id: id, order: try decodeOrder(&reader))
        case .checkoutCommitted:
            let id = try reader.u64("request id")
            message = .checkoutCommitted(id: id, ok: try reader.bool("ok"))
        case .orderRead:
            let id = try reader.u64("request id")
            message = .orderRead(id: id, checkout: try decodeCheckoutID(&reader))
        case .gossip:
            message = .gossip(records: try decodeMemberRecords(&reader))
        case .gossipReply:
            message = .gossipReply(records: try decodeMemberRecords(&reader))
        case .orderReadReply:
            let id = try reader.u64("request id")
            let ok = try reader.bool("ok")
            message = .orderReadReply(id: id, ok: ok, order: try decodeOptionalOrder(&reader, presence: "presence of order"))
        }
        try reader.finish()
        return message
    }
}

// MARK: - Tags

extension ClusterMessageCodec {
    // Every tag below is written on the wire: never renumber, never reuse a retired number
    // (data-format.md lists them all).

    /// `ClusterMessage` cases.
    enum MessageTag: UInt8, CaseIterable {
        case read = 1, readReply = 2, write = 3, writeReply = 4, forward = 5, forwardAccepted = 6,
             forwardReply = 7, repair = 8, treeHashes = 9, treeHashesReply = 10, treeKeys = 11,
             treeKeysReply = 12, checkoutPrepare = 13, checkoutAccept = 14, checkoutVote = 15,
             checkoutCommit = 16, checkoutCommitted = 17, orderRead = 18, orderReadReply = 19,
             gossip = 20, gossipReply = 21
    }

    /// `ClientRequest.Operation` cases.
    enum OperationTag: UInt8, CaseIterable {
        case get = 1, put = 2, delete = 3, cart = 4, checkout = 5, readOrder = 6
    }

    /// `CartOperation` cases.
    enum CartOperationTag: UInt8, CaseIterable {
        case add = 1, changeQuantity = 2, setQuantity = 3, updateDetails = 4, remove = 5, clear = 6
    }

    /// `ClientReply` cases.
    enum ReplyTag: UInt8, CaseIterable {
        case found = 1, notFound = 2, written = 3, rejected = 4, unavailable = 5, storageFailed = 6,
             checkedOut = 7, order = 8
    }

    /// `RequestRejection` cases.
    enum RejectionTag: UInt8, CaseIterable {
        case invalidQuorum = 1, invalidTimeout = 2, invalidKey = 3, wrongKind = 4, cart = 5, siblings = 6,
             emptyCart = 7, checkoutContended = 8, checkoutIDInUse = 9
    }

    /// `QuorumParameters.Invalid` cases.
    enum QuorumInvalidTag: UInt8, CaseIterable {
        case n = 1, r = 2, w = 3
    }

    /// `CartOperationError` cases.
    enum CartErrorTag: UInt8, CaseIterable {
        case invalidSKU = 1, invalidQuantity = 2, invalidDetails = 3, itemNotFound = 4, cartFull = 5,
             cartTooLarge = 6, invalidOperationID = 7, staleContext = 8, missingOwnWrites = 9,
             observedContextNotCovered = 10, tooManyReplicas = 11, counterExhausted = 12,
             tooManyRecentOperations = 13
    }

    /// `SiblingWriteError` cases.
    enum SiblingErrorTag: UInt8, CaseIterable {
        case contextNotCovered = 1, missingOwnWrites = 2, counterExhausted = 3, tooManyReplicas = 4,
             valueTooLarge = 5
    }

    /// `QuorumError` cases.
    enum QuorumErrorTag: UInt8, CaseIterable {
        case unreachable = 1, timedOut = 2
    }

    /// A tag byte of `T`; an unknown value is `unknownTag` at the tag's offset.
    static func readTag<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ what: String,
                                                            from reader: inout WireReader) throws(WireError) -> T
        where T.RawValue == UInt8 {
        let start = reader.offset
        let raw = try reader.u8(what)
        guard let tag = T(rawValue: raw) else {
            let known = T.allCases.map { String($0.rawValue) }.joined(separator: ", ")
            throw WireError(.unknownTag, offset: start, expected: "\(what) in {\(known)}, got \(raw)")
        }
        return tag
    }
}

// MARK: - Keys, records, contexts

extension ClusterMessageCodec {
    /// `key := length:uvarint (0…keyBytesMax) bytes`.
    static func encodeKey(_ key: [UInt8], into writer: inout WireWriter) throws(WireError) {
        try writer.lengthPrefixed(key, "key", maxBytes: keyBytesMax)
    }

    static func decodeKey(_ reader: inout WireReader) throws(WireError) -> [UInt8] {
        try reader.lengthPrefixed("key", maxBytes: keyBytesMax)
    }

    /// `record := length:uvarint (0…blobBytesMax) RecordCodec.encode(record)`.
    static func encodeRecord(_ record: StoredRecord, into writer: inout WireWriter) throws(WireError) {
        let encoded: [UInt8]
        do throws(RecordCodecError) {
            encoded = try RecordCodec.encode(record)
        } catch {
            throw WireError(.invalidRecord, offset: 0, expected: "a record the record codec encodes", cause: error)
        }
        try writer.lengthPrefixed(encoded, "record", maxBytes: blobBytesMax)
    }

    static func decodeRecord(_ reader: inout WireReader) throws(WireError) -> StoredRecord {
        let raw = try reader.lengthPrefixed("record", maxBytes: blobBytesMax)
        let start = reader.offset - raw.count
        do throws(RecordCodecError) {
            return try RecordCodec.decode(raw)
        } catch {
            throw WireError(.invalidRecord, offset: start + error.offset, expected: "a record: \(error.expected)",
                            cause: error)
        }
    }

    /// `context := length:uvarint (0…blobBytesMax) RecordCodec.encode(context)` (a context
    /// token's bytes, record kind 3).
    static func encodeContext(_ context: CausalContext, _ what: String,
                              into writer: inout WireWriter) throws(WireError) {
        let encoded: [UInt8]
        do throws(RecordCodecError) {
            encoded = try RecordCodec.encode(context)
        } catch {
            throw WireError(.invalidRecord, offset: 0, expected: "a \(what) the record codec encodes", cause: error)
        }
        try writer.lengthPrefixed(encoded, what, maxBytes: blobBytesMax)
    }

    static func decodeContext(_ what: String, from reader: inout WireReader) throws(WireError) -> CausalContext {
        let raw = try reader.lengthPrefixed(what, maxBytes: blobBytesMax)
        let start = reader.offset - raw.count
        do throws(RecordCodecError) {
            return try RecordCodec.decodeContext(raw)
        } catch {
            throw WireError(.invalidRecord, offset: start + error.offset, expected: "a \(what): \(error.expected)",
                            cause: error)
        }
    }

    /// A version vector travels as a causal context without a dot cloud.
    static func encodeVersionVector(_ vector: VersionVector, into writer: inout WireWriter) throws(WireError) {
        try encodeContext(CausalContext(versionVector: vector), "version vector", into: &writer)
    }

    static func decodeVersionVector(_ reader: inout WireReader) throws(WireError) -> VersionVector {
        let start = reader.offset
        let context = try decodeContext("version vector", from: &reader)
        guard context.dotCloud.isEmpty else {
            throw WireError(.nonCanonical, offset: start, expected: "a version vector (a context with an empty dot cloud)")
        }
        return context.versionVector
    }

    /// `replica := node:u64be epoch:u32be`.
    static func encodeReplica(_ replica: ReplicaID, into writer: inout WireWriter) {
        writer.u64(replica.node)
        writer.u32(replica.epoch)
    }

    static func decodeReplica(_ reader: inout WireReader) throws(WireError) -> ReplicaID {
        let node = try reader.u64("replica node id")
        let epoch = try reader.u32("replica epoch")
        return ReplicaID(node: node, epoch: epoch)
    }

    /// `dot := replica counter:uvarint (≥ 1)`.
    static func encodeDot(_ dot: Dot, into writer: inout WireWriter) throws(WireError) {
        guard dot.counter >= 1 else {
            throw WireError(.invalidValue, offset: 0, expected: "a dot counter >= 1, got \(dot)")
        }
        encodeReplica(dot.replica, into: &writer)
        writer.uvarint(dot.counter)
    }

    static func decodeDot(_ reader: inout WireReader) throws(WireError) -> Dot {
        let replica = try decodeReplica(&reader)
        let counter = try reader.uvarint("dot counter", in: 1...UInt64.max)
        return Dot(replica: replica, counter: counter)
    }
}

// MARK: - Anti-entropy trees

extension ClusterMessageCodec {
    /// `partition := uvarint (0 … treePartitionMax − 1)`.
    static func encodeTreePartition(_ partition: Int, into writer: inout WireWriter) throws(WireError) {
        try writer.count(partition, "tree partition", max: treePartitionMax - 1)
    }

    static func decodeTreePartition(_ reader: inout WireReader) throws(WireError) -> Int {
        try reader.countValue("tree partition", max: treePartitionMax - 1)
    }

    /// `indices := count:uvarint (0 … treeIndicesMax) index{count}`, strictly ascending.
    static func encodeTreeIndices(_ indices: [Int], _ what: String, into writer: inout WireWriter) throws(WireError) {
        try writer.count(indices.count, "\(what) count", max: treeIndicesMax)
        var previous: Int? = nil
        for index in indices {
            try encodeTreeIndex(index, what, after: previous, into: &writer)
            previous = index
        }
    }

    static func decodeTreeIndices(_ what: String, from reader: inout WireReader) throws(WireError) -> [Int] {
        // Each index takes at least one byte.
        let count = try reader.count("\(what) count", max: treeIndicesMax)
        var indices: [Int] = []
        indices.reserveCapacity(count)
        for _ in 0..<count {
            let index = try decodeTreeIndex(what, after: indices.last, from: &reader)
            indices.append(index)
        }
        return indices
    }

    /// `index := uvarint (0 … treeIndexMax − 1)`, greater than `previous` (the list's preceding
    /// index, if any), so that a list has one encoding.
    static func encodeTreeIndex(_ index: Int, _ what: String, after previous: Int?,
                                into writer: inout WireWriter) throws(WireError) {
        guard index >= 0 else {
            throw WireError(.invalidValue, offset: 0, expected: "\(what) >= 0, got \(index)")
        }
        guard index < treeIndexMax else {
            throw WireError(.limitExceeded, offset: 0, expected: "\(what) < \(treeIndexMax), got \(index)")
        }
        if let previous, index <= previous {
            throw WireError(.nonCanonical, offset: 0,
                            expected: "each \(what) greater than the one before (\(previous)), got \(index)")
        }
        writer.uvarint(UInt64(index))
    }

    static func decodeTreeIndex(_ what: String, after previous: Int?,
                                from reader: inout WireReader) throws(WireError) -> Int {
        let start = reader.offset
        let index = try reader.countValue(what, max: treeIndexMax - 1)
        if let previous, index <= previous {
            throw WireError(.nonCanonical, offset: start,
                            expected: "each \(what) greater than the one before (\(previous)), got \(index)")
        }
        return index
    }
}

// MARK: - Client requests

extension ClusterMessageCodec {
    /// `request := key operation r:(0|1 uvarint) w:(0|1 uvarint) timeoutMs:(0|1 u64be)`.
    static func encodeRequest(_ request: ClientRequest, into writer: inout WireWriter) throws(WireError) {
        try encodeKey(request.key, into: &writer)
        try encodeOperation(request.operation, into: &writer)
        if let r = request.r {
            writer.bool(true)
            try writer.count(r, "R")
        } else {
            writer.bool(false)
        }
        if let w = request.w {
            writer.bool(true)
            try writer.count(w, "W")
        } else {
            writer.bool(false)
        }
        if let timeoutMs = request.timeoutMs {
            writer.bool(true)
            writer.u64(timeoutMs)
        } else {
            writer.bool(false)
        }
    }

    static func decodeRequest(_ reader: inout WireReader) throws(WireError) -> ClientRequest {
        let key = try decodeKey(&reader)
        let operation = try decodeOperation(&reader)
        let r: Int? = try reader.present("R") ? try reader.countValue("R") : nil
        let w: Int? = try reader.present("W") ? try reader.countValue("W") : nil
        let timeoutMs: UInt64? = try reader.present("timeout") ? try reader.u64("timeout ms") : nil
        return ClientRequest(key: key, operation: operation, r: r, w: w, timeoutMs: timeoutMs)
    }

    static func encodeOperation(_ operation: ClientRequest.Operation, into writer: inout WireWriter) throws(WireError) {
        switch operation {
        case .get:
            writer.u8(OperationTag.get.rawValue)
        case let .put(value, context):
            writer.u8(OperationTag.put.rawValue)
            try writer.lengthPrefixed(value, "value", maxBytes: blobBytesMax)
            try encodeOptionalVersionVector(context, into: &writer)
        case let .delete(context):
            writer.u8(OperationTag.delete.rawValue)
            try encodeOptionalVersionVector(context, into: &writer)
        case let .cart(cartOperation, id, observed):
            writer.u8(OperationTag.cart.rawValue)
            try encodeCartOperation(cartOperation, into: &writer)
            try writer.lengthPrefixed(id.text.bytes, "operation id", maxBytes: stringBytesMax)
            if let observed {
                writer.bool(true)
                try encodeContext(observed, "observed context", into: &writer)
            } else {
                writer.bool(false)
            }
        case let .checkout(checkout):
            writer.u8(OperationTag.checkout.rawValue)
            try encodeCheckoutID(checkout, into: &writer)
        case let .readOrder(checkout):
            writer.u8(OperationTag.readOrder.rawValue)
            try encodeCheckoutID(checkout, into: &writer)
        }
    }

    static func decodeOperation(_ reader: inout WireReader) throws(WireError) -> ClientRequest.Operation {
        switch try readTag(OperationTag.self, "operation tag", from: &reader) {
        case .get:
            return .get
        case .put:
            let value = try reader.lengthPrefixed("value", maxBytes: blobBytesMax)
            let context = try decodeOptionalVersionVector(&reader)
            return .put(value: value, context: context)
        case .delete:
            return .delete(context: try decodeOptionalVersionVector(&reader))
        case .cart:
            let cartOperation = try decodeCartOperation(&reader)
            let id = OperationID(try reader.string("operation id", maxBytes: stringBytesMax))
            let observed: CausalContext? = try reader.present("observed context")
                ? try decodeContext("observed context", from: &reader) : nil
            return .cart(cartOperation, id: id, observed: observed)
        case .checkout:
            return .checkout(try decodeCheckoutID(&reader))
        case .readOrder:
            return .readOrder(try decodeCheckoutID(&reader))
        }
    }

    static func encodeOptionalVersionVector(_ vector: VersionVector?, into writer: inout WireWriter) throws(WireError) {
        if let vector {
            writer.bool(true)
            try encodeVersionVector(vector, into: &writer)
        } else {
            writer.bool(false)
        }
    }

    static func decodeOptionalVersionVector(_ reader: inout WireReader) throws(WireError) -> VersionVector? {
        try reader.present("version vector") ? try decodeVersionVector(&reader) : nil
    }
}

// MARK: - Cart operations

extension ClusterMessageCodec {
    /// `cartOperation := tag:u8 fields` (quantities and deltas as svarint, zig-zag).
    static func encodeCartOperation(_ operation: CartOperation, into writer: inout WireWriter) throws(WireError) {
        switch operation {
        case let .add(sku, quantity, details):
            writer.u8(CartOperationTag.add.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
            writer.svarint(quantity)
            try encodeDetails(details, into: &writer)
        case let .changeQuantity(sku, delta):
            writer.u8(CartOperationTag.changeQuantity.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
            writer.svarint(delta)
        case let .setQuantity(sku, quantity):
            writer.u8(CartOperationTag.setQuantity.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
            writer.svarint(quantity)
        case let .updateDetails(sku, details):
            writer.u8(CartOperationTag.updateDetails.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
            try encodeDetails(details, into: &writer)
        case let .remove(sku):
            writer.u8(CartOperationTag.remove.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
        case .clear:
            writer.u8(CartOperationTag.clear.rawValue)
        }
    }

    static func decodeCartOperation(_ reader: inout WireReader) throws(WireError) -> CartOperation {
        switch try readTag(CartOperationTag.self, "cart operation tag", from: &reader) {
        case .add:
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            let quantity = try reader.svarint("quantity")
            let details = try decodeDetails(&reader)
            return .add(sku: sku, quantity: quantity, details: details)
        case .changeQuantity:
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            let delta = try reader.svarint("quantity delta")
            return .changeQuantity(sku: sku, delta: delta)
        case .setQuantity:
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            let quantity = try reader.svarint("quantity")
            return .setQuantity(sku: sku, quantity: quantity)
        case .updateDetails:
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            let details = try decodeDetails(&reader)
            return .updateDetails(sku: sku, details: details)
        case .remove:
            return .remove(sku: try reader.string("SKU", maxBytes: stringBytesMax))
        case .clear:
            return .clear
        }
    }

    /// `details := name:(0|1 string) priceMinor:(0|1 svarint) metadata:(0|1 count (key value)*)`,
    /// metadata keys strictly ascending by their UTF-8 bytes.
    static func encodeDetails(_ details: CartItemDetails, into writer: inout WireWriter) throws(WireError) {
        if let name = details.name {
            writer.bool(true)
            try writer.string(name, "item name", maxBytes: stringBytesMax)
        } else {
            writer.bool(false)
        }
        if let priceMinor = details.priceMinor {
            writer.bool(true)
            writer.svarint(priceMinor)
        } else {
            writer.bool(false)
        }
        if let metadata = details.metadata {
            writer.bool(true)
            try encodeMetadata(metadata, into: &writer)
        } else {
            writer.bool(false)
        }
    }

    /// `metadata := count:uvarint (key:string value:string)*`, keys strictly ascending by their
    /// UTF-8 bytes.
    static func encodeMetadata(_ metadata: [String: String], into writer: inout WireWriter) throws(WireError) {
        // Distinct `String` keys have distinct bytes, so the order is strict.
        let pairs = metadata.map { (key: Array($0.key.utf8), value: Array($0.value.utf8)) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        try writer.count(pairs.count, "metadata pair count", max: metadataPairsMax)
        for pair in pairs {
            try writer.lengthPrefixed(pair.key, "metadata key", maxBytes: stringBytesMax)
            try writer.lengthPrefixed(pair.value, "metadata value", maxBytes: stringBytesMax)
        }
    }

    static func decodeDetails(_ reader: inout WireReader) throws(WireError) -> CartItemDetails {
        let name: String? = try reader.present("item name") ? try reader.string("item name", maxBytes: stringBytesMax) : nil
        let priceMinor: Int64? = try reader.present("price") ? try reader.svarint("price in minor units") : nil
        let metadata: [String: String]? = try reader.present("metadata") ? try decodeMetadata(&reader) : nil
        return CartItemDetails(name: name, priceMinor: priceMinor, metadata: metadata)
    }

    static func decodeMetadata(_ reader: inout WireReader) throws(WireError) -> [String: String] {
        // Each pair takes at least its two length bytes.
        let count = try reader.count("metadata pair count", max: metadataPairsMax, minimumElementBytes: 2)
        var metadata: [String: String] = [:]
        metadata.reserveCapacity(count)
        var previousKey: [UInt8]? = nil
        for _ in 0..<count {
            let start = reader.offset
            let key = try reader.string("metadata key", maxBytes: stringBytesMax)
            let keyBytes = Array(key.utf8)
            if let previousKey, !previousKey.lexicographicallyPrecedes(keyBytes) {
                throw WireError(.nonCanonical, offset: start, expected: "metadata keys strictly ascending by UTF-8 bytes")
            }
            let value = try reader.string("metadata value", maxBytes: stringBytesMax)
            // Two keys with different bytes may still be equal `String`s (NFC and NFD spellings):
            // the dictionary could not hold both, so the message has no value.
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw WireError(.nonCanonical, offset: start, expected: "metadata keys distinct as Unicode strings")
            }
            previousKey = keyBytes
        }
        return metadata
    }
}

// MARK: - Client replies

extension ClusterMessageCodec {
    /// `reply := tag:u8 fields`.
    static func encodeReply(_ reply: ClientReply, into writer: inout WireWriter) throws(WireError) {
        switch reply {
        case let .found(record):
            writer.u8(ReplyTag.found.rawValue)
            try encodeRecord(record, into: &writer)
        case .notFound:
            writer.u8(ReplyTag.notFound.rawValue)
        case let .written(record, dot, duplicate, acks):
            writer.u8(ReplyTag.written.rawValue)
            try encodeRecord(record, into: &writer)
            try encodeDot(dot, into: &writer)
            writer.bool(duplicate)
            try writer.count(acks, "ack count")
        case let .rejected(rejection):
            writer.u8(ReplyTag.rejected.rawValue)
            try encodeRejection(rejection, into: &writer)
        case let .unavailable(error):
            writer.u8(ReplyTag.unavailable.rawValue)
            encodeQuorumError(error, into: &writer)
        case let .storageFailed(detail):
            writer.u8(ReplyTag.storageFailed.rawValue)
            try writer.string(detail, "storage failure detail", maxBytes: stringBytesMax)
        case let .checkedOut(order, replayed):
            writer.u8(ReplyTag.checkedOut.rawValue)
            try encodeOrder(order, into: &writer)
            writer.bool(replayed)
        case let .order(order):
            writer.u8(ReplyTag.order.rawValue)
            try encodeOrder(order, into: &writer)
        }
    }

    static func decodeReply(_ reader: inout WireReader) throws(WireError) -> ClientReply {
        switch try readTag(ReplyTag.self, "reply tag", from: &reader) {
        case .found:
            return .found(try decodeRecord(&reader))
        case .notFound:
            return .notFound
        case .written:
            let record = try decodeRecord(&reader)
            let dot = try decodeDot(&reader)
            let duplicate = try reader.bool("duplicate")
            let acks = try reader.countValue("ack count")
            return .written(record: record, dot: dot, duplicate: duplicate, acks: acks)
        case .rejected:
            return .rejected(try decodeRejection(&reader))
        case .unavailable:
            return .unavailable(try decodeQuorumError(&reader))
        case .storageFailed:
            return .storageFailed(try reader.string("storage failure detail", maxBytes: stringBytesMax))
        case .checkedOut:
            let order = try decodeOrder(&reader)
            return .checkedOut(order, replayed: try reader.bool("replayed"))
        case .order:
            return .order(try decodeOrder(&reader))
        }
    }

    /// `QuorumError := tag:u8 svarint{4 or 3}` (every `Int` of an error is an svarint).
    static func encodeQuorumError(_ error: QuorumError, into writer: inout WireWriter) {
        switch error {
        case let .unreachable(needed, answered, failed, replicas):
            writer.u8(QuorumErrorTag.unreachable.rawValue)
            writer.svarint(needed)
            writer.svarint(answered)
            writer.svarint(failed)
            writer.svarint(replicas)
        case let .timedOut(needed, answered, replicas):
            writer.u8(QuorumErrorTag.timedOut.rawValue)
            writer.svarint(needed)
            writer.svarint(answered)
            writer.svarint(replicas)
        }
    }

    static func decodeQuorumError(_ reader: inout WireReader) throws(WireError) -> QuorumError {
        switch try readTag(QuorumErrorTag.self, "quorum error tag", from: &reader) {
        case .unreachable:
            let needed = try reader.svarintInt("needed")
            let answered = try reader.svarintInt("answered")
            let failed = try reader.svarintInt("failed")
            let replicas = try reader.svarintInt("replicas")
            return .unreachable(needed: needed, answered: answered, failed: failed, replicas: replicas)
        case .timedOut:
            let needed = try reader.svarintInt("needed")
            let answered = try reader.svarintInt("answered")
            let replicas = try reader.svarintInt("replicas")
            return .timedOut(needed: needed, answered: answered, replicas: replicas)
        }
    }
}

// MARK: - Rejections

extension ClusterMessageCodec {
    /// `rejection := tag:u8 fields`.
    static func encodeRejection(_ rejection: RequestRejection, into writer: inout WireWriter) throws(WireError) {
        switch rejection {
        case let .invalidQuorum(invalid):
            writer.u8(RejectionTag.invalidQuorum.rawValue)
            encodeQuorumInvalid(invalid, into: &writer)
        case let .invalidTimeout(ms, maxMs):
            writer.u8(RejectionTag.invalidTimeout.rawValue)
            writer.u64(ms)
            writer.u64(maxMs)
        case let .invalidKey(bytes, max):
            writer.u8(RejectionTag.invalidKey.rawValue)
            writer.svarint(bytes)
            writer.svarint(max)
        case let .wrongKind(policy):
            writer.u8(RejectionTag.wrongKind.rawValue)
            writer.u8(policy.rawValue)
        case let .cart(error):
            writer.u8(RejectionTag.cart.rawValue)
            try encodeCartError(error, into: &writer)
        case let .siblings(error):
            writer.u8(RejectionTag.siblings.rawValue)
            encodeSiblingError(error, into: &writer)
        case .emptyCart:
            writer.u8(RejectionTag.emptyCart.rawValue)
        case .checkoutContended:
            writer.u8(RejectionTag.checkoutContended.rawValue)
        case let .checkoutIDInUse(checkout):
            writer.u8(RejectionTag.checkoutIDInUse.rawValue)
            try encodeCheckoutID(checkout, into: &writer)
        }
    }

    static func decodeRejection(_ reader: inout WireReader) throws(WireError) -> RequestRejection {
        switch try readTag(RejectionTag.self, "rejection tag", from: &reader) {
        case .invalidQuorum:
            return .invalidQuorum(try decodeQuorumInvalid(&reader))
        case .invalidTimeout:
            let ms = try reader.u64("timeout ms")
            let maxMs = try reader.u64("maximum timeout ms")
            return .invalidTimeout(ms: ms, maxMs: maxMs)
        case .invalidKey:
            let bytes = try reader.svarintInt("key bytes")
            let max = try reader.svarintInt("maximum key bytes")
            return .invalidKey(bytes: bytes, max: max)
        case .wrongKind:
            return .wrongKind(policy: try readTag(ConflictPolicy.self, "conflict policy", from: &reader))
        case .cart:
            return .cart(try decodeCartError(&reader))
        case .siblings:
            return .siblings(try decodeSiblingError(&reader))
        case .emptyCart:
            return .emptyCart
        case .checkoutContended:
            return .checkoutContended
        case .checkoutIDInUse:
            return .checkoutIDInUse(try decodeCheckoutID(&reader))
        }
    }

    /// `QuorumParameters.Invalid := tag:u8 svarint{1 or 2}`.
    static func encodeQuorumInvalid(_ invalid: QuorumParameters.Invalid, into writer: inout WireWriter) {
        switch invalid {
        case let .n(n):
            writer.u8(QuorumInvalidTag.n.rawValue)
            writer.svarint(n)
        case let .r(r, n):
            writer.u8(QuorumInvalidTag.r.rawValue)
            writer.svarint(r)
            writer.svarint(n)
        case let .w(w, n):
            writer.u8(QuorumInvalidTag.w.rawValue)
            writer.svarint(w)
            writer.svarint(n)
        }
    }

    static func decodeQuorumInvalid(_ reader: inout WireReader) throws(WireError) -> QuorumParameters.Invalid {
        switch try readTag(QuorumInvalidTag.self, "invalid quorum tag", from: &reader) {
        case .n:
            return .n(try reader.svarintInt("N"))
        case .r:
            let r = try reader.svarintInt("R")
            let n = try reader.svarintInt("N")
            return .r(r, n: n)
        case .w:
            let w = try reader.svarintInt("W")
            let n = try reader.svarintInt("N")
            return .w(w, n: n)
        }
    }

    /// `CartOperationError := tag:u8 fields`.
    static func encodeCartError(_ error: CartOperationError, into writer: inout WireWriter) throws(WireError) {
        switch error {
        case let .invalidSKU(sku, reason):
            writer.u8(CartErrorTag.invalidSKU.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
            try writer.string(reason, "reason", maxBytes: stringBytesMax)
        case let .invalidQuantity(quantity, reason):
            writer.u8(CartErrorTag.invalidQuantity.rawValue)
            writer.svarint(quantity)
            try writer.string(reason, "reason", maxBytes: stringBytesMax)
        case let .invalidDetails(reason):
            writer.u8(CartErrorTag.invalidDetails.rawValue)
            try writer.string(reason, "reason", maxBytes: stringBytesMax)
        case let .itemNotFound(sku):
            writer.u8(CartErrorTag.itemNotFound.rawValue)
            try writer.string(sku, "SKU", maxBytes: stringBytesMax)
        case let .cartFull(itemsMax):
            writer.u8(CartErrorTag.cartFull.rawValue)
            writer.svarint(itemsMax)
        case let .cartTooLarge(bytesMax):
            writer.u8(CartErrorTag.cartTooLarge.rawValue)
            writer.svarint(bytesMax)
        case let .invalidOperationID(reason):
            writer.u8(CartErrorTag.invalidOperationID.rawValue)
            try writer.string(reason, "reason", maxBytes: stringBytesMax)
        case let .staleContext(reason):
            writer.u8(CartErrorTag.staleContext.rawValue)
            try writer.string(reason, "reason", maxBytes: stringBytesMax)
        case let .missingOwnWrites(replica, seen, issued):
            writer.u8(CartErrorTag.missingOwnWrites.rawValue)
            encodeReplica(replica, into: &writer)
            writer.uvarint(seen)
            writer.uvarint(issued)
        case .observedContextNotCovered:
            writer.u8(CartErrorTag.observedContextNotCovered.rawValue)
        case let .tooManyReplicas(max):
            writer.u8(CartErrorTag.tooManyReplicas.rawValue)
            writer.svarint(max)
        case let .counterExhausted(replica):
            writer.u8(CartErrorTag.counterExhausted.rawValue)
            encodeReplica(replica, into: &writer)
        case let .tooManyRecentOperations(max):
            writer.u8(CartErrorTag.tooManyRecentOperations.rawValue)
            writer.svarint(max)
        }
    }

    static func decodeCartError(_ reader: inout WireReader) throws(WireError) -> CartOperationError {
        switch try readTag(CartErrorTag.self, "cart error tag", from: &reader) {
        case .invalidSKU:
            let sku = try reader.string("SKU", maxBytes: stringBytesMax)
            let reason = try reader.string("reason", maxBytes: stringBytesMax)
            return .invalidSKU(sku, reason: reason)
        case .invalidQuantity:
            let quantity = try reader.svarint("quantity")
            let reason = try reader.string("reason", maxBytes: stringBytesMax)
            return .invalidQuantity(quantity, reason: reason)
        case .invalidDetails:
            return .invalidDetails(try reader.string("reason", maxBytes: stringBytesMax))
        case .itemNotFound:
            return .itemNotFound(sku: try reader.string("SKU", maxBytes: stringBytesMax))
        case .cartFull:
            return .cartFull(itemsMax: try reader.svarintInt("items max"))
        case .cartTooLarge:
            return .cartTooLarge(bytesMax: try reader.svarintInt("bytes max"))
        case .invalidOperationID:
            return .invalidOperationID(reason: try reader.string("reason", maxBytes: stringBytesMax))
        case .staleContext:
            return .staleContext(reason: try reader.string("reason", maxBytes: stringBytesMax))
        case .missingOwnWrites:
            let replica = try decodeReplica(&reader)
            let seen = try reader.uvarint("seen counter")
            let issued = try reader.uvarint("issued counter")
            return .missingOwnWrites(replica: replica, seen: seen, issued: issued)
        case .observedContextNotCovered:
            return .observedContextNotCovered
        case .tooManyReplicas:
            return .tooManyReplicas(max: try reader.svarintInt("replicas max"))
        case .counterExhausted:
            return .counterExhausted(try decodeReplica(&reader))
        case .tooManyRecentOperations:
            return .tooManyRecentOperations(max: try reader.svarintInt("operations max"))
        }
    }

    /// `SiblingWriteError := tag:u8 fields`.
    static func encodeSiblingError(_ error: SiblingWriteError, into writer: inout WireWriter) {
        switch error {
        case .contextNotCovered:
            writer.u8(SiblingErrorTag.contextNotCovered.rawValue)
        case let .missingOwnWrites(replica, seen, issued):
            writer.u8(SiblingErrorTag.missingOwnWrites.rawValue)
            encodeReplica(replica, into: &writer)
            writer.uvarint(seen)
            writer.uvarint(issued)
        case let .counterExhausted(replica):
            writer.u8(SiblingErrorTag.counterExhausted.rawValue)
            encodeReplica(replica, into: &writer)
        case let .tooManyReplicas(max):
            writer.u8(SiblingErrorTag.tooManyReplicas.rawValue)
            writer.svarint(max)
        case let .valueTooLarge(bytes, bytesMax):
            writer.u8(SiblingErrorTag.valueTooLarge.rawValue)
            writer.svarint(bytes)
            writer.svarint(bytesMax)
        }
    }

    static func decodeSiblingError(_ reader: inout WireReader) throws(WireError) -> SiblingWriteError {
        switch try readTag(SiblingErrorTag.self, "sibling error tag", from: &reader) {
        case .contextNotCovered:
            return .contextNotCovered
        case .missingOwnWrites:
            let replica = try decodeReplica(&reader)
            let seen = try reader.uvarint("seen counter")
            let issued = try reader.uvarint("issued counter")
            return .missingOwnWrites(replica: replica, seen: seen, issued: issued)
        case .counterExhausted:
            return .counterExhausted(try decodeReplica(&reader))
        case .tooManyReplicas:
            return .tooManyReplicas(max: try reader.svarintInt("replicas max"))
        case .valueTooLarge:
            let bytes = try reader.svarintInt("value bytes")
            let bytesMax = try reader.svarintInt("bytes max")
            return .valueTooLarge(bytes: bytes, bytesMax: bytesMax)
        }
    }
}
