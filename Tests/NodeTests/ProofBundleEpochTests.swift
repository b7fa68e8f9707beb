// The offline proof bundle across validator-set changes (consensus.md §2.12): it carries every
// change from genesis to its checkpoint, and its verifier follows them from the policy's pinned
// genesis set, trusting a checkpoint only if the set in force at its size signed it.
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
@testable import Node
import SignedNote
import XCTest

final class ProofBundleEpochTests: XCTestCase {
    var keys: TemporaryLedger!
    override func setUpWithError() throws { keys = try TemporaryLedger() }
    override func tearDown() { keys = nil }

    /// A signed evidence record's leaf, and its id.
    func record(_ n: UInt8) throws -> (id: String, leaf: [UInt8]) {
        let r = try keys.writer().evidence(sha256: SHA256.hash([n]).hex)
        return (r.id, [LeafTag.record.rawValue] + r.bytes)
    }

    /// Genesis {a, b, c, d}; a record in block 2, which adds e (leaf 2); block 4 removes d (leaf 6);
    /// a record in block 5, the last (size 10).
    func changingLedger() throws -> (EpochLedger, [(id: String, index: UInt64)]) {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        let first = try record(1), second = try record(2)
        try ledger.block()
        try ledger.block([first.leaf], change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators + [EpochLedger.validator("e")]),
                                                             approvers: ["a", "b", "c"]))
        try ledger.block([try record(9).leaf])
        try ledger.block(change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators.filter { $0.name != "d" }),
                                               approvers: ["b", "c", "d", "e"]))
        try ledger.block([second.leaf])
        return (ledger, [(first.id, 1), (second.id, 8)])
    }

    /// The bundle of the given records under the tip's checkpoint, as `ProofBundle.make` puts it together.
    func bundle(_ ledger: EpochLedger, _ records: [(id: String, index: UInt64)]) throws -> ProofBundle {
        let store = ledger.store, tip = try XCTUnwrap(store.tip)
        let entries = try records.map { id, index in
            let block = try XCTUnwrap(try store.block(containingLeaf: index))
            return ProofBundle.Entry(
                recordID: id, leafIndex: index, leaf: Base64.encode(try XCTUnwrap(try store.leaf(at: index))),
                inclusionProof: try store.hashReader.inclusionProof(index: index, size: tip.size).map(\.base64),
                trailerIndex: block.size - 1, trailer: Base64.encode(try XCTUnwrap(try store.leaf(at: block.size - 1))),
                trailerProof: try store.hashReader.inclusionProof(index: block.size - 1, size: tip.size).map(\.base64))
        }
        let organisations = try XCTUnwrap(try keys.directory.loadGenesis().organisations)
        return ProofBundle(format: ProofBundle.format, origin: ledger.origin, checkpoint: try XCTUnwrap(try store.checkpoint(height: tip.height)),
                           policy: try ProofBundle.policy(genesis: ledger.genesis), entries: entries,
                           writers: organisations.map { ProofBundle.Writer(org: $0.org, role: $0.role, name: $0.name, keys: $0.keys) },
                           governance: [], governanceQuorum: 1,
                           validatorSetChanges: try XCTUnwrap(try ProofBundle.setChanges(ledger.changes, upTo: tip.size, store: store)))
    }

    func verify(_ bundle: ProofBundle) throws -> ProofBundle.Report {
        let json = try JSONEncoder().encode(bundle)
        let decoded = try JSONDecoder().decode(ProofBundle.self, from: json)
        return decoded.verify(policy: try TlogPolicy(parsing: bundle.policy), today: "2026-01-01")
    }

    func testABundleFollowsTheChangesFromTheGenesisSet() throws {
        let (ledger, records) = try changingLedger()
        let bundle = try bundle(ledger, records)
        XCTAssertEqual(bundle.validatorSetChanges.map(\.leafIndex), [2, 6])
        let report = try verify(bundle)
        XCTAssertTrue(report.ok, report.failure ?? "")
        let checks = report.checks.map(\.what)
        XCTAssertTrue(checks.contains { $0.hasPrefix("validator-set change at leaf 2 adds e") && $0.hasSuffix("the validators are a, b, c, d, e") }, "\(checks)")
        XCTAssertTrue(checks.contains { $0.hasPrefix("validator-set change at leaf 6 removes d") }, "\(checks)")
        XCTAssertTrue(checks.contains("checkpoint of size 10 is signed by a quorum of the validators in force at that size"
            + " (set since the change at leaf 6: a, b, c, e)"), "\(checks)")
        XCTAssertEqual(Set(report.loggedAt.keys), Set(records.map(\.id)))
    }

    func testACheckpointSignedByTheOldQuorumIsRejectedAndSaysWhy() throws {
        let (ledger, records) = try changingLedger()
        var bundle = try bundle(ledger, records)
        // a, b and d were a quorum of the genesis set; d has been removed since size 9.
        bundle.checkpoint = ledger.chain.checkpointText + "\n" + ledger.lines(["a", "b", "d"])
        let failure = try XCTUnwrap(try verify(bundle).failure)
        XCTAssertTrue(failure.hasPrefix("checkpoint signatures: "), failure)
        XCTAssertTrue(failure.contains("at size 10 the validators in force are the set since the change at leaf 6: a, b, c, e"), failure)
        XCTAssertTrue(failure.contains("signed by d, no longer a validator at that size"), failure)
        // The same signatures satisfy a verifier that ignores the changes: what following them is for.
        XCTAssertNoThrow(try TlogPolicy(parsing: bundle.policy).verify(note: try Note(parsing: bundle.checkpoint)))
        bundle.checkpoint = ledger.chain.checkpointText + "\n" + ledger.lines(["a", "b", "e"])
        XCTAssertTrue(try verify(bundle).ok, "the new set's quorum")
    }

    func testATamperedChangeLeafFails() throws {
        let (ledger, records) = try changingLedger()
        var bundle = try bundle(ledger, records)
        var leaf = try XCTUnwrap(Base64.decode(bundle.validatorSetChanges[0].leaf))
        leaf[leaf.count - 10] ^= 0x01
        bundle.validatorSetChanges[0].leaf = Base64.encode(leaf)
        let failure = try XCTUnwrap(try verify(bundle).failure)
        XCTAssertTrue(failure.hasPrefix("validator-set change at leaf 2: validator-set change not proved: leaf 2 is not in the checkpoint of size 4"), failure)
    }

    func testAMissingChangeIsCaught() throws {
        let (ledger, records) = try changingLedger()
        var bundle = try bundle(ledger, records)
        // Without the changes, a, b, c (of the final four) are also three of the genesis four: the
        // checkpoint alone passes, but the trailer of the second record's block names another set.
        bundle.validatorSetChanges = []
        let failure = try XCTUnwrap(try verify(bundle).failure)
        XCTAssertTrue(failure.hasSuffix("block 5 names another validator set than the one in force at size 10:"
            + " a validator-set change is missing from the bundle"), failure)
        // Without only the first, the second does not follow from the genesis set.
        bundle = try self.bundle(ledger, records)
        bundle.validatorSetChanges.removeFirst()
        XCTAssertTrue(try verify(bundle).failure?.hasPrefix("validator-set change at leaf 6: ") == true)
    }

    func testABundleWithoutChangesMeansWhatItMeantBefore() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        let r = try record(3)
        try ledger.block()
        try ledger.block([r.leaf])
        let bundle = try bundle(ledger, [(r.id, 1)])
        XCTAssertEqual(bundle.validatorSetChanges.count, 0)
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(bundle)) as? [String: Any])
        XCTAssertEqual((json["validator_set_changes"] as? [Any])?.count, 0, "an empty list")
        json["validator_set_changes"] = nil
        let older = try JSONDecoder().decode(ProofBundle.self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(older.validatorSetChanges.count, 0, "a bundle made before changes existed")
        let report = older.verify(policy: try TlogPolicy(parsing: bundle.policy), today: "2026-01-01")
        XCTAssertTrue(report.ok, report.failure ?? "")
        XCTAssertTrue(report.checks.map(\.what).contains("checkpoint of size 3 is signed by a quorum of the validators in the policy"))
    }
}
