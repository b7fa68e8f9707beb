// One description of every record's shape, used twice: to validate records at admission, and to
// publish the same rules as JSON Schema (Specs/records/), so the contract and the code cannot drift.

/// The shape of a JSON value in a record.
public indirect enum Schema: Sendable {
    case string(StringFormat)
    case enumeration([String])
    case integer(min: Int64, max: Int64)
    case boolean
    case array(Schema, minItems: Int, maxItems: Int)
    case object([Field])
    /// Exactly one of the alternatives (used for a single proof or a proof set).
    case oneOf([Schema])
    /// Any JSON object (only for the opaque Data Integrity proof, checked by its own code).
    case anyObject
}

/// A member of an object schema.
public struct Field: Sendable {
    public let name: String
    public let schema: Schema
    public let required: Bool
    public init(_ name: String, _ schema: Schema, required: Bool = true) {
        self.name = name
        self.schema = schema
        self.required = required
    }
}

/// Formats of string values; each has a validator here and a regular expression in the JSON Schema.
public enum StringFormat: Sendable, Equatable {
    /// Short free text: no control characters, at most `maxLength` characters.
    case text(maxLength: Int)
    /// 128-bit record id: 32 lower-case hex digits.
    case recordID
    /// 18-character unified social credit code (GB 32100), check character included.
    case usci
    /// Calendar date `YYYY-MM-DD`.
    case date
    /// RFC 3339 date-time with seconds and an explicit offset.
    case dateTime
    /// SHA-256 or SM3 digest: 64 lower-case hex digits.
    case digestHex
    /// Keyed HMAC-SHA256 (of a code, a name, an ID number): unpadded base64url, 43 characters.
    case hmac
    /// Licence or certificate number: 4–32 of [0-9A-Za-z-].
    case licence
    /// BCP 47 language tag such as zh-Hans, bo, ii, en.
    case languageTag
    /// A key id: 1–64 of [0-9A-Za-z._-].
    case keyID
    /// Multibase Ed25519 public key (`z6Mk…`).
    case multibaseKey
    /// A masked display name: one visible character followed by one to three `*`.
    case maskedName

    /// The ECMA-262 regular expression JSON Schema validators use for this format.
    public var pattern: String {
        switch self {
        case .text: "^[^\\u0000-\\u001f\\u007f]*$"
        case .recordID: "^[0-9a-f]{32}$"
        case .usci: "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
        case .date: "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
        case .dateTime: "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        case .digestHex: "^[0-9a-f]{64}$"
        case .hmac: "^[A-Za-z0-9_-]{43}$"
        case .licence: "^[0-9A-Za-z-]{4,32}$"
        case .languageTag: "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
        case .keyID: "^[0-9A-Za-z._-]{1,64}$"
        case .multibaseKey: "^z6Mk[1-9A-HJ-NP-Za-km-z]{44}$"
        case .maskedName: "^[^*\\u0000-\\u001f]\\*{1,3}$"
        }
    }

    var maxLength: Int? { if case let .text(n) = self { n } else { nil } }

    /// True iff `s` has this format (the same language as `pattern`, plus checks a regex cannot
    /// express, such as the USCI check character).
    public func accepts(_ s: String) -> Bool {
        var copy = s
        return copy.withUTF8 { accepts(s, utf8: $0) }
    }

    private func accepts(_ s: String, utf8 u: UnsafeBufferPointer<UInt8>) -> Bool {
        func all(_ range: Range<Int>, _ ok: (UInt8) -> Bool) -> Bool { range.allSatisfy { ok(u[$0]) } }
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func lowerHex(_ c: UInt8) -> Bool { digit(c) || (c >= 0x61 && c <= 0x66) }
        func alnum(_ c: UInt8) -> Bool { digit(c) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        func number(_ a: Int, _ b: Int) -> Int? { all(a..<b, digit) ? Int(String(decoding: u[a..<b], as: UTF8.self)) : nil }
        func validDate(_ at: Int) -> Bool {
            guard u.count >= at + 10, u[at + 4] == 0x2D, u[at + 7] == 0x2D, number(at, at + 4) != nil,
                  let m = number(at + 5, at + 7), let d = number(at + 8, at + 10) else { return false }
            return (1...12).contains(m) && (1...31).contains(d)
        }
        switch self {
        case let .text(maxLength):
            return s.unicodeScalars.count <= maxLength && !s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        case .recordID: return u.count == 32 && all(0..<32, lowerHex)
        case .usci: return OrganizationCode.isValid(utf8: u)
        case .date: return u.count == 10 && validDate(0)
        case .dateTime:
            guard u.count >= 20, validDate(0), u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A,
                  let h = number(11, 13), let mi = number(14, 16), let se = number(17, 19), h < 24, mi < 60, se < 60 else { return false }
            var at = 19
            if u[at] == 0x2E {
                let start = at + 1
                at = start
                while at < u.count, digit(u[at]) { at += 1 }
                guard (1...9).contains(at - start) else { return false }
            }
            if at == u.count - 1 { return u[at] == 0x5A }
            guard u.count - at == 6, u[at] == 0x2B || u[at] == 0x2D, u[at + 3] == 0x3A,
                  let oh = number(at + 1, at + 3), let om = number(at + 4, at + 6) else { return false }
            return oh < 24 && om < 60
        case .digestHex: return u.count == 64 && all(0..<64, lowerHex)
        case .hmac: return u.count == 43 && all(0..<43) { alnum($0) || $0 == 0x5F || $0 == 0x2D }
        case .licence: return (4...32).contains(u.count) && all(0..<u.count) { alnum($0) || $0 == 0x2D }
        case .languageTag:
            let parts = s.split(separator: "-", omittingEmptySubsequences: false)
            guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLowercase }),
                  parts.count <= 3 else { return false }
            var rest = parts.dropFirst()
            if let script = rest.first, script.count == 4 {
                guard script.first!.isASCII, script.first!.isUppercase, script.dropFirst().allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
                rest = rest.dropFirst()
            }
            if let region = rest.first {
                let ok = (region.count == 2 && region.allSatisfy { $0.isASCII && $0.isUppercase })
                    || (region.count == 3 && region.allSatisfy { $0.isASCII && $0.isNumber })
                guard ok else { return false }
                rest = rest.dropFirst()
            }
            return rest.isEmpty
        case .keyID: return (1...64).contains(u.count) && all(0..<u.count) { alnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
        case .multibaseKey:
            return u.count == 48 && s.hasPrefix("z6Mk") && all(4..<48) { Base58.digitValue($0) != nil }
        case .maskedName:
            let scalars = Array(s.unicodeScalars)
            guard (2...4).contains(scalars.count), scalars[0] != "*", scalars[0].value >= 0x20 else { return false }
            return scalars.dropFirst().allSatisfy { $0 == "*" }
        }
    }
}

