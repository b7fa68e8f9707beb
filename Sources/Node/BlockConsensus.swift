// The node's blocks are decided by the consensus engine (issue 5 §4, consensus.md §2.13): with
// one validator, each block the sequencer offers is decided by this node's own proposal, prevote
// and precommit, through the same write-ahead log and signer guard a validator of seven uses.
// The decision order of consensus.md §2.8: the decided block and its certificate are made durable,
// then the checkpoint is signed (once per height, by the guard), then the next height starts.
import Consensus
import ConsensusStorage
import Foundation
import CinnabarCrypto
import Ledger
import MerkleLog
import SignedNote
import Storage

/// Why the engine could not decide or record a block. The sequencer stops on it.
public struct ConsensusDriverError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

/// One validator's engine, its chain state (valid(v) and id(v)) and its durable files.
final class BlockConsensus {
    private let replica: Replica
    private(set) var chain: LedgerChain
    private let proposer: String
    /// The signature lines on the tip's checkpoint: what the next block embeds (§2.9).
    private(set) var lastSignatureLines: String
    /// Effects not handled yet: after a height starts, the request for a value; once it is
    /// decided (or a decision is replayed from the WAL), the decision.
    private var pending: [Effect]

    /// The decision among the pending effects: the block to store next.
    private var decision: Decision? {
        for effect in pending { if case let .decided(d) = effect { return d } }
        return nil
    }

    /// Opens the engine at the store's tip. The signer state in `files` must exist (`create`
    /// makes it for a new ledger); if it is gone the node refuses to sign (§2.8).
    init(files: DurableStore, origin: String, validators: ValidatorSet, me: Validator, key: NoteSigningKey,
         store: LedgerStore, tree: TreeAppender) throws {
        guard let index = validators.validators.firstIndex(where: { $0.name == me.name }) else {
            throw ConsensusDriverError("validator \(me.name) is not in the set")
        }
        if let tip = store.tip {
            chain = try LedgerChain(origin: origin, validators: validators, height: tip.height, timeMillis: tip.timeMillis, tree: tree)
        } else {
            chain = try LedgerChain(origin: origin, validators: validators)
        }
        proposer = me.name
        replica = try Replica(parameters: ConsensusParameters(chainID: origin, validators: validators),
                              key: try ValidatorKey(index: index, seed: key.seed, validators: validators, origin: origin),
                              store: files, evaluator: chain)
        lastSignatureLines = ""
        pending = []
        if let tip = store.tip {
            if let note = try store.checkpoint(height: tip.height) {
                lastSignatureLines = Audit.signatureLines(note)
            } else {
                // Crashed after the block was durable, before its checkpoint was stored: the guard
                // gives back the signature it made (or makes it now), never a second one.
                lastSignatureLines = try signTip()
                try store.publish(height: tip.height, signedCheckpoint: chain.checkpointText + "\n" + lastSignatureLines)
            }
        }
        pending = try replica.start()  // a decision replayed from the WAL is `recoveredDecision`
    }

    /// Creates the signer state of a new validator in `files` (once, with the ledger).
    static func create(in files: DurableStore) throws { try SignerGuard.create(in: files) }

    /// A block decided before a crash but not yet in the store (replayed from the WAL), if any.
    var recoveredDecision: Decided? {
        guard let d = decision, let block = LedgerBlock(encoded: d.value.bytes) else { return nil }
        return Decided(block: block, certificate: WireCodec.encode(d.certificate), evaluation: d.value.evaluation)
    }

    /// A decided block, its encoded certificate, and its evaluation (leaf hashes and tree).
    struct Decided {
        let block: LedgerBlock
        let certificate: [UInt8]
        let evaluation: Evaluation
    }

    /// Proposes a block of `entries` for the next height and returns it decided, with its
    /// certificate. With one validator the proposer's own votes are the quorum.
    func decide(entries: [[UInt8]], timeMillis: UInt64) throws -> Decided {
        guard let (height, round) = pending.lazy.compactMap({ effect -> (UInt64, Int)? in
            if case let .requestValue(h, r) = effect { return (h, r) } else { return nil }
        }).first else {
            throw ConsensusDriverError("the engine is not waiting for a value at height \(chain.nextHeight)")
        }
        let block = chain.makeBlock(entries: entries, proposedTimeMillis: timeMillis, proposer: proposer, signatureLines: lastSignatureLines)
        let value = block.encoded
        pending = try replica.proposeValue(height: height, round: round, value: value)
        for effect in pending {
            if case let .refused(why) = effect { throw ConsensusDriverError("the signer guard refused: \(why)") }
        }
        guard let d = decision else { throw ConsensusDriverError("height \(height) was not decided: \(pending)") }
        guard d.value.bytes == value else { throw ConsensusDriverError("height \(height) decided another block") }
        return Decided(block: block, certificate: WireCodec.encode(d.certificate), evaluation: d.value.evaluation)
    }

    /// The decided block is durable — in the store, or in this height's WAL, kept until
    /// `storeIsDurable(through:)` — and `tree` is the tree with it appended (the block builder
    /// computed it once; hashing every leaf again here would cost as much): sign its checkpoint
    /// and start the next height. Returns the signed checkpoint note. If the next height was
    /// decided before a crash too, `recoveredDecision` gives it.
    func committed(_ block: LedgerBlock, tree: TreeAppender) throws -> String {
        guard tree.size == chain.size + UInt64(block.leaves.count), tree.rootHash == decision?.value.evaluation.root else {
            throw ConsensusDriverError("the stored block \(block.trailer.height) does not give the decided checkpoint")
        }
        chain = try LedgerChain(origin: chain.origin, validators: chain.validators, height: block.trailer.height,
                                timeMillis: block.trailer.timeMillis, tree: tree)
        lastSignatureLines = try signTip()
        pending = try replica.startNextHeight(evaluator: chain, keepingFinishedWAL: true)
        return chain.checkpointText + "\n" + lastSignatureLines
    }

    /// The store has synced every block up to `height`: the WALs that kept them are deleted.
    func storeIsDurable(through height: UInt64) throws {
        try replica.discardFinishedWALs(through: height)
    }

    private func signTip() throws -> String {
        guard let signature = try replica.signCheckpoint(height: chain.height, size: chain.size, root: chain.root) else {
            throw ConsensusDriverError("the signer guard refused to sign checkpoint \(chain.size) (it signed a larger one)")
        }
        return signature.line.line
    }
}
