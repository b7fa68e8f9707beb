// The tlog-witness add-checkpoint rules (c2sp.org/tlog-witness), one table row per answer: 400
// malformed, 404 unknown log, 403 too few validators, 400 old size above the checkpoint, 409 stale
// old size (with the recorded size), 409 another root at the recorded size, 422 a wrong
// consistency proof, and 200 with a cosignature/v1 line that verifies with the witness's key.
import CinnabarCrypto
import MerkleLog
import SignedNote
import XCTest

final class TlogWitnessTests: XCTestCase {
    private let origin = "ledger.sc-legal.example/cinnabar"
    private lazy var validators = (1...4).map { testKey("\(origin)/v\($0)") }
    private lazy var witnessKey = testKey("court.sc-legal.example/witness")
    private let leaves = (0..<40).map { RFC6962.leafHash(Array("entry \($0)".utf8)) }
    private let timestamp: UInt64 = 1_795_000_000

    /// Cinnabar's rule: the four validators, ⌊2·4/3⌋+1 = 3 of them (what `cinnabar policy` prints).
    private func policy() throws -> TlogPolicy {
        try TlogPolicy(
            parsing: validators.enumerated().map { "witness v\($0.offset + 1) \($0.element.verifierKey.vkey)\n" }.joined()
                + "group validators 3 v1 v2 v3 v4\nquorum validators\n")
    }

    private func witness() throws -> TlogWitness {
        TlogWitness(key: witnessKey, logs: [(origin, try policy())])
    }

    private func head(_ size: Int) -> TreeHead {
        TreeHead(size: UInt64(size), root: RFC6962.rootHash(leaves[..<size]))
    }

    /// The checkpoint of the first `size` leaves (or of `root`), signed by the first `signers` validators.
    private func note(_ size: Int, root: Hash? = nil, signers: Int = 3, origin: String? = nil) throws -> Note {
        let checkpoint = try Checkpoint(
            origin: origin ?? self.origin, size: UInt64(size), root: root ?? RFC6962.rootHash(leaves[..<size]))
        return try Note.sign(text: checkpoint.text, with: Array(validators.prefix(signers)))
    }

    /// PROOF(from, D[0:to]) from the plan's subtrees, each hashed from the leaves.
    private func proof(from: Int, to: Int) throws -> [Hash] {
        try ConsistencyProof.plan(from: UInt64(from), to: UInt64(to)).map { RFC6962.rootHash(leaves[Int($0.lo)..<Int($0.hi)]) }
    }

    private func request(old: Int, proof: [Hash]? = nil, _ note: Note) throws -> AddCheckpointRequest {
        let size = try Checkpoint(parsing: note.text).size
        return try AddCheckpointRequest(
            oldSize: UInt64(old), proof: try proof ?? self.proof(from: old, to: Int(size)), note: note)
    }

    /// Asserts that the witness refuses with `status` and `code`; returns the refusal.
    @discardableResult
    private func assertRefused(
        _ status: Int, _ code: String, _ expression: @autoclosure () throws -> Any, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) -> WitnessRefusal? {
        let refusal = assertError(WitnessRefusal.self, code, expression, message, file: file, line: line)
        if let refusal { XCTAssertEqual(refusal.status, status, "\(refusal) \(message)", file: file, line: line) }
        return refusal
    }

    // MARK: The request body

    func testRequestBodyRoundTripsInTheSpecLayout() throws {
        let body = try request(old: 20, try note(33))
        let text = body.formatted
        let proofLines = try proof(from: 20, to: 33).map { $0.base64 + "\n" }.joined()
        XCTAssertEqual(text, "old 20\n" + proofLines + "\n" + (try note(33)).formatted)
        let parsed = try AddCheckpointRequest(parsing: Array(text.utf8))
        XCTAssertEqual(parsed, body)
        XCTAssertEqual(parsed.oldSize, 20)
        XCTAssertEqual(parsed.checkpoint.size, 33)
        XCTAssertEqual(parsed.formatted, text)

        let first = try AddCheckpointRequest(parsing: Array(("old 0\n\n" + (try note(5)).formatted).utf8))
        XCTAssertEqual(first.oldSize, 0)
        XCTAssertEqual(first.proof, [])
    }

