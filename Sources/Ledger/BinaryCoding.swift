// Fixed-width big-endian integers and length-prefixed strings: the one binary encoding used for
// trailers, validator sets and storage records (consensus.md §2.3).
import CinnabarCrypto

/// Appends big-endian fields to a byte buffer.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    /// A writer whose buffer holds `capacity` bytes before it grows.
    public init(capacity: Int) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    public mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(v >> UInt32(s) & 0xFF)) } }
    public mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(v >> UInt64(s) & 0xFF)) } }
    public mutating func hash(_ h: Hash) { h.withUnsafeBytes { bytes.append(contentsOf: $0) } }
    public mutating func raw(_ b: [UInt8]) { bytes += b }
    /// A UTF-8 string with a u16 length prefix.
    public mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        precondition(utf8.count <= Int(UInt16.max), "string too long for a u16 prefix")
        u16(UInt16(utf8.count))
        bytes += utf8
    }
    /// Bytes with a u32 length prefix.
    public mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes += b
    }
}

/// Reads big-endian fields; every read fails cleanly (nil) past the end.
public struct BinaryReader {
    private let bytes: [UInt8]
    private var at: Int
    public init(_ bytes: [UInt8]) { self.bytes = bytes; at = 0 }
    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.init(Array(bytes)) }

    public var isAtEnd: Bool { at == bytes.count }

    private mutating func take(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, bytes.count - at >= n else { return nil }
        defer { at += n }
        return bytes[at..<at + n]
    }
    public mutating func u8() -> UInt8? { take(1)?.first }
    public mutating func u16() -> UInt16? { take(2).map { $0.reduce(0) { $0 << 8 | UInt16($1) } } }
    public mutating func u32() -> UInt32? { take(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }
    public mutating func u64() -> UInt64? { take(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
    public mutating func hash() -> Hash? { take(32).flatMap { Hash(bytes: $0) } }
    /// Exactly `count` raw bytes (a fixed-width field such as a key or a signature).
    public mutating func bytes(_ count: Int) -> [UInt8]? { take(count).map(Array.init) }
    public mutating func string() -> String? {
        guard let n = u16(), let b = take(Int(n)) else { return nil }
        return String(validating: b, as: UTF8.self)
    }
    /// The whole buffer read as one u64 (nil unless it is exactly 8 bytes).
    public var u64Value: UInt64? {
        var copy = self
        guard let v = copy.u64(), copy.isAtEnd else { return nil }
        return v
    }
    public mutating func blob() -> [UInt8]? {
        guard let n = u32(), let b = take(Int(n)) else { return nil }
        return Array(b)
    }
}
