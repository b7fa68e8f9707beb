// valid(v) and apply for validator-set changes (consensus.md §2.10): a change is the last entry of
// its block h, approved by a quorum of the current set; from h + 1 the new set proposes and votes,
// while the signatures on checkpoint(h) that block h + 1 embeds are still the old set's.
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Foundation
import Ledger
import SignedNote
import XCTest

final class SetChangeChainTests: XCTestCase {
    let c = Consortium()
    var origin: String { c.origin }

    /// The seed of `label`: "v0"…"v3" are the consortium's, anything else is new.
    func seed(_ label: String) -> [UInt8] {
        if label.count == 2, let i = Int(label.dropFirst()), i < 4 { return SHA256.hash(Array("consensus-test-key-\(i)".utf8)).bytes }
        return SHA256.hash(Array("set-change-test-key-\(label)".utf8)).bytes
    }

    func validator(_ name: String, key label: String? = nil) -> Validator {
        Validator(name: name, publicKey: Ed25519PrivateKey(seed: seed(label ?? name))!.publicKey)
    }

    func set(_ members: [Validator]) -> ValidatorSet { try! ValidatorSet(members) }

    var v4: Validator { validator("v4") }

    /// A change from `chain.validators` to `new`, approved by the validators named `approvers`
    /// (with key labels, for re-keyed ones).
    func change(_ chain: LedgerChain, to new: ValidatorSet, approvers: [String], keys: [String: String] = [:]) -> ValidatorSetChange {
        ValidatorSetChange(newSet: new, approvals: approvers.map {
            ValidatorSetChange.approve(origin: origin, epoch: chain.epoch, current: chain.validators, new: new,
                                       key: Ed25519PrivateKey(seed: seed(keys[$0] ?? $0))!)!
        })
    }

    /// Signature lines on checkpoint(chain.height) by the named validators (their key labels).
    func lines(_ chain: LedgerChain, _ signers: [String], keys: [String: String] = [:]) -> String {
        signers.map { name in
            let key = try! NoteSigningKey(name: "\(origin)/\(name)", seed: seed(keys[name] ?? name))
            return try! key.signature(for: chain.checkpointText).line
        }.joined()
    }

    func isValid(_ chain: LedgerChain, _ block: LedgerBlock) -> Bool { chain.evaluate(block.encoded)?.isValid == true }

    func record(_ tag: String) -> [UInt8] { [LeafTag.record.rawValue] + Array(tag.utf8) }

    /// Block 1 (empty) applied: the genesis chain at height 1, four validators.
    func started() -> LedgerChain {
        var chain = c.genesis
        chain.apply(chain.makeBlock(entries: [], proposedTimeMillis: 1_000, proposer: "v0", signatureLines: ""))
        return chain
    }

