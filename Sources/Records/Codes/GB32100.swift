// The check character of GB 32100-2015 (unified social credit codes, domain.md §2.1), shared by
// organisation codes and Cinnabar's verification codes (§6.6): one 31-symbol alphabet, weights
// 3^i mod 31, one check symbol.

/// GB 32100-2015 arithmetic: the 31-symbol alphabet and its weighted modulo-31 check character.
///
/// Position `i` (from 0) of the payload has weight `3^i mod 31` and the check value is
/// `c = (31 − Σ vᵢ·wᵢ mod 31) mod 31`, so the whole code sums to 0 mod 31 with the check symbol
/// weighted 1. Because 31 is prime and equals the alphabet size, changing one symbol always
/// changes the sum; because 3 is a primitive root mod 31 (3^0…3^29 are all different), swapping
/// two different symbols changes it too unless their weights are equal — never for neighbours
/// (i, i+1) or jumps (i, i+2), swaps with the check symbol included, in codes of 4 to 30 symbols.
public enum GB32100 {
    /// The alphabet in value order: `0`–`9` are 0–9, then `A`–`Y` without I, O, S, V, Z are 10–30.
    public static let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

    /// The modulus, equal to the number of symbols.
    static let modulus = 31

    /// The alphabet as ASCII bytes, indexed by value.
    static let symbols: [UInt8] = Array(alphabet.utf8)

    /// The value of every byte: 0–30 for the alphabet's symbols, -1 for any other byte.
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (value, symbol) in symbols.enumerated() { table[Int(symbol)] = Int8(value) }
        return table
    }()

    /// The value (0–30) of `symbol`, or nil if it is not in the alphabet.
    public static func value(of symbol: Character) -> Int? {
        guard let byte = symbol.asciiValue else { return nil }
        return value(ofByte: byte)
    }

    /// The check character for `payload`, or nil if a character of it is not in the alphabet.
    /// For an organisation code the payload is its first 17 characters; for a verification code,
    /// its first 15.
    public static func checkCharacter(for payload: String) -> Character? {
        guard let check = checkValue(of: Array(payload.utf8)) else { return nil }
        return Character(Unicode.Scalar(symbols[check]))
    }

    /// The value of an ASCII byte, or nil if it is not a symbol of the alphabet.
    static func value(ofByte byte: UInt8) -> Int? {
        let value = values[Int(byte)]
        return value < 0 ? nil : Int(value)
    }

    /// The check value c = (31 − Σ vᵢ·3^i mod 31) mod 31 of ASCII `payload`, or nil if a byte of
    /// it is not a symbol of the alphabet.
    static func checkValue(of payload: some Sequence<UInt8>) -> Int? {
        var sum = 0
        var weight = 1  // 3^i mod 31, kept reduced so nothing overflows at any length
        for byte in payload {
            guard let value = value(ofByte: byte) else { return nil }
            sum = (sum + value * weight) % modulus
            weight = weight * 3 % modulus
        }
        return (modulus - sum) % modulus
    }

    /// Whether the last byte of ASCII `code` is the check character over the bytes before it.
    static func endsWithCheckCharacter(_ code: some BidirectionalCollection<UInt8>) -> Bool {
        guard let last = code.last, let check = checkValue(of: code.dropLast()) else { return false }
        return symbols[check] == last
    }
}
