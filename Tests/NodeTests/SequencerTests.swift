// The n = 1 write path: acknowledged submissions are durable, provable and signed; bad input and
// back-pressure are refused with clear errors and change nothing.
import CinnabarCrypto
import Ledger
import MerkleLog
import Node
import Records
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

    func testAcknowledgedRecordsAreProvableUnderTheSignedCheckpoint() async throws {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let records = (0..<200).map { writer.evidence(sha256: SHA256.hash([UInt8($0 & 0xFF), UInt8($0 >> 8)]).hex).bytes }
        let receipts = try await withThrowingTaskGroup(of: (Int, Receipt).self) { group in
            for (i, record) in records.enumerated() {
                group.addTask { (i, try await node.submit(record: record)) }
            }
            return try await group.reduce(into: [Int: Receipt]()) { $0[$1.0] = $1.1 }
        }
        let keys = try node.verifierKeys()
        var indices = Set<UInt64>()
        for (i, receipt) in receipts {
            XCTAssertFalse(receipt.duplicate)
            XCTAssertTrue(indices.insert(receipt.index).inserted, "two submissions share leaf \(receipt.index)")
            let leaf = [LeafTag.record.rawValue] + records[i]
            XCTAssertEqual(try node.store.leaf(at: receipt.index), leaf)
            let note = try Note(parsing: receipt.signedCheckpoint)
            XCTAssertEqual(try note.verify(keys: keys).count, 1)
            let checkpoint = try Checkpoint(parsing: note.text)
            XCTAssertEqual(checkpoint.size, receipt.size)
            XCTAssertEqual(checkpoint.root, receipt.root)
            let proof = try node.store.hashReader.inclusionProof(index: receipt.index, size: receipt.size)
            XCTAssertNoThrow(try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf), index: receipt.index,
                                                       size: checkpoint.size, proof: proof, root: checkpoint.root))
        }
        XCTAssertTrue(Audit.run(store: node.store, genesis: node.genesis).ok)
    }

    func testTheSameRecordTwiceIsStoredOnceAndGetsTheOriginalReceipt() async throws {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let record = writer.evidence(sha256: String(repeating: "ab", count: 32)).bytes
        let first = try await node.submit(record: record)
        let sizeAfterFirst = node.store.size
        let again = try await node.submit(record: record)
        XCTAssertTrue(again.duplicate)
        XCTAssertEqual(again.index, first.index)
        XCTAssertEqual(node.store.size, sizeAfterFirst, "a replay wrote nothing")
        // Concurrent replays of one fresh record: one leaf, the rest duplicates of it.
        let fresh = writer.evidence(sha256: String(repeating: "cd", count: 32)).bytes
        let receipts = try await withThrowingTaskGroup(of: Receipt.self) { group in
            for _ in 0..<8 { group.addTask { try await node.submit(record: fresh) } }
            return try await group.reduce(into: [Receipt]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(receipts.map(\.index)).count, 1)
        XCTAssertEqual(receipts.filter { !$0.duplicate }.count, 1)
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
                _ = try await node.sequencer.submit(Entry(leaf: bad))
                XCTFail("accepted a bad leaf (\(code))")
            } catch let error as SubmitError {
                XCTAssertEqual(error.code, code)
            }
        }
        XCTAssertEqual(node.store.tip, before)
    }

    func testRefusedRecordsGetStableCodesAndChangeNothing() async throws {
        let ledger = try TemporaryLedger()
        let notary = try ledger.writer("notary")
        let lawyers = try ledger.writer("lawyers")
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let before = try XCTUnwrap(node.store.tip)
        let good = notary.evidence(sha256: String(repeating: "0f", count: 32)).bytes
        var tampered = good
        let at = tampered.firstIndex(of: UInt8(ascii: "0"))!
        tampered[at] = UInt8(ascii: "1")  // a changed digest: the proof no longer verifies
        let pretty = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "\",\"", with: "\", \"").utf8)
        let cases: [([UInt8], String)] = [
            (tampered, "signature_invalid"),
            (pretty, "record_not_canonical"),
            (Array("{\"type\":1}".utf8), "schema_violation"),
            (Array("not json".utf8), "record_invalid_json"),
            // An association may not deposit evidence (domain.md §6.3).
            (lawyers.evidence(sha256: String(repeating: "11", count: 32)).bytes, "role_may_not_write"),
        ]
        for (bytes, code) in cases {
            do {
                _ = try await node.submit(record: bytes)
                XCTFail("accepted a bad record (\(code))")
            } catch let error as SubmitError {
                XCTAssertEqual(error.code, code)
            }
        }
        XCTAssertEqual(node.store.tip, before)
    }

    func testAFullQueueAnswersBusy() async throws {
        let ledger = try TemporaryLedger()
        try ledger.configure { $0.maxQueuedEntries = 0 }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let record = try ledger.writer().evidence(sha256: String(repeating: "22", count: 32)).bytes
        do {
            _ = try await node.submit(record: record)
            XCTFail("a full queue accepted a record")
        } catch let error as SubmitError {
            XCTAssertEqual(error.code, "busy")
        }
        XCTAssertEqual(node.store.size, 1, "nothing but the genesis trailer")
    }

    func testSubmissionsAfterStopAreRefused() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        node.sequencer.stop()
        do {
            _ = try await node.sequencer.submit(Entry(leaf: leaf(1)))
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
            let writer = try ledger.writer()
            for i in 0..<700 { _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash([UInt8(i & 0xFF), UInt8(i >> 8)]).hex).bytes) }  // crosses a 256-leaf tile boundary
            node.close()
            firstRoot = try XCTUnwrap(node.store.tip).root
            firstSize = node.store.size
        }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        XCTAssertEqual(node.store.tip?.root, firstRoot)
        let receipt = try await node.submit(record: try ledger.writer().evidence(sha256: String(repeating: "99", count: 32)).bytes)
        XCTAssertEqual(receipt.index, firstSize)
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
