// The committed tip as consensus needs it: what the next block must chain to, and the pure,
// deterministic valid(v) and id(v) of consensus.md §2.2. No clock is read: a block's time is
// checked only against the previous block's.
import CinnabarCrypto
import Ledger
import MerkleLog
import SignedNote

/// The state after the last decided block, and the rules for the next one. A value type: the
/// core keeps a copy per height, the application advances its own with `apply`.
///
/// Two validator sets (consensus.md §2.10): `tipValidators` decided block `height` and sign its
/// checkpoint — block `height + 1` embeds their signatures; `validators` decide `nextHeight`. They
/// differ only right after a block that carries a validator-set change (`isEpochBoundary`).
public struct LedgerChain: ValueEvaluator {
    public let origin: String
    /// The set in force for `nextHeight`: it proposes and votes (`ConsensusParameters`), and the
    /// next trailer's `validatorSetHash` is its hash.
    public private(set) var validators: ValidatorSet
    /// The set that decided block `height` and signs checkpoint(height) (the genesis set at 0).
    public private(set) var tipValidators: ValidatorSet
    /// The number of validator-set changes decided so far: `validators`' epoch (0 for the genesis
    /// set). Approvals of the next change sign it.
    public private(set) var epoch: UInt64
    /// Height of the last decided block (0 before block 1), its tree size, root and time.
    public private(set) var height: UInt64
    public private(set) var size: UInt64
    public private(set) var root: Hash
    public private(set) var timeMillis: UInt64
    /// The right edge of the tree at `size`.
    public private(set) var tree: TreeAppender
    /// The checkpoint verifier keys (type 0x01, `<origin>/<name>`) of `tipValidators`, in set
    /// order: the keys that sign checkpoint(height).
    public private(set) var verifierKeys: [NoteVerifierKey]
    /// An optional application rule on the record entries of a block (for example "not already
    /// logged"; a trailing validator-set change is not passed to it); it must be deterministic and
    /// the same at every validator.
    public let entryRule: (@Sendable ([[UInt8]]) -> Bool)?

    /// The chain before block 1.
    public init(origin: String, validators: ValidatorSet, entryRule: (@Sendable ([[UInt8]]) -> Bool)? = nil) throws {
        self.origin = origin
        self.validators = validators
        self.tipValidators = validators
        self.epoch = 0
        self.verifierKeys = try validators.verifierKeys(origin: origin)
        self.entryRule = entryRule
        height = 0
        size = 0
        root = RFC6962.emptyRoot
        timeMillis = 0
        tree = TreeAppender()
    }

    /// A chain resumed at a stored tip (the node's store gives the tree's right edge).
    /// `tipValidators` is the set that decided block `height` if it is not `validators` (the tip
    /// block carried a change), `epoch` the number of changes in the log; see also
    /// `init(origin:genesis:setChanges:…)`, which works both out from the change leaves.
    public init(origin: String, validators: ValidatorSet, tipValidators: ValidatorSet? = nil, epoch: UInt64 = 0, height: UInt64,
                timeMillis: UInt64, tree: TreeAppender, entryRule: (@Sendable ([[UInt8]]) -> Bool)? = nil) throws {
        try self.init(origin: origin, validators: tipValidators ?? validators, entryRule: entryRule)
        _ = try validators.verifierKeys(origin: origin)
        self.validators = validators
        self.epoch = epoch
        self.height = height
        self.size = tree.size
        self.root = tree.rootHash
        self.timeMillis = timeMillis
        self.tree = tree
    }

