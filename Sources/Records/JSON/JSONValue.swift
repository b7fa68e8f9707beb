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
    case object(JSONObject)

    /// The string, if this is one.
    public var string: String? { if case let .string(s) = self { s } else { nil } }
    /// The integer, if this is one.
    public var integer: Int64? { if case let .integer(i) = self { i } else { nil } }
    /// The object's members, if this is an object.
    public var object: JSONObject? { if case let .object(o) = self { o } else { nil } }
    /// The elements, if this is an array.
    public var array: [JSONValue]? { if case let .array(a) = self { a } else { nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case let .bool(b) = self { b } else { nil } }

    /// Member `key` of an object (nil for non-objects or absent keys).
    public subscript(key: String) -> JSONValue? { object?[key] }
}

/// The members of a JSON object: a map from names to values, unordered as far as equality goes.
///
/// Kept as one array of members rather than a hash table. Record objects have a handful of
/// members each and are parsed by the thousand per second: a hash table would cost a hash of every
/// name on insert and lookup, and an allocation per object, for lookups a short scan does as fast.
/// Names are compared as `String`s (canonically equivalent names are the same name, as in a
/// `Dictionary`), and each name appears once.
public struct JSONObject: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public typealias Element = (key: String, value: JSONValue)
    private var members: [Element]

    /// An empty object.
    public init() { members = [] }

    /// An object from distinct names (a repeated name is a programmer error, as in `Dictionary`).
    public init(uniqueKeysWithValues pairs: some Sequence<(String, JSONValue)>) {
        members = []
        for (key, value) in pairs {
            precondition(index(of: key) == nil, "JSONObject: member \(key) given twice")
            members.append((key, value))
        }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(uniqueKeysWithValues: elements) }

    /// An object with the members of a dictionary.
    public init(_ dictionary: [String: JSONValue]) { members = dictionary.map { ($0.key, $0.value) } }

    /// Members appended by a caller that has already made sure each name is new (the parser).
    init(distinctMembers: [Element]) { members = distinctMembers }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Element]> { members.makeIterator() }

    private func index(of key: String) -> Int? { members.firstIndex { $0.key == key } }

    /// Up to this many members, searching beats hashing (objects in records have fewer).
    static let searchedMembers = 16

    /// The value of member `key`; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get { index(of: key).map { members[$0].value } }
        set {
            switch (index(of: key), newValue) {
            case let (i?, value?): members[i].value = value
            case let (i?, nil): members.remove(at: i)
            case let (nil, value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }

    /// The members that satisfy `isIncluded`.
    public func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> JSONObject {
        JSONObject(distinctMembers: try members.filter(isIncluded))
    }
}

extension JSONObject: Hashable {
    /// Equal when they have the same names with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.count == b.count else { return false }
        if a.count <= JSONObject.searchedMembers { return a.members.allSatisfy { b[$0.key] == $0.value } }
        let other = Dictionary(b.members, uniquingKeysWith: { first, _ in first })
        return a.members.allSatisfy { other[$0.key] == $0.value }
    }

    /// Independent of member order, as equality is.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        var sum = 0
        for (key, value) in members {
            var h = Hasher()
            h.combine(key)
            h.combine(value)
            sum &+= h.finalize()
        }
        hasher.combine(sum)
    }
}
