// A SHA-256 digest as a value type: 32 bytes held inline, so hashing a tree allocates nothing.
import CCinnabar

/// A 32-byte SHA-256 digest, stored inline (no heap allocation).
public struct Hash: Hashable, Sendable, CustomStringConvertible {
    /// The number of bytes in a digest.
    public static let byteCount = 32

    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)

    /// The all-zero hash; a placeholder, never the hash of anything.
    public static let zero = Hash(words: (0, 0, 0, 0))

    @inlinable init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// Creates a hash from exactly 32 bytes; returns nil for any other length.
    @inlinable
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == Hash.byteCount else { return nil }
        if let h = bytes.withContiguousStorageIfAvailable({ Hash(copying: UnsafeRawBufferPointer($0)) }) {
            self = h
        } else {
            self = Array(bytes).withUnsafeBytes { Hash(copying: $0) }
        }
    }

    /// Copies exactly 32 bytes (a memcpy: this is on the proof path, once per stored hash read).
    @inlinable
    public init(copying raw: UnsafeRawBufferPointer) {
        precondition(raw.count == Hash.byteCount, "a hash is 32 bytes")
        var h = Hash.zero
        Swift.withUnsafeMutableBytes(of: &h.words) { $0.copyMemory(from: raw) }
        self = h
    }

    /// Creates a hash from standard base64 (RFC 4648 §4) of exactly 32 bytes.
    public init?(base64: String) {
        guard let bytes = Base64.decode(base64), let h = Hash(bytes: bytes) else { return nil }
        self = h
    }

    /// Creates a hash from 64 hexadecimal digits (either case); nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 2 * Hash.byteCount else { return nil }
        var bytes = [UInt8](repeating: 0, count: Hash.byteCount)
        for i in bytes.indices {
            guard let hi = Hash.nibble(digits[2 * i]), let lo = Hash.nibble(digits[2 * i + 1]) else { return nil }
            bytes[i] = hi << 4 | lo
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Calls `body` with the 32 digest bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words, body)
    }

    /// The 32 digest bytes.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Standard base64 with padding, as C2SP notes and RFC 9162 JSON use.
    public var base64: String { Base64.encode(bytes) }

    /// Lower-case hexadecimal.
    public var hex: String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    public var description: String { base64 }

    public static func == (a: Hash, b: Hash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// SHA-256 (FIPS 180-4) through OpenSSL 3, with one reusable context per thread.
public enum SHA256 {
    /// SHA-256 of the concatenation `a ‖ b ‖ c`.
    @inlinable
    public static func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer = .init(start: nil, count: 0),
                            _ c: UnsafeRawBufferPointer = .init(start: nil, count: 0)) -> Hash {
        var out = Hash.zero
        let ok = Swift.withUnsafeMutableBytes(of: &out.words) { dst in
            ccinnabar_sha256_3(a.baseAddress, a.count, b.baseAddress, b.count, c.baseAddress, c.count,
                               dst.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        // OpenSSL fails here only if the default provider is missing: nothing can be trusted then.
        precondition(ok == 1, "OpenSSL SHA-256 is unavailable")
        return out
    }

    /// SHA-256 of a byte sequence.
    @inlinable
    public static func hash<Bytes: ContiguousBytes>(_ data: Bytes) -> Hash {
        data.withUnsafeBytes { hash($0) }
    }

    /// SHA-256 of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> Hash {
        var text = text
        return text.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }
}

/// Types whose bytes are contiguous in memory (arrays, array slices, `Hash`).
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension Hash: ContiguousBytes {}