    /// A chain resumed at a stored tip from the genesis set and the log's validator-set change
    /// leaves (leaf index and data, in log order, all below `tree.size`): each was valid when its
    /// block was decided, so they are decoded, not checked again. Throws on a leaf that does not
    /// decode or indices out of order.
    public init(origin: String, genesis: ValidatorSet, setChanges: [(index: UInt64, leafData: [UInt8])], height: UInt64,
                timeMillis: UInt64, tree: TreeAppender, entryRule: (@Sendable ([[UInt8]]) -> Bool)? = nil) throws {
        var sets = [genesis]
        var previous: UInt64?
        for (index, leaf) in setChanges {
            guard index < tree.size, previous.map({ $0 < index }) ?? true else {
                throw LedgerError.malformedSetChange("change leaf \(index) is out of order or beyond the tip (size \(tree.size))")
            }
            sets.append(try ValidatorSetChange(leafData: leaf).newSet)
            previous = index
        }
        // The change is the last entry of its block, so the tip block carried it iff it is leaf size − 2.
        let tipChanged = previous.map { $0 + 2 == tree.size } ?? false
        try self.init(origin: origin, validators: sets[sets.count - 1], tipValidators: tipChanged ? sets[sets.count - 2] : nil,
                      epoch: UInt64(setChanges.count), height: height, timeMillis: timeMillis, tree: tree, entryRule: entryRule)
    }

    /// True right after a block that changed the set: the node must re-make its
    /// `ConsensusParameters` (and `Replica`) from `validators` before deciding `nextHeight`, while
    /// checkpoint(height) is still signed by `tipValidators`.
    public var isEpochBoundary: Bool { validators != tipValidators }

    public var nextHeight: UInt64 { height + 1 }

    /// checkpoint(height): the note text every validator signs after deciding the block.
    public var checkpointText: String { LedgerChain.checkpointText(origin: origin, size: size, root: root) }

    public static func checkpointText(origin: String, size: UInt64, root: Hash) -> String {
        "\(origin)\n\(size)\n\(root.base64)\n"
    }

    /// id(v) and valid(v) of a block proposed for `nextHeight`.
    ///
    /// Nil (not a binding value) when the bytes do not decode, a bound is exceeded, or the
    /// embedded signature lines do not hash to the trailer's `lastCosigsHash`. Otherwise the id is
    /// the one of the checkpoint the block produces, and `isValid` checks, in order: origin,
    /// height, `prevSize`/`prevRoot` = the tip, entry count, time strictly after the tip's, the
    /// proposer is a validator, every entry is a well-formed record leaf with no repeat in the block
    /// except that the last may be a validator-set change (consensus.md §2.10) approved by a quorum
    /// of `validators` and one step from them, `validatorSetHash` is the set in force and
    /// `nextValidatorSetHash` the changed set (or the same set), the entry rule on the records,
    /// and — from height 2 — at least Q of `tipValidators` validly signed checkpoint(h−1).
    public func evaluate(_ bytes: [UInt8]) -> Evaluation? {
        guard let block = LedgerBlock(encoded: bytes) else { return nil }
        let lines = Array(block.signatureLines.utf8)
        guard SHA256.hash(lines) == block.trailer.lastCosigsHash else { return nil }
        var next = tree
        var leafHashes = block.entries.map(RFC6962.leafHash)
        for hash in leafHashes { next.append(leafHash: hash) }
        let trailerHash = RFC6962.leafHash(block.trailer.leafData)
        next.append(leafHash: trailerHash)
        let newRoot = next.rootHash
        let id = ValueID(origin: origin, size: next.size, root: newRoot)
        let (valid, verified) = isValid(block, leafHashes: leafHashes)
        leafHashes.append(trailerHash)
        return Evaluation(id: id, size: next.size, root: newRoot, isValid: valid, signaturesVerified: verified, leafHashes: leafHashes,
                          tree: next)
    }

