// Signed notes (c2sp.org/signed-note): every vector verifies, parsing returns the exact bytes,
// and each malformed or forged note is rejected with its own code.
import CinnabarCrypto
import Foundation
import SignedNote
import XCTest

final class NoteTests: XCTestCase {
    private let exampleVKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    private let exampleNote =
        "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

    func testVerifyingVectorsVerify() throws {
        let vectors = try SignedNoteVectors.load()
        XCTAssertEqual(vectors.verifying.count, 2)
        for vector in vectors.verifying {
            let key = try NoteVerifierKey(parsing: vector.vkey)
            let note = try Note(parsing: vector.note)
            XCTAssertEqual(note.formatted, vector.note, "formatted gives the exact bytes back")
            XCTAssertEqual(try note.verify(keys: [key]), [key])
            let fromBytes = try Note(parsing: Array(vector.note.utf8))
            XCTAssertEqual(fromBytes, note)
        }
    }

    func testGoChecksumDatabaseCheckpointParses() throws {
        let vector = try XCTUnwrap(SignedNoteVectors.load().verifying.first { $0.vkey.hasPrefix("sum.golang.org+") })
        let note = try Note(parsing: vector.note)
        _ = try note.verify(keys: [NoteVerifierKey(parsing: vector.vkey)])
        let checkpoint = try Checkpoint(parsing: note.text)
        XCTAssertEqual(checkpoint.origin, "go.sum database tree")
        XCTAssertEqual(checkpoint.size, 6_476_701)
        XCTAssertEqual(checkpoint.root.base64, "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
        XCTAssertEqual(checkpoint.extensions, [])
        XCTAssertEqual(checkpoint.text, note.text)
    }

    func testTextIsSeparatedByTheLastBlankLine() throws {
        let key = testKey("example.com/poet")
        let text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
        let note = try Note.sign(text: text, with: [key])
        let parsed = try Note(parsing: note.formatted)
        XCTAssertEqual(parsed.text, text)
        XCTAssertEqual(try parsed.verify(keys: [key.verifierKey]), [key.verifierKey])
        // A text that ends in an empty line still round-trips.
        let trailing = try Note.sign(text: "a\n\n", with: [key])
        XCTAssertEqual(try Note(parsing: trailing.formatted).text, "a\n\n")
    }

    func testFlippedBitInSignatureIsRejected() throws {
        let note = try Note(parsing: exampleNote)
        let key = try NoteVerifierKey(parsing: exampleVKey)
        for bit in [0, 7, 100, 511] {
            let forged = try replacingSignature(in: note, at: 0) { line in
                var bytes = line.signature
                bytes[bit / 8] ^= UInt8(1 << (bit % 8))
                return try NoteSignature(keyName: line.keyName, keyID: line.keyID, signature: bytes)
            }
            assertNoteError("signature_invalid", try forged.verify(keys: [key]), "bit \(bit)")
        }
        // The text is signed too.
        let otherText = try Note(
            parsing: exampleNote.replacingOccurrences(of: "example message", with: "example massage"))
        assertNoteError("signature_invalid", try otherText.verify(keys: [key]))
    }

    func testWrongKeyIDMakesTheSignatureUnknown() throws {
        let note = try Note(parsing: exampleNote)
        let key = try NoteVerifierKey(parsing: exampleVKey)
        let wrongID = try replacingSignature(in: note, at: 0) {
            try NoteSignature(keyName: $0.keyName, keyID: $0.keyID ^ 1, signature: $0.signature)
        }
        assertNoteError("no_verified_signature", try wrongID.verify(keys: [key]))
        let wrongName = try replacingSignature(in: note, at: 0) {
            try NoteSignature(keyName: "example.com/bar", keyID: $0.keyID, signature: $0.signature)
        }
        assertNoteError("no_verified_signature", try wrongName.verify(keys: [key]))
        assertNoteError("no_verified_signature", try note.verify(keys: []))
    }

    func testUnknownKeysAreIgnoredButAKnownBadSignatureRejects() throws {
        let known = testKey("example.com/known")
        let other = testKey("example.com/other")
        let text = "checkpoint text\n"
        let good = try known.signature(for: text)
        let unknownLines = [
            try other.signature(for: text),
            // Same name as the known key, different ID; same ID, different name; both garbage.
            try NoteSignature(
                keyName: known.name, keyID: known.keyID ^ 0xFFFF, signature: [UInt8](repeating: 7, count: 64)),
            try NoteSignature(
                keyName: "example.com/impostor", keyID: known.keyID, signature: [UInt8](repeating: 9, count: 64)),
        ]
        let note = try Note(text: text, signatures: unknownLines + [good])
        XCTAssertEqual(try note.verify(keys: [known.verifierKey]), [known.verifierKey])
        XCTAssertEqual(
            try note.verify(keys: [other.verifierKey, known.verifierKey]), [other.verifierKey, known.verifierKey])

        let third = testKey("example.com/third")
        let bad = try NoteSignature(keyName: third.name, keyID: third.keyID, signature: good.signature)
        let rejected = try Note(text: text, signatures: [good, bad])
        let error = assertNoteError(
            "signature_invalid", try rejected.verify(keys: [known.verifierKey, third.verifierKey]))
        XCTAssertTrue(error?.description.contains("example.com/third") ?? false, "\(String(describing: error))")
        // Without the third key configured, its line is just unknown.
        XCTAssertEqual(try rejected.verify(keys: [known.verifierKey]), [known.verifierKey])
    }

    func testMalformedNotesAreRejected() throws {
        let sig =
            "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
        let cases: [(String, String)] = [
            ("missing blank line", "This is an example message.\n\(sig)\n"),
            ("no trailing newline", "This is an example message.\n\n\(sig)"),
            ("no signature lines", "This is an example message.\n\n"),
            ("empty note", ""),
            ("text only", "This is an example message.\n"),
            ("tab", "This is an\texample message.\n\n\(sig)\n"),
            ("carriage return", "This is an example message.\r\n\n\(sig)\n"),
            ("NUL", "This is an example message.\u{0}\n\n\(sig)\n"),
            ("escape", "\u{1B}[31mred\n\n\(sig)\n"),
            ("control character in signature", "This is an example message.\n\n\(sig)\u{7}\n"),
            ("hyphen, not em dash", "text\n\n- example.com/foo \(sig.split(separator: " ")[2])\n"),
            ("en dash", "text\n\n– example.com/foo \(sig.split(separator: " ")[2])\n"),
            ("no space after dash", "text\n\n—example.com/foo \(sig.split(separator: " ")[2])\n"),
            ("empty name", "text\n\n—  \(sig.split(separator: " ")[2])\n"),
            ("'+' in name", "text\n\n— example.com+foo \(sig.split(separator: " ")[2])\n"),
            ("no-break space in name", "text\n\n— example\u{A0}com \(sig.split(separator: " ")[2])\n"),
            ("no signature", "text\n\n— example.com/foo\n"),
            ("empty signature", "text\n\n— example.com/foo \n"),
            ("bad base64", "text\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1T!!!=\n"),
            ("extra field", "text\n\n\(sig) extra\n"),
            ("key ID only", "text\n\n— example.com/foo Uw2QOg==\n"),
            ("blank line after signatures", "text\n\n\(sig)\n\n"),
            ("two blank lines around a line", "text\n\n\(sig)\n\ntrailer\n"),
        ]
        for (what, text) in cases {
            assertNoteError("malformed_note", try Note(parsing: text), what)
        }
        assertNoteError("malformed_note", try Note(parsing: [0x61, 0x0A, 0x0A, 0xFF, 0x0A]), "invalid UTF-8")
        assertNoteError(
            "malformed_note", try Note(parsing: Array("caf".utf8) + [0xC3] + Array("\n\n\(sig)\n".utf8)),
            "truncated UTF-8")
    }

    func testDuplicateSignatureLinesAreRejected() throws {
        let key = testKey("example.com/dup")
        let line = try key.signature(for: "text\n")
        assertNoteError("duplicate_signature", try Note(parsing: "text\n\n" + line.line + line.line))
        // Same name and ID twice, even with different bytes.
        let twin = try NoteSignature(keyName: key.name, keyID: key.keyID, signature: [1, 2, 3])
        assertNoteError("duplicate_signature", try Note(parsing: "text\n\n" + line.line + twin.line))
        assertNoteError("duplicate_signature", try Note(text: "text\n", signatures: [line]).adding([twin]))
        // Same name with another ID, or another name with the same ID, is not a duplicate.
        let otherID = try NoteSignature(keyName: key.name, keyID: key.keyID ^ 1, signature: [1])
        let otherName = try NoteSignature(keyName: "example.com/dup2", keyID: key.keyID, signature: [1])
        XCTAssertNoThrow(try Note(parsing: "text\n\n" + line.line + otherID.line + otherName.line))
    }

    func testSizeAndSignatureLimits() throws {
        let key = testKey("example.com/limits")
        let longText = String(repeating: "a", count: Note.maxBytes) + "\n"
        assertNoteError("note_too_large", try Note(parsing: longText + "\n" + (try key.signature(for: "x\n")).line))
        assertNoteError("note_too_large", try Note(parsing: Array(longText.utf8)))
        assertNoteError("note_too_large", try Note.sign(text: longText, with: [key]))

        let text = "many signers\n"
        let signers = (0...Note.maxSignatures).map { testKey("example.com/signer/\($0)") }
        let lines = try signers.map { try $0.signature(for: text) }
        let atLimit = try Note(parsing: text + "\n" + lines.prefix(Note.maxSignatures).map(\.line).joined())
        XCTAssertEqual(atLimit.signatures.count, Note.maxSignatures)
        XCTAssertEqual(try atLimit.verify(keys: signers.map(\.verifierKey)).count, Note.maxSignatures)
        assertNoteError("too_many_signatures", try Note(parsing: text + "\n" + lines.map(\.line).joined()))
        assertNoteError("too_many_signatures", try Note(text: text, signatures: lines))
        XCTAssertGreaterThanOrEqual(Note.maxSignatures, 16, "signed-note: verifiers MUST accept at least 16")
    }

    func testAddingSignaturesKeepsTheTextAndVerifiesEach() throws {
        let a = testKey("a.example/log")
        let b = testKey("b.example/witness")
        let note = try Note.sign(text: "text\n", with: [a]).adding([b.signature(for: "text\n")])
        XCTAssertEqual(
            note.formatted, "text\n\n" + (try a.signature(for: "text\n")).line + (try b.signature(for: "text\n")).line)
        XCTAssertEqual(try note.verify(keys: [b.verifierKey, a.verifierKey]), [b.verifierKey, a.verifierKey])
    }
}
