// The witness service over its directory: the recorded tree head survives reopening (the witness
// then refuses to go backwards or to fork), refusals record nothing, a lost state file stops it
// from starting, and the node's store of witnessed checkpoints picks the best-cosigned one.
import CinnabarCrypto
import Foundation
import MerkleLog
import Node
import SignedNote
import XCTest

final class WitnessServiceTests: XCTestCase {
    private let origin = "test.example/cinnabar"
    private let leaves = (0..<30).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) }
    private lazy var validators = (1...4).map { try! NoteSigningKey(name: "\(origin)/v\($0)", seed: SHA256.hash("v\($0)").bytes) }
    private var path = ""

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "cinnabar-witness-\(UUID().uuidString)"
        _ = try WitnessDirectory.initialise(at: path, name: "court.example/witness")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    private func policy() throws -> TlogPolicy {
        try TlogPolicy(parsing: validators.enumerated().map { "witness v\($0.offset + 1) \($0.element.verifierKey.vkey)\n" }.joined()
            + "group validators 3 v1 v2 v3 v4\nquorum validators\n")
    }

    private func open() throws -> WitnessService {
        try WitnessService(directory: WitnessDirectory(path), logs: [(origin, try policy())], clockSeconds: { 1_795_000_000 })
    }

    private func note(_ size: Int, root: Hash? = nil) throws -> Note {
        let checkpoint = try Checkpoint(origin: origin, size: UInt64(size), root: root ?? RFC6962.rootHash(leaves[..<size]))
        return try Note.sign(text: checkpoint.text, with: Array(validators.prefix(3)))
    }

    /// An add-checkpoint body from `old` to the checkpoint in `note`, with a proof from the leaves.
    private func body(old: Int, _ note: Note, proof: [Hash]? = nil) throws -> [UInt8] {
        let size = try Checkpoint(parsing: note.text).size
        let hashes = try proof ?? ConsistencyProof.plan(from: UInt64(old), to: size).map { RFC6962.rootHash(leaves[Int($0.lo)..<Int($0.hi)]) }
        return Array(try AddCheckpointRequest(oldSize: UInt64(old), proof: hashes, note: note).formatted.utf8)
    }

    private func refusal(_ expression: @autoclosure () throws -> String) -> WitnessRefusal? {
        do { _ = try expression() } catch { return error as? WitnessRefusal }
        return nil
    }

    func testKeyFileIsPrivateAndTheDirectoryIsNotInitialisedTwice() throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: WitnessDirectory(path).keyPath)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertThrowsError(try WitnessDirectory.initialise(at: path, name: "court.example/witness"))
    }

    func testRecordedHeadSurvivesReopeningAndTheWitnessNeverGoesBack() throws {
        let first = try open()
        let answer = try first.addCheckpoint(try body(old: 0, try note(12)))
        let cosigned = try TlogWitness.cosignature(inAnswer: answer, on: try note(12), by: first.witness.verifierKey)
        XCTAssertEqual(cosigned.timestamp, 1_795_000_000)
        XCTAssertEqual(first.recorded(origin: origin)?.size, 12)

        // A new process over the same directory.
        let reopened = try open()
        XCTAssertEqual(reopened.recorded(origin: origin), TreeHead(size: 12, root: RFC6962.rootHash(leaves[..<12])))
        XCTAssertEqual(refusal(try reopened.addCheckpoint(try body(old: 0, try note(12))))?.recordedSize, 12)
        XCTAssertEqual(refusal(try reopened.addCheckpoint(try body(old: 0, try note(8))))?.code, "old_size_mismatch")
        XCTAssertEqual(refusal(try reopened.addCheckpoint(try body(old: 12, try note(8), proof: [])))?.code, "old_size_above_checkpoint")
        XCTAssertEqual(refusal(try reopened.addCheckpoint(try body(old: 12, try note(12, root: leaves[0]), proof: [])))?.code, "root_conflict")
        XCTAssertEqual(refusal(try reopened.addCheckpoint(try body(old: 12, try note(20, root: leaves[0]))))?.code, "inconsistent")
        XCTAssertEqual(reopened.recorded(origin: origin)?.size, 12, "refusals record nothing")

        _ = try reopened.addCheckpoint(try body(old: 12, try note(20)))
        XCTAssertEqual(try open().recorded(origin: origin)?.size, 20)
    }

    func testMissingStateRefusesToStart() throws {
        _ = try open().addCheckpoint(try body(old: 0, try note(5)))
        try FileManager.default.removeItem(atPath: WitnessDirectory(path).statePath + "/tree-heads")
        XCTAssertThrowsError(try open()) { error in
            XCTAssertTrue("\(error)".contains("refuses to cosign"), "\(error)")
        }
    }

    func testWitnessedCheckpointsServeTheBestCosignedOne() throws {
        let witnessed = WitnessedCheckpoints()
        XCTAssertNil(witnessed.best())
        let keys = (1...2).map { try! NoteSigningKey(name: "w\($0).example/witness", seed: SHA256.hash("w\($0)").bytes) }
        func cosign(_ size: Int, _ key: NoteSigningKey, at time: UInt64 = 1) throws {
            let note = try note(size)
            witnessed.add(Cosignature.sign(try Checkpoint(parsing: note.text), timestamp: time, with: key), on: note, size: UInt64(size))
        }
        try cosign(10, keys[0])
        try cosign(10, keys[1])
        try cosign(14, keys[0])
        // Size 10 has two cosignatures, size 14 one: 10 wins; covering 11 leaves, 14 is the only one.
        XCTAssertEqual(witnessed.best()?.size, 10)
        XCTAssertEqual(witnessed.best()?.note.signatures.count, 3 + 2)
        XCTAssertEqual(witnessed.best(coveringSize: 11)?.size, 14)
        XCTAssertNil(witnessed.best(coveringSize: 15))
        // A newer cosignature from the same witness replaces its older line.
        try cosign(10, keys[0], at: 2)
        let best = try XCTUnwrap(witnessed.best())
        XCTAssertEqual(best.note.signatures.count, 5)
        XCTAssertEqual(try Cosignature.verify(note: best.note, key: keys[0].cosignatureVerifierKey).timestamp, 2)
        XCTAssertEqual(try policy().verify(note: best.note).size, 10)
        // Bounded: only the newest sizes are kept, so size 10 and its two cosignatures are gone.
        for size in 15..<(15 + WitnessedCheckpoints.maxSizesKept) { try cosign(size, keys[0]) }
        XCTAssertEqual(witnessed.best()?.size, UInt64(14 + WitnessedCheckpoints.maxSizesKept))
    }
}
