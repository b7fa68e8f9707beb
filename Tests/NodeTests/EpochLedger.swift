// A consortium ledger whose validator set changes, written into a real store block by block as the
// node writes it: each block made and checked by LedgerChain, certified by a quorum of the set that
// decides it, stored by BlockBuilder, and its checkpoint signed by the set that decided it.
import CinnabarCrypto
import Consensus
import Foundation
import Ledger
import MerkleLog
import Node
import SignedNote
import Storage
import XCTest

final class EpochLedger {
    let origin = "test.example/epochs"
    let path = NSTemporaryDirectory() + "cinnabar-epochs-\(UUID().uuidString)"
    let store: LedgerStore
    let genesisSet: ValidatorSet
    private(set) var chain: LedgerChain
    private var builder: BlockBuilder
    /// The lines on checkpoint(chain.height) that the next block embeds.
    private(set) var lastLines = ""
    /// Every change leaf written: what the node engineer's index hands to `ProofBundle.make`.
    private(set) var changes: [(index: UInt64, leaf: [UInt8])] = []
    /// Key label of each validator name (a re-keyed validator signs under its new label).
    var labels: [String: String] = [:]

    init(validators names: [String]) throws {
        genesisSet = try ValidatorSet(names.map { EpochLedger.validator($0) })
        store = try LedgerStore(directory: path)
        chain = try LedgerChain(origin: origin, validators: genesisSet)
        builder = try BlockBuilder(store: store)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    static func seed(_ label: String) -> [UInt8] { SHA256.hash(Array("epoch-ledger-key/\(label)".utf8)).bytes }
    static func validator(_ name: String, key label: String? = nil) -> Validator {
        Validator(name: name, publicKey: Ed25519PrivateKey(seed: seed(label ?? name))!.publicKey)
    }

    func privateKey(_ name: String) -> Ed25519PrivateKey { Ed25519PrivateKey(seed: EpochLedger.seed(labels[name] ?? name))! }

    /// The genesis of a node directory pinning the genesis set.
    var genesis: Genesis {
        Genesis(origin: origin, validators: genesisSet.validators.map { Genesis.Member(name: $0.name, key: try! $0.verifierKey(origin: origin).vkey) })
    }

    /// A change to `new` approved by the named current validators.
    func change(to new: ValidatorSet, approvers: [String]) -> ValidatorSetChange {
        ValidatorSetChange(newSet: new, approvals: approvers.map {
            ValidatorSetChange.approve(origin: origin, epoch: chain.epoch, current: chain.validators, new: new, key: privateKey($0))!
        })
    }

    /// Signature lines on checkpoint(chain.height) by the named validators (their current keys).
    func lines(_ signers: [String]) -> String {
        signers.map { try! NoteSigningKey(name: "\(origin)/\($0)", seed: privateKey($0).seed).signature(for: chain.checkpointText).line }.joined()
    }

    /// Decides, stores and signs the next block. `checkValid: false` writes a block valid(v) refuses
    /// (as a faulty node might), to see the audit catch it. `signers` sign its checkpoint (default:
    /// every validator of the set that decided it). `embedding` is the signature lines on the
    /// previous checkpoint the block embeds (default: those stored with it), as a proposer that
    /// collected another quorum (`lines([...])`) would. Returns the signed checkpoint note.
    @discardableResult
    func block(_ entries: [[UInt8]] = [], change: ValidatorSetChange? = nil, signers: [String]? = nil, embedding: String? = nil,
               checkValid: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let deciding = chain.validators
        let block = chain.makeBlock(entries: entries, proposedTimeMillis: 1_000 * (chain.height + 1), proposer: deciding.validators[0].name,
                                    signatureLines: embedding ?? lastLines, setChange: change)
        let evaluation = try XCTUnwrap(chain.evaluate(block.encoded), file: file, line: line)
        if checkValid { XCTAssertTrue(evaluation.isValid, "block \(chain.nextHeight)", file: file, line: line) }
        let precommits = deciding.validators.enumerated().prefix(deciding.quorum).map { i, v in
            let vote = Vote(type: .precommit, height: chain.nextHeight, round: 0, valueID: evaluation.id, validator: i)
            return SignedVote(vote: vote, signature: privateKey(v.name).signature(for: vote.signBytes(chainID: origin)))
        }
        let certificate = CommitCertificate(height: chain.nextHeight, round: 0, valueID: evaluation.id, precommits: precommits)
        let prepared = try builder.prepare(block, certificate: WireCodec.encode(certificate))
        try store.commit(prepared.commit)
        builder.accept(prepared)
        if let change { changes.append((block.trailer.size - 2, change.leafData)) }
        chain.apply(block)
        lastLines = lines(signers ?? chain.tipValidators.validators.map(\.name))
        let note = chain.checkpointText + "\n" + lastLines
        try store.publish(height: chain.height, signedCheckpoint: note)
        return note
    }
}
