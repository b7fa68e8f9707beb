// Signing keys (signed-note skeys): the vector key derives its vkey and signs its line byte for
// byte, malformed skeys are refused, and no printout ever shows the private key.
import CinnabarCrypto
import SignedNote
import XCTest

final class NoteSigningKeyTests: XCTestCase {
    func testVectorSigningKeyDerivesItsVerifierKeyAndSignatureLine() throws {
        let vectors = try SignedNoteVectors.load()
        XCTAssertFalse(vectors.signing.isEmpty)
        for vector in vectors.signing {
            let key = try NoteSigningKey(parsing: vector.skey)
            XCTAssertEqual(key.verifierKey.vkey, vector.vkey)
            XCTAssertEqual(key.skey, vector.skey)
            let signature = try key.signature(for: vector.text)
            XCTAssertEqual(signature.line, vector.signatureLine)
            XCTAssertEqual(Array(signature.line.utf8), Array(vector.signatureLine.utf8))
            let note = try Note.sign(text: vector.text, with: [key])
            XCTAssertEqual(note.formatted, vector.text + "\n" + vector.signatureLine)
            XCTAssertEqual(try note.verify(keys: [NoteVerifierKey(parsing: vector.vkey)]), [key.verifierKey])
        }
    }

    func testGeneratedKeysSignAndVerify() throws {
        let key = try NoteSigningKey.generate(name: "ledger.example/validator/1")
        XCTAssertEqual(key.name, "ledger.example/validator/1")
        let note = try Note.sign(text: "hello\n", with: [key])
        XCTAssertEqual(try note.verify(keys: [key.verifierKey]), [key.verifierKey])
        let reparsed = try NoteSigningKey(parsing: key.skey)
        XCTAssertEqual(reparsed.verifierKey, key.verifierKey)
        XCTAssertNotEqual(
            try NoteSigningKey.generate(name: "x").verifierKey.publicKey,
            try NoteSigningKey.generate(name: "x").verifierKey.publicKey)
        assertNoteError("bad_key", try NoteSigningKey.generate(name: "bad name"))
    }

    func testPrintingNeverRevealsThePrivateKey() throws {
        let key = try NoteSigningKey(
            parsing: "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        let secret = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        let seedBase64 = Base64.encode(Array(Base64.decode(secret)!.dropFirst()))
        var dumped = ""
        dump(key, to: &dumped)
        for printed in ["\(key)", String(describing: key), String(reflecting: key), dumped, "\([key])"] {
            XCTAssertFalse(printed.contains(secret), printed)
            XCTAssertFalse(printed.contains(seedBase64), printed)
            XCTAssertFalse(printed.contains("PRIVATE"), printed)
            XCTAssertTrue(printed.contains("PeterNeumann"), printed)
        }
        XCTAssertTrue(key.description.contains("c74f20a3"))
    }

    func testBadSigningKeysAreRejected() throws {
        let seed = SHA256.hash("seed").bytes
        let good = try NoteSigningKey(name: "n", seed: seed)
        let id = String(good.keyID, radix: 16).leftPadded8
        let cases: [(String, String, String)] = [
            ("not private", "PUBLIC+KEY+n+\(id)+\(Base64.encode([1] + seed))", "bad_key"),
            ("no KEY", "PRIVATE+n+\(id)+\(Base64.encode([1] + seed))", "bad_key"),
            ("hex mismatch", "PRIVATE+KEY+n+00000000+\(Base64.encode([1] + seed))", "bad_key"),
            ("other name", "PRIVATE+KEY+m+\(id)+\(Base64.encode([1] + seed))", "bad_key"),
            ("bad base64", "PRIVATE+KEY+n+\(id)+\(Base64.encode([1] + seed).dropLast())", "bad_key"),
            ("short seed", "PRIVATE+KEY+n+\(id)+\(Base64.encode([1] + seed.dropLast()))", "bad_key"),
            ("cosignature type", "PRIVATE+KEY+n+\(id)+\(Base64.encode([4] + seed))", "unknown_key_type"),
            ("space in name", "PRIVATE+KEY+a b+\(id)+\(Base64.encode([1] + seed))", "bad_key"),
        ]
        XCTAssertNoThrow(try NoteSigningKey(parsing: good.skey))
        for (what, skey, code) in cases {
            let error = assertNoteError(code, try NoteSigningKey(parsing: skey), what)
            XCTAssertFalse(
                error?.description.contains(Base64.encode([1] + seed)) ?? false, "error must not quote the key")
        }
        assertNoteError("bad_key", try NoteSigningKey(name: "n", seed: Array(seed.prefix(31))))
        assertNoteError("bad_key", try NoteSigningKey(name: "a+b", seed: seed))
    }

    func testSigningRefusesTextThatCannotBeANote() throws {
        let key = testKey("k")
        assertNoteError("malformed_note", try key.signature(for: "no newline"))
        assertNoteError("malformed_note", try key.signature(for: "tab\there\n"))
        assertNoteError("malformed_note", try Note.sign(text: "text\n", with: []))
        assertNoteError("duplicate_signature", try Note.sign(text: "text\n", with: [key, key]))
    }
}
