// The small lexical rules shared by notes, keys, checkpoints, proofs and policies: key names,
// decimals without leading zeros, byte-exact string comparison and line splitting.

/// Signed-note §Format: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or
/// plus (U+002B) characters." ASCII control characters are refused too, since no note may hold them.
func isValidKeyName(_ name: some StringProtocol) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0 == "+" || $0.value < 0x20 || $0.properties.isWhitespace }
}

/// The value of an ASCII decimal with no leading zeroes ("0" alone is allowed), or nil on any other
/// character, a leading zero or overflow. (Swift's `UInt64(_:)` would also accept a "+" sign.)
func parseDecimal(_ text: some StringProtocol) -> UInt64? {
    let digits = Array(text.utf8)
    guard let first = digits.first, digits.count == 1 || first != UInt8(ascii: "0") else { return nil }
    var value: UInt64 = 0
    for d in digits {
        guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
        guard !o1, !o2 else { return nil }
        value = sum
    }
    return value
}

extension StringProtocol {
    /// Byte-for-byte equality of the UTF-8 encodings. Swift's `==` compares canonical equivalence
    /// ("K" equals the Kelvin sign U+212A), but names and texts in these formats are octet strings.
    func sameBytes(as other: some StringProtocol) -> Bool {
        utf8.elementsEqual(other.utf8)
    }

    /// The first ASCII control character other than newline (signed-note §Format forbids them).
    var firstControlCharacter: UInt8? {
        utf8.first { $0 < 0x20 && $0 != UInt8(ascii: "\n") }
    }
}

/// Splits text at an ASCII byte, keeping empty pieces, working on UTF-8 bytes: Swift's
/// `Character` splitting would see "+" followed by a combining mark as one character.
/// Pieces of valid UTF-8 cut at an ASCII byte are valid UTF-8, so no byte changes.
func fields(of text: some StringProtocol, separatedBy separator: Unicode.Scalar, maxSplits: Int = Int.max) -> [String] {
    precondition(separator.isASCII, "fields are split at an ASCII byte")
    return Array(text.utf8)
        .split(separator: UInt8(separator.value), maxSplits: maxSplits, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
}

/// The index of the first "\n" of the first "\n\n" that starts before `limit`, or nil: where a
/// header of non-empty lines (tlog-proof, tlog-witness requests) ends and the checkpoint note begins.
func firstBlankLine(_ bytes: [UInt8], limit: Int) -> Int? {
    var i = 0
    while i + 1 < bytes.count && i < limit {
        if bytes[i] == UInt8(ascii: "\n") && bytes[i + 1] == UInt8(ascii: "\n") { return i }
        i += 1
    }
    return nil
}
