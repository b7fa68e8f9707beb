// Noise's CipherState (rev 34 §5.1): a key and a nonce counter. After the handshake, one per
// direction encrypts the transport messages.
import CinnabarCrypto

/// A ChaChaPoly key `k` (possibly empty) and its 64-bit nonce `n`.
public struct CipherState: Sendable {
    private var key: [UInt8]?
    /// The nonce the next encryption or decryption uses.
    public private(set) var nonce: UInt64 = 0

    /// InitializeKey(key) of §5.1: a 32-byte key, or nil for "empty", with n = 0.
    public init(key: [UInt8]? = nil) {
        precondition(key == nil || key!.count == 32, "a ChaChaPoly key is 32 bytes")
        self.key = key
    }

    /// HasKey() of §5.1.
    public var hasKey: Bool { key != nil }

    /// EncryptWithAd(ad, plaintext) of §5.1: without a key the plaintext is returned as it is.
    /// Throws `NoiseError.nonceExhausted` at n = 2^64−1, which Noise reserves.
    public mutating func encrypt<Bytes: ContiguousBytes>(_ plaintext: Bytes, ad: [UInt8] = []) throws -> [UInt8] {
        guard let key else { return plaintext.withUnsafeBytes { Array($0) } }
        guard nonce < .max else { throw NoiseError.nonceExhausted }
        let ciphertext = plaintext.withUnsafeBytes { ChaChaPoly.seal(key: key, nonce: nonce, ad: ad, plaintext: $0) }
        nonce += 1
        return ciphertext
    }

    /// DecryptWithAd(ad, ciphertext) of §5.1. On failure the nonce is not advanced and
    /// `NoiseError.decryptionFailed` is thrown.
    public mutating func decrypt<Bytes: ContiguousBytes>(_ ciphertext: Bytes, ad: [UInt8] = []) throws -> [UInt8] {
        guard let key else { return ciphertext.withUnsafeBytes { Array($0) } }
        guard nonce < .max else { throw NoiseError.nonceExhausted }
        guard let plaintext = ciphertext.withUnsafeBytes({ ChaChaPoly.open(key: key, nonce: nonce, ad: ad, ciphertext: $0) }) else {
            throw NoiseError.decryptionFailed
        }
        nonce += 1
        return plaintext
    }
}
