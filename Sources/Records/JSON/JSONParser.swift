// A strict RFC 8259 JSON parser from UTF-8 bytes into `JSONValue`, for admitting records.
// Beyond the grammar (RFC 8259 §2–§8) it refuses what makes one text mean two things: invalid
// UTF-8 (§8.1), lone surrogates (§8.2), duplicate names (§4), and it bounds size and nesting (§9).

/// Why a JSON text was refused: a stable `code`, the byte offset and a one-line reason.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of refusal; the raw value is the stable machine code.
    public enum Kind: String, Sendable {
        /// Not RFC 8259 JSON in UTF-8 (syntax, encoding, surrogates, numbers out of range).
        case invalidJSON = "invalid_json"
        /// An object names the same member twice (compared after unescaping).
        case duplicateKey = "duplicate_key"
        /// Arrays and objects nest deeper than the limit.
        case tooDeep = "too_deep"
        /// The document is larger than the caller's limit.
        case tooLarge = "too_large"
    }

    /// What went wrong.
    public let kind: Kind
    /// The byte offset in the input where the problem was found.
    public let offset: Int
    /// A one-line human explanation.
    public let reason: String

    /// The stable machine code: `invalid_json`, `duplicate_key`, `too_deep` or `too_large`.
    public var code: String { kind.rawValue }

    /// `code at byte N: reason`, on one line.
    public var description: String { "\(code) at byte \(offset): \(reason)" }

    /// Creates an error of `kind` at byte `offset`.
    public init(_ kind: Kind, offset: Int, reason: String) {
        self.kind = kind
        self.offset = offset
        self.reason = reason
    }
}

/// Parses RFC 8259 JSON strictly. Numbers without fraction or exponent that fit in Int64 become
/// `.integer`; every other number becomes `.double` (finite only).
public enum JSONParser {
    /// The default bound on nested arrays and objects.
    public static let defaultMaxDepth = 64

    /// Parses one JSON text (RFC 8259 §2: optional whitespace, one value, optional whitespace).
    ///
    /// - Parameters:
    ///   - bytes: the UTF-8 text; no byte-order mark.
    ///   - maxBytes: documents longer than this are refused with `too_large` before parsing.
    ///   - maxDepth: arrays and objects nested deeper than this are refused with `too_deep`.
    /// - Throws: `JSONError`.
    public static func parse(_ bytes: [UInt8], maxBytes: Int, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        try read(bytes, maxBytes: maxBytes, maxDepth: maxDepth, recordTopLevel: false).value
    }

    /// The bounds, then one pass of the reader.
    private static func read(_ bytes: [UInt8], maxBytes: Int, maxDepth: Int,
                             recordTopLevel: Bool) throws(JSONError) -> (value: JSONValue, reader: Reader) {
        precondition(maxBytes >= 0 && maxDepth >= 0, "limits are non-negative")
        guard bytes.count <= maxBytes else {
            throw JSONError(.tooLarge, offset: maxBytes, reason: "document is \(bytes.count) bytes; the limit is \(maxBytes)")
        }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> (JSONValue, Reader) in
            var reader = Reader(bytes: buffer, maxDepth: maxDepth)
            reader.recordTopLevel = recordTopLevel
            return (try reader.document(), reader)
        }
    }

    /// A parsed text, with what the parser saw of its form along the way.
    public struct Parsed: Sendable {
        public let value: JSONValue
        /// True iff the text is exactly `CanonicalJSON.serialize(value)` (RFC 8785): established
        /// while parsing, without serialising. Texts with non-integer numbers are checked by
        /// serialising (the parser does not reimplement ECMAScript number formatting).
        public let isCanonical: Bool
        /// Byte ranges of the top-level object's members: the first from its name, the others
        /// from the comma before them, each to the end of its value.
        public let topLevelMembers: [(key: String, range: Range<Int>)]

        /// `bytes` (the text this was parsed from) without the top-level member `key`, and
        /// without the comma that separated it; nil if there is no such member.
        public func removingMember(_ key: String, from bytes: [UInt8]) -> [UInt8]? {
            guard let range = topLevelMembers.first(where: { $0.key == key })?.range else { return nil }
            var end = range.upperBound
            // The first member owns no comma before it: take the one after it, if any.
            if bytes[range.lowerBound] != UInt8(ascii: ","), end < bytes.count, bytes[end] == UInt8(ascii: ",") { end += 1 }
            return Array(bytes[..<range.lowerBound] + bytes[end...])
        }
    }

    /// Parses like `parse`, and reports whether the text is canonical and where its top-level
    /// members are: record admission uses both instead of serialising the record twice.
    public static func parseReportingForm(_ bytes: [UInt8], maxBytes: Int, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> Parsed {
        let (value, reader) = try read(bytes, maxBytes: maxBytes, maxDepth: maxDepth, recordTopLevel: true)
        var canonical = reader.canonical
        if canonical && reader.sawNonInteger { canonical = CanonicalJSON.serialize(value) == bytes }
        return Parsed(value: value, isCanonical: canonical, topLevelMembers: reader.topLevelMembers)
    }
}

