// Noise's SymmetricState (rev 34 §5.2): the chaining key and handshake hash that every DH result
// and every handshake ciphertext is folded into, with the CipherState they key.
import CinnabarCrypto

/// The handshake's chaining key `ck`, hash `h` and CipherState, for HASH = SHA-256 (HASHLEN 32).
public struct SymmetricState: Sendable {
    private var cipher = CipherState()
    private var chainingKey: [UInt8]
    /// `h`: after the handshake, a value both sides share that binds the whole transcript (§11.2).
    public private(set) var handshakeHash: [UInt8]

    /// InitializeSymmetric(protocol_name) of §5.2: a name of at most HASHLEN bytes is padded with
    /// zeros to HASHLEN, a longer one is hashed; ck = h; k empty.
    public init(protocolName: String) {
        let name = Array(protocolName.utf8)
        handshakeHash = name.count <= Hash.byteCount
            ? name + [UInt8](repeating: 0, count: Hash.byteCount - name.count)
            : SHA256.hash(name).bytes
        chainingKey = handshakeHash
    }

    /// MixKey(input_key_material): ck, temp_k = HKDF(ck, ikm, 2); k = temp_k (HASHLEN is 32, so
    /// no truncation).
    public mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let (nextChainingKey, tempKey) = NoiseKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = nextChainingKey
        cipher = CipherState(key: tempKey)
    }

    /// MixHash(data): h = HASH(h ‖ data).
    public mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = SHA256.hash(handshakeHash + data).bytes
    }

    /// EncryptAndHash(plaintext): encrypts with h as associated data, then mixes the ciphertext.
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let ciphertext = try cipher.encrypt(plaintext, ad: handshakeHash)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext): decrypts with h as associated data, then mixes the ciphertext.
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let plaintext = try cipher.decrypt(ciphertext, ad: handshakeHash)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split(): temp_k1, temp_k2 = HKDF(ck, zerolen, 2); the initiator sends with the first.
    public func split() -> (initiatorToResponder: CipherState, responderToInitiator: CipherState) {
        let (first, second) = NoiseKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: [])
        return (CipherState(key: first), CipherState(key: second))
    }
}
