// Signing keys of C2SP signed-note, `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)`: what a log,
// validator or witness holds to sign notes and cosignatures. Never printed: descriptions redact it.
import CinnabarCrypto

/// An Ed25519 note signing key with its key name (signed-note type 0x01).
///
/// The same key can make `cosignature/v1` signatures (type 0x04) through `Cosignature.sign`; the
/// key ID then differs, as tlog-cosignature computes it with type byte 0x04.
/// `description`, `debugDescription` and reflection show the name and key ID, never the seed.
public struct NoteSigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key name, as it appears on signature lines.
    public let name: String
    /// The key ID of the type-0x01 verifier key.
    public var keyID: UInt32 { verifierKey.keyID }
    /// The matching type-0x01 verifier key.
    public let verifierKey: NoteVerifierKey
    private let privateKey: Ed25519PrivateKey

    /// The 32-byte Ed25519 seed, for a validator whose consensus votes are signed with the same
    /// key (consensus.md §2.3 separates the two by domain). Never log or print it.
    public var seed: [UInt8] { privateKey.seed }

    /// A key from a key name and a 32-byte Ed25519 seed. Throws `badKey` on a bad name or seed length.
    public init(name: String, seed: [UInt8]) throws {
        guard isValidKeyName(name) else { throw NoteError.badKey("invalid key name \(quoted(name))") }
        guard let privateKey = Ed25519PrivateKey(seed: seed) else {
            throw NoteError.badKey("signing key \(quoted(name)) has a \(seed.count)-byte seed, Ed25519 needs 32")
        }
        self.name = name
        self.privateKey = privateKey
        self.verifierKey = NoteVerifierKey(validName: name, type: .ed25519, publicKey: privateKey.publicKey)
    }

    /// Parses `PRIVATE+KEY+name+hex8+base64(0x01 ‖ 32-byte seed)`; the ID must match the derived
    /// public key. Error messages never quote the key data.
    public init(parsing skey: String) throws {
        let parts = fields(of: skey, separatedBy: "+", maxSplits: 4)
        guard parts.count == 5, parts[0].sameBytes(as: "PRIVATE"), parts[1].sameBytes(as: "KEY") else {
            throw NoteError.badKey("signing key is not PRIVATE+KEY+name+hex8+base64")
        }
        let name = parts[2]
        guard isValidKeyName(name) else { throw NoteError.badKey("invalid key name \(quoted(name)) in a signing key") }
        guard let claimedID = parseHex8(parts[3]) else {
            throw NoteError.badKey("key ID of signing key \(quoted(name)) is not 8 hex digits")
        }
        guard let material = Base64.decode(parts[4]), let typeByte = material.first else {
            throw NoteError.badKey("key data of signing key \(quoted(name)) is not non-empty standard base64")
        }
        guard typeByte == NoteVerifierKey.KeyType.ed25519.rawValue else {
            throw NoteError.unknownKeyType(typeByte, key: "PRIVATE+KEY+\(name)+\(parts[3])")
        }
        try self.init(name: name, seed: Array(material.dropFirst()))
        guard keyID == claimedID else {
            throw NoteError.badKey(
                "key ID \(parts[3]) of signing key \(quoted(name)) does not match its public key (\(hex8(keyID)))")
        }
    }

    /// A fresh key from the system CSPRNG. Throws `badKey` on a bad name.
    public static func generate(name: String) throws -> NoteSigningKey {
        try NoteSigningKey(name: name, seed: Ed25519PrivateKey.generate().seed)
    }

    /// The type-0x04 verifier key for this key's `cosignature/v1` signatures (same name and public key).
    public var cosignatureVerifierKey: NoteVerifierKey {
        NoteVerifierKey(validName: name, type: .cosignatureV1, publicKey: privateKey.publicKey)
    }

    /// The secret `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)` string. Write it only to a key file.
    public var skey: String {
        let material = [NoteVerifierKey.KeyType.ed25519.rawValue] + privateKey.seed
        return "PRIVATE+KEY+\(name)+\(hex8(keyID))+\(Base64.encode(material))"
    }

    /// The Ed25519 signature line of note text `text` (signed-note §Ed25519 signatures).
    /// Throws `malformedNote` if the text does not end in a newline or holds a control character.
    public func signature(for text: String) throws -> NoteSignature {
        try Note.checkText(text)
        return NoteSignature(validName: name, keyID: keyID, signature: privateKey.signature(for: Array(text.utf8)))
    }

    /// The raw Ed25519 signature of `message` (for `Cosignature.sign`).
    func rawSignature(for message: [UInt8]) -> [UInt8] {
        privateKey.signature(for: message)
    }

    /// The name and key ID; the private key is redacted.
    public var description: String { "NoteSigningKey(\(name)+\(hex8(keyID)), private key redacted)" }

    /// Same as `description`: the private key is redacted.
    public var debugDescription: String { description }

    /// Reflection (`dump`, debuggers) shows the name and key ID only.
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "keyID": hex8(keyID)], displayStyle: .struct)
    }
}
