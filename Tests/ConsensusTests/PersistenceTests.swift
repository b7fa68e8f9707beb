// The signer guard and the WAL on real files (FileStore, fsync): replay reproduces what was sent,
// a torn tail is cut, damage in the middle halts, a missing signer state refuses to sign.
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Foundation
import SignedNote
import XCTest

final class PersistenceTests: XCTestCase {
    let c = Consortium()
    var directory = ""

    override func setUp() {
        directory = NSTemporaryDirectory() + "cinnabar-consensus-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func freshStore() throws -> FileStore {
        let store = try FileStore(directory: directory)
        try SignerGuard.create(in: store)
        return store
    }

    func replica(_ store: FileStore, me: Int = 0, consortium: Consortium? = nil) throws -> Replica {
        let k = consortium ?? c
        return try Replica(parameters: k.parameters, key: k.keys[me], store: store, evaluator: k.genesis)
    }

    func sent(_ effects: [Effect]) -> [ConsensusMessage] {
        effects.compactMap { if case let .send(m) = $0 { return m } else { return nil } }
    }

    /// Validator 0 at height 1: proposal, polka, its prevote and precommit sent.
    func runHalfAHeight(_ r: Replica) throws -> [ConsensusMessage] {
        let v = c.block("a")
        var effects = try r.start()
        effects += try r.receive(.proposal(c.proposal(round: 0, v)))
        effects += try r.receive(.vote(c.vote(.prevote, round: 0, c.id(v), from: 1)))
        effects += try r.receive(.vote(c.vote(.prevote, round: 0, c.id(v), from: 2)))
        return sent(effects)
    }

    func testSingleValidatorDecidesEveryHeightWithoutATimeoutAndEmbedsItsCheckpointSignature() throws {
        let one = Consortium(validators: 1)
        let store = try freshStore()
        let r = try replica(store, consortium: one)
        var chain = one.genesis
        var effects = try r.start()
        var lines = ""
        for h in UInt64(1)...3 {
            XCTAssertEqual(effects, [.requestValue(height: h, round: 0)])
            let block = chain.makeBlock(entries: [[1, UInt8(h)]], proposedTimeMillis: 1_000 + h, proposer: "v0", signatureLines: lines)
            effects = try r.proposeValue(height: h, round: 0, value: block.encoded)
            XCTAssertFalse(effects.contains { if case .schedule = $0 { return true } else { return false } }, "n = 1 never waits")
            guard case let .decided(d) = effects.last else { return XCTFail("\(effects)") }
            XCTAssertEqual(sent(effects).count, 3, "proposal, prevote, precommit")
            XCTAssertEqual(d.height, h)
            chain.apply(block)
            let signature = try XCTUnwrap(try r.signCheckpoint(height: h, size: chain.size, root: chain.root))
            lines = signature.line.line
            XCTAssertTrue(signature.verify(keys: chain.verifierKeys, checkpointText: chain.checkpointText))
            effects = try r.startNextHeight(evaluator: chain)
        }
        XCTAssertEqual(try store.names(), [SignerGuard.fileName, ConsensusWAL.fileName(height: 4)],
                       "the WALs of decided heights are gone; the next height's exists, empty (made with height 3's)")
        XCTAssertEqual(try store.read(ConsensusWAL.fileName(height: 4)), [])
    }

    /// The replica signs checkpoint(h) in the step that decides (the decided block is durable in
    /// its WAL by then), so one signer fsync covers the proposal, the votes and the checkpoint; the
    /// driver's `signCheckpoint` afterwards writes nothing. After a crash right after that step,
    /// the guard gives the same checkpoint signature back and refuses another root at that size.
    func testTheDecidingStepSignsTheCheckpointUnderTheSameFsync() throws {
        let one = Consortium(validators: 1)
        let store = try freshStore()
        let r = try replica(store, consortium: one)
        var chain = one.genesis
        _ = try r.start()
        let block = chain.makeBlock(entries: [[1, 2]], proposedTimeMillis: 1_001, proposer: "v0", signatureLines: "")
        let effects = try r.proposeValue(height: 1, round: 0, value: block.encoded)
        guard case .decided = effects.last else { return XCTFail("\(effects)") }
        let log = try store.read(SignerGuard.fileName)
        chain.apply(block)
        let signature = try XCTUnwrap(try r.signCheckpoint(height: 1, size: chain.size, root: chain.root))
        XCTAssertTrue(signature.verify(keys: chain.verifierKeys, checkpointText: chain.checkpointText))
        XCTAssertEqual(try store.read(SignerGuard.fileName), log, "signed and synced in the deciding step already")

        let restarted = try replica(try FileStore(directory: directory), consortium: one)
        _ = try restarted.start()
        XCTAssertEqual(try restarted.signCheckpoint(height: 1, size: chain.size, root: chain.root)?.line, signature.line)
        XCTAssertNil(try restarted.signCheckpoint(height: 1, size: chain.size, root: SHA256.hash("another root")))
    }