    private func isValid(_ block: LedgerBlock, leafHashes: [Hash]) -> (Bool, Int) {
        let t = block.trailer
        guard t.origin == origin, t.height == height + 1, t.previousSize == size, t.previousRoot == root,
              Int(t.entryCount) == block.entries.count, t.timeMillis > timeMillis,
              validators.validator(named: t.proposer) != nil, t.validatorSetHash == validators.hash else { return (false, 0) }
        // A change may only be the last entry (`setChange`); every other entry must be a record a
        // writer could submit (checked below), so a 0x02 leaf anywhere else is refused.
        let change: ValidatorSetChange?
        do { change = try block.setChange() } catch { return (false, 0) }
        guard t.nextValidatorSetHash == (change?.newSet ?? validators).hash else { return (false, 0) }
        if let change, (try? change.check(origin: origin, epoch: epoch, current: validators)) == nil { return (false, 0) }
        let records = block.recordEntries
        // No repeated entry: compared by leaf hash (equal hashes are equal leaves), which costs a
        // few words per entry where hashing the leaves' bytes again would cost every byte.
        var seen = Set<Hash>(minimumCapacity: leafHashes.count)
        for (entry, hash) in zip(records, leafHashes) {
            guard (try? LeafError.check(submitted: entry)) != nil, seen.insert(hash).inserted else { return (false, 0) }
        }
        if let entryRule, !entryRule(records) { return (false, 0) }
        if height == 0 { return (block.signatureLines.isEmpty, 0) }
        let (signers, verified) = checkpointSigners(block.signatureLines)
        return (signers >= tipValidators.quorum, verified)
    }

    /// How many distinct `tipValidators`' lines in `lines` verify on checkpoint(height), and how many
    /// signatures were checked. A line from a validator's key that does not verify makes it 0
    /// (signed-note: a known key's bad line rejects the note); lines from unknown keys are ignored.
    public func checkpointSigners(_ lines: String) -> (signers: Int, verified: Int) {
        guard !lines.isEmpty, let note = try? Note(parsing: checkpointText + "\n" + lines) else { return (0, 0) }
        let known = note.signatures.filter { line in verifierKeys.contains { line.isFrom($0) } }.count
        guard let keys = try? note.verify(keys: verifierKeys) else { return (0, known) }
        return (keys.count, known)
    }

    /// The block a proposer offers for `nextHeight`: entries, then `setChange` if given (the last
    /// entry, consensus.md §2.10), a trailer chained to the tip with `max(proposedTime, tip time + 1)`
    /// as its time and the changed set as `nextValidatorSetHash`, and the given signature lines on
    /// the tip's checkpoint (empty at height 1).
    public func makeBlock(entries: [[UInt8]], proposedTimeMillis: UInt64, proposer: String, signatureLines: String,
                          setChange: ValidatorSetChange? = nil) -> LedgerBlock {
        let leaves = entries + (setChange.map { [$0.leafData] } ?? [])
        let trailer = BlockTrailer(
            origin: origin, height: height + 1, previousSize: size, previousRoot: root,
            timeMillis: max(proposedTimeMillis, timeMillis + 1), proposer: proposer, entryCount: UInt32(leaves.count),
            validatorSetHash: validators.hash, nextValidatorSetHash: (setChange?.newSet ?? validators).hash,
            lastCosigsHash: SHA256.hash(Array(signatureLines.utf8)))
        return LedgerBlock(entries: leaves, trailer: trailer, signatureLines: signatureLines)
    }

    /// Advances past a decided block (`evaluate` returned it valid for this chain). If it carries a
    /// validator-set change, the new set decides from the next height on (`isEpochBoundary`), and
    /// the set that decided this block signs its checkpoint.
    /// `evaluated`, if given, is the tree with the block appended that its evaluation on this chain
    /// built (`Evaluation.tree`): it saves hashing the leaves again.
    public mutating func apply(_ block: LedgerBlock, evaluated: TreeAppender? = nil) {
        precondition(block.trailer.height == height + 1 && block.trailer.previousSize == size
                     && block.trailer.previousRoot == root, "block does not chain to the tip")
        tree = block.appended(to: tree, evaluated: evaluated)
        _ = tree.takeChangedTiles()
        height += 1
        size = tree.size
        root = tree.rootHash
        timeMillis = block.trailer.timeMillis
        if tipValidators != validators {
            tipValidators = validators
            verifierKeys = try! validators.verifierKeys(origin: origin)  // valid(v) checked every key name
        }
        if let change = try! block.setChange() {  // valid(v) decoded it
            validators = change.newSet
            epoch += 1
        }
    }
}
