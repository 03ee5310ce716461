/// A cart item's quantity series (`ActorCounter`), inside kind 2 (see `RecordCodec+Cart.swift`).
///
/// ```
/// counter := replicaIndex:uvarint start:uvarint resetPlus:uvarint resetMinus:uvarint
///            addedAtMs:uvarint timestampMs:uvarint
///            checkpointCount:uvarint (counter:uvarint plus:uvarint minus:uvarint){checkpointCount}
///            cancelCount:uvarint (sign:u8 lower:uvarint upper:uvarint){cancelCount}
///            eraCount:uvarint (sign:u8 incarnation:dot lower:uvarint upper:uvarint){eraCount}
/// ```
/// Eras are disjoint, ascending per sign, inside the totals at or above the resets, adjacent
/// ones of different lives; in every state `apply` and `merge` produce they cover every unit
/// above the resets (units a damaged record leaves untagged form a life of their own).
extension RecordCodec {
    static func encodeCounters(_ counters: [ReplicaID: ActorCounter], table: [ReplicaID: UInt64],
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
                $0.lower < $0.upper && $0.upper <= ($0.isMinus ? c.latest.minus : c.latest.plus)
                    && $0.lower >= ($0.isMinus ? c.resetMinus : c.resetPlus)
            }, "eras coalesced and disjoint, inside the totals, at or above the resets")
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
                writer.u8(era.isMinus ? 1 : 0)
                try encodeDot(era.incarnation, table: table, into: &writer, limits: limits)
                writer.uvarint(era.lower)
                writer.uvarint(era.upper)
            }
        }
    }

    static func decodeCounters(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
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
            let cancellations = try decodeCancellations(&reader, latest: latest, resetPlus: resetPlus, resetMinus: resetMinus)
            let eras = try decodeEras(&reader, table: table, context: context, latest: latest, resetPlus: resetPlus,
                                      resetMinus: resetMinus, limits: limits)
            counters[replica] = ActorCounter(start: start, resetPlus: resetPlus, resetMinus: resetMinus, addedAtMs: addedAtMs,
                                             timestampMs: timestampMs, checkpoints: checkpoints, cancellations: cancellations,
                                             eras: eras)
        }
        return counters
    }

    private static func decodeCancellations(_ reader: inout ByteReader, latest: ActorCounter.Checkpoint, resetPlus: UInt64,
                                            resetMinus: UInt64) throws(RecordCodecError) -> [ActorCounter.Cancellation] {
        let count = try reader.count("cancellation count", max: Int.max, minimumElementBytes: 3)
        var cancellations: [ActorCounter.Cancellation] = []
        for _ in 0..<count {
            let at = reader.offset
            let sign = try reader.u8("cancellation sign")
            guard sign <= 1 else { throw RecordCodecError(.invalidValue, offset: at, expected: "cancellation sign 0 (added) or 1 (taken)") }
            let c = ActorCounter.Cancellation(isMinus: sign == 1, lower: try reader.uvarint("cancellation lower"),
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
        return cancellations
    }

    private static func decodeEras(_ reader: inout ByteReader, table: [ReplicaID], context: CausalContext,
                                   latest: ActorCounter.Checkpoint, resetPlus: UInt64, resetMinus: UInt64,
                                   limits: VersioningLimits) throws(RecordCodecError) -> [ActorCounter.Era] {
        // An era takes at least 5 bytes: a sign, a dot (2) and two bounds.
        let count = try reader.count("era count", max: Int.max, minimumElementBytes: 5)
        var eras: [ActorCounter.Era] = []
        for _ in 0..<count {
            let at = reader.offset
            let sign = try reader.u8("era sign")
            guard sign <= 1 else { throw RecordCodecError(.invalidValue, offset: at, expected: "era sign 0 (added) or 1 (taken)") }
            let dotOffset = reader.offset
            let incarnation = try decodeDot(&reader, table: table, limits: limits)
            guard context.contains(incarnation) else {
                throw RecordCodecError(.invalidValue, offset: dotOffset, expected: "era incarnation \(incarnation) inside the causal context")
            }
            let lower = try reader.uvarint("era lower", in: 0...ActorCounter.unitsMax)
            let upper = try reader.uvarint("era upper", in: 0...ActorCounter.unitsMax)
            let era = ActorCounter.Era(isMinus: sign == 1, incarnation: incarnation, lower: lower, upper: upper)
            guard lower < upper, upper <= (era.isMinus ? latest.minus : latest.plus), lower >= (era.isMinus ? resetMinus : resetPlus) else {
                throw RecordCodecError(.invalidValue, offset: at, expected: "an era inside the series' total, at or above its reset")
            }
            if let last = eras.last, !(last < era)
                || (last.isMinus == era.isMinus && (last.upper > lower || (last.upper == lower && last.incarnation == incarnation))) {
                throw RecordCodecError(.nonCanonical, offset: at, expected: "eras ascending and disjoint, adjacent ones of different lives")
            }
            eras.append(era)
        }
        return eras
    }
}