    func testReplayAfterARestartSendsTheSameSignedMessagesAgain() throws {
        let store = try freshStore()
        let before = try runHalfAHeight(try replica(store))
        XCTAssertEqual(before.count, 2)
        let after = sent(try replica(try FileStore(directory: directory)).start())
        XCTAssertEqual(after, before, "same votes, same signatures: the guard returns what it signed")
    }

    func testATornWALTailIsTruncatedAndThePrefixReplayed() throws {
        let store = try freshStore()
        let before = try runHalfAHeight(try replica(store))
        let wal = ConsensusWAL.fileName(height: 1)
        let intact = try XCTUnwrap(try store.read(wal))
        let torn = RecordFile.frame(WireCodec.encode(Input.timeout(Timeout(kind: .propose, height: 1, round: 0))))
        try store.append(wal, Array(torn.prefix(torn.count - 3)))
        try store.sync(wal)
        let reopened = try FileStore(directory: directory)
        let after = sent(try replica(reopened).start())
        XCTAssertEqual(after, before)
        XCTAssertEqual(try reopened.read(wal), intact, "the torn record is cut off")
    }

    func testADamagedRecordInTheMiddleOfTheWALHaltsWithAClearError() throws {
        let store = try freshStore()
        _ = try runHalfAHeight(try replica(store))
        let wal = ConsensusWAL.fileName(height: 1)
        var bytes = try XCTUnwrap(try store.read(wal))
        bytes[RecordFile.headerBytes + 5] ^= 0x01
        try store.replace(wal, with: bytes)
        XCTAssertThrowsError(try replica(try FileStore(directory: directory))) { error in
            XCTAssertEqual(error as? ConsensusError, .corruptRecord(file: wal, offset: 0))
            XCTAssertTrue("\(error)".contains("halting"))
        }
    }

    func testAMissingSignerStateRefusesToStart() throws {
        let store = try FileStore(directory: directory)
        XCTAssertThrowsError(try replica(store)) { XCTAssertEqual($0 as? ConsensusError, .signerStateMissing) }
        try SignerGuard.create(in: store)
        _ = try runHalfAHeight(try replica(store))
        try store.remove(SignerGuard.fileName)
        XCTAssertThrowsError(try replica(try FileStore(directory: directory))) {
            XCTAssertEqual(($0 as? ConsensusError)?.code, "signer_state_missing")
        }
        XCTAssertThrowsError(try SignerGuard.create(in: try freshStoreAgain())) { XCTAssertEqual($0 as? ConsensusError, .signerStateExists) }
    }

    func freshStoreAgain() throws -> FileStore {
        let s = try FileStore(directory: directory)
        if try s.read(SignerGuard.fileName) == nil { try SignerGuard.create(in: s) }
        return s
    }

    func testTheSignerGuardNeverSignsTwoMessagesForOneStepAcrossRestarts() throws {
        let store = try freshStore()
        let key = c.keys[0]
        func guardian() throws -> SignerGuard {
            try SignerGuard(store: try FileStore(directory: directory), key: key.privateKey, checkpointKey: key.checkpointKey, chainID: c.origin)
        }
        let a = Vote(type: .prevote, height: 3, round: 1, valueID: c.id(c.block("a")), validator: 0)
        let b = Vote(type: .prevote, height: 3, round: 1, valueID: nil, validator: 0)
        let g = try guardian()
        let first = try g.sign(.vote(a)).get()
        XCTAssertEqual(try g.sign(.vote(a)).get(), first, "the same message gets the same signature")
        XCTAssertEqual(try g.sign(.vote(b)), .failure(.wouldDoubleSign(height: 3, round: 1, step: .prevote)))
        _ = store
        let h = try guardian()  // after a restart
        XCTAssertEqual(try h.sign(.vote(a)).get(), first)
        XCTAssertEqual(try h.sign(.vote(b)), .failure(.wouldDoubleSign(height: 3, round: 1, step: .prevote)))
        XCTAssertEqual(try h.sign(.vote(Vote(type: .precommit, height: 3, round: 0, valueID: nil, validator: 0))),
                       .failure(.wouldDoubleSign(height: 3, round: 0, step: .precommit)), "an earlier round")
        XCTAssertNoThrow(try h.sign(.vote(Vote(type: .precommit, height: 3, round: 1, valueID: nil, validator: 0))).get())
    }

