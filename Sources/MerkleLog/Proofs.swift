// Inclusion and consistency proofs, RFC 9162 §2.1.3–§2.1.4: which subtree hashes make a proof
// (the plan), how to build it from stored hashes, and how any client verifies it.
import CinnabarCrypto

/// Why a proof was rejected. Every case is a stable, machine-readable code.
public enum ProofError: Error, Equatable, Sendable, CustomStringConvertible {
    case indexOutOfRange(index: UInt64, size: UInt64)
    case sizeOutOfRange(from: UInt64, to: UInt64)
    case wrongLength(expected: Int, got: Int)
    case rootMismatch
    case emptyProof

    /// A stable code for APIs and logs.
    public var code: String {
        switch self {
        case .indexOutOfRange: "index_out_of_range"
        case .sizeOutOfRange: "size_out_of_range"
        case .wrongLength: "wrong_proof_length"
        case .rootMismatch: "root_mismatch"
        case .emptyProof: "empty_proof"
        }
    }

    public var description: String {
        switch self {
        case let .indexOutOfRange(index, size): "leaf index \(index) is not in a tree of size \(size)"
        case let .sizeOutOfRange(from, to): "cannot prove consistency from size \(from) to size \(to)"
        case let .wrongLength(expected, got): "proof has \(got) hashes, expected \(expected)"
        case .rootMismatch: "proof does not lead to the expected root"
        case .emptyProof: "consistency proof is empty"
        }
    }
}

/// Anything that can return stored hashes of complete subtrees (a tile store, an in-memory tree).
public protocol HashReader {
    /// The hashes of `nodes`, in the same order. Each node must be complete in the tree read.
    func hashes(of nodes: [NodeID]) throws -> [Hash]
}

extension HashReader {
    /// MTH over each range, reading all needed stored hashes in one batch.
    public func rangeHashes(_ ranges: [LeafRange]) throws -> [Hash] {
        let nodeLists = ranges.map(\.completeNodes)
        let stored = try hashes(of: nodeLists.flatMap { $0 })
        var out: [Hash] = []
        out.reserveCapacity(ranges.count)
        var at = 0
        for nodes in nodeLists {
            out.append(LeafRange.fold(stored[at..<at + nodes.count]))
            at += nodes.count
        }
        return out
    }

    /// The root hash of the tree of `size` leaves.
    public func rootHash(size: UInt64) throws -> Hash {
        size == 0 ? RFC6962.emptyRoot : try rangeHashes([LeafRange(0, size)])[0]
    }

    /// The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves.
    public func inclusionProof(index: UInt64, size: UInt64) throws -> [Hash] {
        try rangeHashes(InclusionProof.plan(index: index, size: size))
    }

    /// The RFC 9162 §2.1.4.1 consistency proof from `from` leaves to `to` leaves.
    public func consistencyProof(from: UInt64, to: UInt64) throws -> [Hash] {
        try rangeHashes(ConsistencyProof.plan(from: from, to: to))
    }
}

/// Stored hashes of an in-memory tree, computed from its leaf hashes on each read (small logs:
/// simulations and tests).
public struct MemoryHashReader: HashReader {
    public let leafHashes: [Hash]

    public init(leafHashes: [Hash]) { self.leafHashes = leafHashes }

    public func hashes(of nodes: [NodeID]) throws -> [Hash] {
        nodes.map { node in
            let lo = Int(node.firstLeaf), hi = lo + (1 << Int(node.level))
            return RFC6962.rootHash(leafHashes[lo..<hi])
        }
    }
}

/// RFC 9162 §2.1.3: proof that a leaf is in a tree.
public enum InclusionProof {
    /// The subtrees whose hashes form PATH(index, D[0:size]), leaf sibling first.
    public static func plan(index: UInt64, size: UInt64) throws -> [LeafRange] {
        guard index < size else { throw ProofError.indexOutOfRange(index: index, size: size) }
        // PATH(m, D[lo:hi]) recursion (§2.1.3.1), unrolled; collected root-side first, then reversed.
        var ranges: [LeafRange] = []
        var lo: UInt64 = 0, hi = size, m = index
        while hi - lo > 1 {
            let k = largestPowerOfTwo(below: hi - lo)
            if m < k {
                ranges.append(LeafRange(lo + k, hi))
                hi = lo + k
            } else {
                ranges.append(LeafRange(lo, lo + k))
                lo += k
                m -= k
            }
        }
        return ranges.reversed()
    }