    /// Decides the next block on `chain` (with `change`, proposed by `proposer`, embedding lines by
    /// `signers`), checking it valid, and applies it.
    @discardableResult
    func decide(_ chain: inout LedgerChain, change: ValidatorSetChange? = nil, proposer: String = "v0", signers: [String],
                keys: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> LedgerBlock {
        let block = chain.makeBlock(entries: [record("h\(chain.nextHeight)")], proposedTimeMillis: 0, proposer: proposer,
                                    signatureLines: lines(chain, signers, keys: keys), setChange: change)
        XCTAssertTrue(isValid(chain, block), "block \(chain.nextHeight)", file: file, line: line)
        chain.apply(block)
        return block
    }

    func testAValidChangeSwitchesTheSetForTheNextHeightWhileTheOldSetSignsItsCheckpoint() throws {
        var chain = started()
        let four = chain.validators
        let five = set(four.validators + [v4])
        let add = change(chain, to: five, approvers: ["v0", "v2", "v3"])
        let block = chain.makeBlock(entries: [record("a")], proposedTimeMillis: 2_000, proposer: "v1",
                                    signatureLines: lines(chain, ["v0", "v1", "v2"]), setChange: add)
        XCTAssertEqual(block.entries.last, add.leafData, "the change is the last entry")
        XCTAssertEqual(block.trailer.validatorSetHash, four.hash)
        XCTAssertEqual(block.trailer.nextValidatorSetHash, five.hash)
        XCTAssertEqual(try block.setChange(), add)
        XCTAssertEqual(block.recordEntries, [record("a")])
        XCTAssertTrue(isValid(chain, block))
        XCTAssertFalse(chain.isEpochBoundary)

        chain.apply(block)
        XCTAssertTrue(chain.isEpochBoundary)
        XCTAssertEqual(chain.validators, five, "the new set decides height 3")
        XCTAssertEqual(chain.tipValidators, four, "the old set signs checkpoint(2)")
        XCTAssertEqual(chain.epoch, 1)
        XCTAssertEqual(chain.verifierKeys, try four.verifierKeys(origin: origin))

        // Block 3 embeds checkpoint(2)'s lines, checked against the OLD set: three of four do, and v4
        // (not a signer of checkpoint 2) does not help two of them.
        func block3(_ signers: [String], proposer: String = "v4") -> LedgerBlock {
            chain.makeBlock(entries: [record("b")], proposedTimeMillis: 3_000, proposer: proposer, signatureLines: lines(chain, signers))
        }
        XCTAssertTrue(isValid(chain, block3(["v1", "v2", "v3"])), "v4 proposes: it is in the set of height 3")
        XCTAssertFalse(isValid(chain, block3(["v1", "v2", "v4"])), "v4's line is not one of checkpoint(2)'s signers")
        XCTAssertEqual(chain.checkpointSigners(lines(chain, ["v1", "v2", "v4"])).signers, 2)
        XCTAssertEqual(block3(["v1"]).trailer.validatorSetHash, five.hash)
        let third = block3(["v1", "v2", "v3"])
        chain.apply(third)
        XCTAssertFalse(chain.isEpochBoundary)
        XCTAssertEqual(chain.tipValidators, five)

        // From checkpoint(3) on, the five sign, and Q is four.
        let block4 = { (signers: [String]) in
            self.isValid(chain, chain.makeBlock(entries: [], proposedTimeMillis: 4_000, proposer: "v0", signatureLines: self.lines(chain, signers)))
        }
        XCTAssertFalse(block4(["v0", "v1", "v2"]), "three was the old quorum")
        XCTAssertTrue(block4(["v0", "v1", "v2", "v4"]))
    }

    func testTheNewSetDecidesTheHeightAfterTheChange() throws {
        var chain = started()
        let five = set(chain.validators.validators + [v4])
        decide(&chain, change: change(chain, to: five, approvers: ["v0", "v1", "v2"]), signers: ["v0", "v1", "v2"])
        // The node re-makes its parameters (and its replica) from `validators` at the boundary.
        let parameters = ConsensusParameters(chainID: origin, validators: chain.validators)
        XCTAssertEqual(parameters.count, 5)
        XCTAssertEqual(parameters.quorum, 4)
        let keys = try five.validators.enumerated().map { i, v in try ValidatorKey(index: i, seed: seed(v.name), validators: five, origin: origin) }
        let value = chain.makeBlock(entries: [record("c")], proposedTimeMillis: 3_000, proposer: "v4",
                                    signatureLines: lines(chain, ["v0", "v1", "v2"])).encoded
        let id = try XCTUnwrap(chain.evaluate(value)).id
        func decided(precommitters: [String]) -> Bool {
            var core = Tendermint(parameters: parameters, me: nil, height: chain.nextHeight, evaluator: chain)
            _ = core.step(.start)
            let p = Proposal(height: 3, round: 0, validRound: -1, valueID: id, proposer: parameters.proposer(height: 3, round: 0))
            _ = core.step(.proposal(SignedProposal(proposal: p, signature: keys[p.proposer].privateKey.signature(for: p.signBytes(chainID: origin)),
                                                   value: value, proofOfLock: [])))
            for name in precommitters {
                let i = five.validators.firstIndex { $0.name == name }!
                let vote = Vote(type: .precommit, height: 3, round: 0, valueID: id, validator: i)
                _ = core.step(.vote(SignedVote(vote: vote, signature: keys[i].privateKey.signature(for: vote.signBytes(chainID: origin)))))
            }
            return core.decision?.value.bytes == value
        }
        XCTAssertTrue(decided(precommitters: ["v0", "v1", "v2", "v4"]), "four of the five, the new member among them")
        XCTAssertFalse(decided(precommitters: ["v0", "v1", "v2"]), "the old quorum of three is not enough any more")
    }

    func testAChangeMustBeTheLastEntryAndAlone() {
        let chain = started()
        let add = change(chain, to: set(chain.validators.validators + [v4]), approvers: ["v0", "v1", "v2"])
        let signatures = lines(chain, ["v0", "v1", "v2"])
        let good = chain.makeBlock(entries: [record("a")], proposedTimeMillis: 2_000, proposer: "v0", signatureLines: signatures, setChange: add)
        XCTAssertTrue(isValid(chain, good))
        var trailer = good.trailer
        // The same leaves with the change first, then twice at the end: the trailer still names the new set.
        let first = LedgerBlock(entries: [add.leafData, record("a")], trailer: trailer, signatureLines: signatures)
        trailer.entryCount = 3
        let twice = LedgerBlock(entries: [record("a"), add.leafData, add.leafData], trailer: trailer, signatureLines: signatures)
        XCTAssertFalse(isValid(chain, first), "a change before a record")
        XCTAssertFalse(isValid(chain, twice), "two changes")
        // Submitted by a writer, a change leaf never reaches a block: the entry check refuses it.
        XCTAssertEqual((try? LeafError.check(submitted: add.leafData)) == nil, true)
    }

    func testTheTrailerMustNameBothSets() {
        let chain = started()
        let five = set(chain.validators.validators + [v4])
        let add = change(chain, to: five, approvers: ["v0", "v1", "v2"])
        let signatures = lines(chain, ["v0", "v1", "v2"])
        let withChange = chain.makeBlock(entries: [], proposedTimeMillis: 2_000, proposer: "v0", signatureLines: signatures, setChange: add)
        let without = chain.makeBlock(entries: [], proposedTimeMillis: 2_000, proposer: "v0", signatureLines: signatures)
        func with(_ block: LedgerBlock, _ edit: (inout BlockTrailer) -> Void) -> LedgerBlock {
            var t = block.trailer
            edit(&t)
            return LedgerBlock(entries: block.entries, trailer: t, signatureLines: block.signatureLines)
        }
        XCTAssertTrue(isValid(chain, withChange))
        XCTAssertTrue(isValid(chain, without))
        XCTAssertFalse(isValid(chain, with(withChange) { $0.nextValidatorSetHash = chain.validators.hash }), "a change, but the same next set")
        XCTAssertFalse(isValid(chain, with(without) { $0.nextValidatorSetHash = five.hash }), "no change, but another next set")
        XCTAssertFalse(isValid(chain, with(withChange) { $0.validatorSetHash = five.hash }), "the new set named as the current one")
    }

    func testAChangeNeedsAQuorumOfTheCurrentSetAndOneStep() {
        let chain = started()
        let five = set(chain.validators.validators + [v4])
        let signatures = lines(chain, ["v0", "v1", "v2"])
        func valid(_ change: ValidatorSetChange) -> Bool {
            isValid(chain, chain.makeBlock(entries: [], proposedTimeMillis: 2_000, proposer: "v0", signatureLines: signatures, setChange: change))
        }
        XCTAssertTrue(valid(change(chain, to: five, approvers: ["v1", "v2", "v3"])))
        XCTAssertFalse(valid(change(chain, to: five, approvers: ["v1", "v2"])), "two of four")
        XCTAssertFalse(valid(change(chain, to: set(five.validators + [validator("v5")]), approvers: ["v0", "v1", "v2", "v3"])), "two added")
    }

    func testAddThenRemoveAndApprovalsAreNotReplayed() throws {
        var chain = started()
        let four = chain.validators
        let five = set(four.validators + [v4])
        let add = change(chain, to: five, approvers: ["v0", "v1", "v2"])
        decide(&chain, change: add, signers: ["v0", "v1", "v2"])
        decide(&chain, proposer: "v4", signers: ["v0", "v1", "v2"])  // lines on checkpoint(2): the four's
        // 5 → 4: four of the five approve removing v4.
        decide(&chain, change: change(chain, to: four, approvers: ["v0", "v1", "v3", "v4"]), signers: ["v0", "v1", "v2", "v4"])
        XCTAssertEqual(chain.validators, four)
        XCTAssertEqual(chain.tipValidators, five)
        XCTAssertEqual(chain.epoch, 2)
        decide(&chain, signers: ["v0", "v1", "v3", "v4"])  // checkpoint(4) by the five, v4 among them
        XCTAssertFalse(chain.isEpochBoundary)
        XCTAssertEqual(chain.tipValidators, four)
        // The set is the genesis set again, but the first addition's approvals were for epoch 0.
        let replayed = chain.makeBlock(entries: [], proposedTimeMillis: 0, proposer: "v0", signatureLines: lines(chain, ["v0", "v1", "v2"]),
                                       setChange: add)
        XCTAssertFalse(isValid(chain, replayed), "approvals of an earlier change to the same sets are not reused")
        decide(&chain, change: change(chain, to: five, approvers: ["v0", "v1", "v2"]), signers: ["v0", "v1", "v2"])
        XCTAssertEqual(chain.validators, five)
        XCTAssertEqual(chain.epoch, 3)
    }

    func testARotatedKeySignsFromTheNextCheckpoint() {
        var chain = started()
        let rotated = set(chain.validators.validators.map { $0.name == "v1" ? validator("v1", key: "v1-new") : $0 })
        decide(&chain, change: change(chain, to: rotated, approvers: ["v0", "v1", "v2"]), signers: ["v0", "v1", "v2"])
        XCTAssertTrue(chain.isEpochBoundary)
        // checkpoint(2) is the old keys'; v1 signs it with its old key.
        decide(&chain, proposer: "v1", signers: ["v0", "v1", "v2"])
        let next = { (keys: [String: String]) in
            self.isValid(chain, chain.makeBlock(entries: [], proposedTimeMillis: 0, proposer: "v0",
                                                signatureLines: self.lines(chain, ["v0", "v1", "v2"], keys: keys)))
        }
        XCTAssertFalse(next([:]), "v1's old key no longer counts on checkpoint(3)")
        XCTAssertTrue(next(["v1": "v1-new"]))
    }

    func testAChainResumedFromTheChangeLeavesHasBothSets() throws {
        var chain = started()
        var changes: [(index: UInt64, leafData: [UInt8])] = []
        func resumed() throws -> LedgerChain {
            try LedgerChain(origin: origin, genesis: c.genesis.validators, setChanges: changes, height: chain.height,
                            timeMillis: chain.timeMillis, tree: chain.tree)
        }
        let five = set(chain.validators.validators + [v4])
        let block = decide(&chain, change: change(chain, to: five, approvers: ["v0", "v1", "v2"]), signers: ["v0", "v1", "v2"])
        changes.append((chain.size - 2, block.entries.last!))
        for _ in 0..<2 {
            let r = try resumed()
            XCTAssertEqual(r.validators, chain.validators)
            XCTAssertEqual(r.tipValidators, chain.tipValidators)
            XCTAssertEqual(r.epoch, chain.epoch)
            XCTAssertEqual(r.isEpochBoundary, chain.isEpochBoundary)
            XCTAssertEqual(r.root, chain.root)
            decide(&chain, signers: chain.tipValidators.validators.prefix(chain.tipValidators.quorum).map(\.name))
        }
        XCTAssertThrowsError(try LedgerChain(origin: origin, genesis: c.genesis.validators, setChanges: changes + changes,
                                             height: chain.height, timeMillis: chain.timeMillis, tree: chain.tree), "out of order")
    }

    /// The node's side of a boundary: the old replica signs checkpoint(h) under its old index, then a
    /// new replica over the same files runs height h + 1 with the new set's parameters.
    func testANewReplicaPerEpoch() throws {
        let one = Consortium(validators: 1)
        let directory = NSTemporaryDirectory() + "cinnabar-epoch-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FileStore(directory: directory)
        try SignerGuard.create(in: store)
        var chain = one.genesis
        let old = try Replica(parameters: one.parameters, key: one.keys[0], store: store, evaluator: chain)
        var effects = try old.start()
        var lines = ""
        let two = set(chain.validators.validators + [validator("v1")])
        for h in UInt64(1)...2 {
            let block = chain.makeBlock(entries: [], proposedTimeMillis: h, proposer: "v0", signatureLines: lines,
                                        setChange: h == 2 ? change(chain, to: two, approvers: ["v0"]) : nil)
            effects = try old.proposeValue(height: h, round: 0, value: block.encoded)
            guard case .decided = effects.last else { return XCTFail("\(effects)") }
            chain.apply(block)
            let signature = try XCTUnwrap(try old.signCheckpoint(height: h, size: chain.size, root: chain.root))
            XCTAssertTrue(signature.verify(keys: chain.verifierKeys, checkpointText: chain.checkpointText))
            lines = signature.line.line
            if h == 1 { effects = try old.startNextHeight(evaluator: chain) }
        }
        XCTAssertTrue(chain.isEpochBoundary)

        let parameters = ConsensusParameters(chainID: origin, validators: chain.validators)
        let keys = try two.validators.enumerated().map { i, v in try ValidatorKey(index: i, seed: seed(v.name), validators: two, origin: origin) }
        let me = two.validators.firstIndex { $0.name == "v0" }!, other = 1 - me
        let replica = try Replica(parameters: parameters, key: keys[me], store: store, evaluator: chain)
        effects = try replica.start()
        XCTAssertEqual(replica.height, 3)
        let block = chain.makeBlock(entries: [record("x")], proposedTimeMillis: 3, proposer: two.validators[parameters.proposer(height: 3, round: 0)].name,
                                    signatureLines: lines)
        let id = try XCTUnwrap(chain.evaluate(block.encoded)).id
        if parameters.proposer(height: 3, round: 0) == me {
            XCTAssertTrue(effects.contains(.requestValue(height: 3, round: 0)))
            effects = try replica.proposeValue(height: 3, round: 0, value: block.encoded)
        } else {
            let p = Proposal(height: 3, round: 0, validRound: -1, valueID: id, proposer: other)
            effects = try replica.receive(.proposal(SignedProposal(proposal: p, signature: keys[other].privateKey.signature(for: p.signBytes(chainID: origin)),
                                                                   value: block.encoded, proofOfLock: [])))
        }
        for type in [VoteType.prevote, .precommit] {
            let vote = Vote(type: type, height: 3, round: 0, valueID: id, validator: other)
            effects += try replica.receive(.vote(SignedVote(vote: vote, signature: keys[other].privateKey.signature(for: vote.signBytes(chainID: origin)))))
        }
        guard case let .decided(d) = effects.last else { return XCTFail("height 3 needs both of the two: \(effects)") }
        XCTAssertEqual(d.value.bytes, block.encoded)
        XCTAssertEqual(try d.certificate.verify(parameters), 2)
    }
}
