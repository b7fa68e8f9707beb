// The wire and WAL encodings: everything round-trips, and malformed bytes are rejected before
// the core sees them (consensus.md §3.4, "signature/encoding fuzzing"). Also id(v)'s exact bytes.
import CinnabarCrypto
import Consensus
import ConsensusSim
import Ledger
import XCTest

final class EncodingTests: XCTestCase {
    let c = Consortium()

    func messages() -> [ConsensusMessage] {
        let v = c.block("a")
        let pol = [1, 2, 3].map { c.vote(.prevote, round: 0, c.id(v), from: $0) }
        let cert = CommitCertificate(height: 1, round: 1, valueID: c.id(v), precommits: [0, 1, 2].map { c.vote(.precommit, round: 1, c.id(v), from: $0) })
        let line = try! c.keys[2].checkpointKey.signature(for: c.genesis.checkpointText)
        return [
            .proposal(c.proposal(round: 1, v, validRound: 0, pol: pol)), .proposal(c.proposal(round: 0, v)),
            .vote(c.vote(.prevote, round: 7, nil, from: 3)), .vote(c.vote(.precommit, round: 0, c.id(v), from: 0)),
            .checkpointSignature(CheckpointSignature(height: 9, validator: 2, line: line)),
            .commit(cert, value: v), .status(validator: 1, height: 12, round: 3),
        ]
    }

    func testEveryMessageRoundTrips() {
        for m in messages() { XCTAssertEqual(WireCodec.decodeMessage(WireCodec.encode(m)), m) }
    }

    func testEveryLoggedInputRoundTrips() {
        let v = c.block("a")
        let inputs: [Input] = [
            .proposal(c.proposal(round: 0, v)), .vote(c.vote(.prevote, round: 2, nil, from: 1)),
            .timeout(Timeout(kind: .precommit, height: 4, round: 2)), .proposalValue(height: 1, round: 3, value: v),
            .commit(CommitCertificate(height: 1, round: 0, valueID: c.id(v), precommits: [c.vote(.precommit, round: 0, c.id(v), from: 1)]), value: v),
        ]
        for i in inputs { XCTAssertEqual(WireCodec.decodeInput(WireCodec.encode(i)), i) }
    }

    func testMalformedMessagesAreRejectedBeforeTheCore() {
        var random = SimRandom(seed: 7)
        for m in messages() {
            let bytes = WireCodec.encode(m)
            for cut in 0..<bytes.count { XCTAssertNil(WireCodec.decodeMessage(Array(bytes.prefix(cut))), "truncated \(m)") }
            XCTAssertNil(WireCodec.decodeMessage(bytes + [0]), "trailing byte")
            for _ in 0..<200 {
                var mutated = bytes
                mutated[random.int(0...(bytes.count - 1))] ^= UInt8(1 << random.int(0...7))
                // Either rejected, or a different message whose signatures no longer verify.
                guard let decoded = WireCodec.decodeMessage(mutated), decoded != m else { continue }
                switch decoded {
                case let .vote(v): XCTAssertFalse(v.verify(c.parameters) && v.vote.validator < c.n && v != { if case let .vote(o) = m { return o } else { return v } }())
                case let .proposal(p): XCTAssertFalse(p.verify(c.parameters) && p.proposal != { if case let .proposal(o) = m { return o.proposal } else { return p.proposal } }())
                default: break
                }
            }
        }
        for _ in 0..<2_000 {
            let junk = (0..<random.int(0...300)).map { _ in UInt8(random.int(0...255)) }
            _ = WireCodec.decodeMessage(junk)
            _ = WireCodec.decodeInput(junk)
        }
    }

    func testValueIDIsTheHashOfTheDocumentedBytes() {
        let root = SHA256.hash(Array("root".utf8))
        let origin = "ledger.example/consortium-1"
        var bytes = Array("ledger-block/v1".utf8) + [0x00]
        bytes += [0x00, UInt8(origin.utf8.count)] + Array(origin.utf8)
        bytes += [0, 0, 0, 0, 0, 0, 0x01, 0x02]
        bytes += root.bytes
        XCTAssertEqual(ValueID(origin: origin, size: 258, root: root).hash, SHA256.hash(bytes))
    }

    func testVoteSignBytesAreDomainSeparatedFromNoteText() {
        let vote = Vote(type: .prevote, height: 1, round: 0, valueID: nil, validator: 0)
        let bytes = vote.signBytes(chainID: c.origin)
        XCTAssertEqual(Array(bytes.prefix(20)), [0] + Array("ledger-consensus/v1".utf8))
        XCTAssertEqual(bytes[20], 0x01)
        let p = Proposal(height: 1, round: 2, validRound: -1, valueID: c.id(c.block("a")), proposer: 3)
        XCTAssertEqual(p.signBytes(chainID: c.origin)[20], 0x20)
    }

    func testFromHeightTwoABlockNeedsAQuorumOfCheckpointSignaturesOnThePreviousBlock() throws {
        var chain = c.genesis
        let first = LedgerBlock(encoded: c.block("a"))!
        XCTAssertEqual(chain.evaluate(first.encoded)?.isValid, true)
        chain.apply(first)
        let lines = try (0..<4).map { try c.keys[$0].checkpointKey.signature(for: chain.checkpointText).line }
        func valid(_ signers: [Int]) -> Bool? {
            chain.evaluate(chain.makeBlock(entries: [], proposedTimeMillis: 2_000, proposer: "v1",
                                           signatureLines: signers.map { lines[$0] }.joined()).encoded)?.isValid
        }
        XCTAssertEqual(valid([0, 1, 2]), true)
        XCTAssertEqual(valid([1, 2, 3, 0]), true)
        XCTAssertEqual(valid([0, 1]), false, "two of four is not a quorum")
        XCTAssertEqual(valid([]), false)
        var tampered = chain.makeBlock(entries: [], proposedTimeMillis: 2_000, proposer: "v1", signatureLines: lines[0] + lines[1] + lines[2])
        tampered = LedgerBlock(entries: tampered.entries, trailer: tampered.trailer, signatureLines: lines[0] + lines[1] + lines[3])
        XCTAssertNil(chain.evaluate(tampered.encoded), "lines that do not hash to lastCosigsHash make no binding value")
        let stale = chain.makeBlock(entries: [], proposedTimeMillis: 0, proposer: "v1", signatureLines: lines[0] + lines[1] + lines[2])
        XCTAssertGreaterThan(stale.trailer.timeMillis, first.trailer.timeMillis, "time stays monotonic")
    }
}
