// The light client's view of who may sign which checkpoint (consensus.md §2.12): from a pinned
// genesis set and origin, each validator-set change, proved in order, opens an epoch. A
// checkpoint is trusted iff a quorum of the set in force at its size signed it.
import CinnabarCrypto
import MerkleLog
import SignedNote

/// The validator sets of a log by tree size, followed change by change from the genesis set
/// (CometBFT's "sequential verification": no trust in any overlap between sets).
public struct ValidatorEpochs: Sendable {
    /// From tree size `fromSize` on, checkpoints must be signed by a quorum of `set`.
    public struct Epoch: Equatable, Sendable, CustomStringConvertible {
        /// 0 for the genesis set, one more after each change: what approvals of the next change sign.
        public let number: UInt64
        public let fromSize: UInt64
        public let set: ValidatorSet
        /// The leaf index of the change that opened the epoch (nil for the genesis epoch).
        public let changeIndex: UInt64?

        /// "genesis set: NAMES" or "set since the change at leaf I: NAMES", names in alphabetical order.
        public var description: String {
            let names = set.validators.map(\.name).sorted().joined(separator: ", ")
            guard let changeIndex else { return "genesis set: \(names)" }
            return "set since the change at leaf \(changeIndex): \(names)"
        }
    }

    public let origin: String
    /// In increasing `fromSize`; the first is the genesis epoch, from size 0.
    public private(set) var epochs: [Epoch]

    /// The pinned genesis set of log `origin`. Throws `invalidValidatorSet` if a validator's key
    /// name `<origin>/<name>` is not a valid note key name.
    public init(genesis: ValidatorSet, origin: String) throws(LedgerError) {
        do { _ = try genesis.verifierKeys(origin: origin) } catch {
            throw .invalidValidatorSet("no key names under \(origin): \(error)")
        }
        self.origin = origin
        epochs = [Epoch(number: 0, fromSize: 0, set: genesis, changeIndex: nil)]
    }

    /// The set in force for checkpoints of `size`: the last epoch starting at or before it.
    public func set(forSize size: UInt64) -> ValidatorSet { epoch(forSize: size).set }

    /// The epoch in force for checkpoints of `size`.
    public func epoch(forSize size: UInt64) -> Epoch { epochs.last(where: { $0.fromSize <= size })! }

    /// Follows one change: the leaf `changeLeaf` at `index`, its RFC 9162 inclusion `proof`, and
    /// the signed `checkpoint` note of its block that the proof is under. Checks, in order: the
    /// checkpoint is signed by a quorum of the set in force (the previous set); the change is in
    /// the last epoch and the checkpoint is of its block (sizes `index + 1 … index + 2`: the change
    /// is the block's last entry, its trailer the last leaf); the inclusion proof; the leaf decodes;
    /// the change is one step, approved by a quorum of the previous set for the last epoch's number.
    /// Then sizes from `index + 3` belong to the new set. Returns the step.
    @discardableResult
    public mutating func apply(changeLeaf: [UInt8], index: UInt64, proof: [Hash], checkpoint: String) throws(LedgerError) -> ValidatorSetChange.Step {
        let last = epochs.last!
        let signed = try verify(checkpointNote: checkpoint)
        // The first tree holding the change must be in the last epoch: changes come in order.
        guard index + 1 >= last.fromSize else {
            throw .unprovedSetChange("the change at leaf \(index) comes before the epoch that starts at size \(last.fromSize)")
        }
        guard signed.size > index, signed.size <= index + 2 else {
            throw .unprovedSetChange("the checkpoint of size \(signed.size) is not of the block of leaf \(index) (size \(index + 2))")
        }
        do {
            try InclusionProof.verify(leafHash: RFC6962.leafHash(changeLeaf), index: index, size: signed.size, proof: proof, root: signed.root)
        } catch {
            throw .unprovedSetChange("leaf \(index) is not in the checkpoint of size \(signed.size): \(error)")
        }
        let change = try ValidatorSetChange(leafData: changeLeaf)
        let step = try change.check(origin: origin, epoch: last.number, current: last.set)
        epochs.append(Epoch(number: last.number + 1, fromSize: index + 3, set: change.newSet, changeIndex: index))
        return step
    }

    /// The checkpoint of a signed note, if at least Q = ⌊2n/3⌋ + 1 distinct validators of the set
    /// in force at its size signed it. Lines from other keys are ignored; a line from a key of
    /// that set that does not verify rejects the note (signed-note). The error names who signed,
    /// and which signers are validators no longer in force.
    public func verify(checkpointNote text: String) throws(LedgerError) -> Checkpoint {
        let note: Note
        let checkpoint: Checkpoint
        do {
            note = try Note(parsing: text)
            checkpoint = try Checkpoint(parsing: note.text)
        } catch { throw .untrustedCheckpoint("\(error)") }
        guard checkpoint.origin == origin else {
            throw .untrustedCheckpoint("the checkpoint is of \(checkpoint.origin), not \(origin)")
        }
        let epoch = epoch(forSize: checkpoint.size)
        let keys = (try? epoch.set.verifierKeys(origin: origin)) ?? []
        let signers: [NoteVerifierKey]
        do { signers = try note.verify(keys: keys) } catch NoteError.noVerifiedSignature { signers = [] } catch {
            throw .untrustedCheckpoint("\(error)")
        }
        guard signers.count >= epoch.set.quorum else {
            let names = epoch.set.validators.filter { v in signers.contains { $0.publicKey == v.publicKey } }.map(\.name).sorted()
            let former = ValidatorEpochs.signedOutOfTurn(formerValidators(signing: note, atSize: checkpoint.size))
            throw .untrustedCheckpoint(
                "size \(checkpoint.size) is signed by \(signers.count) of the \(epoch.set.validators.count) validators in force"
                + " (\(epoch)): \(names.isEmpty ? "none" : names.joined(separator: ", ")); \(epoch.set.quorum) needed"
                + (former.map { "; also \($0)" } ?? ""))
        }
        return checkpoint
    }

    /// The validators of other epochs, not in the set in force at `size`, whose signature on `note`
    /// verifies (a re-keyed validator's old key counts as such): who signed out of turn.
    public func formerValidators(signing note: Note, atSize size: UInt64) -> [Validator] {
        let inForce = Set(set(forSize: size).validators)
        var former: [Validator] = []
        for v in epochs.flatMap(\.set.validators) where !inForce.contains(v) && !former.contains(v) {
            if let key = try? v.verifierKey(origin: origin), (try? note.verify(keys: [key])) != nil { former.append(v) }
        }
        return former
    }

    /// "signed by d, no longer a validator at that size" for `former` (nil if there are none).
    public static func signedOutOfTurn(_ former: [Validator]) -> String? {
        guard !former.isEmpty else { return nil }
        let names = former.map(\.name).sorted().joined(separator: ", ")
        return "signed by \(names), no longer \(former.count == 1 ? "a validator" : "validators") at that size"
    }

}
