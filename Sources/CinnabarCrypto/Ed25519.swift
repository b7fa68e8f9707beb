// Ed25519 (RFC 8032): the signature of validators, writers and notes. Signing and the
// verification of a key seen once are libsodium's; a key that signs often is verified with a
// precomputed table (ed25519_tables.c), the same predicate at about three times the rate.
import CCinnabar
import CSodium
import Synchronization

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
    /// Accepts exactly what libsodium accepts; keys that sign often get a verification table.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        if let table = VerificationTables.table(for: bytes) {
            return signature.withUnsafeBufferPointer { sig in
                message.withUnsafeBufferPointer { msg in
                    ccinnabar_ed25519_verify(table.pointer, sig.baseAddress!, msg.baseAddress, msg.count) == 0
                }
            }
        }
        let valid = isValidSignatureByLibsodium(signature, for: message)
        if valid { VerificationTables.countValidSignature(by: bytes) }
        return valid
    }

    /// The same check by libsodium's `crypto_sign_verify_detached` alone: the machine's raw verify
    /// rate the benchmarks compare against, and the reference the tables are tested against.
    public func isValidSignatureByLibsodium(_ signature: [UInt8], for message: [UInt8]) -> Bool {
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

/// The verification table of one public key (C, immutable, shared between threads).
final class VerificationTable: Sendable {
    nonisolated(unsafe) let pointer: OpaquePointer

    init?(key: [UInt8]) {
        guard let pointer = key.withUnsafeBufferPointer({ ccinnabar_ed25519_table_new($0.baseAddress!) }) else { return nil }
        self.pointer = pointer
    }

    deinit { ccinnabar_ed25519_table_free(pointer) }
}

/// The process's verification tables: a key gets one once `usesBeforeTable` of its signatures
/// have verified, for at most `capacity` keys (165 KB each), and keeps it for the life of the
/// process. Only valid signatures count, so a table costs whoever earns it 16 real signatures;
/// and the keys that reach a verification at all are registered ones (organisations', looked up
/// before a record's signature is checked; validators'; the policy's). Keys that are not of prime
/// order, and every key when the libsodium loaded is not 1.0.18, stay with libsodium.
public enum VerificationTables {
    /// Valid signatures by one key before its table is built (a build costs about 15 of them).
    public static let usesBeforeTable = 16
    /// Keys with a table at most: 128 × 165 KB ≈ 21 MB.
    public static let capacity = 128
    private static let uncountedLimit = 4096

    private struct State {
        var tables: [[UInt8]: VerificationTable] = [:]
        var uses: [[UInt8]: Int] = [:]
        var refused: Set<[UInt8]> = []
    }

    private static let state = Mutex(State())

    /// The key's table, if it has one.
    static func table(for key: [UInt8]) -> VerificationTable? {
        state.withLock { $0.tables[key] }
    }

    /// Counts a valid signature by a key without a table, and builds its table (outside the lock)
    /// when the count comes due.
    static func countValidSignature(by key: [UInt8]) {
        let due = state.withLock { s -> Bool in
            guard s.tables.count < capacity, !s.refused.contains(key) else { return false }
            let uses = s.uses[key, default: 0] + 1
            if uses >= usesBeforeTable {
                s.uses[key] = nil
                return true
            }
            if s.uses.count >= uncountedLimit { s.uses.removeAll() }
            s.uses[key] = uses
            return false
        }
        guard due else { return }
        let table = VerificationTable(key: key)
        state.withLock { s in
            guard let table else {
                if s.refused.count >= uncountedLimit { s.refused.removeAll() }
                s.refused.insert(key)
                return
            }
            if s.tables[key] == nil, s.tables.count < capacity { s.tables[key] = table }
        }
    }

    /// Forgets every table and count (for tests: the tables are the process's, and a test suite's
    /// earlier tests may have filled them). Verifications in flight keep the tables they hold.
    static func removeAll() {
        state.withLock { $0 = State() }
    }

    /// How many keys have a table (for tests and benchmarks).
    public static var count: Int { state.withLock { $0.tables.count } }

    /// Whether this key has a table (for tests).
    public static func hasTable(_ key: Ed25519PublicKey) -> Bool { state.withLock { $0.tables[key.bytes] != nil } }
}
