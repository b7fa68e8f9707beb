// The light client of consensus.md §2.12: from the pinned genesis set, each change leaf proved
// under its block's checkpoint (signed by the previous set) opens an epoch; a checkpoint is trusted
// only if a quorum of the set in force at its size signed it.
import CinnabarCrypto
import Ledger
import MerkleLog
import XCTest

final class ValidatorEpochsTests: XCTestCase {
    let four = Members.set(["a", "b", "c", "d"])
    let five = Members.set(["a", "b", "c", "d", "e"])
    let withoutD = Members.set(["a", "b", "c", "e"])

    /// Genesis {a, b, c, d}; block 2 adds e (change at leaf 2, size 4); block 4 removes d (change at
    /// leaf 6, size 8); block 5 is under the last set (size 10).
    struct History {
        var log = BlockLog()
        var adds: ValidatorSetChange
        var removes: ValidatorSetChange
    }

    func history() -> History {
        var log = BlockLog()
        let adds = Members.change(four, five, approvers: ["a", "b", "c"])
        let removes = Members.change(five, withoutD, approvers: ["a", "b", "c", "e"], epoch: 1)
        log.block(records: 0, set: four)
        XCTAssertEqual(log.block(change: adds, set: four), 4)
        log.block(set: five)
        XCTAssertEqual(log.block(records: 0, change: removes, set: five), 8)
        XCTAssertEqual(log.block(set: withoutD), 10)
        return History(log: log, adds: adds, removes: removes)
    }

