// Randomised and exhaustive properties of the tile-backed tree, against the reference recursion
// of RFC 9162 §2.1 (MerkleTestSupport.swift): roots, proofs read from tiles (written at the proof's
// size or at any later size), proof lengths, mutation rejection, batched appends, and resuming a
// TreeAppender from stored tiles. Every random choice comes from a seeded SplitMix64.
import CinnabarCrypto
import MerkleLog
import XCTest

final class PropertyTests: XCTestCase {
    /// A tree grown one leaf at a time, with what storage held and what the appender reported at
    /// every size: the uninterrupted build every other build is compared with.
    private struct History {
        let leaves: [Hash]
        /// snapshots[n]: the tile store after the tiles of size n were written.
        var snapshots: [TileStore] = []
        /// roots[n]: TreeAppender.rootHash at size n.
        var roots: [Hash] = []
        var latest: TileStore { snapshots.last! }
        var size: Int { leaves.count }

        init(leaves: [Hash]) {
            self.leaves = leaves
            var appender = TreeAppender()
            var store = TileStore()
            snapshots.reserveCapacity(leaves.count + 1)
            snapshots.append(store)
            roots.append(appender.rootHash)
            for h in leaves {
                appender.append(leafHash: h)
                store.write(appender.takeChangedTiles(), treeSize: appender.size)
                snapshots.append(store)
                roots.append(appender.rootHash)
            }
        }
    }

    private static func leaves(_ count: Int, salt: UInt8) -> [Hash] {
        (0..<count).map { Reference.leafHash(syntheticLeafData($0, salt: salt)) }
    }

    /// Stops a loop from burying the log under thousands of identical failures.
    private var failures = 0
    private func fail(_ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        failures += 1
        if failures <= 20 { XCTFail(message(), file: file, line: line) }
    }

    // MARK: - Exhaustive small trees

    /// Sizes 0…300 (two level-0 tiles, a level-1 tile): every root; every inclusion proof; every
    /// consistency proof; exact equality with the reference PATH/PROOF for sizes ≤ 64.
    func testEverySmallTreeEveryProof() throws {
        let maxSize = 300, exactUpTo = 64
        let history = History(leaves: Self.leaves(maxSize, salt: 1))
        let leaves = history.leaves
        let naive = (0...maxSize).map { Reference.mth(leaves[..<$0]) }
        let latest = history.latest.reader

        for n in 0...maxSize {
            let size = UInt64(n)
            let atSize = history.snapshots[n].reader
            if history.roots[n] != naive[n] { fail("appender root at size \(n)") }
            if try atSize.rootHash(size: size) != naive[n] { fail("tile root at size \(n)") }
            if try latest.rootHash(size: size) != naive[n] { fail("later-tile root at size \(n)") }
            if RFC6962.rootHash(leaves[..<n]) != naive[n] { fail("RFC6962.rootHash at size \(n)") }

            for i in 0..<size {
                let proof = try atSize.inclusionProof(index: i, size: size)
                if proof.count != InclusionProof.expectedLength(index: i, size: size) { fail("inclusion length (\(i), \(n))") }
                if n <= exactUpTo, proof != Reference.path(Int(i), leaves[..<n]) { fail("inclusion (\(i), \(n)) ≠ PATH") }
                if n % 7 == 0, try latest.inclusionProof(index: i, size: size) != proof { fail("later tiles: inclusion (\(i), \(n))") }
                do {
                    try InclusionProof.verify(leafHash: leaves[Int(i)], index: i, size: size, proof: proof, root: naive[n])
                } catch { fail("inclusion (\(i), \(n)) rejected: \(error)") }
            }

            for m in 0...size {
                let proof = try atSize.consistencyProof(from: m, to: size)
                if proof.count != ConsistencyProof.expectedLength(from: m, to: size) { fail("consistency length (\(m)→\(n))") }
                if n <= exactUpTo, m > 0, proof != Reference.proof(Int(m), leaves[..<n]) { fail("consistency (\(m)→\(n)) ≠ PROOF") }
                if n % 7 == 0, try latest.consistencyProof(from: m, to: size) != proof { fail("later tiles: consistency (\(m)→\(n))") }
                do {
                    try ConsistencyProof.verify(from: m, fromRoot: naive[Int(m)], to: size, toRoot: naive[n], proof: proof)
                } catch { fail("consistency (\(m)→\(n)) rejected: \(error)") }
            }
        }
        XCTAssertEqual(failures, 0)
    }

