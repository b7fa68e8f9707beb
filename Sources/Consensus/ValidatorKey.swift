// A validator's signing material as consensus uses it: the index in the set, the Ed25519 key for
// consensus messages and the C2SP note key (same seed) for checkpoint signatures.
import CinnabarCrypto
import Ledger
import SignedNote

/// A validator's keys: one Ed25519 key signs votes (consensus sign-bytes) and checkpoints (C2SP
/// note key `<origin>/<name>`), told apart by domain separation (consensus.md §2.3).
public struct ValidatorKey: Sendable {
    public let index: Int
    public let privateKey: Ed25519PrivateKey
    public let checkpointKey: NoteSigningKey

    /// The key of validator `index` of `validators`, from its 32-byte seed; the seed's public key
    /// must be that validator's.
    public init(index: Int, seed: [UInt8], validators: ValidatorSet, origin: String) throws {
        guard let key = Ed25519PrivateKey(seed: seed) else { throw NoteError.badKey("seed is not 32 bytes") }
        precondition(index >= 0 && index < validators.validators.count, "index outside the set")
        precondition(validators.validators[index].publicKey == key.publicKey, "seed of another validator")
        self.index = index
        self.privateKey = key
        self.checkpointKey = try NoteSigningKey(name: validators.validators[index].keyName(origin: origin), seed: seed)
    }
}
