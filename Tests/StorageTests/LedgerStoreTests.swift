// The RocksDB store: a block is all-or-nothing, reopening finds the tip without scanning, tiles
// serve proofs at every committed size, and a closed store refuses work instead of crashing.
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Storage
import XCTest

final class LedgerStoreTests: XCTestCase {
    var path = ""

    override func setUp() { path = NSTemporaryDirectory() + "cinnabar-store-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    /// Appends `count` leaves as block `height` on top of `tree`, committing it to `store`.
    func commitBlock(_ store: LedgerStore, _ tree: inout TreeAppender, height: UInt64, count: Int) throws -> BlockRecord {
        let first = tree.size
        let leaves = (0..<count).map { i -> [UInt8] in [LeafTag.record.rawValue] + Array("h\(height)-\(i)".utf8) }
        for leaf in leaves { tree.append(leafHash: RFC6962.leafHash(leaf)) }
        let record = BlockRecord(height: height, firstIndex: first, size: tree.size, root: tree.rootHash,
                                 timeMillis: height, embeddedSignatures: "")
        try store.commit(BlockCommit(record: record, leaves: leaves, tiles: tree.takeChangedTiles()))
        try store.publish(height: height, signedCheckpoint: "checkpoint \(height)\n")
        return record
    }

    func testReopeningFindsTheTipAndTheRightEdge() throws {
        var tree = TreeAppender()
        var records: [BlockRecord] = []
        do {
            let store = try LedgerStore(directory: path)
            XCTAssertNil(store.tip)
            for h in 1...40 { records.append(try commitBlock(store, &tree, height: UInt64(h), count: h * 7)) }
            store.close()
        }
        let store = try LedgerStore(directory: path)
        defer { store.close() }
        XCTAssertEqual(store.tip, records.last)
        let resumed = try XCTUnwrap(TreeAppender(size: store.size, rightmostTiles: try store.rightmostTiles()))
        XCTAssertEqual(resumed.rootHash, tree.rootHash)
        // Every committed size: the stored tiles give its root, and its blocks are found by leaf.
        for record in records {
            XCTAssertEqual(try store.hashReader.rootHash(size: record.size), record.root)
            XCTAssertEqual(try store.block(containingLeaf: record.firstIndex), record)
            XCTAssertEqual(try store.block(containingLeaf: record.size - 1), record)
            XCTAssertEqual(try store.checkpoint(height: record.height), "checkpoint \(record.height)\n")
        }
        XCTAssertNil(try store.block(containingLeaf: store.size))
        XCTAssertEqual(try store.leaves(from: 5, count: 3).count, 3)
        XCTAssertEqual(try store.leaves(from: store.size - 2, count: 10).count, 2)
    }

    func testACommittedBlockIsTheTipOnlyOnceItsCheckpointIsPublished() throws {
        let store = try LedgerStore(directory: path)
        defer { store.close() }
        var tree = TreeAppender()
        let first = try commitBlock(store, &tree, height: 1, count: 3)
        let leaves = [[LeafTag.record.rawValue, 7]]
        tree.append(leafHash: RFC6962.leafHash(leaves[0]))
        let second = BlockRecord(height: 2, firstIndex: first.size, size: tree.size, root: tree.rootHash, timeMillis: 2, embeddedSignatures: "")
        try store.commit(BlockCommit(record: second, leaves: leaves, tiles: tree.takeChangedTiles()))
        XCTAssertEqual(store.tip, first, "durable but unsigned: readers still see block 1")
        XCTAssertNil(try store.checkpoint(height: 2))
        try store.publish(height: 2, signedCheckpoint: "checkpoint 2\n")
        XCTAssertEqual(store.tip, second)
        XCTAssertThrowsError(try store.publish(height: 3, signedCheckpoint: "no such block\n"))
        XCTAssertNil(try store.checkpoint(height: 3), "a refused publish writes nothing")
        XCTAssertEqual(store.tip, second)
    }

    /// A block's derived entries are written in key order (cheaper memtable inserts), but a key the
    /// block writes twice keeps the value written last, as the plan intends; other keys are all there.
    func testDerivedEntriesWrittenInKeyOrderKeepTheLastValueOfAKeyWrittenTwice() throws {
        let store = try LedgerStore(directory: path)
        defer { store.close() }
        var tree = TreeAppender()
        let leaves = [[LeafTag.record.rawValue, 1]]
        tree.append(leafHash: RFC6962.leafHash(leaves[0]))
        let record = BlockRecord(height: 1, firstIndex: 0, size: 1, root: tree.rootHash, timeMillis: 1, embeddedSignatures: "")
        let derived: [(key: [UInt8], value: [UInt8])] = [
            ([9, 9], [1]), ([1], [2]), ([5, 0], [3]), ([9, 9], [4]), ([0, 7], [5]), ([9, 9], [6]), ([5, 0], [7]),
        ]
        try store.commit(BlockCommit(record: record, leaves: leaves, tiles: tree.takeChangedTiles(), derived: derived))
        XCTAssertEqual(try store.indexValue([9, 9]), [6])
        XCTAssertEqual(try store.indexValue([5, 0]), [7])
        XCTAssertEqual(try store.indexValue([1]), [2])
        XCTAssertEqual(try store.indexValue([0, 7]), [5])
        XCTAssertNil(try store.indexValue([9]), "a key never written is absent (the memtable's Bloom filter says so)")
        XCTAssertEqual(try store.indexEntries(prefix: []).map(\.key), [[0, 7], [1], [5, 0], [9, 9]])
    }

    func testProofsFromTheStoreVerify() throws {
        let store = try LedgerStore(directory: path)
        defer { store.close() }
        var tree = TreeAppender()
        var records: [BlockRecord] = []
        for h in 1...12 { records.append(try commitBlock(store, &tree, height: UInt64(h), count: 97)) }
        let reader = store.hashReader
        for record in records {
            for index in stride(from: 0, to: record.size, by: 37) {
                let leaf = try XCTUnwrap(try store.leaf(at: index))
                let proof = try reader.inclusionProof(index: index, size: record.size)
                XCTAssertNoThrow(try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf), index: index, size: record.size,
                                                           proof: proof, root: record.root))
            }
            let proof = try reader.consistencyProof(from: record.size, to: store.size)
            XCTAssertNoThrow(try ConsistencyProof.verify(from: record.size, fromRoot: record.root, to: store.size,
                                                         toRoot: tree.rootHash, proof: proof))
        }
    }

    func testACommitThatFailsWritesNothing() throws {
        let store = try LedgerStore(directory: path)
        var tree = TreeAppender()
        let first = try commitBlock(store, &tree, height: 1, count: 10)
        store.close()
        XCTAssertThrowsError(try commitBlock(store, &tree, height: 2, count: 10)) { error in
            XCTAssertEqual((error as? StorageError)?.code, "store_closed")
        }
        XCTAssertThrowsError(try store.leaf(at: 0))
        let reopened = try LedgerStore(directory: path)
        defer { reopened.close() }
        XCTAssertEqual(reopened.tip, first)
        XCTAssertNil(try reopened.leaf(at: 10))
    }

    func testTwoProcessesCannotOpenOneStore() throws {
        let store = try LedgerStore(directory: path)
        defer { store.close() }
        XCTAssertThrowsError(try LedgerStore(directory: path))
    }
}