    // MARK: - Random trees up to ~3000 leaves

    func testRandomTreesProofsVerifyAndMutationsFail() throws {
        for seed: UInt64 in [0xC1_77AB, 42, 7_000_001] {
            var rng = SplitMix64(seed: seed)
            let n = Int.random(in: 1200...3000, using: &rng)
            let history = History(leaves: Self.leaves(n, salt: UInt8(truncatingIfNeeded: seed)))
            var naive = ReferenceRoots(history.leaves)
            let latest = history.latest.reader

            // Sizes at and around tile boundaries, plus random ones.
            var sizes: Set<Int> = [1, 2, 255, 256, 257, 511, 512, 513, n - 1, n]
            while sizes.count < 34 { sizes.insert(Int.random(in: 1...n, using: &rng)) }
            let sorted = sizes.filter { $0 >= 1 && $0 <= n }.sorted()

            for size in sorted {
                let s = UInt64(size)
                let root = naive.root(size)
                let atSize = history.snapshots[size].reader
                XCTAssertEqual(history.roots[size], root, "seed \(seed): appender root at \(size)")
                XCTAssertEqual(try atSize.rootHash(size: s), root, "seed \(seed): tile root at \(size)")
                XCTAssertEqual(try latest.rootHash(size: s), root, "seed \(seed): later-tile root at \(size)")

                for _ in 0..<24 {
                    let i = UInt64.random(in: 0..<s, using: &rng)
                    let proof = try atSize.inclusionProof(index: i, size: s)
                    XCTAssertEqual(try latest.inclusionProof(index: i, size: s), proof, "seed \(seed): later tiles (\(i), \(size))")
                    XCTAssertEqual(proof.count, InclusionProof.expectedLength(index: i, size: s))
                    assertAccepts("seed \(seed): inclusion (\(i), \(size))") {
                        try InclusionProof.verify(leafHash: history.leaves[Int(i)], index: i, size: s, proof: proof, root: root)
                    }
                    var claim = InclusionClaim(leaf: history.leaves[Int(i)], index: i, size: s, proof: proof, root: root)
                    let how = claim.mutate(using: &rng, leaves: history.leaves, roots: &naive)
                    assertRejects(nil, "seed \(seed): inclusion (\(i), \(size)) mutated: \(how)") { try claim.verify() }
                }
            }

            for (a, b) in zip(sorted, sorted.shuffled(using: &rng)) {
                let (from, to) = (UInt64(min(a, b)), UInt64(max(a, b)))
                for m in [from, UInt64.random(in: 1...to, using: &rng)] {
                    let proof = try history.snapshots[Int(to)].reader.consistencyProof(from: m, to: to)
                    XCTAssertEqual(try latest.consistencyProof(from: m, to: to), proof, "seed \(seed): later tiles (\(m)→\(to))")
                    XCTAssertEqual(proof.count, ConsistencyProof.expectedLength(from: m, to: to))
                    let fromRoot = naive.root(Int(m)), toRoot = naive.root(Int(to))
                    assertAccepts("seed \(seed): consistency (\(m)→\(to))") {
                        try ConsistencyProof.verify(from: m, fromRoot: fromRoot, to: to, toRoot: toRoot, proof: proof)
                    }
                    if m == to { continue }  // an empty proof has nothing to mutate but roots; MutationTests covers it
                    var claim = ConsistencyClaim(from: m, fromRoot: fromRoot, to: to, toRoot: toRoot, proof: proof)
                    let how = claim.mutate(using: &rng, limit: history.size, roots: &naive)
                    assertRejects(nil, "seed \(seed): consistency (\(m)→\(to)) mutated: \(how)") { try claim.verify() }
                }
            }
        }
    }

