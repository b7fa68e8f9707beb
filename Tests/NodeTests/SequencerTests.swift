// The n = 1 write path: acknowledged submissions are durable, provable and signed; bad input and
// back-pressure are refused with clear errors and change nothing.
import CinnabarCrypto
import Ledger
import MerkleLog
import Node
import SignedNote
import Storage
import XCTest

final class SequencerTests: XCTestCase {
    func leaf(_ i: Int, bytes: Int = 64) -> [UInt8] {
        var leaf = [LeafTag.record.rawValue]
        withUnsafeBytes(of: UInt64(i).bigEndian) { leaf += $0 }
        return leaf + [UInt8](repeating: UInt8(i & 0xFF), count: bytes - leaf.count)
    }

    func testEmptyLedgerStartsWithASignedGenesisBlock() throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let tip = try XCTUnwrap(node.store.tip)
        XCTAssertEqual(tip.height, 1)
        XCTAssertEqual(tip.size, 1, "block 1 holds only its trailer")
        let note = try Note(parsing: try XCTUnwrap(node.store.checkpoint(height: 1)))
        XCTAssertEqual(try note.verify(keys: node.verifierKeys()).count, 1)
        let trailer = try BlockTrailer(leafData: try XCTUnwrap(node.store.leaf(at: 0)))
        XCTAssertEqual(trailer.previousRoot, RFC6962.emptyRoot)
        XCTAssertEqual(trailer.entryCount, 0)
    }

    func testAcknowledgedSubmissionsAreProvableUnderTheSignedCheckpoint() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let receipts = try await withThrowingTaskGroup(of: (Int, Receipt).self) { group in
            for i in 0..<300 {
                let entry = leaf(i)
                group.addTask { (i, try await node.sequencer.submit(entry)) }
            }
            return try await group.reduce(into: [Int: Receipt]()) { $0[$1.0] = $1.1 }
        }
        let keys = try node.verifierKeys()
        var indices = Set<UInt64>()
        for (i, receipt) in receipts {
            XCTAssertTrue(indices.insert(receipt.firstIndex).inserted, "two submissions share leaf \(receipt.firstIndex)")
            XCTAssertEqual(try node.store.leaf(at: receipt.firstIndex), leaf(i))
            let note = try Note(parsing: receipt.signedCheckpoint)
            XCTAssertEqual(try note.verify(keys: keys).count, 1)
            let checkpoint = try Checkpoint(parsing: note.text)
            XCTAssertEqual(checkpoint.size, receipt.size)
            XCTAssertEqual(checkpoint.root, receipt.root)
            let proof = try node.store.hashReader.inclusionProof(index: receipt.firstIndex, size: receipt.size)
            XCTAssertNoThrow(try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf(i)), index: receipt.firstIndex,
                                                       size: checkpoint.size, proof: proof, root: checkpoint.root))
        }
        XCTAssertTrue(Audit.run(store: node.store, genesis: node.genesis).ok)
    }

    func testABatchLandsConsecutivelyInOneBlock() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let leaves = (0..<50).map { leaf($0) }
        let receipt = try await node.sequencer.submit(batch: leaves)
        XCTAssertEqual(receipt.count, 50)
        for (k, l) in leaves.enumerated() { XCTAssertEqual(try node.store.leaf(at: receipt.firstIndex + UInt64(k)), l) }
        let block = try XCTUnwrap(node.store.block(containingLeaf: receipt.firstIndex))
        XCTAssertEqual(block.height, receipt.height)
        XCTAssertEqual(try node.store.block(containingLeaf: receipt.firstIndex + 49)?.height, receipt.height)
    }

    func testBadLeavesAreRejectedAndChangeNothing() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let before = try XCTUnwrap(node.store.tip)
        let cases: [([UInt8], String)] = [
            ([], "leaf_empty"),
            ([LeafTag.record.rawValue] + [UInt8](repeating: 0, count: LeafLimits.maxBytes), "leaf_too_large"),
            ([0x7F, 1, 2], "leaf_unknown_tag"),
            ([LeafTag.blockTrailer.rawValue, 1], "leaf_reserved_tag"),
            ([LeafTag.validatorSetChange.rawValue, 1], "leaf_reserved_tag"),
        ]
        for (bad, code) in cases {
            do {
                _ = try await node.sequencer.submit(bad)
                XCTFail("accepted a bad leaf (\(code))")
            } catch let error as SubmitError {
                XCTAssertEqual(error.code, code)
            }
        }
        XCTAssertEqual(node.store.tip, before)
    }

    func testAFullQueueAnswersBusy() async throws {
        let ledger = try TemporaryLedger()
        try ledger.configure { $0.maxQueuedEntries = 4 }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        do {
            _ = try await node.sequencer.submit(batch: (0..<5).map { leaf($0) })
            XCTFail("a submission larger than the queue was accepted")
        } catch let error as SubmitError {
            XCTAssertEqual(error.code, "busy")
        }
        let ok = try await node.sequencer.submit(batch: (0..<4).map { leaf($0) })
        XCTAssertEqual(ok.count, 4)
    }

    func testSubmissionsAfterStopAreRefused() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        node.sequencer.stop()
        do {
            _ = try await node.sequencer.submit(leaf(1))
            XCTFail("a stopped sequencer accepted a leaf")
        } catch let error as SubmitError {
            XCTAssertEqual(error, .stopped)
        }
    }

    func testRestartResumesFromTheTipAndTheChainContinues() async throws {
        let ledger = try TemporaryLedger()
        var firstRoot = Hash.zero
        var firstSize: UInt64 = 0
        do {
            let node = try LedgerNode(directory: ledger.directory)
            for i in 0..<700 { _ = try await node.sequencer.submit(leaf(i)) }  // crosses a 256-leaf tile boundary
            node.close()
            firstRoot = try XCTUnwrap(node.store.tip).root
            firstSize = node.store.size
        }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        XCTAssertEqual(node.store.tip?.root, firstRoot)
        let receipt = try await node.sequencer.submit(leaf(9999))
        XCTAssertEqual(receipt.firstIndex, firstSize)
        let proof = try node.store.hashReader.consistencyProof(from: firstSize, to: receipt.size)
        XCTAssertNoThrow(try ConsistencyProof.verify(from: firstSize, fromRoot: firstRoot, to: receipt.size, toRoot: receipt.root, proof: proof))
        let report = Audit.run(store: node.store, genesis: node.genesis)
        XCTAssertNil(report.failure)
        XCTAssertEqual(report.leaves, receipt.size)
    }

    func testAKeyFileReadableByOthersIsRefused() throws {
        let ledger = try TemporaryLedger()
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: ledger.directory.keyPath)[.posixPermissions] as? Int, 0o600)
        chmod(ledger.directory.keyPath, 0o644)
        XCTAssertThrowsError(try LedgerNode(directory: ledger.directory)) { error in
            XCTAssertEqual((error as? StorageError)?.code, "key_file")
        }
    }
}
