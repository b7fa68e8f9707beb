// Verifier keys ("vkeys") of C2SP signed-note: `name+hex8(keyID)+base64(type ‖ public key)`, the
// form in which logs, witnesses and validators publish the keys that notes are checked against.
import CinnabarCrypto

/// A public key that verifies note signatures, with the key name and key ID its lines carry.
///
/// Two signature types are implemented (signed-note §Signature types): `0x01`, Ed25519 over the
/// note text, and `0x04`, timestamped Ed25519 cosignatures (tlog-cosignature, `cosignature/v1`).
public struct NoteVerifierKey: Hashable, Sendable, CustomStringConvertible {
    /// The signature type identifier byte that prefixes the key material.
    public enum KeyType: UInt8, Hashable, Sendable, CaseIterable {
        /// Ed25519 signatures of the note text (signed-note §Ed25519 signatures).
        case ed25519 = 0x01
        /// Ed25519 `cosignature/v1` timestamped signatures of a checkpoint (tlog-cosignature).
        case cosignatureV1 = 0x04
    }

    /// The key name, as it appears on signature lines.
    public let name: String
    /// The signature type.
    public let type: KeyType
    /// The 32-byte Ed25519 public key.
    public let publicKey: Ed25519PublicKey
    /// SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian (signed-note §Signatures).
    public let keyID: UInt32

    /// A key from its parts. Throws `badKey` if the name is empty or holds a space or "+".
    public init(name: String, type: KeyType, publicKey: Ed25519PublicKey) throws {
        guard isValidKeyName(name) else { throw NoteError.badKey("invalid key name \(quoted(name))") }
        self.init(validName: name, type: type, publicKey: publicKey)
    }

    /// A key whose name the caller has already validated.
    init(validName name: String, type: KeyType, publicKey: Ed25519PublicKey) {
        self.name = name
        self.type = type
        self.publicKey = publicKey
        self.keyID = Self.keyID(name: name, type: type.rawValue, keyMaterial: publicKey.bytes)
    }

    /// Parses a vkey `name+hex8+base64(type ‖ public key)`.
    ///
    /// Throws `badKey` for a bad name, an ID that is not 8 hex digits or does not match the one
    /// computed from the key, bad base64 or a wrong key length; `unknownKeyType` for any type
    /// other than 0x01 and 0x04. The hex digits may be upper or lower case, as Go's parser allows.
    public init(parsing vkey: String) throws {
        // The name cannot contain "+", so the first two "+" delimit it and the ID; base64 may hold more.
        let parts = fields(of: vkey, separatedBy: "+", maxSplits: 2)
        guard parts.count == 3 else { throw NoteError.badKey("\(quoted(vkey)) is not name+hex8+base64") }
        let name = parts[0]
        guard isValidKeyName(name) else {
            throw NoteError.badKey("invalid key name \(quoted(name)) in \(quoted(vkey))")
        }
        guard let claimedID = parseHex8(parts[1]) else {
            throw NoteError.badKey("key ID \(quoted(parts[1])) of \(quoted(vkey)) is not 8 hex digits")
        }
        guard let material = Base64.decode(parts[2]), let typeByte = material.first else {
            throw NoteError.badKey("key data of \(quoted(vkey)) is not non-empty standard base64")
        }
        guard let type = KeyType(rawValue: typeByte) else {
            throw NoteError.unknownKeyType(typeByte, key: quoted(vkey))
        }
        guard let publicKey = Ed25519PublicKey(bytes: Array(material.dropFirst())) else {
            throw NoteError.badKey("key \(quoted(vkey)) has \(material.count - 1) key bytes, an Ed25519 key has 32")
        }
        self.init(validName: name, type: type, publicKey: publicKey)
        guard keyID == claimedID else {
            throw NoteError.badKey(
                "key ID \(parts[1]) of \(quoted(vkey)) does not match the key, which has ID \(hex8(keyID))")
        }
    }

    /// The vkey string `name+hex8+base64(type ‖ public key)`.
    public var vkey: String {
        "\(name)+\(hex8(keyID))+\(Base64.encode([type.rawValue] + publicKey.bytes))"
    }

    /// The vkey string.
    public var description: String { vkey }

    /// The recommended key ID of signed-note §Signatures:
    /// `SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]`, read big-endian.
    public static func keyID(name: String, type: UInt8, keyMaterial: [UInt8]) -> UInt32 {
        let digest = SHA256.hash(Array(name.utf8) + [0x0A, type] + keyMaterial).bytes
        return digest[0..<4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// True iff `signature` (the bytes after the key ID on a signature line) is a valid signature
    /// of note text `text` by this key, under the rules of the key's type.
    func isValidSignature(_ signature: ArraySlice<UInt8>, text: String) -> Bool {
        switch type {
        case .ed25519:
            return publicKey.isValidSignature(Array(signature), for: Array(text.utf8))
        case .cosignatureV1:
            guard let (timestamp, ed25519) = Cosignature.split(signature) else { return false }
            return publicKey.isValidSignature(ed25519, for: Cosignature.signedMessage(text: text, timestamp: timestamp))
        }
    }

    /// Keys are equal when their names are the same bytes and their types and public keys match.
    public static func == (a: NoteVerifierKey, b: NoteVerifierKey) -> Bool {
        a.name.sameBytes(as: b.name) && a.type == b.type && a.publicKey == b.publicKey
    }

    /// Hashes the name's bytes, the type and the public key.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(name.utf8))
        hasher.combine(type)
        hasher.combine(publicKey)
    }
}

/// Exactly 8 hex digits (either case) as a UInt32, or nil.
func parseHex8(_ text: some StringProtocol) -> UInt32? {
    guard text.utf8.count == 8, text.utf8.allSatisfy({ isHexDigit($0) }) else { return nil }
    return UInt32(text, radix: 16)
}

private func isHexDigit(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
        || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
}
