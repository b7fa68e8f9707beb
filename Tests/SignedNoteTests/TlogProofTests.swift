// Transparency log proofs (c2sp.org/tlog-proof@v1): round trip with and without extra data,
// verification against a policy over a real RFC 6962 tree, and every tampering detected.
import CinnabarCrypto
import Foundation
import MerkleLog
import SignedNote
import XCTest

final class TlogProofTests: XCTestCase {
    private let origin = "ledger.sc-legal.example/cinnabar"
    private lazy var log = testKey(origin)
    private lazy var witnesses = (1...3).map { testKey("\(origin)/validator/\($0)") }
    private let leaves = (0..<7).map { RFC6962.leafHash(Array("entry \($0)".utf8)) }

    /// PATH(m, D[n]) of RFC 9162 §2.1.3.1, written as the RFC's recursion.
    private func path(_ m: Int, _ hashes: ArraySlice<Hash>) -> [Hash] {
        guard hashes.count > 1 else { return [] }
        let k = Int(largestPowerOfTwo(below: UInt64(hashes.count)))
        let mid = hashes.startIndex + k
        if m < k { return path(m, hashes[..<mid]) + [RFC6962.rootHash(hashes[mid...])] }
        return path(m - k, hashes[mid...]) + [RFC6962.rootHash(hashes[..<mid])]
    }

    private func policy() throws -> TlogPolicy {
        try TlogPolicy(
            parsing: """
                log \(log.verifierKey.vkey)
                \(witnesses.enumerated().map { "witness v\($0.offset + 1) \($0.element.verifierKey.vkey)" }.joined(separator: "\n"))
                group validators 2 v1 v2 v3
                quorum validators

                """)
    }

    private func checkpointNote(size: Int? = nil, signers: Int = 2) throws -> Note {
        let size = size ?? leaves.count
        let checkpoint = try Checkpoint(origin: origin, size: UInt64(size), root: RFC6962.rootHash(leaves[..<size]))
        return try Note.sign(text: checkpoint.text, with: [log] + witnesses.prefix(signers))
    }

    private func proof(index: Int, extra: [UInt8]? = nil) throws -> TlogProof {
        try TlogProof(extra: extra, index: UInt64(index), hashes: path(index, leaves[...]), note: checkpointNote())
    }

    func testRoundTripWithoutExtra() throws {
        let proof = try proof(index: 5)
        let text = proof.formatted
        XCTAssertTrue(text.hasPrefix("c2sp.org/tlog-proof@v1\nindex 5\n"))
        XCTAssertTrue(text.hasSuffix("\n\n" + proof.note.formatted))
        let parsed = try TlogProof(parsing: text)
        XCTAssertEqual(parsed, proof)
        XCTAssertEqual(parsed.formatted, text)
        XCTAssertNil(parsed.extra)
        XCTAssertEqual(parsed.index, 5)
        XCTAssertEqual(parsed.hashes, path(5, leaves[...]))
        XCTAssertEqual(parsed.checkpoint.size, 7)
    }

    func testRoundTripWithExtra() throws {
        let extra = Array("age-v1.2.1-darwin-arm64.tar.gz".utf8)
        let proof = try proof(index: 0, extra: extra)
        let text = proof.formatted
        XCTAssertTrue(
            text.hasPrefix("c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 0\n"))
        let parsed = try TlogProof(parsing: text)
        XCTAssertEqual(parsed.extra, extra)
        XCTAssertEqual(parsed.formatted, text)
        XCTAssertNil(try TlogProof(extra: [], index: 0, hashes: path(0, leaves[...]), note: checkpointNote()).extra)
    }

    func testEveryLeafVerifiesAgainstThePolicy() throws {
        let policy = try policy()
        for index in leaves.indices {
            let parsed = try TlogProof(parsing: proof(index: index).formatted)
            let checkpoint = try parsed.verify(leafHash: leaves[index], policy: policy)
            XCTAssertEqual(checkpoint.root, RFC6962.rootHash(leaves[...]))
        }
        // A one-leaf tree has an empty proof: no hash lines at all.
        let single = try TlogProof(index: 0, hashes: [], note: checkpointNote(size: 1))
        XCTAssertTrue(single.formatted.hasPrefix("c2sp.org/tlog-proof@v1\nindex 0\n\n"))
        XCTAssertNoThrow(try TlogProof(parsing: single.formatted).verify(leafHash: leaves[0], policy: policy))
    }