/// A cursor over the input. `i` is always the offset of the next unread byte.
private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var i = 0
    /// Reused for strings that contain escapes, so unescaping allocates once per document.
    var scratch: [UInt8] = []
    /// Still RFC 8785 canonical so far: no whitespace, members in UTF-16 order, only the escapes
    /// JCS writes, integers as JCS writes them (RFC 8785 §3.2).
    var canonical = true
    /// A fraction or exponent was seen: canonical form then needs the serialiser's judgement.
    var sawNonInteger = false
    /// Whether to record where the top-level object's members are.
    var recordTopLevel = false
    var topLevelMembers: [(key: String, range: Range<Int>)] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONError {
        JSONError(.invalidJSON, offset: offset ?? i, reason: reason)
    }

    /// The byte at `i`, described for an error message.
    var found: String {
        guard i < bytes.count else { return "the end of the input" }
        let b = bytes[i]
        return b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(hex(b))"
    }

    mutating func document() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try value(depth: 0)
        skipWhitespace()
        guard i == bytes.count else { throw fail("unexpected \(found) after the JSON value") }
        return value
    }

    /// RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ).
    mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1; canonical = false
            default: return
            }
        }
    }

    /// `depth` counts the arrays and objects around this value.
    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of input: expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected \(found): expected a value")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let start = i
        let count = word.utf8CodeUnitCount
        guard bytes.count - i >= count,
              UnsafeBufferPointer(rebasing: bytes[i..<(i + count)]).elementsEqual(
                  UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw fail("invalid literal: expected \(word)", at: start) }
        i += count
    }

    mutating func enter(depth: Int) throws(JSONError) {
        guard depth <= maxDepth else {
            throw JSONError(.tooDeep, offset: i, reason: "arrays and objects nest deeper than \(maxDepth) levels")
        }
    }

    /// RFC 8259 §4. Member names are compared after unescaping; names that Swift's `String`
    /// considers equal (canonically equivalent Unicode) are duplicates too, since one object
    /// cannot hold both. Small objects (records' are) are searched; large ones get a set.
    mutating func object(depth: Int) throws(JSONError) -> JSONValue {
        try enter(depth: depth)
        i += 1
        var members: [JSONObject.Element] = []
        var seen: Set<String>?
        var previousKey: String?
        let topLevel = recordTopLevel && depth == 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(JSONObject(distinctMembers: members))
        }
        while true {
            let memberStart = members.isEmpty ? i : i - 1
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("unexpected \(found): expected a member name") }
            let keyOffset = i
            let key = try string()
            // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
            if canonical, let previousKey, !CanonicalJSON.utf16Precedes(previousKey, key) { canonical = false }
            previousKey = key
            let duplicate: Bool
            if seen == nil, members.count < JSONObject.searchedMembers {
                duplicate = members.contains { $0.key == key }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                duplicate = !seen!.insert(key).inserted
            }
            if duplicate {
                throw JSONError(.duplicateKey, offset: keyOffset, reason: "member name \(quoted(key)) appears twice")
            }
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("unexpected \(found): expected ':' after a member name") }
            i += 1
            skipWhitespace()
            members.append((key, try value(depth: depth)))
            if topLevel { topLevelMembers.append((key, memberStart..<i)) }
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input: expected ',' or '}'") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "}"): i += 1; return .object(JSONObject(distinctMembers: members))
            default: throw fail("unexpected \(found): expected ',' or '}'")
            }
        }
    }

    /// RFC 8259 §5.
    mutating func array(depth: Int) throws(JSONError) -> JSONValue {
        try enter(depth: depth)
        i += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard i < bytes.count else { throw fail("unexpected end of input: expected ',' or ']'") }
            switch bytes[i] {
            case UInt8(ascii: ","): i += 1
            case UInt8(ascii: "]"): i += 1; return .array(elements)
            default: throw fail("unexpected \(found): expected ',' or ']'")
            }
        }
    }

    /// RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ]; int = zero / ( digit1-9 *DIGIT ).
    mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit after '-'") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("leading zero in a number", at: i - 1) }
        } else {
            skipDigits()
        }
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit after '.'") }
            skipDigits()
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("expected a digit in the exponent") }
            skipDigits()
        }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<i])
        if isInteger, let integer = int64(text) {
            if integer == 0 && bytes[start] == UInt8(ascii: "-") { canonical = false }  // JCS writes -0 as 0
            return .integer(integer)
        }
        sawNonInteger = true
        // RFC 8259 §9 lets a parser bound the range; JCS (RFC 8785 §3.2.2.3) has no Infinity.
        guard let double = Double(String(decoding: text, as: UTF8.self)), double.isFinite else {
            throw fail("number is outside the range of an IEEE 754 double", at: start)
        }
        return .double(double)
    }

    mutating func skipDigits() {
        while i < bytes.count, isDigit(bytes[i]) { i += 1 }
    }

    /// `-?[0-9]+` as Int64, or nil on overflow. Accumulates negatively so Int64.min fits.
    func int64(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let negative = text[0] == UInt8(ascii: "-")
        var value: Int64 = 0
        for b in text.dropFirst(negative ? 1 : 0) {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.subtractingReportingOverflow(Int64(b &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// RFC 8259 §7. The fast path returns a slice of the input when there is no escape.
    mutating func string() throws(JSONError) -> String {
        i += 1
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("unescaped control character 0x\(hex(b)) in a string") }
            if b < 0x80 { i += 1 } else { try skipUTF8Scalar() }
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                try escape()
            } else if b < 0x20 {
                throw fail("unescaped control character 0x\(hex(b)) in a string")
            } else if b < 0x80 {
                scratch.append(b)
                i += 1
            } else {
                let scalarStart = i
                try skipUTF8Scalar()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[scalarStart..<i]))
            }
        }
        throw fail("unterminated string", at: start - 1)
    }

    /// One escape sequence (RFC 8259 §7), appended to `scratch` as UTF-8. A \u escape of a high
    /// surrogate must be followed by one of a low surrogate; anything else is a lone surrogate.
    mutating func escape() throws(JSONError) {
        let start = i
        guard i + 1 < bytes.count else { throw fail("unterminated escape sequence") }
        let c = bytes[i + 1]
        i += 2
        switch c {
        case UInt8(ascii: "/"): scratch.append(c); canonical = false  // JCS writes '/' unescaped
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): scratch.append(c)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var code = UInt32(try hex4())
            if code >= 0xDC00 && code <= 0xDFFF {
                throw fail("lone low surrogate \\u\(hex16(code)) (RFC 8259 §8.2)", at: start)
            }
            if code >= 0xD800 && code <= 0xDBFF {
                guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate \\u\(hex16(code)) (RFC 8259 §8.2)", at: start)
                }
                i += 2
                let low = UInt32(try hex4())
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail("lone high surrogate \\u\(hex16(code)) (RFC 8259 §8.2)", at: start)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            // JCS uses \u only for controls without a short escape, in lower-case hex.
            let hasShortForm = code == 0x08 || code == 0x09 || code == 0x0A || code == 0x0C || code == 0x0D
            if code >= 0x20 || hasShortForm || bytes[(i - 4)..<i].contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") }) {
                canonical = false
            }
            appendUTF8(code)
        default:
            throw fail("invalid escape sequence '\\\(Character(Unicode.Scalar(c)))'", at: start)
        }
    }

    mutating func hex4() throws(JSONError) -> UInt16 {
        guard bytes.count - i >= 4 else { throw fail("expected four hex digits after \\u") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw fail("expected four hex digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            i += 1
        }
        return value
    }

    mutating func appendUTF8(_ code: UInt32) {
        switch code {
        case 0..<0x80:
            scratch.append(UInt8(code))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(code >> 6))
            scratch.append(0x80 | UInt8(code & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(code >> 12))
            scratch.append(0x80 | UInt8(code >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(code & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(code >> 18))
            scratch.append(0x80 | UInt8(code >> 12 & 0x3F))
            scratch.append(0x80 | UInt8(code >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(code & 0x3F))
        }
    }

    /// Advances over one multi-byte UTF-8 scalar starting at `i`, by the well-formed byte
    /// sequences of RFC 3629 §4 (no overlong forms, no encoded surrogates, nothing past U+10FFFF).
    mutating func skipUTF8Scalar() throws(JSONError) {
        let lead = bytes[i]
        let count: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; high = 0x9F
        case 0xF0: count = 4; low = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; high = 0x8F
        default: throw fail("invalid UTF-8 byte 0x\(hex(lead))")
        }
        guard bytes.count - i >= count else { throw fail("truncated UTF-8 sequence") }
        let second = bytes[i + 1]
        guard second >= low && second <= high else { throw fail("invalid UTF-8 sequence") }
        for k in 2..<count where bytes[i + k] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8 sequence")
        }
        i += count
    }
}

private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

private func hex(_ b: UInt8) -> String {
    let s = String(b, radix: 16, uppercase: true)
    return b < 0x10 ? "0" + s : s
}

private func hex16(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

/// A member name for an error message: escaped, on one line, at most 64 characters.
private func quoted(_ key: String) -> String {
    key.count <= 64 ? key.debugDescription : String(key.prefix(64)).debugDescription + "…"
}
