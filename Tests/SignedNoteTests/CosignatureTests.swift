// Cosignatures (c2sp.org/tlog-cosignature, cosignature/v1): sign and verify round trip, the
// timestamp is signed, and 0x01 and 0x04 keys never verify each other's signatures.
import CinnabarCrypto
import SignedNote
import XCTest

final class CosignatureTests: XCTestCase {
    private let witness = testKey("witness.example.com/w1")
    private let timestamp: UInt64 = 1_679_315_147

    private func checkpoint() throws -> Checkpoint {
        try Checkpoint(parsing: "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
    }

    func testSignedMessageIsTheSpecFormat() throws {
        let message = Cosignature.signedMessage(text: try checkpoint().text, timestamp: timestamp)
        XCTAssertEqual(
            String(decoding: message, as: UTF8.self),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        )
        XCTAssertEqual(
            String(decoding: Cosignature.signedMessage(text: "o\n", timestamp: 0), as: UTF8.self),
            "cosignature/v1\ntime 0\no\n")
    }

    func testSignVerifyRoundTrip() throws {
        let checkpoint = try checkpoint()
        let cosignature = Cosignature.sign(checkpoint, timestamp: timestamp, with: witness)
        let line = cosignature.noteSignature
        XCTAssertEqual(line.keyName, "witness.example.com/w1")
        XCTAssertEqual(line.keyID, witness.cosignatureVerifierKey.keyID)
        XCTAssertEqual(line.signature.count, 8 + 64)
        XCTAssertEqual(
            Array(line.signature.prefix(8)), [0, 0, 0, 0, 0x64, 0x18, 0x50, 0xCB], "u64 big-endian timestamp")

        let note = try Note(parsing: try Note(text: checkpoint.text, signatures: [line]).formatted)
        let verified = try Cosignature.verify(note: note, key: witness.cosignatureVerifierKey)
        XCTAssertEqual(verified.timestamp, timestamp)
        XCTAssertEqual(verified, cosignature)
        XCTAssertEqual(try note.verify(keys: [witness.cosignatureVerifierKey]), [witness.cosignatureVerifierKey])
        XCTAssertEqual(try Cosignature(note.signatures[0]), cosignature)

        // A log signature and a cosignature side by side, as in the tlog-cosignature example.
        let log = testKey("example.com/behind-the-sofa")
        let both = try Note.sign(text: checkpoint.text, with: [log]).adding([line])
        XCTAssertEqual(
            try both.verify(keys: [log.verifierKey, witness.cosignatureVerifierKey]),
            [log.verifierKey, witness.cosignatureVerifierKey])
    }

    func testExtensionLinesAreCosigned() throws {
        let plain = try checkpoint()
        let extended = try Checkpoint(origin: plain.origin, size: plain.size, root: plain.root, extensions: ["ext"])
        let line = Cosignature.sign(extended, timestamp: timestamp, with: witness).noteSignature
        XCTAssertNoThrow(
            try Cosignature.verify(
                note: try Note(text: extended.text, signatures: [line]),
                key: witness.cosignatureVerifierKey))
        assertNoteError(
            "signature_invalid",
            try Note(text: plain.text, signatures: [line]).verify(keys: [witness.cosignatureVerifierKey]))
    }

    func testWrongTimestampFails() throws {
        let checkpoint = try checkpoint()
        let line = Cosignature.sign(checkpoint, timestamp: timestamp, with: witness).noteSignature
        for newTime in [timestamp + 1, timestamp - 1, 0] {
            var bytes = line.signature
            for i in 0..<8 { bytes[i] = UInt8(newTime >> (56 - 8 * UInt64(i)) & 0xFF) }
            let forged = try Note(
                text: checkpoint.text,
                signatures: [NoteSignature(keyName: line.keyName, keyID: line.keyID, signature: bytes)])
            assertNoteError(
                "signature_invalid", try forged.verify(keys: [witness.cosignatureVerifierKey]), "time \(newTime)")
            assertNoteError(
                "signature_invalid", try Cosignature.verify(note: forged, key: witness.cosignatureVerifierKey))
        }
    }

    func testTimestampsAboveInt64MaxAreInvalid() throws {
        let checkpoint = try checkpoint()
        let line = Cosignature.sign(checkpoint, timestamp: Cosignature.maxTimestamp, with: witness).noteSignature
        XCTAssertEqual(
            try Cosignature.verify(
                note: Note(text: checkpoint.text, signatures: [line]),
                key: witness.cosignatureVerifierKey
            ).timestamp, UInt64(Int64.max))
        var bytes = line.signature
        bytes[0] |= 0x80
        let tooLate = try NoteSignature(keyName: line.keyName, keyID: line.keyID, signature: bytes)
        assertNoteError("signature_invalid", try Cosignature(tooLate))
        assertNoteError(
            "signature_invalid",
            try Note(text: checkpoint.text, signatures: [tooLate]).verify(keys: [witness.cosignatureVerifierKey]))
    }

    func testEd25519AndCosignatureKeysDoNotVerifyEachOther() throws {
        let checkpoint = try checkpoint()
        let cosigned = try Note(
            text: checkpoint.text,
            signatures: [Cosignature.sign(checkpoint, timestamp: timestamp, with: witness).noteSignature])
        let plain = try Note.sign(text: checkpoint.text, with: [witness])

        // Different type byte, different key ID: the other type's line is an unknown key's line.
        assertNoteError("no_verified_signature", try cosigned.verify(keys: [witness.verifierKey]))
        assertNoteError("no_verified_signature", try plain.verify(keys: [witness.cosignatureVerifierKey]))

        // Even relabelled with the other type's key ID, the bytes do not verify.
        let relabelledCosignature = try Note(
            text: checkpoint.text,
            signatures: [
                NoteSignature(
                    keyName: witness.name, keyID: witness.verifierKey.keyID, signature: cosigned.signatures[0].signature
                )
            ])
        assertNoteError("signature_invalid", try relabelledCosignature.verify(keys: [witness.verifierKey]))
        let relabelledPlain = try Note(
            text: checkpoint.text,
            signatures: [
                NoteSignature(
                    keyName: witness.name, keyID: witness.cosignatureVerifierKey.keyID,
                    signature: plain.signatures[0].signature)
            ])
        assertNoteError("signature_invalid", try relabelledPlain.verify(keys: [witness.cosignatureVerifierKey]))

        assertNoteError("bad_key", try Cosignature.verify(note: plain, key: witness.verifierKey))
        assertNoteError(
            "no_verified_signature", try Cosignature.verify(note: plain, key: witness.cosignatureVerifierKey))
    }

    func testCosignaturesApplyToCheckpointsOnly() throws {
        let line = Cosignature.sign(try checkpoint(), timestamp: timestamp, with: witness).noteSignature
        let note = try Note(text: "not a checkpoint\n", signatures: [line])
        assertNoteError("malformed_checkpoint", try Cosignature.verify(note: note, key: witness.cosignatureVerifierKey))
    }
}
