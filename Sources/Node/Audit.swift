// `cinnabar audit`: recompute the whole log from its leaves and check every stored hash tile,
// block trailer chain, block record, commit certificate and checkpoint signature, each against the
// validator set in force for its block (following the validator-set changes from the genesis set).
// Reports the first inconsistency.
import CinnabarCrypto
import Consensus
import Foundation
import Ledger
import MerkleLog
import SignedNote
import Storage

/// The outcome of an audit.
public struct AuditReport: Sendable {
    public var leaves: UInt64 = 0
    public var blocks: UInt64 = 0
    public var tiles: Int = 0
    /// The first inconsistency found, or nil if the log is sound.
    public var failure: String?
    public var ok: Bool { failure == nil }
}

/// Recomputes and checks a store against its genesis.
public enum Audit {
    /// Streams every leaf once; memory stays bounded by one block record and the tree's right edge.
    public static func run(store: LedgerStore, genesis: Genesis,
                           progress: (UInt64, UInt64) -> Void = { _, _ in }) -> AuditReport {
        var report = AuditReport()
        do {
            try check(store: store, genesis: genesis, report: &report, progress: progress)
        } catch {
            report.failure = "\(error)"
        }
        return report
    }

    private struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    private static func check(store: LedgerStore, genesis: Genesis, report: inout AuditReport,
                              progress: (UInt64, UInt64) -> Void) throws {
        // The sets follow the change leaves (consensus.md §2.10): `set` decides the current block,
        // `change` is the one its last entry makes, in force from the next block.
        var set = try genesis.validatorSet()
        var keys = try set.verifierKeys(origin: genesis.origin)
        // The set that decided the previous block, and so signed its checkpoint (§2.10).
        var previousSet = set
        var previousKeys = keys
        var change: ValidatorSetChange?
        var epoch: UInt64 = 0
        guard let tip = store.tip else { return }
        var tree = TreeAppender()
        var previous: BlockRecord? = nil
        var block = try requireBlock(store, 1)
        var expected: UInt64 = 0
        var leafError: Error?
        try store.db.scan(store.db.family(LedgerStore.Families.leaves)) { key, value in
            do {
                guard let index = BinaryReader(key).u64Value, index == expected else {
                    throw Failure("leaf keys are not consecutive at index \(expected)")
                }
                guard index < tip.size else { throw Failure("leaf \(index) exists beyond the tip (size \(tip.size))") }
                if value.first == LeafTag.validatorSetChange.rawValue {
                    change = try checkChange(Array(value), index: index, block: block, origin: genesis.origin, epoch: epoch, set: set)
                }
                tree.append(leafHash: RFC6962.leafHash(Array(value)))
                for (tileKey, tile) in tree.takeChangedTiles() where tile.isFull {
                    try compareTile(store, tileKey, tile)
                    report.tiles += 1
                }
                if index == block.size - 1 {
                    try checkBlock(block, trailerLeaf: Array(value), previous: previous, previousSigners: (previousSet, previousKeys),
                                   root: tree.rootHash, genesis: genesis, set: set, next: change?.newSet ?? set, keys: keys, store: store)
                    previousSet = set
                    previousKeys = keys
                    if let newSet = change?.newSet {
                        set = newSet
                        keys = try set.verifierKeys(origin: genesis.origin)
                        change = nil
                        epoch += 1
                    }
                    previous = block
                    report.blocks += 1
                    if block.height < tip.height { block = try requireBlock(store, block.height + 1) }
                }
                expected += 1
                report.leaves = expected
                if expected % 100_000 == 0 { progress(expected, tip.size) }
                return true
            } catch {
                leafError = error
                return false
            }
        }
        if let leafError { throw leafError }
        guard expected == tip.size else { throw Failure("the log has \(expected) leaves but its tip says \(tip.size)") }
        guard report.blocks == tip.height else { throw Failure("found \(report.blocks) blocks but the tip is block \(tip.height)") }
        // The right edge: every partial tile as stored must match the recomputed one.
        let resumed = TreeAppender(size: tip.size, rightmostTiles: try store.rightmostTiles())
        guard resumed?.rootHash == tree.rootHash else { throw Failure("the stored rightmost tiles do not give the recomputed root") }
        for key in TreeAppender.partialTileKeys(size: tip.size) {
            guard let stored = try store.tile(level: key.level, index: key.index), stored.interiorIsConsistent() else {
                throw Failure("partial tile \(key.level)/\(key.index) is missing or inconsistent")
            }
            report.tiles += 1
        }
        progress(expected, tip.size)
    }

    private static func requireBlock(_ store: LedgerStore, _ height: UInt64) throws -> BlockRecord {
        guard let b = try store.block(height: height) else { throw Failure("block \(height) record is missing") }
        return b
    }

    private static func compareTile(_ store: LedgerStore, _ key: TileKey, _ recomputed: StoredTile) throws {
        guard let stored = try store.tile(level: key.level, index: key.index) else {
            throw Failure("tile \(key.level)/\(key.index) is missing")
        }
        guard stored == recomputed else {
            throw Failure("tile \(key.level)/\(key.index) differs from the hashes recomputed from the leaves")
        }
    }

