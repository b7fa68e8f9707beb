// Every RFC 6962 vector proof, mutated every way a forger or a buggy server could: each mutation
// must be rejected, and with the specific ProofError wherever the verifier's checks fix it.
import CinnabarCrypto
import MerkleLog
import XCTest

final class MutationTests: XCTestCase {
    private var vectors: RFC6962Vectors!
    private var leaves: [Hash] = []
    private var roots: [Hash] = []
    /// The roots of the vector tree extended by 8 more leaves (sizes 0…16): "the genuine root" of a
    /// size a mutation claims, so that a rejection is due to the proof, not to a stale root.
    private var genuineRoots: [Hash] = []
    /// A hash unrelated to the tree, to extend proofs with.
    private let stranger = SHA256.hash("not a node of this tree")

    override func setUpWithError() throws {
        vectors = try RFC6962Vectors.load()
        leaves = try vectors.leafHashValues()
        roots = try vectors.rootValues()
        let extended = leaves + (8..<16).map { Reference.leafHash([UInt8($0), 0xEE]) }
        genuineRoots = (0...extended.count).map { Reference.mth(extended[..<$0]) }
        XCTAssertEqual(Array(genuineRoots[..<roots.count]), roots)
    }

    /// Bits to flip in every hash: all 256.
    private let allBits = Array(0..<256)

    // MARK: Inclusion

    /// What the verifier must say for a proof of length `count` offered for (index, size) it does
    /// not belong to, when the proof is otherwise genuine.
    private func expectedInclusionError(index: UInt64, size: UInt64, count: Int) -> ProofError {
        if index >= size { return .indexOutOfRange(index: index, size: size) }
        let expected = InclusionProof.expectedLength(index: index, size: size)
        if expected != count { return .wrongLength(expected: expected, got: count) }
        return .rootMismatch
    }

    private func verifyInclusion(_ leaf: Hash, _ index: UInt64, _ size: UInt64, _ proof: [Hash], _ root: Hash) throws {
        try InclusionProof.verify(leafHash: leaf, index: index, size: size, proof: proof, root: root)
    }

