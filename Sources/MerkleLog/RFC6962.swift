// RFC 6962 / RFC 9162 §2.1.1 hashing: the two domain-separated hash functions of the tree.
import CinnabarCrypto

/// The Merkle tree hash functions of RFC 9162 §2.1.1 over SHA-256.
public enum RFC6962 {
    /// MTH({}) = SHA-256() — the root of the empty tree.
    public static let emptyRoot: Hash = SHA256.hash([UInt8]())

    /// MTH({d}) = SHA-256(0x00 ‖ d) — the hash of a leaf with data `d`.
    @inlinable
    public static func leafHash<Bytes: ContiguousBytes>(_ data: Bytes) -> Hash {
        withUnsafeBytes(of: UInt8(0x00)) { prefix in
            data.withUnsafeBytes { SHA256.hash(prefix, $0) }
        }
    }

    /// SHA-256(0x01 ‖ left ‖ right) — the hash of an interior node.
    @inlinable
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        withUnsafeBytes(of: UInt8(0x01)) { prefix in
            left.withUnsafeBytes { l in right.withUnsafeBytes { r in SHA256.hash(prefix, l, r) } }
        }
    }

    /// The root of a tree whose leaves are `leafHashes`, computed by RFC 9162 §2.1.1's recursion.
    /// O(n) and allocation-light; meant for small trees, tests and audits of a single block.
    public static func rootHash(_ leafHashes: ArraySlice<Hash>) -> Hash {
        switch leafHashes.count {
        case 0: return emptyRoot
        case 1: return leafHashes.first!
        default:
            let k = Int(largestPowerOfTwo(below: UInt64(leafHashes.count)))
            let mid = leafHashes.startIndex + k
            return nodeHash(rootHash(leafHashes[..<mid]), rootHash(leafHashes[mid...]))
        }
    }
}

/// The largest power of two strictly less than `n` (n ≥ 2): the split point k of RFC 9162 §2.1.1.
@inlinable
public func largestPowerOfTwo(below n: UInt64) -> UInt64 {
    precondition(n >= 2, "split point needs at least two leaves")
    return UInt64(1) << (63 - (n - 1).leadingZeroBitCount)
}
