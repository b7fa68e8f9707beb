// The value Cinnabar's validators agree on: a block of the log (DESIGN.md §2.1, consensus.md
// §2.2) — its entries, its trailer leaf, and the validator signatures on the previous checkpoint
// that the block embeds (§2.9). This file fixes the block's canonical bytes.
import Ledger
import MerkleLog

/// One proposed block: entries, trailer, and the embedded signature lines on checkpoint(h − 1).
///
/// Encoding: `u8 version = 1 ‖ u32 entryCount ‖ entryCount × blob32 entry ‖ blob32 trailer leaf
/// data ‖ blob32 signature lines (UTF-8, the exact "— …\n" lines, "" at height 1)`.
public struct LedgerBlock: Equatable, Sendable {
    public static let version: UInt8 = 1
    /// Bounds checked before anything else is computed (TigerBeetle-style: every buffer bounded).
    public static let maxEntries = 65_536
    public static let maxEncodedBytes = 64 << 20
    public static let maxSignatureLinesBytes = 64 << 10

    /// The leaf data of the entries, tag byte included.
    public let entries: [[UInt8]]
    public let trailer: BlockTrailer
    /// The signature lines on checkpoint(height − 1), as they appear in its signed note.
    public let signatureLines: String

    public init(entries: [[UInt8]], trailer: BlockTrailer, signatureLines: String) {
        self.entries = entries
        self.trailer = trailer
        self.signatureLines = signatureLines
    }

    /// The canonical bytes (what PROPOSAL carries and the WAL and block store keep).
    public var encoded: [UInt8] {
        var w = BinaryWriter(capacity: 1 + 4 * (entries.count + 3) + entries.reduce(0) { $0 + $1.count }
                                 + 512 + signatureLines.utf8.count)  // 512: room for the trailer leaf
        w.u8(LedgerBlock.version)
        w.u32(UInt32(entries.count))
        for e in entries { w.blob(e) }
        w.blob(trailer.leafData)
        w.blob(Array(signatureLines.utf8))
        return w.bytes
    }

    /// Decodes the canonical bytes; nil on any truncation, trailing bytes, bound or bad trailer.
    public init?(encoded bytes: [UInt8]) {
        guard bytes.count <= LedgerBlock.maxEncodedBytes else { return nil }
        var r = BinaryReader(bytes)
        guard r.u8() == LedgerBlock.version, let count = r.u32(), count <= LedgerBlock.maxEntries else { return nil }
        var entries: [[UInt8]] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let e = r.blob() else { return nil }
            entries.append(e)
        }
        guard let leaf = r.blob(), let trailer = try? BlockTrailer(leafData: leaf), let lines = r.blob(),
              lines.count <= LedgerBlock.maxSignatureLinesBytes, r.isAtEnd,
              let text = String(validating: lines, as: UTF8.self) else { return nil }
        self.init(entries: entries, trailer: trailer, signatureLines: text)
    }

    /// The block's leaves in log order: the entries, then the trailer.
    public var leaves: [[UInt8]] { entries + [trailer.leafData] }

    /// `tree` with this block's leaves appended (entries, then the trailer). `evaluated` is the
    /// tree its evaluation on the same tip built (`Evaluation.tree`): when it has the right size it
    /// is taken as it is instead of hashing every leaf again.
    public func appended(to tree: TreeAppender, evaluated: TreeAppender?) -> TreeAppender {
        if let evaluated, evaluated.size == tree.size + UInt64(entries.count) + 1 { return evaluated }
        var out = tree
        for entry in entries { out.append(leafHash: RFC6962.leafHash(entry)) }
        out.append(leafHash: RFC6962.leafHash(trailer.leafData))
        return out
    }

    /// The validator-set change the block carries (consensus.md §2.10): its last entry if that
    /// has tag 0x02, else nil. Throws `malformedSetChange` if that entry does not decode.
    public func setChange() throws(LedgerError) -> ValidatorSetChange? {
        guard let last = entries.last, last.first == LeafTag.validatorSetChange.rawValue else { return nil }
        return try ValidatorSetChange(leafData: last)
    }

    /// The entries before a trailing validator-set change: the records.
    public var recordEntries: [[UInt8]] {
        entries.last?.first == LeafTag.validatorSetChange.rawValue ? Array(entries.dropLast()) : entries
    }
}
