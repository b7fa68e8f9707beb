// The node's blocks go through the consensus engine (n = 1): every block carries a commit
// certificate, each checkpoint is signed once and after its block is durable, a checkpoint lost
// in a crash is signed again identically, and a validator whose signer state is gone refuses to run.
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Ledger
@testable import Node
import Records
import SignedNote
import Storage
import XCTest

final class EngineTests: XCTestCase {
    /// A ledger whose node has logged one record and stopped.
    func ledgerWithOneRecord() async throws -> (ledger: TemporaryLedger, writer: RecordWriter) {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        let node = try LedgerNode(directory: ledger.directory)
        _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash("before").hex).bytes)
        node.close()
        return (ledger, writer)
    }

    /// One block per record decided by the engine, applied and checkpoint-signed as the sequencer
    /// does it, but never written to the store: what a crash before the store's flush leaves.
    /// Returns the store's tip height (unchanged) and the checkpoint notes signed.
    func decideWithoutStoring(_ records: [[UInt8]], in ledger: TemporaryLedger) throws -> (tipHeight: UInt64, notes: [String]) {
        let store = try LedgerStore(directory: ledger.directory.storePath)
        defer { store.close() }
        let tipHeight = try XCTUnwrap(store.tip).height
        var builder = try BlockBuilder(store: store)
        let consensus = try ledger.directory.openEngine(store: store, tree: builder.tree)
        var notes: [String] = []
        for record in records {
            let decided = try consensus.decide(entries: [[LeafTag.record.rawValue] + record], timeMillis: LedgerNode.wallClockMillis())
            builder.accept(try builder.prepare(decided.block, certificate: decided.certificate, evaluatedTree: decided.evaluation.tree))
            notes.append(try consensus.committed(decided.block, tree: builder.tree))
        }
        XCTAssertEqual(try XCTUnwrap(store.tip).height, tipHeight, "nothing stored")
        return (tipHeight, notes)
    }

    func testEveryBlockIsDecidedWithACertificateForItsCheckpoint() async throws {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        for i in 0..<20 { _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash([UInt8(i)]).hex).bytes) }
        let tip = try XCTUnwrap(node.store.tip)
        XCTAssertGreaterThan(tip.height, 1)
        let origin = node.genesis.origin
        for height in 1...tip.height {
            let block = try XCTUnwrap(node.store.block(height: height))
            let raw = try XCTUnwrap(node.store.certificate(height: height), "block \(height) has no certificate")
            let certificate = try XCTUnwrap(WireCodec.decodeCertificate(raw))
            XCTAssertEqual(certificate.height, height)
            XCTAssertEqual(certificate.valueID, ValueID(origin: origin, size: block.size, root: block.root),
                           "the certificate decides exactly this block's checkpoint")
            XCTAssertEqual(try certificate.verify(ConsensusParameters(chainID: origin, validators: node.validatorSet)), 1, "one precommit: the quorum of one")
            let note = try Note(parsing: try XCTUnwrap(node.store.checkpoint(height: height)))
            XCTAssertEqual(try note.verify(keys: node.verifierKeys()).count, 1)
        }
    }

    func testACheckpointLostInACrashIsSignedAgainIdentically() async throws {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        var note = ""
        var height: UInt64 = 0
        let lost = writer.evidence(sha256: SHA256.hash("lost").hex).bytes
        do {
            let node = try LedgerNode(directory: ledger.directory)
            _ = try await node.submit(record: lost)
            height = try XCTUnwrap(node.store.tip).height
            note = try XCTUnwrap(node.store.checkpoint(height: height))
            node.close()
        }
        // As if the process died between the durable block and its (unsynced) checkpoint write.
        do {
            let store = try LedgerStore(directory: ledger.directory.storePath)
            let batch = WriteBatch()
            var key = BinaryWriter()
            key.u64(height)
            batch.delete(store.db.family(LedgerStore.Families.checkpoints), key.bytes)
            try store.db.write(batch, sync: true)
            XCTAssertNil(try store.checkpoint(height: height))
            store.close()
        }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        XCTAssertEqual(try node.store.checkpoint(height: height), note, "the signer guard gives back the same signature")
        // A repeat that reaches the sequencer is answered from the tip, with that checkpoint.
        let again = try await node.sequencer.submit(Entry(leaf: [LeafTag.record.rawValue] + lost))
        XCTAssertTrue(again.duplicate)
        XCTAssertEqual(again.signedCheckpoint, note, "the receipt carries the re-signed checkpoint")
        _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash("after").hex).bytes)
        XCTAssertGreaterThan(try XCTUnwrap(node.store.tip).height, height)
    }

    func testAValidatorWithoutItsSignerStateRefusesToStart() throws {
        let ledger = try TemporaryLedger()
        do {
            let node = try LedgerNode(directory: ledger.directory)
            node.close()
        }
        try FileManager.default.removeItem(atPath: ledger.directory.consensusPath)
        XCTAssertThrowsError(try LedgerNode(directory: ledger.directory)) { error in
            XCTAssertTrue("\(error)".contains("signer_state_missing") || "\(error)".contains("signer state"), "\(error)")
        }
        // An emptied directory (the signer log gone, the WAL too) is refused as well.
        try FileManager.default.createDirectory(atPath: ledger.directory.consensusPath, withIntermediateDirectories: false)
        XCTAssertThrowsError(try LedgerNode(directory: ledger.directory))
    }

    func testTheAuditChecksEveryCertificate() async throws {
        let ledger = try TemporaryLedger()
        let writer = try ledger.writer()
        do {
            let node = try LedgerNode(directory: ledger.directory)
            for i in 0..<5 { _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash([UInt8(i), 9]).hex).bytes) }
            node.close()
        }
        let store = try LedgerStore(directory: ledger.directory.storePath)
        defer { store.close() }
        let genesis = try ledger.directory.loadGenesis()
        XCTAssertTrue(Audit.run(store: store, genesis: genesis).ok)
        var key = BinaryWriter()
        key.u8(UInt8(ascii: "c"))
        key.u64(2)
        let blocks = store.db.family(LedgerStore.Families.blocks)
        var certificate = try XCTUnwrap(store.certificate(height: 2))
        certificate[certificate.count - 5] ^= 0x01
        let batch = WriteBatch()
        batch.put(blocks, key.bytes, certificate)
        try store.db.write(batch, sync: true)
        let report = Audit.run(store: store, genesis: genesis)
        XCTAssertFalse(report.ok)
        XCTAssertTrue(report.failure?.contains("block 2: commit certificate") ?? false, report.failure ?? "")
    }

    func testABlockDecidedButNotStoredBeforeACrashIsStoredAtRestart() async throws {
        let (ledger, writer) = try await ledgerWithOneRecord()
        // The engine decides the next block (its WAL holds the decision), then the process dies
        // before the block reaches the store.
        let pending = writer.evidence(sha256: SHA256.hash("decided, not stored").hex)
        let tipHeight: UInt64
        do {
            let store = try LedgerStore(directory: ledger.directory.storePath)
            tipHeight = try XCTUnwrap(store.tip).height
            let consensus = try ledger.directory.openEngine(store: store, tree: try BlockBuilder(store: store).tree)
            _ = try consensus.decide(entries: [[LeafTag.record.rawValue] + pending.bytes], timeMillis: LedgerNode.wallClockMillis())
            XCTAssertEqual(try XCTUnwrap(store.tip).height, tipHeight, "nothing stored yet")
            store.close()
        }
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let tip = try XCTUnwrap(node.store.tip)
        XCTAssertEqual(tip.height, tipHeight + 1, "the decided block is stored at restart")
        let summary = try XCTUnwrap(node.records.summary(pending.id), "and its record indexed")
        XCTAssertEqual(try node.store.leaf(at: summary.leafIndex), [LeafTag.record.rawValue] + pending.bytes)
        XCTAssertNotNil(try node.store.checkpoint(height: tip.height))
        XCTAssertNotNil(try node.store.certificate(height: tip.height))
        XCTAssertTrue(Audit.run(store: node.store, genesis: node.genesis).ok)
        // And the node goes on from there.
        _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash("after").hex).bytes)
        XCTAssertEqual(try XCTUnwrap(node.store.tip).height, tipHeight + 2)
    }

    /// A decided block is applied as it was decided, never judged again: here a crash left two
    /// decided, acknowledged blocks the store never had — a rotation that retires the notary's
    /// key, then a deposit signed with that key (admitted before the rotation). The restart stores
    /// both; judging the deposit again on the rotated registry would refuse it and leave the node
    /// unable to start. Planning a new block, though, refuses the retired key even for an entry
    /// admitted earlier (its context), as full admission does.
    func testReplayAppliesDecidedBlocksThatALaterStateWouldRefuse() async throws {
        let (ledger, notary) = try await ledgerWithOneRecord()
        let bureau = try ledger.writer("bureau"), court = try ledger.writer("court")
        let rotation = RecordDraft(
            type: .memberKeyRotated, writerOrg: bureau.key.org, writerRole: .justiceAdmin, keyID: bureau.key.keyID,
            createdAt: RecordWriter.timestamp(), payload: [
                "org": .string(notary.key.org),
                "add_keys": .array([.object(["key_id": .string("next"), "alg": .string("ed25519"),
                                             "public_key_multibase": .string(Multikey.encode(publicKey: Ed25519PrivateKey.generate().publicKey))])]),
                "retire_key_ids": .array([.string(notary.key.keyID)]),
            ]).signed(by: [bureau.signer, court.signer])
        let deposit = notary.evidence(sha256: SHA256.hash("signed with the key retired just before").hex)
        let late = notary.evidence(sha256: SHA256.hash("admitted earlier, planned after the restart").hex)
        _ = try decideWithoutStoring([rotation, deposit.bytes], in: ledger)
        let admittedEarlier = AdmittedRecord(record: try Record(bytes: late.bytes), writerKey: notary.signer.key.publicKey)
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let summary = try XCTUnwrap(node.records.summary(deposit.id), "the deposit decided after the rotation is stored")
        XCTAssertEqual(try node.store.leaf(at: summary.leafIndex), [LeafTag.record.rawValue] + deposit.bytes)
        XCTAssertNil(node.records.registry.key(org: notary.key.org, keyID: notary.key.keyID), "and the rotation applied")
        XCTAssertTrue(Audit.run(store: node.store, genesis: node.genesis).ok)
        XCTAssertEqual(try RecordIndex.rebuild(store: node.store, genesisRegistry: try node.genesis.registry()),
                       try RecordIndex.stored(store: node.store), "the replayed blocks' index is the one a rebuild derives")

        let plan = node.records.plan([Entry(leaf: [LeafTag.record.rawValue] + late.bytes, context: admittedEarlier)],
                                     firstIndex: node.store.size)
        guard case let .rejected(.refused(code, _)) = plan.outcomes.first else { return XCTFail("\(plan.outcomes)") }
        XCTAssertEqual(code, AdmissionError.unknownKey("").code)
    }

    /// A rotation may give a key id to new key bytes. A record admitted before it, signed by the
    /// old bytes, still names a registered key id when its block is planned: planning compares the
    /// key bytes, checks the signature again and refuses it, as full admission now does.
    func testPlanningRefusesARecordWhoseKeyIdNowNamesOtherBytes() async throws {
        let (ledger, notary) = try await ledgerWithOneRecord()
        let bureau = try ledger.writer("bureau"), court = try ledger.writer("court")
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let late = notary.evidence(sha256: SHA256.hash("admitted before the key id changed hands").hex)
        let leaf = [LeafTag.record.rawValue] + late.bytes
        let admitted = try node.records.admit(leaf: leaf)
        XCTAssertEqual(admitted.writerKey, notary.signer.key.publicKey)
        guard case .append = node.records.plan([Entry(leaf: leaf, context: admitted)], firstIndex: node.store.size).outcomes.first else {
            return XCTFail("while its key is registered, the record plans")
        }
        let replaced = Ed25519PrivateKey.generate().publicKey
        let rotation = RecordDraft(
            type: .memberKeyRotated, writerOrg: bureau.key.org, writerRole: .justiceAdmin, keyID: bureau.key.keyID,
            createdAt: RecordWriter.timestamp(), payload: [
                "org": .string(notary.key.org),
                "add_keys": .array([.object(["key_id": .string(notary.key.keyID), "alg": .string("ed25519"),
                                             "public_key_multibase": .string(Multikey.encode(publicKey: replaced))])]),
                "retire_key_ids": .array([]),
            ]).signed(by: [bureau.signer, court.signer])
        _ = try await node.submit(record: rotation)
        XCTAssertEqual(node.records.registry.key(org: notary.key.org, keyID: notary.key.keyID), replaced, "the same id, other bytes")

        let plan = node.records.plan([Entry(leaf: leaf, context: admitted)], firstIndex: node.store.size)
        guard case let .rejected(.refused(code, _)) = plan.outcomes.first else { return XCTFail("\(plan.outcomes)") }
        XCTAssertEqual(code, AdmissionError.signatureInvalid("").code)
        XCTAssertThrowsError(try node.admit(record: late.bytes)) { error in
            XCTAssertEqual((error as? SubmitError)?.code, AdmissionError.signatureInvalid("").code, "as full admission answers")
        }
    }

    /// A quiet node does not leave acknowledged blocks out of its store for long: a few seconds
    /// after a lone block, with far fewer than `StoreFlusher.flushEveryHeights` waiting, the store is flushed.
    /// (Its WAL goes with the next block, or at stop; a restart removes it too.)
    func testAQuietNodeFlushesItsStoreWithinSeconds() async throws {
        let ledger = try TemporaryLedger()
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        let sequencer = try XCTUnwrap(node.sequencer as? Sequencer)
        _ = try await node.submit(record: try ledger.writer().evidence(sha256: SHA256.hash("lone").hex).bytes)
        let tip = try XCTUnwrap(node.store.tip).height
        XCTAssertLessThan(sequencer.storeDurableHeight, tip, "right after the block, only its WAL keeps it")
        let deadline = Date().addingTimeInterval(StoreFlusher.idleFlushSeconds + 10)
        while sequencer.storeDurableHeight < tip && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        XCTAssertEqual(sequencer.storeDurableHeight, tip, "flushed within \(StoreFlusher.idleFlushSeconds) s or so")
    }

    /// The sequencer writes blocks to the store's memtables only and flushes behind itself; the
    /// WAL of each height is kept until a flush has made its block durable. A crash that takes the
    /// store's last three blocks (written, checkpoint-signed and acknowledged, never flushed)
    /// leaves their WALs: the restart decides nothing new, it stores the same three blocks again,
    /// with the same checkpoints and signatures.
    func testBlocksTheStoreLostInAPowerCutAreRecoveredFromTheKeptWALs() async throws {
        let (ledger, writer) = try await ledgerWithOneRecord()
        let records = (0..<3).map { writer.evidence(sha256: SHA256.hash("lost \($0)").hex) }
        // Three heights decided, applied and checkpoint-signed, none in the store.
        let (tipHeight, notes) = try decideWithoutStoring(records.map(\.bytes), in: ledger)
        let walNames = try FileStore(directory: ledger.directory.consensusPath).names().filter { ConsensusWAL.height(ofFile: $0) != nil }
        XCTAssertEqual(walNames.filter { ConsensusWAL.height(ofFile: $0)! <= tipHeight + 3 },
                       (1...3).map { ConsensusWAL.fileName(height: tipHeight + UInt64($0)) }, "the three WALs are kept")
        let node = try LedgerNode(directory: ledger.directory)
        defer { node.close() }
        XCTAssertEqual(try XCTUnwrap(node.store.tip).height, tipHeight + 3, "all three blocks are stored again")
        for (k, record) in records.enumerated() {
            let height = tipHeight + 1 + UInt64(k)
            XCTAssertEqual(try node.store.checkpoint(height: height), notes[k], "block \(height): the same checkpoint, the same signature")
            let summary = try XCTUnwrap(node.records.summary(record.id), "and its record indexed")
            XCTAssertEqual(try node.store.leaf(at: summary.leafIndex), [LeafTag.record.rawValue] + record.bytes)
        }
        XCTAssertTrue(Audit.run(store: node.store, genesis: node.genesis).ok)
        _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash("after").hex).bytes)
        XCTAssertEqual(try XCTUnwrap(node.store.tip).height, tipHeight + 4)
        let left = try FileStore(directory: ledger.directory.consensusPath).names().compactMap(ConsensusWAL.height(ofFile:))
        XCTAssertTrue(left.allSatisfy { $0 > tipHeight + 3 }, "the recovered heights' WALs are gone once the store synced them: \(left)")
        // The sequencer never runs further ahead of the store's sync than the guard remembers.
        XCTAssertLessThan(StoreFlusher.maxUnflushedHeights + 1, SignerGuard.rememberedHeights)
        XCTAssertLessThan(Int(StoreFlusher.maxUnflushedHeights) + 1, SignerGuard.rememberedCheckpoints)
    }
}
