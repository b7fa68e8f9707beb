// HMAC-SHA256 (RFC 2104 / FIPS 198-1): keyed hashes of verification codes, names and ID numbers,
// so that a copy of the log cannot be searched for them without the key (domain.md §5).

/// HMAC with SHA-256.
public enum HMACSHA256 {
    private static let blockSize = 64

    /// HMAC-SHA256(key, message), 32 bytes.
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > blockSize ? SHA256.hash(key).bytes : key
        k += [UInt8](repeating: 0, count: blockSize - k.count)
        let inner = SHA256.hash(k.map { $0 ^ 0x36 } + message)
        return SHA256.hash(k.map { $0 ^ 0x5C } + inner.bytes).bytes
    }
}