    func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return (error as? LedgerError)?.code ?? "\(error)" }
        return nil
    }

    func followed(_ h: History) throws -> ValidatorEpochs {
        var epochs = try ValidatorEpochs(genesis: four, origin: Members.origin)
        try epochs.apply(changeLeaf: h.adds.leafData, index: 2, proof: h.log.proof(index: 2, size: 4),
                         checkpoint: h.log.checkpoint(size: 4, signedBy: ["a", "b", "c"]))
        try epochs.apply(changeLeaf: h.removes.leafData, index: 6, proof: h.log.proof(index: 6, size: 8),
                         checkpoint: h.log.checkpoint(size: 8, signedBy: ["a", "b", "c", "e"]))
        return epochs
    }

    func testEpochsAreFollowedAcrossTwoChanges() throws {
        let h = history()
        let epochs = try followed(h)
        XCTAssertEqual(epochs.epochs.map(\.fromSize), [0, 5, 9])
        XCTAssertEqual(epochs.epochs.map(\.number), [0, 1, 2])
        XCTAssertEqual(epochs.epochs.map(\.changeIndex), [nil, 2, 6])
        for (size, set) in [(1, four), (4, four), (5, five), (6, five), (8, five), (9, withoutD), (10, withoutD)] {
            XCTAssertEqual(epochs.set(forSize: UInt64(size)), set, "size \(size)")
        }
        // The changes' own checkpoints are the old sets', later ones the new sets'.
        XCTAssertEqual(try epochs.verify(checkpointNote: h.log.checkpoint(size: 4, signedBy: ["b", "c", "d"])).size, 4)
        XCTAssertEqual(try epochs.verify(checkpointNote: h.log.checkpoint(size: 6, signedBy: ["b", "c", "d", "e"])).size, 6)
        let last = try epochs.verify(checkpointNote: h.log.checkpoint(signedBy: ["a", "c", "e"]))
        XCTAssertEqual(last.size, 10)
        XCTAssertEqual(last.root, h.log.root)
    }

    func testAfterARemovalTheOldQuorumIsNotTrusted() throws {
        let h = history()
        let epochs = try followed(h)
        // a, b and d were a quorum of the genesis set, but d is gone at size 10: two of four is not three.
        let byOldQuorum = h.log.checkpoint(signedBy: ["a", "b", "d"])
        XCTAssertEqual(code { _ = try epochs.verify(checkpointNote: byOldQuorum) }, "untrusted_checkpoint")
        do { _ = try epochs.verify(checkpointNote: byOldQuorum) } catch {
            let why = "\(error)"
            XCTAssertTrue(why.contains("signed by 2 of the 4 validators in force"), why)
            XCTAssertTrue(why.contains("set since the change at leaf 6"), why)
            XCTAssertTrue(why.contains("also signed by d, no longer a validator at that size"), why)
        }
        XCTAssertNoThrow(try epochs.verify(checkpointNote: h.log.checkpoint(signedBy: ["a", "b", "e"])), "the new set's quorum")
        // Before the removal, the five needed four: the genesis quorum alone does not do at size 6.
        XCTAssertEqual(code { _ = try epochs.verify(checkpointNote: h.log.checkpoint(size: 6, signedBy: ["a", "b", "d"])) }, "untrusted_checkpoint")
        // A client that did not follow the changes would still trust the old quorum: the point of epochs.
        XCTAssertNoThrow(try ValidatorEpochs(genesis: four, origin: Members.origin).verify(checkpointNote: byOldQuorum))
    }

    func testAForgedChangeIsRejected() throws {
        var log = BlockLog()
        log.block(records: 0, set: four)
        let forged = Members.change(four, Members.set(["a", "b", "c", "d", "m"]), approvers: ["a", "b"])
        log.block(change: forged, set: four)
        var epochs = try ValidatorEpochs(genesis: four, origin: Members.origin)
        XCTAssertEqual(code {
            try epochs.apply(changeLeaf: forged.leafData, index: 2, proof: log.proof(index: 2, size: 4),
                             checkpoint: log.checkpoint(size: 4, signedBy: ["a", "b", "c"]))
        }, "unapproved_set_change")
        XCTAssertEqual(epochs.epochs.count, 1, "nothing was followed")
    }

    func testAChangeMustBeProvedUnderAQuorumOfThePreviousSetAtItsOwnBlock() throws {
        let h = history()
        let genesis = try ValidatorEpochs(genesis: four, origin: Members.origin)
        let proof = h.log.proof(index: 2, size: 4)
        func apply(_ leaf: [UInt8], index: UInt64 = 2, proof: [Hash], checkpoint: String) -> String? {
            var epochs = genesis
            return code { try epochs.apply(changeLeaf: leaf, index: index, proof: proof, checkpoint: checkpoint) }
        }
        let good = h.log.checkpoint(size: 4, signedBy: ["a", "b", "c"])
        XCTAssertNil(apply(h.adds.leafData, proof: proof, checkpoint: good))
        XCTAssertEqual(apply(h.adds.leafData, proof: proof, checkpoint: h.log.checkpoint(size: 4, signedBy: ["a", "e"])),
                       "untrusted_checkpoint", "e is not a validator before the change")
        XCTAssertEqual(apply(h.adds.leafData, proof: h.log.proof(index: 2, size: 6), checkpoint: h.log.checkpoint(size: 6, signedBy: ["a", "b", "c"])),
                       "unproved_set_change", "a checkpoint after the change's block")
        var tamperedProof = proof
        tamperedProof[0] = SHA256.hash("not a sibling")
        XCTAssertEqual(apply(h.adds.leafData, proof: tamperedProof, checkpoint: good), "unproved_set_change")
        var tamperedLeaf = h.adds.leafData
        tamperedLeaf[tamperedLeaf.count - 1] ^= 1
        XCTAssertEqual(apply(tamperedLeaf, proof: proof, checkpoint: good), "unproved_set_change", "not the leaf in the tree")
        XCTAssertEqual(apply(h.log.leaves[1], index: 1, proof: h.log.proof(index: 1, size: 4), checkpoint: good),
                       "unproved_set_change", "leaf 1 is not the last entry of the block ending at 4")
        XCTAssertEqual(apply(h.log.leaves[3], index: 3, proof: h.log.proof(index: 3, size: 4), checkpoint: good),
                       "malformed_set_change", "the trailer is no change")
        // Out of order: the removal before the addition is not one step from the genesis set.
        XCTAssertNotNil(apply(h.removes.leafData, index: 6, proof: h.log.proof(index: 6, size: 8),
                              checkpoint: h.log.checkpoint(size: 8, signedBy: ["a", "b", "c", "e"])))
        // Followed twice: the second time it comes before the epoch it opened.
        var epochs = genesis
        try epochs.apply(changeLeaf: h.adds.leafData, index: 2, proof: proof, checkpoint: good)
        XCTAssertEqual(code { try epochs.apply(changeLeaf: h.adds.leafData, index: 2, proof: proof, checkpoint: good) }, "unproved_set_change")
    }

    func testARotatedKeyNoLongerSigns() throws {
        var log = BlockLog()
        let rotated = Members.set([Members.validator("a"), Members.validator("b", key: "b-2"), Members.validator("c"), Members.validator("d")])
        let change = Members.change(four, rotated, approvers: ["b", "c", "d"])
        log.block(records: 0, set: four)
        log.block(change: change, set: four)
        log.block(set: rotated)
        var epochs = try ValidatorEpochs(genesis: four, origin: Members.origin)
        XCTAssertEqual(try epochs.apply(changeLeaf: change.leafData, index: 2, proof: log.proof(index: 2, size: 4),
                                        checkpoint: log.checkpoint(size: 4, signedBy: ["b", "c", "d"])),
                       .rotated(name: "b", from: Members.key("b").publicKey, to: Members.key("b-2").publicKey))
        XCTAssertNoThrow(try epochs.verify(checkpointNote: log.checkpoint(signers: [("a", "a"), ("b", "b-2"), ("c", "c")])))
        XCTAssertEqual(code { _ = try epochs.verify(checkpointNote: log.checkpoint(signers: [("a", "a"), ("b", "b"), ("c", "c")])) },
                       "untrusted_checkpoint", "b's old key is not b's any more")
    }
}
