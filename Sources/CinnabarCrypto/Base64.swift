// Strict standard base64 (RFC 4648 §4, with padding): the encoding of C2SP notes, keys and proofs.

/// Standard base64 with padding; decoding is strict (canonical padding and trailing bits).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Encodes bytes as standard base64 with `=` padding, straight into the string's storage
    /// (receipts encode every leaf and proof hash: no intermediate arrays).
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        let count = (input.count + 2) / 3 * 4
        guard count > 0 else { return "" }
        return input.withUnsafeBufferPointer { src in
            alphabet.withUnsafeBufferPointer { a in
                String(unsafeUninitializedCapacity: count) { out in
                    var i = 0
                    var o = 0
                    while i + 3 <= src.count {
                        let n = Int(src[i]) << 16 | Int(src[i + 1]) << 8 | Int(src[i + 2])
                        out[o] = a[n >> 18 & 63]
                        out[o + 1] = a[n >> 12 & 63]
                        out[o + 2] = a[n >> 6 & 63]
                        out[o + 3] = a[n & 63]
                        i += 3
                        o += 4
                    }
                    let rest = src.count - i
                    if rest > 0 {
                        let n = Int(src[i]) << 16 | (rest == 2 ? Int(src[i + 1]) << 8 : 0)
                        out[o] = a[n >> 18 & 63]
                        out[o + 1] = a[n >> 12 & 63]
                        out[o + 2] = rest == 2 ? a[n >> 6 & 63] : UInt8(ascii: "=")
                        out[o + 3] = UInt8(ascii: "=")
                    }
                    return count
                }
            }
        }
    }

    /// Decodes strict standard base64. Returns nil on any character outside the alphabet, missing
    /// or extra padding, or non-zero trailing bits (so every byte string has exactly one encoding).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            let last = i + 4 == chars.count
            let pad = last ? (chars[i + 3] == UInt8(ascii: "=") ? (chars[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var n: UInt32 = 0
            for j in 0..<(4 - pad) {
                let v = values[Int(chars[i + j])]
                guard v != 0xFF else { return nil }
                n |= UInt32(v) << (18 - 6 * UInt32(j))
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(n >> 8 & 0xFF)) } else if n & 0xFFFF != 0 { return nil }
            if pad < 1 { out.append(UInt8(n & 0xFF)) } else if n & 0xFF != 0 { return nil }
            i += 4
        }
        return out
    }
}
