// The crypto functions of Noise_IK_25519_ChaChaPoly_SHA256 (Noise rev 34 §4 and §12): X25519 and
// ChaCha20-Poly1305 from libsodium, SHA-256 and HMAC-SHA256 from CinnabarCrypto, and Noise's HKDF.
import CSodium
import CinnabarCrypto

private let sodiumReady: Bool = sodium_init() >= 0

/// Why a Noise operation failed. Each case has a stable `code`.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A handshake message is not the length its pattern and payload require.
    case malformedMessage
    /// A ciphertext failed authentication: another key, another prologue, or tampering.
    case decryptionFailed
    /// A Diffie-Hellman result was all zeros: the other side sent a low-order point (Noise §12.1).
    case weakPublicKey
    /// The nonce reached 2^64−1, which Noise reserves (§5.1): the session must end.
    case nonceExhausted

    /// A stable machine code.
    public var code: String {
        switch self {
        case .malformedMessage: "noise.malformed-message"
        case .decryptionFailed: "noise.decryption-failed"
        case .weakPublicKey: "noise.weak-public-key"
        case .nonceExhausted: "noise.nonce-exhausted"
        }
    }

    public var description: String {
        switch self {
        case .malformedMessage: "malformed handshake message"
        case .decryptionFailed: "decryption failed"
        case .weakPublicKey: "low-order public key"
        case .nonceExhausted: "nonce exhausted"
        }
    }
}

/// An X25519 key pair (RFC 7748), Noise's DH functions for `25519` (§12.1). Never log `privateKey`.
public struct X25519KeyPair: Sendable {
    /// DHLEN: the length of a private key, a public key and a shared secret.
    public static let byteCount = 32

    /// The 32-byte scalar.
    public let privateKey: [UInt8]
    /// The 32-byte u-coordinate of `privateKey`·G.
    public let publicKey: [UInt8]

    /// The pair of a 32-byte private key (libsodium clamps it when it is used); nil for any other length.
    public init?(privateKey: [UInt8]) {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard privateKey.count == Self.byteCount else { return nil }
        var publicKey = [UInt8](repeating: 0, count: Self.byteCount)
        guard crypto_scalarmult_base(&publicKey, privateKey) == 0 else { return nil }
        self.privateKey = privateKey
        self.publicKey = publicKey
    }

    /// A fresh pair from the CSPRNG: GENERATE_KEYPAIR() of Noise §4.1.
    public static func generate() -> X25519KeyPair {
        X25519KeyPair(privateKey: secureRandomBytes(count: byteCount))!
    }

    /// The Noise static key of a validator, from its 32-byte Ed25519 seed: libsodium's
    /// `crypto_sign_ed25519_sk_to_curve25519` (the hashed, clamped scalar of RFC 8032 §5.1.5).
    /// Its public key equals `X25519KeyPair.publicKey(ed25519PublicKey:)` of the validator's
    /// Ed25519 public key, so a validator has one key. Nil for a seed that is not 32 bytes.
    public init?(ed25519Seed seed: [UInt8]) {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard seed.count == 32 else { return nil }
        var edPublic = [UInt8](repeating: 0, count: 32)
        var edSecret = [UInt8](repeating: 0, count: 64)
        var scalar = [UInt8](repeating: 0, count: Self.byteCount)
        guard crypto_sign_seed_keypair(&edPublic, &edSecret, seed) == 0,
              crypto_sign_ed25519_sk_to_curve25519(&scalar, edSecret) == 0 else { return nil }
        self.init(privateKey: scalar)
    }

    /// The X25519 public key of an Ed25519 public key (the birational map of RFC 7748 §4.1, by
    /// libsodium's `crypto_sign_ed25519_pk_to_curve25519`); nil unless it is a valid 32-byte point
    /// of the prime-order subgroup.
    public static func publicKey(ed25519PublicKey: [UInt8]) -> [UInt8]? {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard ed25519PublicKey.count == 32 else { return nil }
        var out = [UInt8](repeating: 0, count: byteCount)
        guard crypto_sign_ed25519_pk_to_curve25519(&out, ed25519PublicKey) == 0 else { return nil }
        return out
    }

    /// DH(self, publicKey) of Noise §4.1. libsodium refuses an all-zero result, which Noise allows
    /// implementations to reject (§12.1): it means a low-order point, and no honest peer sends one.
    public func sharedSecret(with publicKey: [UInt8]) throws -> [UInt8] {
        precondition(publicKey.count == Self.byteCount, "an X25519 public key is 32 bytes")
        var out = [UInt8](repeating: 0, count: Self.byteCount)
        guard crypto_scalarmult(&out, privateKey, publicKey) == 0 else { throw NoiseError.weakPublicKey }
        return out
    }
}

/// Printing, interpolating or dumping a key pair shows its public key only.
extension X25519KeyPair: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "X25519KeyPair(publicKey: \(lowercaseHex(publicKey)))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["publicKey": publicKey], displayStyle: .struct) }
}

/// Lower-case hexadecimal, two digits a byte: public keys in logs and descriptions.
func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(0x100 + Int($0), radix: 16).dropFirst() }.joined()
}

/// ChaCha20-Poly1305 (RFC 8439) as Noise's cipher functions for `ChaChaPoly` (§12.3): the 96-bit
/// nonce is four zero bytes followed by the 64-bit counter, little-endian.
enum ChaChaPoly {
    /// The Poly1305 tag that every ciphertext carries.
    static let tagBytes = 16

    /// ENCRYPT(k, n, ad, plaintext): ciphertext ‖ tag.
    static func seal(key: [UInt8], nonce: UInt64, ad: [UInt8], plaintext: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var outBytes: UInt64 = 0
        let nonceBytes = noise96BitNonce(nonce)
        _ = crypto_aead_chacha20poly1305_ietf_encrypt(
            &out, &outBytes, plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
            ad, UInt64(ad.count), nil, nonceBytes, key)
        return out
    }

    /// DECRYPT(k, n, ad, ciphertext): the plaintext, or nil if the tag does not verify.
    static func open(key: [UInt8], nonce: UInt64, ad: [UInt8], ciphertext: UnsafeRawBufferPointer) -> [UInt8]? {
        guard ciphertext.count >= tagBytes else { return nil }
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        var outBytes: UInt64 = 0
        let nonceBytes = noise96BitNonce(nonce)
        let status = crypto_aead_chacha20poly1305_ietf_decrypt(
            &out, &outBytes, nil, ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count),
            ad, UInt64(ad.count), nonceBytes, key)
        return status == 0 ? out : nil
    }

    /// 32 bits of zeros ‖ little-endian encoding of n (Noise §12.3).
    private static func noise96BitNonce(_ n: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * $0)) }
    }
}

/// Noise's HKDF (§4.3) with HMAC-SHA256 and two outputs, the only form IK uses. It is not RFC
/// 5869's expand with an `info` string: the chaining key is the HMAC key of the extract step, and
/// each output is HMAC(temp_key, previous output ‖ counter byte).
enum NoiseKDF {
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> (first: [UInt8], second: [UInt8]) {
        let tempKey = HMACSHA256.authenticationCode(key: chainingKey, message: inputKeyMaterial)
        let first = HMACSHA256.authenticationCode(key: tempKey, message: [0x01])
        let second = HMACSHA256.authenticationCode(key: tempKey, message: first + [0x02])
        return (first, second)
    }
}
