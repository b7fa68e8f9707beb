// The validators in force: names, Ed25519 keys, the quorum rule, and the set's hash that every
// block trailer commits to.
import CinnabarCrypto
import SignedNote

/// One validator: a short name (unique in the set) and its Ed25519 public key.
public struct Validator: Hashable, Sendable {
    public let name: String
    public let publicKey: Ed25519PublicKey

    public init(name: String, publicKey: Ed25519PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    /// The C2SP key name it signs checkpoints under: `<origin>/<name>` (DESIGN.md §2.2).
    public func keyName(origin: String) -> String { "\(origin)/\(name)" }

    /// Its C2SP verifier key (type 0x01) for checkpoints of `origin`.
    public func verifierKey(origin: String) throws -> NoteVerifierKey {
        try NoteVerifierKey(name: keyName(origin: origin), type: .ed25519, publicKey: publicKey)
    }
}

/// The validator set: sorted by public key (the proposer order of consensus.md §2.6).
public struct ValidatorSet: Hashable, Sendable {
    public let validators: [Validator]

    /// Sorts by public key; names and keys must be unique.
    public init(_ validators: [Validator]) throws(LedgerError) {
        guard !validators.isEmpty else { throw .invalidValidatorSet("the set is empty") }
        guard Set(validators.map(\.name)).count == validators.count else { throw .invalidValidatorSet("two validators share a name") }
        guard Set(validators.map(\.publicKey)).count == validators.count else { throw .invalidValidatorSet("two validators share a key") }
        self.validators = validators.sorted { $0.publicKey.bytes.lexicographicallyPrecedes($1.publicKey.bytes) }
    }

    /// Q = ⌊2n/3⌋ + 1: more than two thirds (consensus.md §2.1).
    public var quorum: Int { 2 * validators.count / 3 + 1 }

    /// SHA-256 of the canonical encoding: tag, count, then (name, key) in set order.
    public var hash: Hash {
        var w = BinaryWriter()
        w.raw(Array("\u{0}cinnabar/validator-set/v1".utf8))
        w.u32(UInt32(validators.count))
        for v in validators {
            w.string(v.name)
            w.raw(v.publicKey.bytes)
        }
        return SHA256.hash(w.bytes)
    }

    public func validator(named name: String) -> Validator? { validators.first { $0.name == name } }

    /// The verifier keys of all validators, for checking checkpoints of `origin`.
    public func verifierKeys(origin: String) throws -> [NoteVerifierKey] {
        try validators.map { try $0.verifierKey(origin: origin) }
    }
}