    func testMalformedBodiesAre400() throws {
        let note = try note(10).formatted
        let hash = leaves[0].base64
        let cases: [(String, String)] = [
            ("no old line", "\n" + note),
            ("no blank line", "old 5\n" + hash + "\n"),
            ("leading zero", "old 05\n" + hash + "\n\n" + note),
            ("sign", "old +5\n" + hash + "\n\n" + note),
            ("capital", "Old 5\n" + hash + "\n\n" + note),
            ("two spaces", "old  5\n" + hash + "\n\n" + note),
            ("bad hash", "old 5\nnot-base64\n\n" + note),
            ("short hash", "old 5\n" + Base64.encode([1, 2, 3]) + "\n\n" + note),
            ("proof for old 0", "old 0\n" + hash + "\n\n" + note),
            ("64 proof lines", "old 5\n" + String(repeating: hash + "\n", count: 64) + "\n" + note),
            ("note without signatures", "old 5\n\n" + (try Checkpoint(origin: origin, size: 9, root: leaves[0])).text + "\n"),
            ("not a checkpoint", "old 5\n\n" + (try Note.sign(text: "hello\n", with: [validators[0]])).formatted),
        ]
        for (label, body) in cases {
            assertRefused(400, "malformed_request", try AddCheckpointRequest(parsing: Array(body.utf8)), label)
        }
        var notUTF8 = Array(("old 5\n\n" + note).utf8)
        notUTF8[7] = 0xFF  // the origin's first byte
        assertRefused(400, "malformed_request", try AddCheckpointRequest(parsing: notUTF8), "not UTF-8")
        let tooBig = [UInt8](repeating: UInt8(ascii: "a"), count: AddCheckpointRequest.maxBytes + 1)
        assertRefused(400, "malformed_request", try AddCheckpointRequest(parsing: tooBig), "too big")
    }

    // MARK: The decision, answer by answer

    func testFirstCheckpointIsCosignedAndTheLineVerifiesWithTheWitnessKey() throws {
        let witness = try witness()
        let note = try note(7)
        let recorded = try witness.check(try request(old: 0, note), recorded: nil)
        XCTAssertEqual(recorded, head(7))

        let line = witness.cosign(try Checkpoint(parsing: note.text), timestamp: timestamp)
        XCTAssertEqual(line.keyName, "court.sc-legal.example/witness")
        XCTAssertEqual(line.keyID, witnessKey.cosignatureVerifierKey.keyID)
        XCTAssertEqual(Array(line.signature.prefix(8)), (0..<8).map { UInt8(timestamp >> (56 - 8 * UInt64($0)) & 0xFF) })
        // The signed message of tlog-cosignature §Ed25519 signed message, checked with the bare public key.
        let message = Array("cosignature/v1\ntime \(timestamp)\n".utf8) + Array(note.text.utf8)
        XCTAssertTrue(witness.verifierKey.publicKey.isValidSignature(Array(line.signature.dropFirst(8)), for: message))
        // As a client does it: the answer appended to the checkpoint, verified with the witness's vkey.
        let cosignature = try TlogWitness.cosignature(inAnswer: line.line, on: note, by: witness.verifierKey)
        XCTAssertEqual(cosignature.timestamp, timestamp)
        XCTAssertEqual(witness.verifierKey.vkey, witnessKey.cosignatureVerifierKey.vkey)
        // The validators' signatures and the cosignature side by side still satisfy the policy.
        XCTAssertEqual(try policy().verify(note: try note.adding([line])).size, 7)
    }

    func testGrowingTreeWithAValidProofIsCosigned() throws {
        let witness = try witness()
        var recorded = head(7)
        for size in [8, 8, 16, 17, 33, 40] {
            recorded = try witness.check(try request(old: Int(recorded.size), try note(size)), recorded: recorded)
            XCTAssertEqual(recorded, head(size))
        }
    }

    func testUnknownOriginIs404() throws {
        let refusal = assertRefused(
            404, "unknown_log", try witness().check(try request(old: 0, try note(7, origin: "other.example/log")), recorded: nil))
        XCTAssertEqual(refusal?.description, "this witness does not know the log \"other.example/log\"")
    }

    func testTooFewValidatorsIs403() throws {
        let witness = try witness()
        // 2 of 4 validators: below the quorum of 3.
        let refusal = assertRefused(403, "untrusted_checkpoint", try witness.check(try request(old: 0, try note(7, signers: 2)), recorded: nil))
        XCTAssertTrue(refusal?.description.contains("group validators needs 3 of 4, has 2") ?? false, "\(String(describing: refusal))")
        // Signed only by keys the witness does not know.
        let stranger = try Note.sign(text: try note(7).text, with: [testKey("\(origin)/intruder")])
        assertRefused(403, "untrusted_checkpoint", try witness.check(try request(old: 0, stranger), recorded: nil))
        // A known validator's line that does not verify rejects the note, whatever else it carries.
        let forged = try replacingSignature(in: try note(7, signers: 4), at: 3) {
            var bytes = $0.signature
            bytes[0] ^= 1
            return try NoteSignature(keyName: $0.keyName, keyID: $0.keyID, signature: bytes)
        }
        assertRefused(403, "untrusted_checkpoint", try witness.check(try request(old: 0, forged), recorded: nil))
        // Nothing was recorded: the same checkpoint with a quorum is then accepted from size 0.
        XCTAssertEqual(try witness.check(try request(old: 0, try note(7)), recorded: nil), head(7))
    }

