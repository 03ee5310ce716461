import Foundation
import CartTestSupport
import Testing
@testable import CartVersioning

/// Untrusted bytes: mutated and random inputs only ever produce a value or a typed error, and
/// whatever decodes is canonical (re-encodes to the same bytes).
@Suite struct DecoderRobustnessTests {
    enum Outcome { case decoded, rejected }

    /// Decodes as a record and as a context token; checks canonical round trips.
    static func probe(_ bytes: [UInt8]) -> (record: Outcome, context: Outcome, problem: String?) {
        var problem: String?
        var record = Outcome.rejected
        var context = Outcome.rejected
        // Typed throws: the only error these can throw is RecordCodecError.
        let decoded: Result<StoredRecord, RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.decode(bytes) }
        if case let .success(value) = decoded {
            record = .decoded
            if (try? RecordCodec.encode(value)) != bytes { problem = "record decoded but re-encodes differently" }
            if case let .cart(cart) = value {
                _ = cart.view
                if cart.merging(cart) != cart { problem = "decoded cart: merge not idempotent" }
            }
        }
        let token: Result<CausalContext, RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.decodeContext(bytes) }
        if case let .success(value) = token {
            context = .decoded
            if (try? RecordCodec.encode(value)) != bytes { problem = "context decoded but re-encodes differently" }
        }
        return (record, context, problem)
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var result = bytes
        switch rng.below(6) {
        case 0:  // flip 1-4 bits
            for _ in 0..<(1 + rng.below(4)) where !result.isEmpty {
                result[rng.below(result.count)] ^= UInt8(1) << UInt8(rng.below(8))
            }
        case 1:  // truncate
            result = Array(result.prefix(rng.below(result.count + 1)))
        case 2:  // extend
            result += rng.bytes(1 + rng.below(8))
        case 3:  // overwrite a byte with an interesting value
            if !result.isEmpty { result[rng.below(result.count)] = rng.pick([0x00, 0x01, 0x7F, 0x80, 0xFF]) }
        case 4:  // duplicate a slice
            if result.count > 2 {
                let start = rng.below(result.count - 1)
                let end = start + 1 + rng.below(min(8, result.count - start - 1))
                result.insert(contentsOf: result[start..<end], at: end)
            }
        default:  // delete a slice
            if result.count > 2 {
                let start = rng.below(result.count - 1)
                result.removeSubrange(start..<min(result.count, start + 1 + rng.below(4)))
            }
        }
        return result
    }

    @Test func mutatedAndRandomBytesNeverTrap() throws {
        let name = "mutatedAndRandomBytesNeverTrap"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var seeds: [[UInt8]] = []
        for cart in Generators.cartPool(&rng, replicas: 3, steps: 30).suffix(6) {
            seeds.append(try RecordCodec.encode(.cart(cart)))
            seeds.append(try RecordCodec.encode(cart.context))
        }
        for set in Generators.siblingSetPool(&rng, replicas: 3, steps: 20, limits: .default).suffix(6) {
            seeds.append(try RecordCodec.encode(.siblings(set)))
        }
        var decoded = 0
        var rejected = 0
        for iteration in 0..<20_000 {
            var input: [UInt8]
            if iteration % 10 == 9 {
                input = [1, UInt8(1 + rng.below(3))] + rng.bytes(rng.below(40))
            } else {
                input = rng.pick(seeds)
                for _ in 0..<(1 + rng.below(3)) { input = Self.mutate(input, &rng) }
            }
            let result = Self.probe(input)
            if let problem = result.problem {
                Issue.record("seed=\(seed) iteration=\(iteration): \(problem); input=\(RecordCodecTests.hex(input)); \(TestSeed.repro(seed, name))")
                return
            }
            if result.record == .decoded || result.context == .decoded { decoded += 1 } else { rejected += 1 }
        }
        print("decoder-robustness: 20000 inputs, \(decoded) decoded canonically, \(rejected) rejected with typed errors")
        #expect(rejected > decoded)
    }

    @Test func hugeClaimedCountsFailFastWithoutAllocating() {
        // kind 1, entry count claims 2^63: refused before any allocation.
        let bytes: [UInt8] = [1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        #expect(throws: RecordCodecError.self) { try RecordCodec.decode(bytes) }
        // A value length beyond the input.
        let value: [UInt8] = [1, 1, 1, 1, 1, 1, 1, 0, 1, 0xFF, 0xFF, 0x03]
        #expect(throws: RecordCodecError.self) { try RecordCodec.decode(value) }
    }

    @Test func invalidUTF8AndNonCanonicalOrderAreRejected() throws {
        // A cart with one replica, vv {0: 1}, one item with SKU bytes FF (invalid UTF-8).
        let badSKU: [UInt8] = [2, 2, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0xFF, 1, 0, 1, 2, 0, 0, 0, 0, 0]
        do {
            _ = try RecordCodec.decode(badSKU)
            Issue.record("decoded invalid UTF-8")
        } catch {
            #expect(error.code == .invalidUTF8 && error.offset == 10, "\(error)")
        }
        // Two sibling entries out of order.
        let unordered: [UInt8] = [1, 1, 2, 2, 1, 1, 0, 1, 1, 1, 0]
        do {
            _ = try RecordCodec.decode(unordered)
            Issue.record("decoded unordered entries")
        } catch {
            #expect(error.code == .nonCanonical && error.offset == 7, "\(error)")
        }
    }

    /// Whatever decodes from a mutated cart record is then merged with an honest cart,
    /// operated on and compacted: nothing may trap, and every result must encode and decode
    /// back to itself (a node never writes a record it cannot read).
    @Test func decodedMutantsSurviveMergeApplyAndCompaction() throws {
        let name = "decodedMutantsSurviveMergeApplyAndCompaction"
        let seed = TestSeed.make(name)
        var rng = SeededRandom(seed: seed)
        var honest: [CartState] = []
        for _ in 0..<4 { honest += Generators.cartPool(&rng, replicas: 3, steps: 40, skus: ["A", "B"]).suffix(4) }
        let seeds = try honest.map { try RecordCodec.encode(.cart($0)) }
        // A seed corpus for the libFuzzer target (README, "Fuzzing the decoder").
        if let directory = ProcessInfo.processInfo.environment["CARTSTORE_FUZZ_SEEDS"] {
            for (index, bytes) in seeds.enumerated() {
                try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/honest-\(seed)-\(index)"))
            }
        }
        var decoded = 0
        func roundTrips(_ cart: CartState) -> Bool {
            let bytes: [UInt8]
            do { bytes = try RecordCodec.encode(.cart(cart)) } catch {
                print("decoder-mutants: the encoder refuses: \(error)")
                return false
            }
            do {
                guard case let .cart(back) = try RecordCodec.decode(bytes) else { return false }
                if back != cart { print("decoder-mutants: reads back different") }
                return back == cart
            } catch {
                print("decoder-mutants: the decoder refuses what the encoder wrote: \(error)")
                return false
            }
        }
        for iteration in 0..<20_000 {
            let origin = rng.below(seeds.count)
            var input = seeds[origin]
            for _ in 0..<(1 + rng.below(3)) { input = Self.mutate(input, &rng) }
            guard case let .cart(cart)? = try? RecordCodec.decode(input) else { continue }
            decoded += 1
            let context = "seed=\(seed) iteration=\(iteration) input=\(RecordCodecTests.hex(input)); \(TestSeed.repro(seed, name))"
            var state = cart.merging(rng.chance(50) ? honest[origin] : CartState())
            #expect(roundTrips(state), "merge result: \(context)")
            for step in 0..<3 {
                let replica = Generators.replica(rng.below(4))
                let operation = Generators.cartOperation(&rng, skus: ["A", "B", "C"])
                if (try? state.apply(operation, id: OperationID("m-\(iteration)-\(step)"), at: replica,
                                     issuedCounter: state.context.highestCounter(of: replica), nowMs: UInt64(5_000 + step),
                                     observed: rng.chance(50) ? cart.context : nil)) != nil {
                    #expect(roundTrips(state), "after \(operation): \(context)")
                }
            }
            state.compact(stable: state.context, nowMs: 10_000_000)
            #expect(roundTrips(state), "after compaction: \(context)")
            _ = state.view
        }
        print("decoder-mutants: 20000 mutated cart records, \(decoded) decoded, each merged, operated on and compacted")
        #expect(decoded > 100)
    }
    /// Found by a random-seed run of `decodedMutantsSurviveMergeApplyAndCompaction`: a mutant
    /// whose operation log names, for the application at event 2 of replica 2.17, a change of a
    /// series starting at event 66. It used to decode; merged with an honest cart, settling then
    /// derived a twin link to that series, which the decoder (rightly) refused to read back. A
    /// series begins at or before each of its changes: the decoder now refuses the mutant.
    @Test func anApplicationWhoseSeriesStartsAfterItIsRefused() {
        let hex = "02020301010211030103000101030203000201410102020000b109b10901020200000100020200020000010202b109ee8501000102020001420201020000b809f209020202000304000001000102000402030000b809950a010302000100000201000102000200020103b809086e616d652d3839370203b809086e616d652d383937020103b809805e0203b809805e000101020101020203000204000206046f702d30010101f707010141056f702d3138010102b80903014242000002056f702d3230010202b10903014102000002056f702d3236020103f209030142020002040203950a03014203000002046f702d340102019d08010141046f702d36010001aa08010142"
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        let decoded: Result<StoredRecord, RecordCodecError> = Result { () throws(RecordCodecError) in try RecordCodec.decode(bytes) }
        guard case let .failure(error) = decoded else {
            Issue.record("the mutant decoded: \(decoded)")
            return
        }
        #expect(error.description.contains("change series start"), "\(error)")
    }
}