    func testTamperedProofsFail() throws {
        let policy = try policy()
        let good = try proof(index: 3)
        assertNoteError("inclusion_proof_invalid", try good.verify(leafHash: leaves[4], policy: policy), "other leaf")

        let otherIndex = try TlogProof(index: 2, hashes: good.hashes, note: good.note)
        assertNoteError("inclusion_proof_invalid", try otherIndex.verify(leafHash: leaves[3], policy: policy), "index")
        let outOfRange = try TlogProof(index: 7, hashes: good.hashes, note: good.note)
        assertNoteError("inclusion_proof_invalid", try outOfRange.verify(leafHash: leaves[3], policy: policy))

        for i in good.hashes.indices {
            var hashes = good.hashes
            var bytes = hashes[i].bytes
            bytes[0] ^= 1
            hashes[i] = try XCTUnwrap(Hash(bytes: bytes))
            let tampered = try TlogProof(parsing: TlogProof(index: 3, hashes: hashes, note: good.note).formatted)
            assertNoteError(
                "inclusion_proof_invalid", try tampered.verify(leafHash: leaves[3], policy: policy), "hash \(i)")
        }
        let shortened = try TlogProof(index: 3, hashes: Array(good.hashes.dropLast()), note: good.note)
        assertNoteError("inclusion_proof_invalid", try shortened.verify(leafHash: leaves[3], policy: policy))

        // A checkpoint with another root keeps its signature lines but no longer matches them.
        let otherRoot = try Checkpoint(origin: origin, size: 7, root: RFC6962.rootHash(leaves[..<6]))
        let swapped = try TlogProof(
            parsing: good.formatted.replacingOccurrences(of: good.checkpoint.root.base64, with: otherRoot.root.base64))
        assertNoteError("signature_invalid", try swapped.verify(leafHash: leaves[3], policy: policy))

        // A checkpoint signed by too few validators fails the policy.
        let underSigned = try TlogProof(index: 3, hashes: good.hashes, note: checkpointNote(signers: 1))
        assertNoteError("quorum_not_met", try underSigned.verify(leafHash: leaves[3], policy: policy))
    }

    func testMalformedProofsAreRejected() throws {
        let good = try proof(index: 3).formatted
        let note = try checkpointNote().formatted
        let hash = leaves[0].base64
        let cases: [(String, String)] = [
            ("wrong header", good.replacingOccurrences(of: "tlog-proof@v1", with: "tlog-proof@v2")),
            ("no header", "index 3\n\(hash)\n\n\(note)"),
            ("missing index", "c2sp.org/tlog-proof@v1\n\(hash)\n\n\(note)"),
            ("index with leading zero", "c2sp.org/tlog-proof@v1\nindex 03\n\(hash)\n\n\(note)"),
            ("negative index", "c2sp.org/tlog-proof@v1\nindex -3\n\n\(note)"),
            ("index without a space", "c2sp.org/tlog-proof@v1\nindex3\n\n\(note)"),
            ("extra after index", "c2sp.org/tlog-proof@v1\nindex 3\nextra AAAA\n\n\(note)"),
            ("bad extra", "c2sp.org/tlog-proof@v1\nextra AAA\nindex 3\n\n\(note)"),
            ("empty extra", "c2sp.org/tlog-proof@v1\nextra \nindex 3\n\n\(note)"),
            ("bad hash", "c2sp.org/tlog-proof@v1\nindex 3\n\(hash.dropLast(2))\n\n\(note)"),
            ("short hash", "c2sp.org/tlog-proof@v1\nindex 3\n\(Base64.encode(leaves[0].bytes.dropLast()))\n\n\(note)"),
            ("no empty line", "c2sp.org/tlog-proof@v1\nindex 3\n\(hash)\n"),
            (
                "too many hashes",
                "c2sp.org/tlog-proof@v1\nindex 3\n" + String(repeating: "\(hash)\n", count: 65) + "\n\(note)"
            ),
        ]
        for (what, text) in cases {
            assertNoteError("malformed_proof", try TlogProof(parsing: text), what)
        }
        assertNoteError("malformed_note", try TlogProof(parsing: "c2sp.org/tlog-proof@v1\nindex 3\n\nnot a note\n"))
        let notACheckpoint = try Note.sign(text: "hello\n", with: [log]).formatted
        assertNoteError(
            "malformed_checkpoint", try TlogProof(parsing: "c2sp.org/tlog-proof@v1\nindex 0\n\n\(notACheckpoint)"))
        assertNoteError(
            "malformed_proof",
            try TlogProof(index: 0, hashes: Array(repeating: leaves[0], count: 65), note: checkpointNote()))
    }
}
