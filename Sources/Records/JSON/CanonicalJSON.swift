// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a record, so that a signature
// and a Merkle leaf cover exactly one text. Members sort by UTF-16 code units (§3.2.3), strings
// and numbers are written as ECMAScript's JSON.stringify writes them (§3.2.2), with no whitespace.

/// RFC 8785 (JCS) serialisation, and the admission check that bytes already are canonical.
public enum CanonicalJSON {
    /// The JCS bytes of `value`.
    ///
    /// Integers (`.integer`) are written in plain decimal, exactly. I-JSON (RFC 7493) and so JCS
    /// expect integers within ±(2^53 − 1); an ECMAScript implementation would round larger ones
    /// through a double, so values meant to interoperate should stay in that range.
    /// `.double` values must be finite (a programmer error otherwise: the parser never makes one).
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(value, into: &out)
        return out
    }

    /// Appends the JCS bytes of `value` to `out`, for callers that reuse a buffer.
    public static func serialize(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, into: &out)
    }

    /// True iff `bytes` parse as JSON (strictly, at most `maxDepth` deep) and are byte for byte
    /// the JCS serialisation of what they parse to. Whitespace, member order, escapes other than
    /// JCS's own and non-shortest numbers all make a text non-canonical.
    public static func isCanonical(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> Bool {
        guard let value = try? JSONParser.parse(bytes, maxBytes: bytes.count, maxDepth: maxDepth) else { return false }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        write(value, into: &out)
        return out == bytes
    }

    /// The JCS bytes of an object without its member `omitted`: the unsecured document of a
    /// secured one (Data Integrity removes `proof`), without copying the members.
    static func serialize(_ members: JSONObject, omitting omitted: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        writeObject(members, omitting: omitted, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case let .integer(n): writeInteger(n, into: &out)
        case let .double(d): writeDouble(d, into: &out)
        case let .string(s): writeString(s, into: &out)
        case let .array(elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            writeObject(members, omitting: nil, into: &out)
        }
    }

    /// RFC 8785 §3.2.3: members sorted by their names' UTF-16 code units.
    static func writeObject(_ members: JSONObject, omitting omitted: String?, into out: inout [UInt8]) {
        let sorted = members.sorted { utf16Precedes($0.key, $1.key) }
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in sorted where key != omitted {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            write(value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// True iff `a` sorts before `b` by UTF-16 code units (RFC 8785 §3.2.3), computed on UTF-8.
    /// UTF-8 byte order is code point order, which differs from UTF-16 order in one place only:
    /// a supplementary scalar (UTF-8 lead byte F0–F4, UTF-16 surrogates D800–DBFF) sorts before
    /// U+E000–U+FFFF (lead bytes EE–EF). A first difference at any other byte keeps byte order.
    static func utf16Precedes(_ a: String, _ b: String) -> Bool {
        let contiguous = a.utf8.withContiguousStorageIfAvailable { ua in
            b.utf8.withContiguousStorageIfAvailable { ub in utf16Precedes(ua, ub) }
        }
        if let contiguous, let result = contiguous { return result }
        return utf16Precedes(Array(a.utf8), Array(b.utf8))
    }

    private static func utf16Precedes(_ a: some RandomAccessCollection<UInt8>, _ b: some RandomAccessCollection<UInt8>) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            if x >= 0xEE, y >= 0xEE, (x >= 0xF0) != (y >= 0xF0) { return x >= 0xF0 }
            return x < y
        }
        return a.count < b.count
    }

    /// RFC 8785 §3.2.2.2: the escapes of ECMAScript JSON.stringify (QuoteJSONString): \" \\ \b
    /// \f \n \r \t, other controls below 0x20 as \u00xx in lower-case hex, everything else
    /// (including U+007F, U+2028 and U+2029) as raw UTF-8, unnormalised. Public for writers of
    /// fixed-shape answers that append their members in sorted order themselves.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let b = utf8[index]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                writeEscape(b, into: &out)
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        if done == nil {
            for b in s.utf8 {
                if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { writeEscape(b, into: &out) } else { out.append(b) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func writeEscape(_ b: UInt8, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                    hexDigits.utf8Start[Int(b >> 4)], hexDigits.utf8Start[Int(b & 0xF)]])
        }
    }

    /// An integer in plain decimal, as ECMAScript writes integral values below 10^21.
    public static func writeInteger(_ n: Int64, into out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        writeDecimal(n.magnitude, into: &out)
    }

    private static func writeDecimal(_ value: UInt64, into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeMutableBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// RFC 8785 §3.2.2.3: ECMAScript Number::toString (ECMA-262 §7.1.12.1). With k the number
    /// of shortest round-trip digits s and n the decimal exponent (value = s × 10^(n−k)):
    /// k ≤ n ≤ 21 → digits then n−k zeros; 0 < n ≤ 21 → point inside the digits; −6 < n ≤ 0 →
    /// "0." then −n zeros then digits; otherwise d[.ddd]e±(n−1). −0 is written 0.
    static func writeDouble(_ value: Double, into out: inout [UInt8]) {
        precondition(value.isFinite, "JCS has no NaN or Infinity (RFC 8785 §3.2.2.3)")
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // Swift's description is the shortest digit string that round-trips, closest to the
        // exact value (SwiftDtoa), which is the s that ECMA-262 asks for. Only its layout differs
        // ("1e+21", "1e-07", "56.0"), so take the digits and the exponent out of it.
        let text = value.magnitude.description
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            var k = 0
            var integerDigits = 0
            var seenPoint = false
            var exponent = 0
            var exponentNegative = false
            var inExponent = false
            for c in text.utf8 {
                switch c {
                case UInt8(ascii: "."): seenPoint = true
                case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
                case UInt8(ascii: "-"): exponentNegative = true
                case UInt8(ascii: "+"): break
                default:
                    let digit = Int(c &- UInt8(ascii: "0"))
                    precondition(digit < 10, "unexpected character in Double.description")
                    if inExponent {
                        exponent = exponent * 10 + digit
                    } else if k == 0 && digit == 0 {
                        // A leading zero moves the decimal point left by one when after the point.
                        if seenPoint { integerDigits -= 1 }
                    } else {
                        precondition(k < 32, "Double.description has at most 17 significant digits")
                        digits[k] = c
                        k += 1
                        if !seenPoint { integerDigits += 1 }
                    }
                }
            }
            while k > 1 && digits[k - 1] == UInt8(ascii: "0") { k -= 1 }
            let n = integerDigits + (exponentNegative ? -exponent : exponent)
            let s = UnsafeMutableBufferPointer(rebasing: digits[0..<k])
            if k <= n && n <= 21 {
                out.append(contentsOf: s)
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
            } else if 0 < n && n <= 21 {
                out.append(contentsOf: UnsafeMutableBufferPointer(rebasing: s[0..<n]))
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: UnsafeMutableBufferPointer(rebasing: s[n...]))
            } else if -6 < n && n <= 0 {
                out.append(UInt8(ascii: "0"))
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
                out.append(contentsOf: s)
            } else {
                out.append(s[0])
                if k > 1 {
                    out.append(UInt8(ascii: "."))
                    out.append(contentsOf: UnsafeMutableBufferPointer(rebasing: s[1...]))
                }
                out.append(UInt8(ascii: "e"))
                out.append(n - 1 >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
                writeDecimal(UInt64((n - 1).magnitude), into: &out)
            }
        }
    }
}
