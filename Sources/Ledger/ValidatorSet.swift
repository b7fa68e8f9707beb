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

    /// SHA-256 of the domain tag and the canonical encoding (Specs/ledger-format.md §4).
    public var hash: Hash {
        var w = BinaryWriter()
        w.raw(Array("\u{0}cinnabar/validator-set/v1".utf8))
        write(to: &w)
        return SHA256.hash(w.bytes)
    }

    /// The canonical encoding, shared by the hash and the change leaf (tag 0x02):
    /// `u32 count ‖ count × (str16 name ‖ 32-byte key)` in set order.
    public func write(to w: inout BinaryWriter) {
        w.u32(UInt32(validators.count))
        for v in validators {
            w.string(v.name)
            w.raw(v.publicKey.bytes)
        }
    }

    /// Reads the canonical encoding: 1 to `maxCount` validators, in set order (so a set has one
    /// encoding), names and keys unique. Throws `invalidValidatorSet` for anything else.
    public init(reading r: inout BinaryReader, maxCount: Int) throws(LedgerError) {
        guard let count = r.u32() else { throw .invalidValidatorSet("the encoding ends before the count") }
        guard count >= 1, count <= maxCount else { throw .invalidValidatorSet("\(count) validators; 1 to \(maxCount) allowed") }
        var members: [Validator] = []
        for _ in 0..<count {
            guard let name = r.string(), let key = r.bytes(32) else { throw .invalidValidatorSet("the encoding ends inside a validator") }
            members.append(Validator(name: name, publicKey: Ed25519PublicKey(bytes: key)!))
        }
        try self.init(members)
        guard validators == members else { throw .invalidValidatorSet("validators are not in key order") }
    }

    public func validator(named name: String) -> Validator? { validators.first { $0.name == name } }

    /// The verifier keys of all validators, for checking checkpoints of `origin`.
    public func verifierKeys(origin: String) throws -> [NoteVerifierKey] {
        try validators.map { try $0.verifierKey(origin: origin) }
    }
}