    func testInclusionWithWrongIndexIsRejected() throws {
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)], root = roots[Int(v.size)]
            var wrong: [UInt64] = [v.index + 1, v.size, v.size + 1, v.size + 1000, UInt64.max]
            if v.index > 0 { wrong += [v.index - 1, 0] }
            wrong += (0..<v.size).filter { $0 != v.index }  // every other leaf position
            for index in Set(wrong) where index != v.index {
                let what = "leaf \(v.index)'s proof at index \(index), size \(v.size)"
                assertRejects(expectedInclusionError(index: index, size: v.size, count: proof.count), what) {
                    try verifyInclusion(leaf, index, v.size, proof, root)
                }
                // Even with the genuine hash of the leaf that is at the claimed index.
                if index < v.size {
                    assertRejects(expectedInclusionError(index: index, size: v.size, count: proof.count), what + " (its leaf)") {
                        try verifyInclusion(leaves[Int(index)], index, v.size, proof, root)
                    }
                }
            }
        }
    }

    func testInclusionWithWrongSizeIsRejected() throws {
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)]
            var sizes: [UInt64] = [0, v.size - 1, v.size + 1, v.size + 2, 2 * v.size, 16, UInt64.max]
            if v.index > 0 { sizes.append(v.index) }  // index == size
            for size in Set(sizes) where size != v.size {
                let what = "proof for (\(v.index), \(v.size)) offered for size \(size)"
                let error = expectedInclusionError(index: v.index, size: size, count: proof.count)
                if size < genuineRoots.count {
                    assertRejects(error, what) { try verifyInclusion(leaf, v.index, size, proof, genuineRoots[Int(size)]) }
                }
                // Against the proof's own root, a wrong size is caught when the index or the length
                // exposes it; otherwise see testTheRootNotTheVerifierBindsTheSize.
                if error != .rootMismatch {
                    assertRejects(error, what + " against its own root") {
                        try verifyInclusion(leaf, v.index, size, proof, roots[Int(v.size)])
                    }
                }
            }
        }
    }

    /// RFC 9162 verification checks a proof against a root, and the tree size only shapes the
    /// left/right pattern: PATH(0, D[5]) = [d1, MTH(2:4), d4] has the same pattern as PATH(0, D[6]),
    /// so it verifies as a size-6 proof *against the size-5 root*. Nothing is forged (the root is
    /// still the size-5 root); binding a root to its size is the signed checkpoint's job. Pinned here
    /// so that nobody relies on verify() to authenticate a size on its own.
    func testTheRootNotTheVerifierBindsTheSize() throws {
        let proof05 = try vectors.inclusion.first { $0.index == 0 && $0.size == 5 }!.proof.map(hash64)
        assertAccepts("(0, 5) proof checked as (0, 6) against the size-5 root") {
            try verifyInclusion(leaves[0], 0, 6, proof05, roots[5])
        }
        assertRejects(.rootMismatch, "(0, 5) proof checked as (0, 6) against the size-6 root") {
            try verifyInclusion(leaves[0], 0, 6, proof05, roots[6])
        }
        let proof45 = try vectors.consistency.first { $0.from == 4 && $0.to == 5 }!.proof.map(hash64)
        assertAccepts("(4→5) proof checked as (4→6) against the size-5 root") {
            try verifyConsistency(4, roots[4], 6, roots[5], proof45)
        }
        assertRejects(.rootMismatch, "(4→5) proof checked as (4→6) against the size-6 root") {
            try verifyConsistency(4, roots[4], 6, roots[6], proof45)
        }
    }

    func testInclusionWithAnyFlippedProofBitIsRejected() throws {
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)], root = roots[Int(v.size)]
            for i in proof.indices {
                for bit in allBits {
                    var bad = proof
                    bad[i] = bad[i].flippingBit(bit)
                    assertRejects(.rootMismatch, "(\(v.index), \(v.size)) hash \(i) bit \(bit)") {
                        try verifyInclusion(leaf, v.index, v.size, bad, root)
                    }
                }
            }
        }
    }

    func testInclusionOfTheWrongLeafOrRootIsRejected() throws {
        let data = try vectors.leafData()
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)], root = roots[Int(v.size)]
            let what = "(\(v.index), \(v.size))"
            for other in leaves where other != leaf {
                assertRejects(.rootMismatch, "\(what) with another leaf") { try verifyInclusion(other, v.index, v.size, proof, root) }
            }
            // The data's plain SHA-256 (no 0x00 leaf prefix), an interior-node hash, and nonsense.
            let undomained = SHA256.hash(data[Int(v.index)])
            for fake in [undomained, Hash.zero, stranger, root] + allBits.map(leaf.flippingBit) where fake != leaf {
                assertRejects(.rootMismatch, "\(what) with leaf hash \(fake)") {
                    try verifyInclusion(fake, v.index, v.size, proof, root)
                }
            }
            for otherRoot in roots + [Hash.zero] + allBits.map(root.flippingBit) where otherRoot != root {
                assertRejects(.rootMismatch, "\(what) against root \(otherRoot)") {
                    try verifyInclusion(leaf, v.index, v.size, proof, otherRoot)
                }
            }
        }
    }

    func testInclusionProofOfTheWrongLengthIsRejected() throws {
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)], root = roots[Int(v.size)]
            let what = "(\(v.index), \(v.size))"
            var shorter: [(String, [Hash])] = []
            if !proof.isEmpty {
                shorter = [("drop first", Array(proof.dropFirst())), ("drop last", Array(proof.dropLast())), ("empty", [])]
            }
            for (how, bad) in shorter {
                assertRejects(.wrongLength(expected: proof.count, got: bad.count), "\(what) \(how)") {
                    try verifyInclusion(leaf, v.index, v.size, bad, root)
                }
            }
            let longer: [(String, [Hash])] = [
                ("append stranger", proof + [stranger]), ("prepend stranger", [stranger] + proof),
                ("append root", proof + [root]), ("prepend leaf", [leaf] + proof),
                ("append last again", proof + [proof.last ?? leaf]), ("doubled", proof + proof + [stranger]),
            ]
            for (how, bad) in longer {
                assertRejects(.wrongLength(expected: proof.count, got: bad.count), "\(what) \(how)") {
                    try verifyInclusion(leaf, v.index, v.size, bad, root)
                }
            }
        }
    }

    func testInclusionProofWithReorderedHashesIsRejected() throws {
        var reorderings = 0
        for v in vectors.inclusion {
            let proof = try v.proof.map(hash64)
            let leaf = leaves[Int(v.index)], root = roots[Int(v.size)]
            for i in proof.indices {
                for j in proof.indices where j > i && proof[i] != proof[j] {
                    var bad = proof
                    bad.swapAt(i, j)
                    reorderings += 1
                    assertRejects(.rootMismatch, "(\(v.index), \(v.size)) swap \(i)↔\(j)") {
                        try verifyInclusion(leaf, v.index, v.size, bad, root)
                    }
                }
            }
            if proof.count > 2, proof.reversed() != proof {
                assertRejects(.rootMismatch, "(\(v.index), \(v.size)) reversed") {
                    try verifyInclusion(leaf, v.index, v.size, proof.reversed(), root)
                }
            }
        }
        XCTAssertGreaterThan(reorderings, 50)
    }

    // MARK: Consistency

    /// What the verifier must say for a genuine, non-empty proof of length `count` offered for
    /// (from, to) it does not belong to.
    private func expectedConsistencyError(from: UInt64, to: UInt64, count: Int) -> ProofError {
        precondition(count > 0)
        if from > to { return .sizeOutOfRange(from: from, to: to) }
        if from == 0 || from == to { return .wrongLength(expected: 0, got: count) }
        let expected = ConsistencyProof.expectedLength(from: from, to: to)
        if expected != count { return .wrongLength(expected: expected, got: count) }
        return .rootMismatch
    }

    private func verifyConsistency(_ from: UInt64, _ fromRoot: Hash, _ to: UInt64, _ toRoot: Hash, _ proof: [Hash]) throws {
        try ConsistencyProof.verify(from: from, fromRoot: fromRoot, to: to, toRoot: toRoot, proof: proof)
    }

    func testConsistencyWithWrongSizesIsRejected() throws {
        for v in vectors.consistency {
            let proof = try v.proof.map(hash64)
            let fromRoot = roots[Int(v.from)], toRoot = roots[Int(v.to)]
            var pairs: [(UInt64, UInt64)] = [
                (v.from + 1, v.to), (v.from, v.to + 1), (v.from + 1, v.to + 1), (v.to, v.from), (v.to + 1, v.to),
                (v.from, 0), (v.from, v.to * 2), (UInt64.max, v.to), (v.from, UInt64.max),
            ]
            if v.from > 0 { pairs += [(v.from - 1, v.to), (0, v.to)] }
            if v.to > 0 { pairs += [(v.from, v.to - 1)] }
            for (from, to) in pairs where (from, to) != (v.from, v.to) {
                let what = "proof (\(v.from)→\(v.to)) offered for (\(from)→\(to))"
                if proof.isEmpty {
                    // The empty proof of from == to only asserts that the two roots are equal.
                    let error: ProofError
                    if from > to { error = .sizeOutOfRange(from: from, to: to) }
                    else if from == to { continue }  // equal roots, equal sizes: nothing false is claimed
                    else if from == 0 { error = .rootMismatch }  // fromRoot is not the empty root
                    else { error = .emptyProof }
                    assertRejects(error, what) { try verifyConsistency(from, fromRoot, to, toRoot, proof) }
                    continue
                }
                let error = expectedConsistencyError(from: from, to: to, count: proof.count)
                if from < genuineRoots.count, to < genuineRoots.count {
                    assertRejects(error, what) {
                        try verifyConsistency(from, genuineRoots[Int(from)], to, genuineRoots[Int(to)], proof)
                    }
                }
                // Against the proof's own roots: see testTheRootNotTheVerifierBindsTheSize.
                if error != .rootMismatch {
                    assertRejects(error, what + " against its own roots") { try verifyConsistency(from, fromRoot, to, toRoot, proof) }
                }
            }
        }
    }

    func testConsistencyFromLargerToSmallerIsSizeOutOfRange() throws {
        for from in 1..<UInt64(roots.count) {
            for to in 0..<from {
                for proof in [[], [stranger], [roots[Int(to)], roots[Int(from)]]] {
                    assertRejects(.sizeOutOfRange(from: from, to: to), "\(from)→\(to)") {
                        try verifyConsistency(from, roots[Int(from)], to, roots[Int(to)], proof)
                    }
                }
            }
        }
    }

    func testConsistencyWithSwappedOrWrongRootsIsRejected() throws {
        for v in vectors.consistency {
            let proof = try v.proof.map(hash64)
            let fromRoot = roots[Int(v.from)], toRoot = roots[Int(v.to)]
            let what = "(\(v.from)→\(v.to))"
            if fromRoot != toRoot {
                assertRejects(.rootMismatch, "\(what) swapped roots") { try verifyConsistency(v.from, toRoot, v.to, fromRoot, proof) }
            }
            for other in roots + [Hash.zero, stranger] + allBits.map(fromRoot.flippingBit) where other != fromRoot {
                assertRejects(.rootMismatch, "\(what) old root \(other)") { try verifyConsistency(v.from, other, v.to, toRoot, proof) }
            }
            for other in roots + [Hash.zero, stranger] + allBits.map(toRoot.flippingBit) where other != toRoot {
                assertRejects(.rootMismatch, "\(what) new root \(other)") { try verifyConsistency(v.from, fromRoot, v.to, other, proof) }
            }
        }
    }

    func testConsistencyWithAnyFlippedProofBitIsRejected() throws {
        for v in vectors.consistency {
            let proof = try v.proof.map(hash64)
            let fromRoot = roots[Int(v.from)], toRoot = roots[Int(v.to)]
            for i in proof.indices {
                for bit in allBits {
                    var bad = proof
                    bad[i] = bad[i].flippingBit(bit)
                    assertRejects(.rootMismatch, "(\(v.from)→\(v.to)) hash \(i) bit \(bit)") {
                        try verifyConsistency(v.from, fromRoot, v.to, toRoot, bad)
                    }
                }
            }
        }
    }

    func testConsistencyProofOfTheWrongLengthIsRejected() throws {
        for v in vectors.consistency {
            let proof = try v.proof.map(hash64)
            let fromRoot = roots[Int(v.from)], toRoot = roots[Int(v.to)]
            let what = "(\(v.from)→\(v.to))"
            if !proof.isEmpty {
                for (how, bad) in [("drop first", Array(proof.dropFirst())), ("drop last", Array(proof.dropLast())), ("empty", [])] {
                    let error: ProofError = bad.isEmpty ? .emptyProof : .wrongLength(expected: proof.count, got: bad.count)
                    assertRejects(error, "\(what) \(how)") { try verifyConsistency(v.from, fromRoot, v.to, toRoot, bad) }
                }
            }
            let longer: [(String, [Hash])] = [
                ("append stranger", proof + [stranger]), ("prepend stranger", [stranger] + proof),
                ("prepend old root", [fromRoot] + proof), ("append new root", proof + [toRoot]),
                ("append last again", proof + [proof.last ?? toRoot]), ("doubled", proof + proof + [stranger]),
            ]
            let expected = proof.count  // 0 when from == to
            for (how, bad) in longer {
                assertRejects(.wrongLength(expected: expected, got: bad.count), "\(what) \(how)") {
                    try verifyConsistency(v.from, fromRoot, v.to, toRoot, bad)
                }
            }
        }
    }

    func testConsistencyProofWithReorderedHashesIsRejected() throws {
        var reorderings = 0
        for v in vectors.consistency {
            let proof = try v.proof.map(hash64)
            let fromRoot = roots[Int(v.from)], toRoot = roots[Int(v.to)]
            for i in proof.indices {
                for j in proof.indices where j > i && proof[i] != proof[j] {
                    var bad = proof
                    bad.swapAt(i, j)
                    reorderings += 1
                    assertRejects(.rootMismatch, "(\(v.from)→\(v.to)) swap \(i)↔\(j)") {
                        try verifyConsistency(v.from, fromRoot, v.to, toRoot, bad)
                    }
                }
            }
        }
        XCTAssertGreaterThan(reorderings, 30)
    }

    func testEqualSizesNeedEqualRootsAndNoHashes() throws {
        for n in 1..<UInt64(roots.count) {
            assertAccepts("\(n)→\(n)") { try verifyConsistency(n, roots[Int(n)], n, roots[Int(n)], []) }
            for other in roots where other != roots[Int(n)] {
                assertRejects(.rootMismatch, "\(n)→\(n) with different roots") { try verifyConsistency(n, roots[Int(n)], n, other, []) }
                assertRejects(.rootMismatch, "\(n)→\(n) with different roots") { try verifyConsistency(n, other, n, roots[Int(n)], []) }
            }
            // A non-empty "proof" between equal sizes is malformed, even if it holds the root.
            assertRejects(.wrongLength(expected: 0, got: 1), "\(n)→\(n) with a hash") {
                try verifyConsistency(n, roots[Int(n)], n, roots[Int(n)], [roots[Int(n)]])
            }
        }
    }

    func testFromTheEmptyTreeNeedsTheEmptyRootAndNoHashes() throws {
        for to in 0..<UInt64(roots.count) {
            assertAccepts("0→\(to)") { try verifyConsistency(0, RFC6962.emptyRoot, to, roots[Int(to)], []) }
            for fake in [Hash.zero, stranger] + roots.dropFirst() {
                assertRejects(.rootMismatch, "0→\(to) with old root \(fake)") { try verifyConsistency(0, fake, to, roots[Int(to)], []) }
            }
            assertRejects(.wrongLength(expected: 0, got: 1), "0→\(to) with a hash") {
                try verifyConsistency(0, RFC6962.emptyRoot, to, roots[Int(to)], [roots[Int(to)]])
            }
        }
    }

    func testErrorCodesAreStableAndDistinct() {
        let errors: [ProofError] = [
            .indexOutOfRange(index: 1, size: 1), .sizeOutOfRange(from: 2, to: 1),
            .wrongLength(expected: 1, got: 2), .rootMismatch, .emptyProof,
        ]
        XCTAssertEqual(errors.map(\.code),
                       ["index_out_of_range", "size_out_of_range", "wrong_proof_length", "root_mismatch", "empty_proof"])
        XCTAssertEqual(Set(errors.map(\.description)).count, errors.count)
    }
}
