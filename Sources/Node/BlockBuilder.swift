// Turns a decided block into what the store writes: leaves, changed tiles, block record and
// commit certificate, on top of the durable tip. Blocks are made and decided by the consensus
// engine (BlockConsensus); this is only the storage side of a decision. Pure.
import Consensus
import Ledger
import MerkleLog
import Storage

/// The store's side of the tip: the tree's right edge and the last block. One owner; not thread-safe.
public struct BlockBuilder: Sendable {
    private var appender: TreeAppender
    private var tip: BlockRecord?
    /// Signed note of the tip's checkpoint ("" before the first block).
    public private(set) var lastSignedCheckpoint: String

    /// Starts from the store's tip and rightmost tiles (no scan of the log).
    public init(store: LedgerStore) throws {
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
    /// `evaluatedTree` is the tree with the block appended as the block's evaluation built it on
    /// this same tip (`Evaluation.tree`): given, it is used instead of hashing the leaves again.
    public func prepare(_ block: LedgerBlock, certificate: [UInt8], derived: [(key: [UInt8], value: [UInt8])] = [],
                        evaluatedTree: TreeAppender? = nil) throws -> Prepared {
        let entries = block.entries, trailer = block.trailer
        let height = (tip?.height ?? 0) + 1
        guard trailer.height == height, trailer.previousSize == (tip?.size ?? 0), Int(trailer.entryCount) == entries.count else {
            throw StorageError(code: "store_inconsistent", "decided block \(trailer.height) does not chain to the tip at height \(height - 1)")
        }
        var tree = block.appended(to: appender, evaluated: evaluatedTree)
        let trailerLeaf = trailer.leafData
        let record = BlockRecord(height: height, firstIndex: trailer.previousSize, size: tree.size, root: tree.rootHash,
                                 timeMillis: trailer.timeMillis, embeddedSignatures: block.signatureLines)
        return Prepared(commit: BlockCommit(record: record, leaves: entries + [trailerLeaf], tiles: tree.takeChangedTiles(),
                                            certificate: certificate, derived: derived), tree: tree)
    }

    /// Records the checkpoint signed for the tip (after `accept` of a prepared block).
    public mutating func signed(_ note: String) { lastSignedCheckpoint = note }

    /// Advances to `block` once it is durable.
    public mutating func accept(_ block: Prepared) {
        appender = block.tree
        tip = block.commit.record
    }
}

extension LedgerStore {
    /// Block `height` as it was decided — its entries, trailer and embedded signature lines — with
    /// its commit certificate, read back from the store (what block sync serves); nil if absent.
    func decidedBlock(height: UInt64) throws -> (certificate: CommitCertificate, block: LedgerBlock)? {
        guard let record = try block(height: height), let raw = try certificate(height: height),
              let certificate = WireCodec.decodeCertificate(raw) else { return nil }
        let leaves = try leaves(from: record.firstIndex, count: Int(record.size - record.firstIndex))
        guard let last = leaves.last, let trailer = try? BlockTrailer(leafData: last) else { return nil }
        return (certificate, LedgerBlock(entries: Array(leaves.dropLast()), trailer: trailer, signatureLines: record.embeddedSignatures))
    }
}

