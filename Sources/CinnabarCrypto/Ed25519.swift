// Ed25519 (RFC 8032) through libsodium: the signature of validators, writers and notes.
import CSodium

private let sodiumReady: Bool = sodium_init() >= 0

/// Fills a buffer from the operating system's CSPRNG (libsodium `randombytes_buf`).
public func secureRandomBytes(count: Int) -> [UInt8] {
    precondition(sodiumReady, "libsodium failed to initialise")
    var out = [UInt8](repeating: 0, count: count)
    if count > 0 { out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) } }
    return out
}

/// An Ed25519 public key (32 bytes).
public struct Ed25519PublicKey: Hashable, Sendable {
    /// The 32-byte RFC 8032 encoding.
    public let bytes: [UInt8]

    /// Wraps a 32-byte public key; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// True iff `signature` (64 bytes) is a valid Ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard signature.count == 64 else { return false }
        return signature.withUnsafeBufferPointer { sig in
            message.withUnsafeBufferPointer { msg in
                bytes.withUnsafeBufferPointer { pk in
                    crypto_sign_verify_detached(sig.baseAddress!, msg.baseAddress, UInt64(msg.count), pk.baseAddress!) == 0
                }
            }
        }
    }
}

/// An Ed25519 private key, kept as its 32-byte seed. Never log or print it.
public struct Ed25519PrivateKey: Sendable {
    /// The 32-byte RFC 8032 seed.
    public let seed: [UInt8]
    /// The matching public key.
    public let publicKey: Ed25519PublicKey
    private let expanded: [UInt8]  // libsodium's 64-byte secret key (seed ‖ public key)

    /// Derives the key pair from a 32-byte seed; nil for any other length.
    public init?(seed: [UInt8]) {
        precondition(sodiumReady, "libsodium failed to initialise")
        guard seed.count == 32 else { return nil }
        var pk = [UInt8](repeating: 0, count: 32)
        var sk = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_seed_keypair(&pk, &sk, seed) == 0 else { return nil }
        self.seed = seed
        self.publicKey = Ed25519PublicKey(bytes: pk)!
        self.expanded = sk
    }

    /// A fresh key from the CSPRNG.
    public static func generate() -> Ed25519PrivateKey {
        Ed25519PrivateKey(seed: secureRandomBytes(count: 32))!
    }

    /// The deterministic RFC 8032 signature of `message` (64 bytes).
    public func signature(for message: [UInt8]) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: 64)
        message.withUnsafeBufferPointer { msg in
            _ = crypto_sign_detached(&sig, nil, msg.baseAddress, UInt64(msg.count), expanded)
        }
        return sig
    }
}