    /// A change leaf must be the last entry of its block and valid for the set deciding it.
    private static func checkChange(_ leaf: [UInt8], index: UInt64, block: BlockRecord, origin: String, epoch: UInt64,
                                    set: ValidatorSet) throws -> ValidatorSetChange {
        guard index + 2 == block.size, index >= block.firstIndex else {
            throw Failure("block \(block.height): leaf \(index) is a validator-set change but not the block's last entry")
        }
        do {
            let change = try ValidatorSetChange(leafData: leaf)
            try change.check(origin: origin, epoch: epoch, current: set)
            return change
        } catch { throw Failure("block \(block.height): leaf \(index): \(error)") }
    }

    private static func checkBlock(_ block: BlockRecord, trailerLeaf: [UInt8], previous: BlockRecord?,
                                   previousSigners: (set: ValidatorSet, keys: [NoteVerifierKey]),
                                   root: Hash, genesis: Genesis, set: ValidatorSet, next: ValidatorSet, keys: [NoteVerifierKey],
                                   store: LedgerStore) throws {
        let h = block.height
        let trailer: BlockTrailer
        do { trailer = try BlockTrailer(leafData: trailerLeaf) } catch {
            throw Failure("block \(h): leaf \(block.size - 1) is not a valid trailer: \(error)")
        }
        let prevSize = previous?.size ?? 0
        let prevRoot = previous?.root ?? RFC6962.emptyRoot
        guard trailer.height == h, trailer.origin == genesis.origin else { throw Failure("block \(h): trailer names height \(trailer.height) of \(trailer.origin)") }
        guard block.firstIndex == prevSize, trailer.previousSize == prevSize, trailer.previousRoot == prevRoot else {
            throw Failure("block \(h): trailer does not chain to block \(h - 1) (size \(prevSize))")
        }
        guard trailer.size == block.size else { throw Failure("block \(h): trailer counts \(trailer.entryCount) entries, block has \(block.size - block.firstIndex - 1)") }
        guard trailer.timeMillis > (previous?.timeMillis ?? 0), trailer.timeMillis == block.timeMillis else {
            throw Failure("block \(h): block time is not after block \(h - 1)'s")
        }
        guard trailer.validatorSetHash == set.hash, trailer.nextValidatorSetHash == next.hash else {
            throw Failure("block \(h): trailer commits to a different validator set")
        }
        // The signatures on checkpoint(h − 1) the proposer embedded: bound by the trailer, and a
        // quorum of the set that decided block h − 1. Any quorum: with several validators they need
        // not be the lines this node stored with that checkpoint (those may have come in later).
        let embedded = block.embeddedSignatures
        guard trailer.lastCosigsHash == SHA256.hash(Array(embedded.utf8)) else {
            throw Failure("block \(h): the embedded signatures on checkpoint \(h - 1) are not the ones its trailer commits to")
        }
        if let previous {
            let text = LedgerChain.checkpointText(origin: genesis.origin, size: previous.size, root: previous.root)
            let signers: [NoteVerifierKey]
            do { signers = try Note(parsing: text + "\n" + embedded).verify(keys: previousSigners.keys) } catch {
                throw Failure("block \(h): embedded signatures on checkpoint \(h - 1): \(error)")
            }
            guard Set(signers.map(\.name)).count >= previousSigners.set.quorum else {
                throw Failure("block \(h): embeds \(signers.count) validator signatures on checkpoint \(h - 1); \(previousSigners.set.quorum) needed")
            }
        } else {
            guard embedded.isEmpty else { throw Failure("block 1: embeds signatures, but there is no checkpoint before it") }
        }
        guard root == block.root else { throw Failure("block \(h): recomputed root \(root) differs from the stored \(block.root)") }
        guard let text = try store.checkpoint(height: h) else { throw Failure("block \(h): checkpoint is missing") }
        let note: Note
        do { note = try Note(parsing: text) } catch { throw Failure("block \(h): checkpoint note is malformed: \(error)") }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(parsing: note.text) } catch { throw Failure("block \(h): checkpoint is malformed: \(error)") }
        guard checkpoint.origin == genesis.origin, checkpoint.size == block.size, checkpoint.root == root else {
            throw Failure("block \(h): checkpoint (\(checkpoint.size), \(checkpoint.root)) does not match the block")
        }
        let signers: [NoteVerifierKey]
        do { signers = try note.verify(keys: keys) } catch { throw Failure("block \(h): checkpoint signature: \(error)") }
        guard Set(signers.map(\.name)).count >= set.quorum else {
            throw Failure("block \(h): checkpoint has \(signers.count) validator signatures; \(set.quorum) needed")
        }
        // The decision: a quorum of precommits for exactly this block's checkpoint (consensus.md §2.9).
        guard let raw = try store.certificate(height: h), let certificate = WireCodec.decodeCertificate(raw) else {
            throw Failure("block \(h): commit certificate is missing or malformed")
        }
        guard certificate.height == h, certificate.valueID == ValueID(origin: genesis.origin, size: block.size, root: root) else {
            throw Failure("block \(h): commit certificate decides another block")
        }
        do { try certificate.verify(ConsensusParameters(chainID: genesis.origin, validators: set)) } catch {
            throw Failure("block \(h): commit certificate: \(error)")
        }
    }

    /// The signature lines of a signed note: everything after its last blank line.
    static func signatureLines(_ note: String) -> String {
        guard let range = note.range(of: "\n\n", options: .backwards) else { return "" }
        return String(note[range.upperBound...])
    }
}