    // MARK: - Batches and resumption

    func testBatchedAppendsWriteWhatLeafByLeafAppendsWrite() throws {
        var rng = SplitMix64(seed: 0xBA7C4)
        let history = History(leaves: Self.leaves(2100, salt: 9))
        for round in 0..<6 {
            var appender = TreeAppender()
            var store = TileStore()
            var boundaries = 0
            while appender.size < UInt64(history.size) {
                let maxBatch = round == 0 ? history.size : [1, 7, 255, 256, 600][round - 1]
                let batch = min(Int.random(in: 1...maxBatch, using: &rng), history.size - Int(appender.size))
                for h in history.leaves[Int(appender.size)..<Int(appender.size) + batch] { appender.append(leafHash: h) }
                store.write(appender.takeChangedTiles(), treeSize: appender.size)
                let at = Int(appender.size)
                boundaries += 1
                XCTAssertEqual(appender.rootHash, history.roots[at], "round \(round): root at \(at)")
                if store != history.snapshots[at] { XCTFail("round \(round): tiles at \(at) differ from the leaf-by-leaf build") }
                XCTAssertTrue(appender.takeChangedTiles().isEmpty, "round \(round): a second take at \(at) is empty")
            }
            XCTAssertGreaterThan(boundaries, 0)
        }
    }

    func testResumingFromStoredTilesContinuesTheSameTree() throws {
        var rng = SplitMix64(seed: 0x2E5_0BE)
        let history = History(leaves: Self.leaves(1800, salt: 3))
        let n = history.size
        var starts: [Int] = [0, 1, 255, 256, 257, 511, 512, 1024, n - 1, n]
        starts += (0..<14).map { _ in Int.random(in: 0...n, using: &rng) }

        for (k, s) in starts.enumerated() {
            // Resume from what storage held at size s, or from the (wider) tiles of a later size.
            let source = k % 2 == 0 ? s : Int.random(in: s...n, using: &rng)
            let keys = TreeAppender.partialTileKeys(size: UInt64(s))
            var rightmost: [TileKey: StoredTile] = [:]
            for key in keys { rightmost[key] = history.snapshots[source].tiles[key] }
            XCTAssertEqual(keys.count, rightmost.count, "size \(s): a rightmost tile is not in storage at \(source)")
            for key in keys {
                XCTAssertNotEqual(TileStore.expectedWidth(key, treeSize: UInt64(s)) % 256, 0,
                                  "size \(s): \(key) is listed but not partial")
            }

            guard var appender = TreeAppender(size: UInt64(s), rightmostTiles: rightmost) else {
                XCTFail("size \(s): cannot resume from the tiles of size \(source)")
                continue
            }
            XCTAssertEqual(appender.size, UInt64(s))
            XCTAssertEqual(appender.rootHash, history.roots[s], "size \(s): resumed root (tiles of \(source))")
            XCTAssertTrue(appender.takeChangedTiles().isEmpty, "size \(s): resuming writes nothing")

            var store = history.snapshots[s]
            while appender.size < UInt64(n) {
                let batch = min(Int.random(in: 1...300, using: &rng), n - Int(appender.size))
                for h in history.leaves[Int(appender.size)..<Int(appender.size) + batch] { appender.append(leafHash: h) }
                store.write(appender.takeChangedTiles(), treeSize: appender.size)
                let at = Int(appender.size)
                XCTAssertEqual(appender.rootHash, history.roots[at], "resumed at \(s): root at \(at)")
                if store != history.snapshots[at] { XCTFail("resumed at \(s) (tiles of \(source)): tiles at \(at) differ") }
            }
        }
    }

