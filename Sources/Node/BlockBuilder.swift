// Turns a block into what the store writes: leaves, changed tiles, block record. The node's
// blocks arrive decided by the consensus engine (`prepare`); `build` makes and signs one directly,
// for tools that fill a store without a node (`bench proof`). Pure apart from the clock it is given.
import CinnabarCrypto
import Consensus
import Ledger
import MerkleLog
import SignedNote
import Storage

/// Builds blocks on top of the durable tip. One owner; not thread-safe.
public struct BlockBuilder: Sendable {
    public let origin: String
    public let validatorSet: ValidatorSet
    public let validatorName: String
    private let signer: NoteSigningKey
    private let clockMillis: @Sendable () -> UInt64

    private var appender: TreeAppender
    private var tip: BlockRecord?
    /// Signed note of the tip's checkpoint ("" before the first block).
    public private(set) var lastSignedCheckpoint: String

    /// Starts from the store's tip and rightmost tiles (no scan of the log).
    public init(store: LedgerStore, origin: String, validatorSet: ValidatorSet, validatorName: String,
                signer: NoteSigningKey, clockMillis: @escaping @Sendable () -> UInt64) throws {
        self.origin = origin
        self.validatorSet = validatorSet
        self.validatorName = validatorName
        self.signer = signer
        self.clockMillis = clockMillis
        appender = TreeAppender()
        tip = nil
        lastSignedCheckpoint = ""
        try reset(to: store)
    }

    /// Reloads the tree's right edge and the tip from the store (after start or a failed commit).
    public mutating func reset(to store: LedgerStore) throws {
        tip = store.tip
        guard let tip else {
            appender = TreeAppender()
            lastSignedCheckpoint = ""
            return
        }
        guard let resumed = TreeAppender(size: tip.size, rightmostTiles: try store.rightmostTiles()) else {
            throw StorageError(code: "store_corrupt", "the rightmost tiles for size \(tip.size) are missing")
        }
        guard resumed.rootHash == tip.root else {
            throw StorageError(code: "store_corrupt", "stored tiles give a root that differs from block \(tip.height)'s")
        }
        appender = resumed
        lastSignedCheckpoint = try store.checkpoint(height: tip.height) ?? ""
    }

    /// A block ready to commit, and the tree as it will be once the block is durable.
    public struct Prepared: Sendable {
        public let commit: BlockCommit
        fileprivate let tree: TreeAppender
    }

    /// The tree's right edge at the tip (what consensus's `LedgerChain` resumes from).
    public var tree: TreeAppender { appender }

    /// The store's writes for a decided block (`entries` then `trailer`, chained to the tip), with
    /// its commit certificate and no checkpoint yet: validators sign it once it is durable.
    public func prepare(_ block: LedgerBlock, certificate: [UInt8], derived: [(key: [UInt8], value: [UInt8])] = []) throws -> Prepared {
        let entries = block.entries, trailer = block.trailer
        let height = (tip?.height ?? 0) + 1
        guard trailer.height == height, trailer.previousSize == (tip?.size ?? 0), Int(trailer.entryCount) == entries.count else {
            throw StorageError(code: "store_inconsistent", "decided block \(trailer.height) does not chain to the tip at height \(height - 1)")
        }
        var tree = appender
        for entry in entries { tree.append(leafHash: RFC6962.leafHash(entry)) }
        let trailerLeaf = trailer.leafData
        tree.append(leafHash: RFC6962.leafHash(trailerLeaf))
        let record = BlockRecord(height: height, firstIndex: trailer.previousSize, size: tree.size, root: tree.rootHash,
                                 timeMillis: trailer.timeMillis, embeddedSignatures: block.signatureLines)
        return Prepared(commit: BlockCommit(record: record, leaves: entries + [trailerLeaf], tiles: tree.takeChangedTiles(),
                                            signedCheckpoint: nil, certificate: certificate, derived: derived), tree: tree)
    }

    /// Records the checkpoint signed for the tip (after `accept` of a prepared block).
    public mutating func signed(_ note: String) { lastSignedCheckpoint = note }

    /// The next block holding `entries`: leaves, changed tiles, record and signed checkpoint.
    /// Does not change the builder; call `accept` once the block is durable.
    public func build(entries: [[UInt8]], derived: [(key: [UInt8], value: [UInt8])] = []) throws -> Prepared {
        var tree = appender
        let height = (tip?.height ?? 0) + 1
        let previousSize = tip?.size ?? 0
        let previousRoot = tip?.root ?? RFC6962.emptyRoot
        for entry in entries { tree.append(leafHash: RFC6962.leafHash(entry)) }
        let embedded = Audit.signatureLines(lastSignedCheckpoint)
        let trailer = BlockTrailer(
            origin: origin, height: height, previousSize: previousSize, previousRoot: previousRoot,
            timeMillis: max(clockMillis(), (tip?.timeMillis ?? 0) + 1), proposer: validatorName,
            entryCount: UInt32(entries.count), validatorSetHash: validatorSet.hash,
            nextValidatorSetHash: validatorSet.hash, lastCosigsHash: SHA256.hash(embedded))
        let trailerLeaf = trailer.leafData
        tree.append(leafHash: RFC6962.leafHash(trailerLeaf))
        let checkpoint = try Checkpoint(origin: origin, size: tree.size, root: tree.rootHash)
        let note = try Note.sign(text: checkpoint.text, with: [signer])
        let record = BlockRecord(height: height, firstIndex: previousSize, size: tree.size, root: tree.rootHash,
                                 timeMillis: trailer.timeMillis, embeddedSignatures: embedded)
        let tiles = tree.takeChangedTiles()
        return Prepared(commit: BlockCommit(record: record, leaves: entries + [trailerLeaf], tiles: tiles,
                                            signedCheckpoint: note.formatted, derived: derived), tree: tree)
    }

    /// Advances to `block` once it is durable.
    public mutating func accept(_ block: Prepared) {
        appender = block.tree
        tip = block.commit.record
        lastSignedCheckpoint = block.commit.signedCheckpoint ?? ""
    }
}