    /// Verifies `proof` for a leaf (by its hash) at `index` in the tree (`size`, `root`) by the
    /// algorithm of RFC 9162 §2.1.3.2. Throws the reason on failure.
    public static func verify(leafHash: Hash, index: UInt64, size: UInt64, proof: [Hash], root: Hash) throws {
        guard index < size else { throw ProofError.indexOutOfRange(index: index, size: size) }
        let expected = expectedLength(index: index, size: size)
        guard proof.count == expected else { throw ProofError.wrongLength(expected: expected, got: proof.count) }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw ProofError.wrongLength(expected: expected, got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = RFC6962.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
            } else {
                r = RFC6962.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, r == root else { throw ProofError.rootMismatch }
    }

    /// The number of hashes in PATH(index, D[0:size]) (index < size).
    public static func expectedLength(index: UInt64, size: UInt64) -> Int {
        (try? plan(index: index, size: size).count) ?? 0
    }
}

/// RFC 9162 §2.1.4: proof that a tree of `from` leaves is a prefix of a tree of `to` leaves.
public enum ConsistencyProof {
    /// The subtrees whose hashes form PROOF(from, D[0:to]) (§2.1.4.1).
    public static func plan(from: UInt64, to: UInt64) throws -> [LeafRange] {
        guard from <= to else { throw ProofError.sizeOutOfRange(from: from, to: to) }
        if from == 0 || from == to { return [] }
        // SUBPROOF(m, D[lo:hi], b), unrolled; collected root-side first, then reversed.
        var ranges: [LeafRange] = []
        var lo: UInt64 = 0, hi = to, m = from
        var complete = true  // b: the old tree is a complete subtree of this one
        while true {
            if m == hi - lo {
                if !complete { ranges.append(LeafRange(lo, hi)) }
                break
            }
            let k = largestPowerOfTwo(below: hi - lo)
            if m <= k {
                ranges.append(LeafRange(lo + k, hi))
                hi = lo + k
            } else {
                ranges.append(LeafRange(lo, lo + k))
                lo += k
                m -= k
                complete = false
            }
        }
        return ranges.reversed()
    }

    /// Verifies `proof` that (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`), RFC 9162 §2.1.4.2.
    public static func verify(from: UInt64, fromRoot: Hash, to: UInt64, toRoot: Hash, proof: [Hash]) throws {
        guard from <= to else { throw ProofError.sizeOutOfRange(from: from, to: to) }
        if from == to || from == 0 {
            // Nothing to prove but equality (or that the empty tree is everyone's prefix).
            guard proof.isEmpty else { throw ProofError.wrongLength(expected: 0, got: proof.count) }
            if from == 0 { guard fromRoot == RFC6962.emptyRoot else { throw ProofError.rootMismatch }; return }
            guard fromRoot == toRoot else { throw ProofError.rootMismatch }
            return
        }
        guard !proof.isEmpty else { throw ProofError.emptyProof }
        let expected = expectedLength(from: from, to: to)
        guard proof.count == expected else { throw ProofError.wrongLength(expected: expected, got: proof.count) }
        var path = proof[...]
        if from & (from - 1) == 0 { path = [fromRoot] + proof[...] }  // step 2: power of two
        var fn = from - 1, sn = to - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }  // step 4
        var fr = path.first!, sr = path.first!
        for c in path.dropFirst() {
            guard sn != 0 else { throw ProofError.wrongLength(expected: expected, got: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = RFC6962.nodeHash(c, fr)
                sr = RFC6962.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
            } else {
                sr = RFC6962.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, fr == fromRoot, sr == toRoot else { throw ProofError.rootMismatch }
    }

    /// The number of hashes in PROOF(from, D[0:to]).
    public static func expectedLength(from: UInt64, to: UInt64) -> Int {
        (try? plan(from: from, to: to).count) ?? 0
    }
}