    func testOldSizeAboveTheCheckpointIs400() throws {
        assertRefused(
            400, "old_size_above_checkpoint",
            try witness().check(try request(old: 12, proof: [], try note(7)), recorded: head(12)))
    }

    func testStaleOldSizeIs409WithTheRecordedSize() throws {
        let witness = try witness()
        for old in [0, 5, 11, 13] {
            let refusal = assertRefused(409, "old_size_mismatch", try witness.check(try request(old: old, try note(20)), recorded: head(12)))
            XCTAssertEqual(refusal?.recordedSize, 12)
        }
        // A log the witness never cosigned is recorded at size 0.
        let fresh = assertRefused(409, "old_size_mismatch", try witness.check(try request(old: 7, try note(20)), recorded: nil))
        XCTAssertEqual(fresh?.recordedSize, 0)
    }

    func testAnotherRootAtTheRecordedSizeIs409() throws {
        let witness = try witness()
        let fork = try note(12, root: SHA256.hash("another tree of 12 leaves"))
        let refusal = assertRefused(409, "root_conflict", try witness.check(try request(old: 12, proof: [], fork), recorded: head(12)))
        XCTAssertEqual(refusal?.recordedSize, 12)
        // The same root again is cosigned again (a newer timestamp on the same tree).
        XCTAssertEqual(try witness.check(try request(old: 12, proof: [], try note(12)), recorded: head(12)), head(12))
    }

    func testWrongConsistencyProofIs422() throws {
        let witness = try witness()
        let good = try proof(from: 12, to: 20)
        var flipped = good
        flipped[1] = SHA256.hash("not a subtree")
        let cases: [(String, [Hash])] = [
            ("a hash replaced", flipped),
            ("one hash short", Array(good.dropLast())),
            ("one hash extra", good + [leaves[0]]),
            ("the proof from another size", try proof(from: 11, to: 20)),
            ("no proof at all", []),
            ("hashes reversed", good.reversed()),
        ]
        for (label, hashes) in cases {
            assertRefused(422, "inconsistent", try witness.check(try request(old: 12, proof: hashes, try note(20)), recorded: head(12)), label)
        }
        // A checkpoint the validators signed but that forks from the recorded tree has no valid proof.
        let forked = try note(20, root: SHA256.hash("a tree that rewrote leaf 3"))
        assertRefused(422, "inconsistent", try witness.check(try request(old: 12, proof: good, forked), recorded: head(12)))
    }

    func testNeverCosignsASmallerTree() throws {
        let witness = try witness()
        // Old size honest, checkpoint smaller: 400; old size claiming the smaller tree: 409.
        assertRefused(400, "old_size_above_checkpoint", try witness.check(try request(old: 15, proof: [], try note(10)), recorded: head(15)))
        assertRefused(409, "old_size_mismatch", try witness.check(try request(old: 10, proof: [], try note(10)), recorded: head(15)))
        assertRefused(409, "old_size_mismatch", try witness.check(try request(old: 0, try note(10)), recorded: head(15)))
    }

    // MARK: The client's side

    func testConflictBodyGivesTheRecordedSize() {
        XCTAssertEqual(TlogWitness.recordedSize(inConflictBody: Array("12\n".utf8)), 12)
        XCTAssertEqual(TlogWitness.recordedSize(inConflictBody: Array("0\n".utf8)), 0)
        for bad in ["12", "012\n", "x\n", "", "\n", "1 2\n"] {
            XCTAssertNil(TlogWitness.recordedSize(inConflictBody: Array(bad.utf8)), bad)
        }
    }

    func testAnswerLinesFromOtherKeysAreIgnoredAndAForgedOneRejected() throws {
        let witness = try witness()
        let note = try note(7)
        let checkpoint = try Checkpoint(parsing: note.text)
        let other = Cosignature.sign(checkpoint, timestamp: timestamp, with: testKey("other.example/witness")).noteSignature
        let mine = witness.cosign(checkpoint, timestamp: timestamp)
        XCTAssertEqual(
            try TlogWitness.cosignature(inAnswer: other.line + mine.line, on: note, by: witness.verifierKey).timestamp, timestamp)
        assertNoteError("no_verified_signature", try TlogWitness.cosignature(inAnswer: other.line, on: note, by: witness.verifierKey))
        // The cosignature of another checkpoint does not verify on this one.
        let elsewhere = witness.cosign(try Checkpoint(parsing: try self.note(8).text), timestamp: timestamp)
        assertNoteError("signature_invalid", try TlogWitness.cosignature(inAnswer: elsewhere.line, on: note, by: witness.verifierKey))
        assertNoteError("malformed_note", try TlogWitness.cosignature(inAnswer: "not a signature line\n", on: note, by: witness.verifierKey))
    }
}
