// Base58 with the Bitcoin alphabet ("base58btc"): the encoding behind multibase 'z' values, and so
// behind Multikey public keys and Data Integrity proofValues (W3C Controlled Identifiers v1.0,
// "Multibase"; the algorithm of draft-msporny-base58-03 §3–§4).

/// base58btc: big-endian base 58 over the Bitcoin alphabet, each leading zero byte written '1'.
/// Every byte string has exactly one encoding, and every text in the alphabet decodes to one.
public enum Base58 {
    /// The Bitcoin alphabet: digits and letters without 0, O, I and l.
    public static let alphabet: [UInt8] = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()

    /// The value (0–57) of an alphabet character, nil for any other byte.
    public static func digitValue(_ character: UInt8) -> UInt8? {
        let value = values[Int(character)]
        return value == 0xFF ? nil : value
    }

    // The conversions run on word-sized limbs rather than single digits: base 58^5 limbs (each
    // < 2^30) when encoding, base 2^32 limbs when decoding. A limb times a multiplier of at most
    // 2^32 plus a carry below 2^32 stays below 2^63, so UInt64 arithmetic never overflows.
    private static let digitsPerLimb = 5
    private static let limbBase: UInt64 = 58 * 58 * 58 * 58 * 58

    /// Encodes bytes: one '1' per leading zero byte, then the rest as a base-58 number.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var zeros = 0
        while zeros < input.count && input[zeros] == 0 { zeros += 1 }
        // The number after the zero bytes, in base 58^5, least significant limb first; it takes
        // in four bytes (a base-2^32 digit) at a time, the first group holding the remainder.
        var limbs: [UInt64] = []
        limbs.reserveCapacity((input.count - zeros) / 3 + 1)
        var index = zeros
        var groupBytes = (input.count - zeros) % 4 == 0 ? 4 : (input.count - zeros) % 4
        while index < input.count {
            var carry: UInt64 = 0
            for k in index..<(index + groupBytes) { carry = carry << 8 | UInt64(input[k]) }
            let multiplier = UInt64(1) << (8 * groupBytes)
            for j in limbs.indices {
                let t = limbs[j] * multiplier + carry
                limbs[j] = t % limbBase
                carry = t / limbBase
            }
            while carry > 0 {
                limbs.append(carry % limbBase)
                carry /= limbBase
            }
            index += groupBytes
            groupBytes = 4
        }
        // Most significant limb first, five digits each, without the leading zero digits.
        var digits = [UInt8](repeating: 0, count: limbs.count * digitsPerLimb)
        for (j, limb) in limbs.enumerated() {
            var rest = limb
            for k in 0..<digitsPerLimb {
                digits[digits.count - 1 - j * digitsPerLimb - k] = UInt8(rest % 58)
                rest /= 58
            }
        }
        let significant = digits.drop { $0 == 0 }
        return String(unsafeUninitializedCapacity: zeros + significant.count) { out in
            for k in 0..<zeros { out[k] = alphabet[0] }
            for (k, digit) in significant.enumerated() { out[zeros + k] = alphabet[Int(digit)] }
            return zeros + significant.count
        }
    }

    /// Decodes base58btc text; nil if any character is outside the alphabet.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        var ones = 0
        while ones < input.count && input[ones] == alphabet[0] { ones += 1 }
        // The number after the '1's, in base 2^32, least significant limb first; it takes in five
        // digits (a base-58^5 digit) at a time, the first group holding the remainder.
        var limbs: [UInt64] = []
        limbs.reserveCapacity((input.count - ones) / 5 + 1)
        var index = ones
        let rest = input.count - ones
        var groupDigits = rest % digitsPerLimb == 0 ? digitsPerLimb : rest % digitsPerLimb
        while index < input.count {
            var carry: UInt64 = 0
            var multiplier: UInt64 = 1
            for k in index..<(index + groupDigits) {
                let value = values[Int(input[k])]
                guard value != 0xFF else { return nil }
                carry = carry * 58 + UInt64(value)
                multiplier *= 58
            }
            for j in limbs.indices {
                let t = limbs[j] * multiplier + carry
                limbs[j] = t & 0xFFFF_FFFF
                carry = t >> 32
            }
            while carry > 0 {
                limbs.append(carry & 0xFFFF_FFFF)
                carry >>= 32
            }
            index += groupDigits
            groupDigits = digitsPerLimb
        }
        // One zero byte per '1', then the number big-endian without its leading zero bytes.
        var out = [UInt8](repeating: 0, count: ones)
        out.reserveCapacity(ones + limbs.count * 4)
        var leading = true
        for limb in limbs.reversed() {
            for shift in stride(from: 24, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: limb >> UInt64(shift))
                if leading && byte == 0 { continue }
                leading = false
                out.append(byte)
            }
        }
        return out
    }
}
