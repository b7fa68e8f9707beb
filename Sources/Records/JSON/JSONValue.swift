// A JSON value as records use it. Objects are unordered (canonical order is decided by JCS at
// serialisation); integers and non-integers are told apart because records allow integers only.

/// A parsed JSON value (RFC 8259).
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number (records reject these; JCS still canonicalises them).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, if this is one.
    public var string: String? { if case let .string(s) = self { s } else { nil } }
    /// The integer, if this is one.
    public var integer: Int64? { if case let .integer(i) = self { i } else { nil } }
    /// The object's members, if this is an object.
    public var object: [String: JSONValue]? { if case let .object(o) = self { o } else { nil } }
    /// The elements, if this is an array.
    public var array: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case let .bool(b) = self { b } else { nil } }

    /// Member `key` of an object (nil for non-objects or absent keys).
    public subscript(key: String) -> JSONValue? { object?[key] }
}