    func testResumingRefusesMissingOrNarrowTiles() throws {
        let history = History(leaves: Self.leaves(700, salt: 4))
        for s in [1, 2, 200, 255, 257, 300, 513, 600, 699, 700] {
            let size = UInt64(s)
            let keys = TreeAppender.partialTileKeys(size: size)
            XCTAssertFalse(keys.isEmpty)
            let exact = Dictionary(uniqueKeysWithValues: keys.map { ($0, history.snapshots[s].tiles[$0]!) })
            XCTAssertNotNil(TreeAppender(size: size, rightmostTiles: exact))
            for key in keys {
                var missing = exact
                missing[key] = nil
                XCTAssertNil(TreeAppender(size: size, rightmostTiles: missing), "size \(s) without \(key)")
                // The same key as written at an earlier size, while it was narrower.
                let width = TileStore.expectedWidth(key, treeSize: size)
                if let earlier = (0..<s).last(where: { TileStore.expectedWidth(key, treeSize: UInt64($0)) == width - 1 }),
                   let narrow = history.snapshots[earlier].tiles[key] {
                    var stale = exact
                    stale[key] = narrow
                    XCTAssertNil(TreeAppender(size: size, rightmostTiles: stale), "size \(s) with \(key) from size \(earlier)")
                }
            }
        }
        // Sizes that are whole tiles need no partial tile at the full levels.
        XCTAssertEqual(TreeAppender.partialTileKeys(size: 256), [TileKey(level: 1, index: 0)])
        XCTAssertEqual(TreeAppender.partialTileKeys(size: 512), [TileKey(level: 1, index: 0)])
        XCTAssertEqual(TreeAppender.partialTileKeys(size: 513), [TileKey(level: 0, index: 2), TileKey(level: 1, index: 0)])
        XCTAssertEqual(TreeAppender.partialTileKeys(size: 0), [])
        XCTAssertEqual(TreeAppender(size: 0, rightmostTiles: [:])?.rootHash, RFC6962.emptyRoot)
    }

    // MARK: - Across the second tile level (65,536 leaves)

    /// Level-2 tiles appear at 65,536 leaves. Leaf hashes here are arbitrary 32-byte values (the
    /// tree never looks inside a leaf hash), so that the test stays fast in debug builds.
    func testTreeAcrossTheFirstLevelTwoTile() throws {
        var rng = SplitMix64(seed: 65_536)
        let n = 65_536 + 300
        let leaves = (0..<n).map { fakeHash($0, salt: 17) }
        let checkpoints = [65_535, 65_536, 65_537, 65_536 + 255, 65_536 + 256, n]
        var appender = TreeAppender()
        var store = TileStore()
        var stores: [Int: TileStore] = [:]
        var roots: [Int: Hash] = [:]
        var resumeTiles: [Int: [TileKey: StoredTile]] = [:]
        var at = 0
        for cp in checkpoints {
            while at < cp {
                let batch = min(Int.random(in: 1...5000, using: &rng), cp - at)
                for h in leaves[at..<at + batch] { appender.append(leafHash: h) }
                at += batch
                store.write(appender.takeChangedTiles(), treeSize: appender.size)
            }
            stores[cp] = store
            roots[cp] = appender.rootHash
            resumeTiles[cp] = Dictionary(uniqueKeysWithValues: TreeAppender.partialTileKeys(size: UInt64(cp)).map { ($0, store.tiles[$0]!) })
        }
        XCTAssertEqual(stores[65_536]!.tiles[TileKey(level: 2, index: 0)]?.width, 1)
        XCTAssertNil(stores[65_535]!.tiles[TileKey(level: 2, index: 0)])
        XCTAssertEqual(stores[65_536]!.tiles[TileKey(level: 1, index: 0)]?.width, 256)
        XCTAssertNil(stores[65_536]!.tiles[TileKey(level: 1, index: 1)])
        XCTAssertEqual(roots[n], Reference.mth(leaves[...]), "reference root of \(n) leaves")

        let latest = stores[n]!.reader
        var rootCache: [Int: Hash] = [:]
        func rootOf(_ size: Int) -> Hash {
            if let hit = rootCache[size] { return hit }
            let r = RFC6962.rootHash(leaves[..<size])
            rootCache[size] = r
            return r
        }
        let someIndex = UInt64.random(in: 0..<65_535, using: &rng)
        let someSize = UInt64.random(in: 1...65_535, using: &rng)
        for cp in checkpoints {
            let size = UInt64(cp)
            let root = rootOf(cp)
            XCTAssertEqual(roots[cp], root, "appender root at \(cp)")
            XCTAssertEqual(try stores[cp]!.reader.rootHash(size: size), root, "tile root at \(cp)")
            XCTAssertEqual(try latest.rootHash(size: size), root, "later-tile root at \(cp)")
            for i in [0, size / 2, 65_535, 65_536, size - 1, someIndex] where i < size {
                let proof = try stores[cp]!.reader.inclusionProof(index: i, size: size)
                XCTAssertEqual(try latest.inclusionProof(index: i, size: size), proof)
                assertAccepts("inclusion (\(i), \(cp))") {
                    try InclusionProof.verify(leafHash: leaves[Int(i)], index: i, size: size, proof: proof, root: root)
                }
            }
            for m in [1, 256, 65_535, 65_536, someSize] where m <= size {
                let proof = try stores[cp]!.reader.consistencyProof(from: m, to: size)
                XCTAssertEqual(try latest.consistencyProof(from: m, to: size), proof)
                let fromRoot = rootOf(Int(m))
                assertAccepts("consistency (\(m)→\(cp))") {
                    try ConsistencyProof.verify(from: m, fromRoot: fromRoot, to: size, toRoot: root, proof: proof)
                }
            }
            // Resume here and finish the tree: the same root and the same tiles.
            guard var resumed = TreeAppender(size: size, rightmostTiles: resumeTiles[cp]!) else {
                XCTFail("cannot resume at \(cp)")
                continue
            }
            XCTAssertEqual(resumed.rootHash, root, "resumed root at \(cp)")
            var resumedStore = stores[cp]!
            for h in leaves[cp...] { resumed.append(leafHash: h) }
            resumedStore.write(resumed.takeChangedTiles(), treeSize: resumed.size)
            XCTAssertEqual(resumed.rootHash, roots[n])
            XCTAssertTrue(resumedStore == stores[n]!, "resumed at \(cp): final tiles differ")
        }
    }
}

