// One signature line of a C2SP signed note, `— <key name> base64(key ID ‖ signature)`: what a
// signer produces and a verifier matches against its known keys by name and ID.
import CinnabarCrypto

/// A signature line of a signed note (signed-note §Signatures). The signature is not verified
/// here; `Note.verify(keys:)` does that against known keys.
public struct NoteSignature: Hashable, Sendable, CustomStringConvertible {
    /// The key name on the line.
    public let keyName: String
    /// The 32-bit key ID, the first four (big-endian) bytes of the decoded signature.
    public let keyID: UInt32
    /// The signature bytes after the key ID (64 for Ed25519, 72 for `cosignature/v1`).
    public let signature: [UInt8]

    /// A signature line from its parts. Throws `malformedNote` if the key name is invalid or the
    /// signature is empty.
    public init(keyName: String, keyID: UInt32, signature: [UInt8]) throws {
        guard isValidKeyName(keyName) else { throw NoteError.malformedNote("invalid key name \(quoted(keyName))") }
        guard !signature.isEmpty else { throw NoteError.malformedNote("empty signature from key \(quoted(keyName))") }
        self.init(validName: keyName, keyID: keyID, signature: signature)
    }

    init(validName: String, keyID: UInt32, signature: [UInt8]) {
        self.keyName = validName
        self.keyID = keyID
        self.signature = signature
    }

    /// Parses one line without its newline: em dash (U+2014), space, key name, space, base64.
    init(parsingLine line: String) throws {
        let prefix = Array("\u{2014} ".utf8)
        guard line.utf8.starts(with: prefix) else {
            throw NoteError.malformedNote("signature line \(quoted(line)) does not start with an em dash and a space")
        }
        let parts = fields(
            of: String(decoding: line.utf8.dropFirst(prefix.count), as: UTF8.self), separatedBy: " ", maxSplits: 1)
        guard parts.count == 2, isValidKeyName(parts[0]) else {
            throw NoteError.malformedNote("signature line \(quoted(line)) has no valid key name followed by a space")
        }
        // Key ID (4 bytes) and at least one byte of signature.
        guard let decoded = Base64.decode(parts[1]), decoded.count >= 5 else {
            throw NoteError.malformedNote(
                "signature line \(quoted(line)) does not end in base64 of a key ID and a signature")
        }
        let keyID = decoded[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        self.init(validName: parts[0], keyID: keyID, signature: Array(decoded[4...]))
    }

    /// base64(key ID ‖ signature), the last field of the line.
    public var base64: String {
        let id: [UInt8] = [
            UInt8(keyID >> 24), UInt8(keyID >> 16 & 0xFF), UInt8(keyID >> 8 & 0xFF), UInt8(keyID & 0xFF),
        ]
        return Base64.encode(id + signature)
    }

    /// The whole line, `— <key name> <base64>\n`, newline included.
    public var line: String { "\u{2014} \(keyName) \(base64)\n" }

    /// The line without its newline.
    public var description: String { String(line.dropLast()) }

    /// True iff this line is from the key: same name bytes and same key ID.
    public func isFrom(_ key: NoteVerifierKey) -> Bool {
        keyID == key.keyID && keyName.sameBytes(as: key.name)
    }

    /// Lines are equal when their names are the same bytes and their IDs and signatures match.
    public static func == (a: NoteSignature, b: NoteSignature) -> Bool {
        a.keyID == b.keyID && a.signature == b.signature && a.keyName.sameBytes(as: b.keyName)
    }

    /// Hashes the name's bytes, the key ID and the signature.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(keyName.utf8))
        hasher.combine(keyID)
        hasher.combine(signature)
    }
}