    func testTheCheckpointSignerNeverSignsAnInconsistentCheckpoint() throws {
        _ = try freshStore()
        let key = c.keys[0]
        func guardian() throws -> SignerGuard {
            try SignerGuard(store: try FileStore(directory: directory), key: key.privateKey, checkpointKey: key.checkpointKey, chainID: c.origin)
        }
        let rootA = SHA256.hash(Array("a".utf8)), rootB = SHA256.hash(Array("b".utf8))
        let g = try guardian()
        let line = try g.signCheckpoint(origin: c.origin, size: 5, root: rootA).get()
        let h = try guardian()
        XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: 5, root: rootA).get(), line)
        XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: 5, root: rootB), .failure(.inconsistentCheckpoint(size: 5)))
        XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: 4, root: rootA), .failure(.inconsistentCheckpoint(size: 4)))
        XCTAssertNoThrow(try h.signCheckpoint(origin: c.origin, size: 6, root: rootB).get())
    }

    func testAnEarlierCheckpointIsSignedAgainOnlyIfItIsRememberedExactly() throws {
        _ = try freshStore()
        let key = c.keys[0]
        func guardian() throws -> SignerGuard {
            try SignerGuard(store: try FileStore(directory: directory), key: key.privateKey, checkpointKey: key.checkpointKey, chainID: c.origin)
        }
        let g = try guardian()
        var lines: [UInt64: NoteSignature] = [:]
        // More than `compactAfterRecords`, so that compaction has something to drop.
        let count = UInt64(SignerGuard.compactAfterRecords + 8)
        let roots = (UInt64(1)...count).map { SHA256.hash(Array("root \($0)".utf8)) }
        for size in UInt64(1)...count { lines[size] = try g.signCheckpoint(origin: c.origin, size: size * 10, root: roots[Int(size) - 1]).get() }
        // After a restart (the log is re-read), and after compaction rewrote it.
        let compacted = try guardian()
        let logBytes = { try XCTUnwrap(try FileStore(directory: self.directory).read(SignerGuard.fileName)).count }
        let uncompacted = try logBytes()
        try compacted.compactIfNeeded()
        XCTAssertLessThan(try logBytes(), uncompacted / 10, "compaction kept only what replay may need")
        for h in [try guardian(), compacted] {
            let oldest = Int(count) - SignerGuard.rememberedCheckpoints + 1
            for size in UInt64(oldest)...count {
                XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: size * 10, root: roots[Int(size) - 1]).get(), lines[size],
                               "a remembered checkpoint gets its own signature back")
            }
            let size = count * 10 - 10
            XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: size, root: roots[0]), .failure(.inconsistentCheckpoint(size: size)),
                           "a remembered size with another root is refused")
            XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: size + 5, root: roots[0]), .failure(.inconsistentCheckpoint(size: size + 5)),
                           "a smaller size never signed is refused")
            XCTAssertEqual(try h.signCheckpoint(origin: c.origin, size: UInt64(oldest - 1) * 10, root: roots[oldest - 2]),
                           .failure(.inconsistentCheckpoint(size: UInt64(oldest - 1) * 10)), "one no longer remembered is refused")
        }
    }

    func testRecordFileToldATornTailFromDamageInTheMiddle() throws {
        let a = RecordFile.frame([1, 2, 3]), b = RecordFile.frame([4, 5])
        XCTAssertEqual(try RecordFile.parse(a + b, file: "f").records, [[1, 2, 3], [4, 5]])
        for cut in 0..<b.count { XCTAssertEqual(try RecordFile.parse(a + b.prefix(cut), file: "f").validBytes, a.count) }
        var lastBad = a + b
        lastBad[lastBad.count - 1] ^= 1
        XCTAssertEqual(try RecordFile.parse(lastBad, file: "f").records, [[1, 2, 3]], "a bad last record is a torn tail")
        XCTAssertEqual(try RecordFile.parse(a + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], file: "f").validBytes, a.count, "zeros after a crash")
        var middle = a + b
        middle[RecordFile.headerBytes] ^= 1
        XCTAssertThrowsError(try RecordFile.parse(middle, file: "f")) { XCTAssertEqual($0 as? ConsensusError, .corruptRecord(file: "f", offset: 0)) }
    }
}
