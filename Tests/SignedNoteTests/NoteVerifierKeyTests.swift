// Verifier keys (signed-note vkeys): the vectors round-trip, the key ID is SHA-256(name ‖ 0x0A ‖
// type ‖ key)[:4], and every malformed vkey is refused with its code.
import CinnabarCrypto
import SignedNote
import XCTest

final class NoteVerifierKeyTests: XCTestCase {
    func testVectorKeysRoundTrip() throws {
        let vectors = try SignedNoteVectors.load()
        let vkeys = vectors.signing.map(\.vkey) + vectors.verifying.map(\.vkey)
        XCTAssertEqual(vkeys.count, 3)
        for vkey in vkeys {
            let key = try NoteVerifierKey(parsing: vkey)
            XCTAssertEqual(key.vkey, vkey)
            XCTAssertEqual(key.type, .ed25519)
            XCTAssertEqual(String(vkey.split(separator: "+")[1]), String(key.keyID, radix: 16).leftPadded8)
        }
        let golang = try NoteVerifierKey(
            parsing: "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
        XCTAssertEqual(golang.name, "sum.golang.org")
        XCTAssertEqual(golang.keyID, 0x033d_e0ae)
    }

    func testKeyIDIsTruncatedSHA256OfNameTypeAndKey() throws {
        let key = testKey("example.com/witness")
        let expected = SHA256.hash(Array("example.com/witness\n".utf8) + [0x04] + key.verifierKey.publicKey.bytes).bytes
        let id = key.cosignatureVerifierKey.keyID
        XCTAssertEqual(
            [UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)], Array(expected[0..<4]))
        XCTAssertNotEqual(key.verifierKey.keyID, key.cosignatureVerifierKey.keyID, "the type byte separates the IDs")
    }

    func testCosignatureKeyRoundTrips() throws {
        let key = testKey("witness.example/w1").cosignatureVerifierKey
        XCTAssertTrue(key.vkey.hasPrefix("witness.example/w1+"))
        let parsed = try NoteVerifierKey(parsing: key.vkey)
        XCTAssertEqual(parsed, key)
        XCTAssertEqual(parsed.type, .cosignatureV1)
        XCTAssertEqual(Base64.decode(key.vkey.split(separator: "+", maxSplits: 2)[2])?.first, 0x04)
    }

    func testUpperCaseHexIsAcceptedAndFormattedLowerCase() throws {
        let key = try NoteVerifierKey(parsing: "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        XCTAssertEqual(key.vkey, "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    }

    func testBadVerifierKeysAreRejected() throws {
        let good = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
        let publicKey = try NoteVerifierKey(parsing: good).publicKey.bytes
        func vkey(name: String, type: UInt8, material: [UInt8]) -> String {
            let id = NoteVerifierKey.keyID(name: name, type: type, keyMaterial: material)
            return "\(name)+\(String(id, radix: 16).leftPadded8)+\(Base64.encode([type] + material))"
        }
        let cases: [(String, String, String)] = [
            ("hex mismatch", "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("other name, same ID", "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("'+' in name", "example.com+foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("space in name", vkey(name: "example.com foo", type: 1, material: publicKey), "bad_key"),
            ("no-break space in name", vkey(name: "example.com\u{A0}foo", type: 1, material: publicKey), "bad_key"),
            ("ideographic space in name", vkey(name: "example\u{3000}foo", type: 1, material: publicKey), "bad_key"),
            ("empty name", vkey(name: "", type: 1, material: publicKey), "bad_key"),
            ("seven hex digits", "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("nine hex digits", "example.com/foo+530d903a0+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("non-hex ID", "example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "bad_key"),
            ("bad base64", "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "bad_key"),
            (
                "base64 with a bad character", "example.com/foo+530d903a+Aeky!Rrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
                "bad_key"
            ),
            ("empty key data", "example.com/foo+530d903a+", "bad_key"),
            ("missing key data", "example.com/foo+530d903a", "bad_key"),
            ("short key", vkey(name: "example.com/foo", type: 1, material: Array(publicKey.dropLast())), "bad_key"),
            ("long key", vkey(name: "example.com/foo", type: 1, material: publicKey + [0]), "bad_key"),
            ("ECDSA type 0x02", vkey(name: "example.com/foo", type: 2, material: publicKey), "unknown_key_type"),
            ("RFC 6962 type 0x05", vkey(name: "example.com/foo", type: 5, material: publicKey), "unknown_key_type"),
        ]
        for (what, text, code) in cases {
            assertNoteError(code, try NoteVerifierKey(parsing: text), what)
        }
    }

    func testKeysFromPartsValidateTheName() throws {
        let publicKey = testKey("a").verifierKey.publicKey
        for name in ["", "a+b", "a b", "a\tb", "a\u{2028}b"] {
            assertNoteError("bad_key", try NoteVerifierKey(name: name, type: .ed25519, publicKey: publicKey), name)
        }
        XCTAssertEqual(try NoteVerifierKey(name: "a", type: .ed25519, publicKey: publicKey), testKey("a").verifierKey)
    }

    func testNamesCompareAsBytesNotCanonicalEquivalence() throws {
        let publicKey = testKey("K").verifierKey.publicKey
        let ascii = try NoteVerifierKey(name: "K", type: .ed25519, publicKey: publicKey)
        let kelvin = try NoteVerifierKey(name: "\u{212A}", type: .ed25519, publicKey: publicKey)
        XCTAssertNotEqual(ascii, kelvin)
        XCTAssertNotEqual(ascii.keyID, kelvin.keyID)
    }
}

extension String {
    /// Left-pads hex to 8 digits.
    var leftPadded8: String { String(repeating: "0", count: max(0, 8 - count)) + self }
}
