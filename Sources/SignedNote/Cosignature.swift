// C2SP tlog-cosignature `cosignature/v1`: a witness's timestamped Ed25519 signature of a checkpoint,
// carried as a type-0x04 note signature line. Signing is for witnesses and tests; verifying for all.

/// A `cosignature/v1` signature line decoded (tlog-cosignature §Format): key name, key ID, and the
/// `timestamped_signature` (u64 big-endian POSIX time ‖ 64-byte Ed25519 signature).
public struct Cosignature: Hashable, Sendable {
    /// The header line of the signed message, for domain separation.
    public static let header = "cosignature/v1"
    /// Timestamps MUST NOT exceed 2^63 - 1 (tlog-cosignature §Format).
    public static let maxTimestamp = UInt64(Int64.max)

    /// The cosigner's key name.
    public let keyName: String
    /// The key ID, SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4].
    public let keyID: UInt32
    /// When the cosignature was made, in seconds since the POSIX epoch. Meaningful only once verified.
    public let timestamp: UInt64
    /// The 64-byte Ed25519 signature of `signedMessage(text:timestamp:)`.
    public let ed25519Signature: [UInt8]

    /// Decodes a note signature line as a cosignature. Throws `signatureInvalid` if the signature
    /// is not 8 + 64 bytes or the timestamp exceeds 2^63 - 1.
    public init(_ line: NoteSignature) throws {
        guard let (timestamp, signature) = Cosignature.split(line.signature[...]) else {
            throw NoteError.signatureInvalid(keyName: line.keyName, keyID: line.keyID)
        }
        keyName = line.keyName
        keyID = line.keyID
        self.timestamp = timestamp
        ed25519Signature = signature
    }

    private init(keyName: String, keyID: UInt32, timestamp: UInt64, ed25519Signature: [UInt8]) {
        self.keyName = keyName
        self.keyID = keyID
        self.timestamp = timestamp
        self.ed25519Signature = ed25519Signature
    }

    /// The signature line: `— <name> base64(key ID ‖ u64 timestamp ‖ signature)`.
    public var noteSignature: NoteSignature {
        let time = (0..<8).map { UInt8(timestamp >> (56 - 8 * UInt64($0)) & 0xFF) }
        return NoteSignature(validName: keyName, keyID: keyID, signature: time + ed25519Signature)
    }

    /// The signed message of tlog-cosignature §Ed25519 signed message:
    /// `"cosignature/v1\ntime <T>\n"` followed by the checkpoint note text.
    public static func signedMessage(text: String, timestamp: UInt64) -> [UInt8] {
        Array("\(header)\ntime \(timestamp)\n".utf8) + Array(text.utf8)
    }

    /// Cosigns `checkpoint` at `timestamp` with `key`; the line's key ID is that of
    /// `key.cosignatureVerifierKey` (type 0x04). `timestamp` must not exceed `maxTimestamp`.
    public static func sign(_ checkpoint: Checkpoint, timestamp: UInt64, with key: NoteSigningKey) -> Cosignature {
        precondition(timestamp <= maxTimestamp, "cosignature timestamps are at most 2^63 - 1")
        let signature = key.rawSignature(for: signedMessage(text: checkpoint.text, timestamp: timestamp))
        return Cosignature(
            keyName: key.name, keyID: key.cosignatureVerifierKey.keyID, timestamp: timestamp,
            ed25519Signature: signature)
    }

    /// The verified cosignature by `key` (type 0x04) on checkpoint note `note`, whose timestamp can
    /// then be trusted. Throws `badKey` for a key of another type, `malformedCheckpoint` if the
    /// note text is not a checkpoint, `noVerifiedSignature` if no line is from `key`, and
    /// `signatureInvalid` if that line does not verify.
    public static func verify(note: Note, key: NoteVerifierKey) throws -> Cosignature {
        guard key.type == .cosignatureV1 else {
            throw NoteError.badKey("key \(key.name)+\(hex8(key.keyID)) is not a cosignature/v1 (type 0x04) key")
        }
        _ = try Checkpoint(parsing: note.text)
        guard let line = note.signatures.first(where: { $0.isFrom(key) }) else {
            throw NoteError.noVerifiedSignature("no cosignature from \(key.name)+\(hex8(key.keyID))")
        }
        guard key.isValidSignature(line.signature[...], text: note.text) else {
            throw NoteError.signatureInvalid(keyName: line.keyName, keyID: line.keyID)
        }
        return try Cosignature(line)
    }

    /// Splits a `timestamped_signature` into its timestamp and Ed25519 signature, or nil if it is
    /// not 8 + 64 bytes or the timestamp exceeds 2^63 - 1.
    static func split(_ bytes: ArraySlice<UInt8>) -> (UInt64, [UInt8])? {
        guard bytes.count == 8 + 64 else { return nil }
        let timestamp = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard timestamp <= maxTimestamp else { return nil }
        return (timestamp, Array(bytes.dropFirst(8)))
    }

    /// Cosignatures are equal when their lines are.
    public static func == (a: Cosignature, b: Cosignature) -> Bool {
        a.noteSignature == b.noteSignature
    }

    /// Hashes the line.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(noteSignature)
    }
}
