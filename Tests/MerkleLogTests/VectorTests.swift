// The RFC 6962 reference vectors (Tests/Vectors/rfc6962.json): every leaf hash, every root, and
// every inclusion and consistency proof must be reproduced exactly by the tile-backed generator
// and accepted by the verifier.
import CinnabarCrypto
import MerkleLog
import XCTest

final class VectorTests: XCTestCase {
    /// The vector tree as the ledger would build it: one leaf at a time, tiles written after each.
    private struct Built {
        var leafHashes: [Hash]
        /// appenderRoots[n]: TreeAppender.rootHash after n leaves.
        var appenderRoots: [Hash]
        /// snapshots[n]: the tile store exactly as written at size n.
        var snapshots: [TileStore]
    }

    private var vectors: RFC6962Vectors!
    private var built: Built!

    override func setUpWithError() throws {
        vectors = try RFC6962Vectors.load()
        let leafHashes = try vectors.leafHashValues()
        var appender = TreeAppender()
        var store = TileStore()
        var built = Built(leafHashes: leafHashes, appenderRoots: [appender.rootHash], snapshots: [store])
        for h in leafHashes {
            appender.append(leafHash: h)
            store.write(appender.takeChangedTiles(), treeSize: appender.size)
            built.appenderRoots.append(appender.rootHash)
            built.snapshots.append(store)
        }
        self.built = built
    }

    func testLeafHashes() throws {
        let data = try vectors.leafData()
        let expected = try vectors.leafHashValues()
        for (i, (d, want)) in zip(data, expected).enumerated() {
            XCTAssertEqual(RFC6962.leafHash(d), want, "RFC6962.leafHash of leaf \(i)")
            XCTAssertEqual(Reference.leafHash(d), want, "reference leaf hash of leaf \(i)")
            XCTAssertNotEqual(SHA256.hash(d), want, "leaf \(i) must be domain-separated from plain SHA-256")
        }
    }

    func testEmptyTreeRoot() throws {
        let roots = try vectors.rootValues()
        XCTAssertEqual(roots[0], SHA256.hash([UInt8]()), "roots[0] is SHA-256 of the empty string")
        XCTAssertEqual(RFC6962.emptyRoot, roots[0])
        XCTAssertEqual(RFC6962.rootHash([]), roots[0])
        XCTAssertEqual(TreeAppender().rootHash, roots[0])
        XCTAssertEqual(TreeAppender().size, 0)
        XCTAssertEqual(try TileStore().reader.rootHash(size: 0), roots[0])
        XCTAssertEqual(built.appenderRoots[0], roots[0])
    }

    func testEveryRoot() throws {
        let roots = try vectors.rootValues()
        let latest = built.snapshots.last!.reader
        for n in 0...built.leafHashes.count {
            let want = roots[n]
            XCTAssertEqual(built.appenderRoots[n], want, "TreeAppender.rootHash after \(n) leaves")
            XCTAssertEqual(RFC6962.rootHash(built.leafHashes[..<n]), want, "RFC6962.rootHash of \(n) leaves")
            XCTAssertEqual(Reference.mth(built.leafHashes[..<n]), want, "reference MTH of \(n) leaves")
            XCTAssertEqual(try built.snapshots[n].reader.rootHash(size: UInt64(n)), want,
                           "TileHashReader.rootHash over the tiles written at size \(n)")
            XCTAssertEqual(try latest.rootHash(size: UInt64(n)), want,
                           "TileHashReader.rootHash(size: \(n)) over the tiles written at size 8")
        }
    }

    func testOneBatchWritesTheSameTilesAsLeafByLeaf() throws {
        var appender = TreeAppender()
        for h in built.leafHashes { appender.append(leafHash: h) }
        var store = TileStore()
        store.write(appender.takeChangedTiles(), treeSize: appender.size)
        XCTAssertEqual(store, built.snapshots.last!)
        XCTAssertEqual(appender.rootHash, try vectors.rootValues().last!)
        XCTAssertTrue(appender.takeChangedTiles().isEmpty, "nothing changed since the last take")
    }

    func testTheVectorsCoverEveryIndexAndSizePair() {
        let n = UInt64(built.leafHashes.count)
        let inclusion = Set(vectors.inclusion.map { [$0.index, $0.size] })
        let consistency = Set(vectors.consistency.map { [$0.from, $0.to] })
        XCTAssertEqual(inclusion, Set((1...n).flatMap { size in (0..<size).map { [$0, size] } }))
        XCTAssertEqual(consistency, Set((1...n).flatMap { to in (1...to).map { [$0, to] } }))
    }

    func testEveryInclusionProof() throws {
        let roots = try vectors.rootValues()
        let latest = built.snapshots.last!.reader
        for v in vectors.inclusion {
            let want = try v.proof.map(hash64)
            let what = "inclusion of leaf \(v.index) in tree of size \(v.size)"
            let atSize = try built.snapshots[Int(v.size)].reader.inclusionProof(index: v.index, size: v.size)
            XCTAssertEqual(atSize, want, "\(what), from the tiles written at that size")
            XCTAssertEqual(try latest.inclusionProof(index: v.index, size: v.size), want,
                           "\(what), from the tiles written at size 8")
            XCTAssertEqual(Reference.path(Int(v.index), built.leafHashes[..<Int(v.size)]), want, "\(what), reference PATH")
            XCTAssertEqual(InclusionProof.expectedLength(index: v.index, size: v.size), want.count, what)
            XCTAssertEqual(try InclusionProof.plan(index: v.index, size: v.size).count, want.count, what)
            assertAccepts(what) {
                try InclusionProof.verify(leafHash: built.leafHashes[Int(v.index)], index: v.index, size: v.size,
                                          proof: want, root: roots[Int(v.size)])
            }
        }
    }

    func testEveryConsistencyProof() throws {
        let roots = try vectors.rootValues()
        let latest = built.snapshots.last!.reader
        for v in vectors.consistency {
            let want = try v.proof.map(hash64)
            let what = "consistency from \(v.from) to \(v.to)"
            let atSize = try built.snapshots[Int(v.to)].reader.consistencyProof(from: v.from, to: v.to)
            XCTAssertEqual(atSize, want, "\(what), from the tiles written at size \(v.to)")
            XCTAssertEqual(try latest.consistencyProof(from: v.from, to: v.to), want, "\(what), from the tiles written at size 8")
            XCTAssertEqual(Reference.proof(Int(v.from), built.leafHashes[..<Int(v.to)]), want, "\(what), reference PROOF")
            XCTAssertEqual(ConsistencyProof.expectedLength(from: v.from, to: v.to), want.count, what)
            XCTAssertEqual(try ConsistencyProof.plan(from: v.from, to: v.to).count, want.count, what)
            assertAccepts(what) {
                try ConsistencyProof.verify(from: v.from, fromRoot: roots[Int(v.from)], to: v.to, toRoot: roots[Int(v.to)],
                                            proof: want)
            }
        }
    }

    func testTheEmptyTreeIsAPrefixOfEveryVectorTree() throws {
        let roots = try vectors.rootValues()
        for to in 0...UInt64(built.leafHashes.count) {
            XCTAssertEqual(try built.snapshots[Int(to)].reader.consistencyProof(from: 0, to: to), [])
            XCTAssertEqual(ConsistencyProof.expectedLength(from: 0, to: to), 0)
            assertAccepts("consistency from 0 to \(to)") {
                try ConsistencyProof.verify(from: 0, fromRoot: roots[0], to: to, toRoot: roots[Int(to)], proof: [])
            }
        }
    }
}
