// Why a note, key, checkpoint, proof or policy was rejected: one error type for the whole module,
// each case with a stable machine code and a one-line message naming the offending line or key.
import MerkleLog

/// A rejection by the SignedNote module. `code` is stable and machine-readable; `description` is a
/// one-line message for people that names the offending line, key or group.
public enum NoteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The note breaks the signed-note format (§Format): not UTF-8, a control character, no blank
    /// line before the signatures, no final newline, no signature lines or a malformed one.
    case malformedNote(String)
    /// The note is longer than `Note.maxBytes`.
    case noteTooLarge(bytes: Int)
    /// The note has more than `Note.maxSignatures` signature lines.
    case tooManySignatures(count: Int)
    /// Two signature lines carry the same key name and key ID.
    case duplicateSignature(keyName: String, keyID: UInt32)
    /// A key names a signature type this module does not implement (only 0x01 and 0x04 are).
    case unknownKeyType(UInt8, key: String)
    /// A verifier or signing key string is malformed: bad name, hex ID, base64, length or ID mismatch.
    case badKey(String)
    /// A signature from a known key (name and ID match) does not verify; the whole note is rejected.
    case signatureInvalid(keyName: String, keyID: UInt32)
    /// No signature from a known key verified (signed-note §Signatures: the note MUST be rejected).
    case noVerifiedSignature(String)
    /// A log's signature verified but its key name is not the checkpoint's origin (tlog-policy).
    case originMismatch(origin: String, logKeyNames: [String])
    /// Not enough witnesses cosigned for the policy's quorum; the message says who signed.
    case quorumNotMet(String)
    /// The note text is not a tlog-checkpoint body.
    case malformedCheckpoint(String)
    /// The text is not a tlog-proof@v1.
    case malformedProof(String)
    /// The inclusion proof does not lead from the leaf to the checkpoint's root.
    case inclusionProofInvalid(ProofError)
    /// A tlog-policy line breaks the syntax or a rule (lines count from 1; 0 means the whole file).
    case malformedPolicy(line: Int, String)

    /// A stable code for APIs, logs and tests.
    public var code: String {
        switch self {
        case .malformedNote: "malformed_note"
        case .noteTooLarge: "note_too_large"
        case .tooManySignatures: "too_many_signatures"
        case .duplicateSignature: "duplicate_signature"
        case .unknownKeyType: "unknown_key_type"
        case .badKey: "bad_key"
        case .signatureInvalid: "signature_invalid"
        case .noVerifiedSignature: "no_verified_signature"
        case .originMismatch: "origin_mismatch"
        case .quorumNotMet: "quorum_not_met"
        case .malformedCheckpoint: "malformed_checkpoint"
        case .malformedProof: "malformed_proof"
        case .inclusionProofInvalid: "inclusion_proof_invalid"
        case .malformedPolicy: "malformed_policy"
        }
    }

    /// One line for people, naming the offending line, key or group.
    public var description: String {
        switch self {
        case let .malformedNote(why): "malformed note: \(why)"
        case let .noteTooLarge(bytes): "note is \(bytes) bytes, more than the limit of \(Note.maxBytes)"
        case let .tooManySignatures(count):
            "note has \(count) signature lines, more than the limit of \(Note.maxSignatures)"
        case let .duplicateSignature(name, id): "two signature lines from key \(name)+\(hex8(id))"
        case let .unknownKeyType(type, key): "key \(key) has unsupported signature type 0x\(hex2(type))"
        case let .badKey(why): "bad key: \(why)"
        case let .signatureInvalid(name, id): "signature by known key \(name)+\(hex8(id)) does not verify"
        case let .noVerifiedSignature(why): "no verified signature: \(why)"
        case let .originMismatch(origin, names):
            "checkpoint origin \(quoted(origin)) is not the name of the log key that signed it"
                + " (\(names.joined(separator: ", ")))"
        case let .quorumNotMet(why): "quorum not met: \(why)"
        case let .malformedCheckpoint(why): "malformed checkpoint: \(why)"
        case let .malformedProof(why): "malformed tlog-proof: \(why)"
        case let .inclusionProofInvalid(error): "inclusion proof does not verify: \(error)"
        case let .malformedPolicy(line, why): line > 0 ? "policy line \(line): \(why)" : "policy: \(why)"
        }
    }
}

/// The 8 lower-case hex digits of a key ID, as vkeys write it.
func hex8(_ id: UInt32) -> String {
    let digits = String(id, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}

func hex2(_ byte: UInt8) -> String {
    byte < 0x10 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
}

/// A short, escaped, quoted rendering of input for error messages (at most 80 characters).
func quoted(_ text: some StringProtocol) -> String {
    let limit = 80
    let head = String(text.prefix(limit))
    return head.debugDescription + (text.count > limit ? "…" : "")
}
