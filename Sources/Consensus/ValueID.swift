// id(v): the value identifier that votes carry (consensus.md §0.3). A block's id commits to its
// checkpoint (origin, size, root), so "the block decided at height h" and "checkpoint(h)" are one.
import CinnabarCrypto
import Ledger
import MerkleLog

/// The 32-byte identifier of a proposed block:
/// `SHA-256("ledger-block/v1" ‖ 0x00 ‖ u16 len(origin) ‖ origin ‖ u64 size ‖ root)`.
///
/// The trailer is the block's last leaf and commits to everything else the block carries (its
/// entries through the root, the embedded checkpoint signatures through `lastCosigsHash`), so for
/// a value that `LedgerChain.evaluate` accepts, equal ids mean equal blocks.
/// Specified byte for byte in Specs/ledger-format.md §9.
public struct ValueID: Hashable, Sendable, CustomStringConvertible {
    /// The domain tag that starts the hashed bytes, NUL included.
    public static let domain: [UInt8] = Array("ledger-block/v1".utf8) + [0x00]

    public let hash: Hash

    public init(hash: Hash) { self.hash = hash }

    /// id(v) of the block whose checkpoint is `(origin, size, root)`.
    public init(origin: String, size: UInt64, root: Hash) {
        var w = BinaryWriter()
        w.raw(ValueID.domain)
        w.string(origin)
        w.u64(size)
        w.hash(root)
        hash = SHA256.hash(w.bytes)
    }

    /// The first 8 hex digits, for traces.
    public var description: String { String(hash.hex.prefix(8)) }
}

/// A value as the core keeps it: the block bytes and what evaluating them found.
public struct EvaluatedValue: Hashable, Sendable {
    /// The canonical bytes of the block (`LedgerBlock.encoded`).
    public let bytes: [UInt8]
    /// What `ValueEvaluator.evaluate` returned for `bytes`.
    public let evaluation: Evaluation

    public init(bytes: [UInt8], evaluation: Evaluation) {
        self.bytes = bytes
        self.evaluation = evaluation
    }

    public var id: ValueID { evaluation.id }
}

/// What the application found about a value: its id, the checkpoint it would produce, and
/// whether it is valid (Tendermint's `valid(v)`).
public struct Evaluation: Hashable, Sendable {
    /// id(v).
    public let id: ValueID
    /// The tree size and root once the block is appended: checkpoint(h).
    public let size: UInt64
    public let root: Hash
    /// valid(v): deterministic, the same at every correct node, never reads a clock.
    public let isValid: Bool
    /// Ed25519 signatures checked to evaluate the value (for the CPU accounting of the bench).
    public let signaturesVerified: Int
    /// The RFC 6962 leaf hashes of the block, in log order (trailer last), computed to find the
    /// root: the block store reuses them instead of hashing every leaf again. Derived from the
    /// value's bytes, so not part of equality. Empty if the evaluator does not provide them.
    public let leafHashes: [Hash]
    /// The tree with the block appended, its changed tiles not yet taken: the block store writes
    /// those tiles instead of building the tree again. Derived, not part of equality.
    public let tree: TreeAppender?

    public init(id: ValueID, size: UInt64, root: Hash, isValid: Bool, signaturesVerified: Int = 0, leafHashes: [Hash] = [],
                tree: TreeAppender? = nil) {
        self.id = id
        self.size = size
        self.root = root
        self.isValid = isValid
        self.signaturesVerified = signaturesVerified
        self.leafHashes = leafHashes
        self.tree = tree
    }

    public static func == (a: Evaluation, b: Evaluation) -> Bool {
        a.id == b.id && a.size == b.size && a.root == b.root && a.isValid == b.isValid && a.signaturesVerified == b.signaturesVerified
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(size)
        hasher.combine(root)
        hasher.combine(isValid)
        hasher.combine(signaturesVerified)
    }
}

/// The application's half of Tendermint's `valid(v)` and `id(v)` for one height.
///
/// Implementations must be pure and deterministic: the same bytes give the same answer at every
/// correct validator and on every replay, and no clock is read. `LedgerChain` is the ledger's.
public protocol ValueEvaluator: Sendable {
    /// The height whose values this evaluator judges (the committed tip's height + 1).
    var nextHeight: UInt64 { get }
    /// Evaluates a proposed value. Returns nil when the bytes are not a block whose id can be
    /// computed bindingly (undecodable, over a size bound, embedded signatures that do not match
    /// the trailer's hash); a proposal carrying such bytes is dropped before the core counts it.
    func evaluate(_ value: [UInt8]) -> Evaluation?
}
