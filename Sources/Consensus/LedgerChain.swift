// The committed tip as consensus needs it: what the next block must chain to, and the pure,
// deterministic valid(v) and id(v) of consensus.md §2.2. No clock is read: a block's time is
// checked only against the previous block's.
import CinnabarCrypto
import Ledger
import MerkleLog
import SignedNote

/// The state after the last decided block, and the rules for the next one. A value type: the
/// core keeps a copy per height, the application advances its own with `apply`.
public struct LedgerChain: ValueEvaluator {
    public let origin: String
    public let validators: ValidatorSet
    /// Height of the last decided block (0 before block 1), its tree size, root and time.
    public private(set) var height: UInt64
    public private(set) var size: UInt64
    public private(set) var root: Hash
    public private(set) var timeMillis: UInt64
    /// The right edge of the tree at `size`.
    public private(set) var tree: TreeAppender
    /// The validators' checkpoint verifier keys (type 0x01, `<origin>/<name>`), in set order.
    public let verifierKeys: [NoteVerifierKey]
    /// An optional application rule on the entries of a block (for example "not already logged");
    /// it must be deterministic and the same at every validator.
    public let entryRule: (@Sendable ([[UInt8]]) -> Bool)?

    /// The chain before block 1.
    public init(origin: String, validators: ValidatorSet, entryRule: (@Sendable ([[UInt8]]) -> Bool)? = nil) throws {
        self.origin = origin
        self.validators = validators
        self.verifierKeys = try validators.verifierKeys(origin: origin)
        self.entryRule = entryRule
        height = 0
        size = 0
        root = RFC6962.emptyRoot
        timeMillis = 0
        tree = TreeAppender()
    }

    /// A chain resumed at a stored tip (the node's store gives the tree's right edge).
    public init(origin: String, validators: ValidatorSet, height: UInt64, timeMillis: UInt64, tree: TreeAppender,
                entryRule: (@Sendable ([[UInt8]]) -> Bool)? = nil) throws {
        try self.init(origin: origin, validators: validators, entryRule: entryRule)
        self.height = height
        self.size = tree.size
        self.root = tree.rootHash
        self.timeMillis = timeMillis
        self.tree = tree
    }

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
    /// proposer is a validator, both validator-set hashes are the set in force (set changes are
    /// not accepted yet), every entry is a well-formed record leaf with no repeat in the block, the
    /// entry rule, and — from height 2 — at least Q valid validator signatures on checkpoint(h−1).
    public func evaluate(_ bytes: [UInt8]) -> Evaluation? {
        guard let block = LedgerBlock(encoded: bytes) else { return nil }
        let lines = Array(block.signatureLines.utf8)
        guard SHA256.hash(lines) == block.trailer.lastCosigsHash else { return nil }
        var next = tree
        let leafHashes = block.entries.map(RFC6962.leafHash)
        for hash in leafHashes { next.append(leafHash: hash) }
        next.append(leafHash: RFC6962.leafHash(block.trailer.leafData))
        let newRoot = next.rootHash
        let id = ValueID(origin: origin, size: next.size, root: newRoot)
        let (valid, verified) = isValid(block, leafHashes: leafHashes)
        return Evaluation(id: id, size: next.size, root: newRoot, isValid: valid, signaturesVerified: verified)
    }

    private func isValid(_ block: LedgerBlock, leafHashes: [Hash]) -> (Bool, Int) {
        let t = block.trailer
        guard t.origin == origin, t.height == height + 1, t.previousSize == size, t.previousRoot == root,
              Int(t.entryCount) == block.entries.count, t.timeMillis > timeMillis,
              validators.validator(named: t.proposer) != nil,
              t.validatorSetHash == validators.hash, t.nextValidatorSetHash == validators.hash else { return (false, 0) }
        // No repeated entry: compared by leaf hash (equal hashes are equal leaves), which costs a
        // few words per entry where hashing the leaves' bytes again would cost every byte.
        var seen = Set<Hash>(minimumCapacity: leafHashes.count)
        for (entry, hash) in zip(block.entries, leafHashes) {
            guard (try? LeafError.check(submitted: entry)) != nil, seen.insert(hash).inserted else { return (false, 0) }
        }
        if let entryRule, !entryRule(block.entries) { return (false, 0) }
        if height == 0 { return (block.signatureLines.isEmpty, 0) }
        let (signers, verified) = checkpointSigners(block.signatureLines)
        return (signers >= validators.quorum, verified)
    }

    /// How many distinct validators' lines in `lines` verify on checkpoint(height), and how many
    /// signatures were checked. A line from a validator's key that does not verify makes it 0
    /// (signed-note: a known key's bad line rejects the note); lines from unknown keys are ignored.
    public func checkpointSigners(_ lines: String) -> (signers: Int, verified: Int) {
        guard !lines.isEmpty, let note = try? Note(parsing: checkpointText + "\n" + lines) else { return (0, 0) }
        let known = note.signatures.filter { line in verifierKeys.contains { line.isFrom($0) } }.count
        guard let keys = try? note.verify(keys: verifierKeys) else { return (0, known) }
        return (keys.count, known)
    }

    /// The block a proposer offers for `nextHeight`: entries, a trailer chained to the tip with
    /// `max(proposedTime, tip time + 1)` as its time, and the given signature lines on the tip's
    /// checkpoint (empty at height 1).
    public func makeBlock(entries: [[UInt8]], proposedTimeMillis: UInt64, proposer: String, signatureLines: String) -> LedgerBlock {
        let trailer = BlockTrailer(
            origin: origin, height: height + 1, previousSize: size, previousRoot: root,
            timeMillis: max(proposedTimeMillis, timeMillis + 1), proposer: proposer, entryCount: UInt32(entries.count),
            validatorSetHash: validators.hash, nextValidatorSetHash: validators.hash,
            lastCosigsHash: SHA256.hash(Array(signatureLines.utf8)))
        return LedgerBlock(entries: entries, trailer: trailer, signatureLines: signatureLines)
    }

    /// Advances past a decided block (`evaluate` returned it valid for this chain).
    public mutating func apply(_ block: LedgerBlock) {
        precondition(block.trailer.height == height + 1 && block.trailer.previousSize == size
                     && block.trailer.previousRoot == root, "block does not chain to the tip")
        for entry in block.entries { tree.append(leafHash: RFC6962.leafHash(entry)) }
        tree.append(leafHash: RFC6962.leafHash(block.trailer.leafData))
        _ = tree.takeChangedTiles()
        height += 1
        size = tree.size
        root = tree.rootHash
        timeMillis = block.trailer.timeMillis
    }
}