// MARK: - Reference roots and random mutations

/// Reference roots, computed on demand by the naive recursion and kept.
private struct ReferenceRoots {
    let leaves: [Hash]
    private var cache: [Int: Hash] = [:]
    init(_ leaves: [Hash]) { self.leaves = leaves }
    mutating func root(_ n: Int) -> Hash {
        if let hit = cache[n] { return hit }
        let r = Reference.mth(leaves[..<n])
        cache[n] = r
        return r
    }
}

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }
    mutating func hash() -> Hash { fakeHash(below(1 << 30), salt: next()) }
}

/// An inclusion claim a verifier is asked to accept.
private struct InclusionClaim {
    var leaf: Hash, index: UInt64, size: UInt64, proof: [Hash], root: Hash

    func verify() throws {
        try InclusionProof.verify(leafHash: leaf, index: index, size: size, proof: proof, root: root)
    }

    /// Applies one random mutation that makes the claim false and returns what it did. A changed
    /// size comes with the genuine root of that size (MutationTests.testTheRootNotTheVerifierBindsTheSize).
    mutating func mutate(using rng: inout SplitMix64, leaves: [Hash], roots: inout ReferenceRoots) -> String {
        while true {
            switch rng.below(12) {
            case 0 where !proof.isEmpty:
                let (i, bit) = (rng.below(proof.count), rng.below(256))
                proof[i] = proof[i].flippingBit(bit)
                return "flip bit \(bit) of proof hash \(i)"
            case 1:
                let bit = rng.below(256)
                leaf = leaf.flippingBit(bit)
                return "flip bit \(bit) of the leaf hash"
            case 2:
                let bit = rng.below(256)
                root = root.flippingBit(bit)
                return "flip bit \(bit) of the root"
            case 3 where size >= 2:
                let j = (Int(index) + 1 + rng.below(Int(size) - 1)) % Int(size)
                leaf = leaves[j]
                return "leaf \(j)'s hash"
            case 4 where size >= 2:
                let j = (index + 1 + UInt64(rng.below(Int(size) - 1))) % size
                index = j
                return "index \(j)"
            case 5:
                index = size + UInt64(rng.below(1000))
                return "index \(index) ≥ size"
            case 6 where Int(size) < leaves.count:
                size += UInt64(1 + rng.below(min(8, leaves.count - Int(size))))
                root = roots.root(Int(size))
                return "size \(size) with its root"
            case 7 where size >= 2:
                size -= UInt64(1 + rng.below(Int(size) - 1))
                root = roots.root(Int(size))
                return "size \(size) with its root"
            case 8:
                size = 0
                return "size 0"
            case 9 where !proof.isEmpty:
                let i = rng.below(proof.count)
                proof.remove(at: i)
                return "drop hash \(i)"
            case 10:
                let i = rng.below(proof.count + 1)
                proof.insert(rng.hash(), at: i)
                return "insert a hash at \(i)"
            case 11 where proof.count >= 2:
                let i = rng.below(proof.count), j = rng.below(proof.count)
                guard proof[i] != proof[j] else { continue }
                proof.swapAt(i, j)
                return "swap hashes \(i) and \(j)"
            default:
                continue
            }
        }
    }
}

