// Complete subtrees ("stored hashes") and how any aligned leaf range decomposes into them.

/// A complete (perfect) subtree: level `level` covers 2^level leaves,
/// the `index`-th such run, i.e. leaves [index·2^level, (index+1)·2^level).
/// Every such node's hash is stored exactly once, in the tile that contains it.
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    public let level: UInt8
    public let index: UInt64

    public init(level: UInt8, index: UInt64) {
        precondition(level < 64, "level out of range")
        self.level = level
        self.index = index
    }

    /// The first leaf covered.
    public var firstLeaf: UInt64 { index << UInt64(level) }
    public var description: String { "(\(level),\(index))" }
}

/// The range of leaves [lo, hi) of a subtree that appears in RFC 9162's recursion. Such ranges are
/// always aligned: lo is a multiple of the smallest power of two ≥ hi − lo.
public struct LeafRange: Hashable, Sendable {
    public let lo: UInt64
    public let hi: UInt64

    public init(_ lo: UInt64, _ hi: UInt64) {
        precondition(lo < hi, "empty leaf range")
        self.lo = lo
        self.hi = hi
    }

    /// The complete subtrees whose hashes, folded right to left, give MTH(D[lo:hi]):
    /// one per set bit of (hi − lo), largest (leftmost) first.
    public var completeNodes: [NodeID] {
        var nodes: [NodeID] = []
        var start = lo
        var remaining = hi - lo
        while remaining > 0 {
            let level = UInt8(63 - remaining.leadingZeroBitCount)
            nodes.append(NodeID(level: level, index: start >> UInt64(level)))
            start += UInt64(1) << UInt64(level)
            remaining -= UInt64(1) << UInt64(level)
        }
        return nodes
    }

    /// Folds the hashes of `completeNodes` (same order) into MTH(D[lo:hi]).
    public static func fold(_ hashes: ArraySlice<Hash>) -> Hash {
        precondition(!hashes.isEmpty, "nothing to fold")
        var h = hashes.last!
        for left in hashes.dropLast().reversed() { h = RFC6962.nodeHash(left, h) }
        return h
    }
}

import CinnabarCrypto