/// Why a value does not fit its schema: the JSON path and what was expected.
public struct SchemaError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let expected: String
    public var code: String { "schema_violation" }
    public var description: String { "\(path): expected \(expected)" }
}

extension Schema {
    /// Checks `value` against the schema; throws the first violation with its path.
    public func validate(_ value: JSONValue, at path: String = "$") throws(SchemaError) {
        try check(value) { path }
    }

    /// `path` is only called to report a violation: building paths for values that fit would
    /// cost more than checking them.
    private func check(_ value: JSONValue, path: () -> String) throws(SchemaError) {
        switch (self, value) {
        case let (.string(format), .string(s)):
            guard format.accepts(s) else { throw SchemaError(path: path(), expected: "a string of format \(format)") }
        case let (.enumeration(options), .string(s)):
            guard options.contains(s) else { throw SchemaError(path: path(), expected: "one of \(options.joined(separator: ", "))") }
        case let (.integer(lo, hi), .integer(i)):
            guard i >= lo, i <= hi else { throw SchemaError(path: path(), expected: "an integer in \(lo)…\(hi)") }
        case (.boolean, .bool):
            return
        case let (.array(item, lo, hi), .array(elements)):
            guard elements.count >= lo, elements.count <= hi else {
                throw SchemaError(path: path(), expected: "\(lo)…\(hi) items")
            }
            for (i, e) in elements.enumerated() { try item.check(e) { "\(path())[\(i)]" } }
        case let (.object(fields), .object(members)):
            // One pass in the members' order. If anything is wrong, the error reported is the
            // first in the schema's order (fields, then unknown members), as it always was.
            var requiredSeen = 0
            var fits = true
            for (key, member) in members {
                guard let field = fields.first(where: { $0.name == key }), (try? field.schema.check(member, path: path)) != nil else {
                    fits = false
                    break
                }
                if field.required { requiredSeen += 1 }
            }
            if fits && requiredSeen == fields.count(where: \.required) { return }
            for field in fields {
                if let v = members[field.name] {
                    try field.schema.check(v) { "\(path()).\(field.name)" }
                } else if field.required {
                    throw SchemaError(path: "\(path()).\(field.name)", expected: "a required member")
                }
            }
            for (key, _) in members where !fields.contains(where: { $0.name == key }) {
                throw SchemaError(path: "\(path()).\(key)", expected: "no such member")
            }
        case let (.oneOf(options), _):
            let matches = options.filter { (try? $0.check(value, path: path)) != nil }.count
            guard matches == 1 else { throw SchemaError(path: path(), expected: "exactly one of \(options.count) shapes") }
        case (.anyObject, .object):
            return
        default:
            throw SchemaError(path: path(), expected: typeName)
        }
    }

    private var typeName: String {
        switch self {
        case .string, .enumeration: "a string"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .array: "an array"
        case .object, .anyObject: "an object"
        case .oneOf: "one of several shapes"
        }
    }

    /// This schema as a JSON Schema (draft 2020-12) value.
    public var jsonSchema: JSONValue {
        switch self {
        case let .string(format):
            var o: JSONObject = ["type": .string("string"), "pattern": .string(format.pattern)]
            if let n = format.maxLength { o["maxLength"] = .integer(Int64(n)) }
            return .object(o)
        case let .enumeration(options):
            return .object(["type": .string("string"), "enum": .array(options.map(JSONValue.string))])
        case let .integer(lo, hi):
            return .object(["type": .string("integer"), "minimum": .integer(lo), "maximum": .integer(hi)])
        case .boolean:
            return .object(["type": .string("boolean")])
        case let .array(item, lo, hi):
            return .object(["type": .string("array"), "items": item.jsonSchema,
                            "minItems": .integer(Int64(lo)), "maxItems": .integer(Int64(hi))])
        case let .object(fields):
            return .object([
                "type": .string("object"),
                "properties": .object(JSONObject(uniqueKeysWithValues: fields.map { ($0.name, $0.schema.jsonSchema) })),
                "required": .array(fields.filter(\.required).map { .string($0.name) }),
                "additionalProperties": .bool(false),
            ])
        case let .oneOf(options):
            return .object(["oneOf": .array(options.map(\.jsonSchema))])
        case .anyObject:
            return .object(["type": .string("object")])
        }
    }
}
