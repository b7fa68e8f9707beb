// The block trailer (DESIGN.md §2.1): the last leaf of every block. It chains the block to the
// previous checkpoint and gives every entry in the block its consensus time.
import CinnabarCrypto

/// The last leaf of a block, tag 0x03. Encoding (big-endian, see Specs/ledger-format.md):
/// `0x03 ‖ version u8 ‖ origin str16 ‖ height u64 ‖ prevSize u64 ‖ prevRoot 32 ‖ timeMillis u64 ‖
///  proposer str16 ‖ entryCount u32 ‖ validatorSetHash 32 ‖ nextValidatorSetHash 32 ‖ lastCosigsHash 32`.
public struct BlockTrailer: Equatable, Sendable {
    public static let version: UInt8 = 1

    /// The log's origin (the checkpoint's first line).
    public var origin: String
    /// Block height, starting at 1.
    public var height: UInt64
    /// Tree size and root before this block: the hash chain.
    public var previousSize: UInt64
    public var previousRoot: Hash
    /// Block time, Unix milliseconds, strictly greater than the previous block's.
    public var timeMillis: UInt64
    /// Name of the validator that proposed the block.
    public var proposer: String
    /// Number of leaves before the trailer in this block.
    public var entryCount: UInt32
    /// Hash of the validator set in force for this block, and for the next one.
    public var validatorSetHash: Hash
    public var nextValidatorSetHash: Hash
    /// SHA-256 of the signature lines on checkpoint(height − 1) that this block embeds
    /// (SHA-256 of nothing at height 1).
    public var lastCosigsHash: Hash

    public init(origin: String, height: UInt64, previousSize: UInt64, previousRoot: Hash, timeMillis: UInt64,
                proposer: String, entryCount: UInt32, validatorSetHash: Hash, nextValidatorSetHash: Hash,
                lastCosigsHash: Hash) {
        self.origin = origin
        self.height = height
        self.previousSize = previousSize
        self.previousRoot = previousRoot
        self.timeMillis = timeMillis
        self.proposer = proposer
        self.entryCount = entryCount
        self.validatorSetHash = validatorSetHash
        self.nextValidatorSetHash = nextValidatorSetHash
        self.lastCosigsHash = lastCosigsHash
    }

    /// The tree size once this block is appended: entries plus the trailer itself.
    public var size: UInt64 { previousSize + UInt64(entryCount) + 1 }

    /// The leaf data, tag byte included.
    public var leafData: [UInt8] {
        var w = BinaryWriter()
        w.u8(LeafTag.blockTrailer.rawValue)
        w.u8(BlockTrailer.version)
        w.string(origin)
        w.u64(height)
        w.u64(previousSize)
        w.hash(previousRoot)
        w.u64(timeMillis)
        w.string(proposer)
        w.u32(entryCount)
        w.hash(validatorSetHash)
        w.hash(nextValidatorSetHash)
        w.hash(lastCosigsHash)
        return w.bytes
    }

    /// Decodes a trailer leaf; rejects any other tag, version, truncation or trailing bytes.
    public init(leafData: [UInt8]) throws(LedgerError) {
        var r = BinaryReader(leafData)
        guard r.u8() == LeafTag.blockTrailer.rawValue else { throw .malformedTrailer("not a trailer leaf") }
        guard r.u8() == BlockTrailer.version else { throw .malformedTrailer("unknown trailer version") }
        guard let origin = r.string(), let height = r.u64(), let previousSize = r.u64(), let previousRoot = r.hash(),
              let timeMillis = r.u64(), let proposer = r.string(), let entryCount = r.u32(),
              let validatorSetHash = r.hash(), let nextValidatorSetHash = r.hash(), let lastCosigsHash = r.hash()
        else { throw .malformedTrailer("truncated trailer") }
        guard r.isAtEnd else { throw .malformedTrailer("bytes after the trailer") }
        self.init(origin: origin, height: height, previousSize: previousSize, previousRoot: previousRoot,
                  timeMillis: timeMillis, proposer: proposer, entryCount: entryCount,
                  validatorSetHash: validatorSetHash, nextValidatorSetHash: nextValidatorSetHash,
                  lastCosigsHash: lastCosigsHash)
    }
}

/// Errors of the ledger's own data structures, with stable codes.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedTrailer(String)
    case invalidValidatorSet(String)
    case malformedGenesis(String)
    /// A change leaf (tag 0x02) that does not decode.
    case malformedSetChange(String)
    /// A change that is not exactly one step from the current set (one validator added, removed
    /// or re-keyed), or names a validator no key name can be made for.
    case invalidSetChange(String)
    /// A change without approvals from a quorum of the current set, or with one that fails.
    case unapprovedSetChange(String)
    /// A change leaf out of order, or not proved in a checkpoint of its own block.
    case unprovedSetChange(String)
    /// A checkpoint not signed by a quorum of the validator set in force at its size.
    case untrustedCheckpoint(String)

    public var code: String {
        switch self {
        case .malformedTrailer: "malformed_trailer"
        case .invalidValidatorSet: "invalid_validator_set"
        case .malformedGenesis: "malformed_genesis"
        case .malformedSetChange: "malformed_set_change"
        case .invalidSetChange: "invalid_set_change"
        case .unapprovedSetChange: "unapproved_set_change"
        case .unprovedSetChange: "unproved_set_change"
        case .untrustedCheckpoint: "untrusted_checkpoint"
        }
    }

    public var description: String {
        switch self {
        case let .malformedTrailer(why): "malformed block trailer: \(why)"
        case let .invalidValidatorSet(why): "invalid validator set: \(why)"
        case let .malformedGenesis(why): "malformed genesis: \(why)"
        case let .malformedSetChange(why): "malformed validator-set change: \(why)"
        case let .invalidSetChange(why): "invalid validator-set change: \(why)"
        case let .unapprovedSetChange(why): "validator-set change not approved: \(why)"
        case let .unprovedSetChange(why): "validator-set change not proved: \(why)"
        case let .untrustedCheckpoint(why): "checkpoint not trusted: \(why)"
        }
    }
}
