// Base58 with the Bitcoin alphabet ("base58btc"): the encoding behind multibase 'z' values, and so
// behind Multikey public keys and Data Integrity proofValues (W3C Controlled Identifiers v1.0
// §2.4 Multibase; draft-msporny-base58-03 §3 for the algorithm).

/// base58btc: big-endian base 58 over the Bitcoin alphabet, each leading zero byte written '1'.
public enum Base58 {
    /// The Bitcoin alphabet: digits and letters without 0, O, I and l.
    public static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()

    /// Encodes bytes: one '1' per leading zero byte, then the rest as a base-58 number.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var zeros = 0
        while zeros < input.count && input[zeros] == 0 { zeros += 1 }
        // Each byte needs log(256)/log(58) < 1.38 base-58 digits.
        let capacity = (input.count - zeros) * 138 / 100 + 1
        var digits = [UInt8](repeating: 0, count: capacity)
        var length = 0  // the low `length` digits (at the end of `digits`) are in use
        for byte in input[zeros...] {
            // digits = digits × 256 + byte, in base 58.
            var carry = Int(byte)
            var used = 0
            var k = capacity - 1
            while carry != 0 || used < length {
                carry += 256 * Int(digits[k])
                digits[k] = UInt8(carry % 58)
                carry /= 58
                k -= 1
                used += 1
            }
            length = used
        }
        return String(unsafeUninitializedCapacity: zeros + length) { out in
            for index in 0..<zeros { out[index] = alphabet[0] }
            for index in 0..<length { out[zeros + index] = alphabet[Int(digits[capacity - length + index])] }
            return zeros + length
        }
    }

    /// Decodes base58btc text; nil if any character is outside the alphabet.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        var ones = 0
        while ones < input.count && input[ones] == alphabet[0] { ones += 1 }
        // Each base-58 digit carries log(58)/log(256) < 0.733 bytes.
        let capacity = (input.count - ones) * 733 / 1000 + 1
        var bytes = [UInt8](repeating: 0, count: capacity)
        var length = 0
        for character in input[ones...] {
            let value = values[Int(character)]
            guard value != 0xFF else { return nil }
            // bytes = bytes × 58 + value, in base 256.
            var carry = Int(value)
            var used = 0
            var k = capacity - 1
            while carry != 0 || used < length {
                carry += 58 * Int(bytes[k])
                bytes[k] = UInt8(carry & 0xFF)
                carry >>= 8
                k -= 1
                used += 1
            }
            length = used
        }
        var out = [UInt8](repeating: 0, count: ones)
        out.reserveCapacity(ones + length)
        out.append(contentsOf: bytes[(capacity - length)...])
        return out
    }
}