/// A consistency claim (from < to, non-empty proof) a verifier is asked to accept.
private struct ConsistencyClaim {
    var from: UInt64, fromRoot: Hash, to: UInt64, toRoot: Hash, proof: [Hash]

    func verify() throws {
        try ConsistencyProof.verify(from: from, fromRoot: fromRoot, to: to, toRoot: toRoot, proof: proof)
    }

    /// Applies one random mutation that makes the claim false and returns what it did. Changed
    /// sizes come with the genuine roots of those sizes. `limit` is the largest size with a root.
    mutating func mutate(using rng: inout SplitMix64, limit: Int, roots: inout ReferenceRoots) -> String {
        precondition(from < to && !proof.isEmpty)
        while true {
            switch rng.below(13) {
            case 0:
                let (i, bit) = (rng.below(proof.count), rng.below(256))
                proof[i] = proof[i].flippingBit(bit)
                return "flip bit \(bit) of proof hash \(i)"
            case 1:
                let bit = rng.below(256)
                fromRoot = fromRoot.flippingBit(bit)
                return "flip bit \(bit) of the old root"
            case 2:
                let bit = rng.below(256)
                toRoot = toRoot.flippingBit(bit)
                return "flip bit \(bit) of the new root"
            case 3:
                swap(&fromRoot, &toRoot)
                return "swap the roots"
            case 4 where to >= 3:
                let m = 1 + (from + UInt64(rng.below(Int(to) - 2))) % (to - 1)  // 1…to-1, ≠ from
                from = m
                fromRoot = roots.root(Int(m))
                return "old size \(m) with its root"
            case 5 where Int(to) < limit || to > from + 1:
                let lo = Int(from) + 1, hi = limit
                var n = Int.random(in: lo...hi, using: &rng)
                if n == Int(to) { n = n == hi ? lo : n + 1 }
                guard n != Int(to) else { continue }
                to = UInt64(n)
                toRoot = roots.root(n)
                return "new size \(n) with its root"
            case 6:
                from = to + 1 + UInt64(rng.below(1000))
                return "old size \(from) > new size"
            case 7:
                let i = rng.below(proof.count)
                proof.remove(at: i)
                return "drop hash \(i)"
            case 8:
                let i = rng.below(proof.count + 1)
                proof.insert(rng.hash(), at: i)
                return "insert a hash at \(i)"
            case 9 where proof.count >= 2:
                let i = rng.below(proof.count), j = rng.below(proof.count)
                guard proof[i] != proof[j] else { continue }
                proof.swapAt(i, j)
                return "swap hashes \(i) and \(j)"
            case 10:
                from = 0
                fromRoot = RFC6962.emptyRoot
                return "old size 0"
            case 11:
                from = to
                fromRoot = toRoot
                return "old size = new size"
            case 12:
                proof = []
                return "empty proof"
            default:
                continue
            }
        }
    }
}
