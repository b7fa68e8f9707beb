// `Audit` finds tampering: a changed leaf, tile, checkpoint or block record, and on-disk corruption;
// and it follows validator-set changes, checking each block against the set in force for it.
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Node
import Storage
import XCTest

final class AuditTests: XCTestCase {
    /// A closed ledger with `count` entries in several blocks.
    func filledLedger(count: Int = 600) async throws -> TemporaryLedger {
        let ledger = try TemporaryLedger()
        try ledger.configure { $0.maxBlockEntries = 100 }
        let node = try LedgerNode(directory: ledger.directory)
        let writer = try ledger.writer()
        for start in stride(from: 0, to: count, by: 50) {
            let records = (start..<start + 50).map { writer.evidence(sha256: SHA256.hash([UInt8($0 & 0xFF), UInt8($0 >> 8)]).hex).bytes }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for r in records { group.addTask { _ = try await node.submit(record: r) } }
                try await group.waitForAll()
            }
        }
        node.close()
        return ledger
    }

    func audit(_ ledger: TemporaryLedger) throws -> AuditReport {
        let store = try LedgerStore(directory: ledger.directory.storePath)
        return Audit.run(store: store, genesis: try ledger.directory.loadGenesis())
    }

    /// Opens the raw store, applies `change`, closes it.
    func tamper(_ ledger: TemporaryLedger, _ change: (RocksDB) throws -> Void) throws {
        let store = try LedgerStore(directory: ledger.directory.storePath)
        try change(store.db)
    }

    func key(_ v: UInt64) -> [UInt8] { var w = BinaryWriter(); w.u64(v); return w.bytes }

    func testACleanLogAudits() async throws {
        let report = try audit(try await filledLedger())
        XCTAssertNil(report.failure)
        XCTAssertEqual(report.leaves, 600 + report.blocks, "every entry plus one trailer per block")
    }

    func testAChangedLeafIsFound() async throws {
        let ledger = try await filledLedger()
        // An entry leaf in tile 0/1: 300, or 299 when a block's trailer stands at 300 (blocks are
        // cut by timing), so that the tiles or the root catch it rather than the trailer check.
        let entry: UInt64 = try {
            let store = try LedgerStore(directory: ledger.directory.storePath)
            defer { store.close() }
            let block = try XCTUnwrap(try store.block(containingLeaf: 300))
            return block.size - 1 == 300 ? 299 : 300
        }()
        try tamper(ledger) { db in
            let batch = WriteBatch()
            batch.put(db.family(LedgerStore.Families.leaves), key(entry), [LeafTag.record.rawValue, 0xEE])
            try db.write(batch)
        }
        let failure = try XCTUnwrap(try audit(ledger).failure)
        XCTAssertTrue(failure.contains("tile 0/1") || failure.contains("root"), failure)
    }

    func testAChangedTileIsFound() async throws {
        let ledger = try await filledLedger()
        try tamper(ledger) { db in
            let tiles = db.family(LedgerStore.Families.tiles)
            var w = BinaryWriter(); w.u8(0); w.u64(0)
            var raw = try XCTUnwrap(try db.get(tiles, w.bytes))
            raw[40] ^= 1
            let batch = WriteBatch()
            batch.put(tiles, w.bytes, raw)
            try db.write(batch)
        }
        XCTAssertEqual(try audit(ledger).failure, "tile 0/0 differs from the hashes recomputed from the leaves")
    }

    func testAForgedCheckpointSignatureIsFound() async throws {
        let ledger = try await filledLedger()
        try tamper(ledger) { db in
            let checkpoints = db.family(LedgerStore.Families.checkpoints)
            let note = String(decoding: try XCTUnwrap(try db.get(checkpoints, key(5))), as: UTF8.self)
            // Same signature line, but over a different size: the signature cannot verify.
            let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
            let forged = "\(lines[0])\n\(UInt64(lines[1])! + 1)\n\(lines[2])\n" + lines[3...].joined(separator: "\n")
            let batch = WriteBatch()
            batch.put(checkpoints, key(5), Array(forged.utf8))
            try db.write(batch)
        }
        let failure = try XCTUnwrap(try audit(ledger).failure)
        XCTAssertTrue(failure.hasPrefix("block 5: checkpoint"), failure)
    }

    func testAFlippedByteInTheStoreFilesIsFound() async throws {
        let ledger = try await filledLedger()
        do {
            let store = try LedgerStore(directory: ledger.directory.storePath)
            try store.db.flush()
            try store.db.compact(store.db.family(LedgerStore.Families.leaves))
        }
        // Flip a byte inside the data blocks of the leaves' SST file.
        let files = try FileManager.default.contentsOfDirectory(atPath: ledger.directory.storePath).filter { $0.hasSuffix(".sst") }
        let sizes = try files.map { ($0, try FileManager.default.attributesOfItem(atPath: ledger.directory.storePath + "/" + $0)[.size] as! Int) }
        let (largest, _) = try XCTUnwrap(sizes.max { $0.1 < $1.1 })
        let path = ledger.directory.storePath + "/" + largest
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[100] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let report: AuditReport
        do { report = try audit(ledger) } catch {
            return  // RocksDB refused to open the corrupted store: also a detection.
        }
        XCTAssertNotNil(report.failure, "a flipped byte in \(largest) went unnoticed")
    }

    /// Genesis {a, b, c, d}; block 2 adds e, block 4 removes d, with blocks under each set between.
    func changingLedger() throws -> EpochLedger {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        try ledger.block([[LeafTag.record.rawValue, 1]],
                         change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators + [EpochLedger.validator("e")]),
                                               approvers: ["a", "b", "c"]))
        try ledger.block([[LeafTag.record.rawValue, 2]])
        try ledger.block(change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators.filter { $0.name != "d" }),
                                               approvers: ["a", "b", "c", "e"]))
        try ledger.block([[LeafTag.record.rawValue, 3]])
        return ledger
    }

    func testTheAuditFollowsValidatorSetChanges() throws {
        let ledger = try changingLedger()
        XCTAssertEqual(ledger.changes.map(\.index), [2, 6])
        let report = Audit.run(store: ledger.store, genesis: ledger.genesis)
        XCTAssertNil(report.failure)
        XCTAssertEqual(report.blocks, 5)
        XCTAssertEqual(report.leaves, 10)
    }

    func testTheAuditFindsAnUnapprovedChange() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        try ledger.block(change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators + [EpochLedger.validator("e")]),
                                               approvers: ["a", "b"]), checkValid: false)
        let failure = try XCTUnwrap(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
        XCTAssertEqual(failure, "block 2: leaf 1: validator-set change not approved: approved by 2 of the 4 current validators; 3 needed")
    }

    /// With several validators a block embeds the quorum its proposer collected, not necessarily
    /// the lines this node stored with the checkpoint (found by `make docker-rehearsal`: the audit
    /// refused every real consortium store).
    func testTheAuditAcceptsAnyQuorumEmbedded() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()  // its checkpoint stored with all four lines
        try ledger.block([[LeafTag.record.rawValue, 1]], embedding: ledger.lines(["d", "c", "b"]))
        try ledger.block(embedding: ledger.lines(["a", "c", "d"]))
        XCTAssertNil(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
    }

    func testTheAuditFindsTooFewEmbeddedSignatures() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        try ledger.block(embedding: ledger.lines(["a", "b"]), checkValid: false)
        let failure = try XCTUnwrap(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
        XCTAssertEqual(failure, "block 2: embeds 2 validator signatures on checkpoint 1; 3 needed")
    }

    func testTheAuditFindsAnEmbeddedSignatureOfTheWrongCheckpoint() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        let onCheckpoint1 = ledger.lastLines
        try ledger.block()
        // Block 3 embeds the lines on checkpoint 1, not 2: bound by its trailer, but not valid.
        try ledger.block(embedding: onCheckpoint1, checkValid: false)
        let failure = try XCTUnwrap(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
        XCTAssertTrue(failure.hasPrefix("block 3: embedded signatures on checkpoint 2: "), failure)
    }

    /// At an epoch boundary the checkpoint of the block that changed the set is signed by the set
    /// that decided it, the old one: the next block's embedded lines count only its members.
    func testTheAuditCountsEmbeddedSignaturesOfTheSetThatDecidedTheBlockBefore() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        try ledger.block(change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators + [EpochLedger.validator("e")]),
                                               approvers: ["a", "b", "c"]))
        try ledger.block(embedding: ledger.lines(["b", "c", "e"]), checkValid: false)  // e is not of the set that decided block 2
        let failure = try XCTUnwrap(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
        XCTAssertEqual(failure, "block 3: embeds 2 validator signatures on checkpoint 2; 3 needed")
    }

    func testTheAuditFindsACheckpointSignedOnlyByTheOldSet() throws {
        let ledger = try EpochLedger(validators: ["a", "b", "c", "d"])
        try ledger.block()
        try ledger.block(change: ledger.change(to: try ValidatorSet(ledger.chain.validators.validators + [EpochLedger.validator("e")]),
                                               approvers: ["a", "b", "c"]))
        // Block 3 is the five's: three of the old four are not its quorum of four.
        try ledger.block(signers: ["a", "b", "c"])
        let failure = try XCTUnwrap(Audit.run(store: ledger.store, genesis: ledger.genesis).failure)
        XCTAssertEqual(failure, "block 3: checkpoint has 3 validator signatures; 4 needed")
    }
}
