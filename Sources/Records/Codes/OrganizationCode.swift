// The unified social credit code (统一社会信用代码, GB 32100-2015) that names every issuer, writer
// and organisation in the ledger (domain.md §2.1): 18 characters, the last a check character.

/// An 18-character unified social credit code with a correct GB 32100 check character, such as
/// `91350100M000100Y43`. Only the check is verified, not that the code was ever issued.
public struct OrganizationCode: Hashable, Sendable {
    /// The number of characters in a code.
    public static let length = 18

    /// The 18 characters.
    public let value: String

    /// Parses a code exactly as it is stored: 18 characters of the GB 32100 alphabet (upper case;
    /// no I, O, S, V, Z), the last the check character over the first 17. Nothing is normalised,
    /// so every code has one spelling.
    public init(parsing input: String) throws(OrganizationCodeError) {
        let characters = Array(input)
        guard characters.count == Self.length else {
            throw .invalid("has \(characters.count) characters, not \(Self.length)")
        }
        if let (position, character) = characters.enumerated().first(where: { GB32100.value(of: $1) == nil }) {
            throw .invalid("character \(position + 1) (\(character)) is not in the GB 32100 alphabet")
        }
        guard GB32100.endsWithCheckCharacter(Array(input.utf8)) else {
            let check = characters[Self.length - 1]
            throw .invalid("check character \(check) does not match the first \(Self.length - 1) characters")
        }
        self.value = input
    }

    /// Whether UTF-8 `code` is a code `init(parsing:)` accepts, without making one (for checking
    /// every organisation code in every record admitted).
    public static func isValid(utf8 code: UnsafeBufferPointer<UInt8>) -> Bool {
        code.count == length && GB32100.endsWithCheckCharacter(code)
    }

    /// The code made of `prefix17` and its check character, for demo and test organisations;
    /// throws if `prefix17` is not 17 characters of the alphabet.
    public static func withCheckCharacter(prefix17: String) throws(OrganizationCodeError) -> OrganizationCode {
        guard prefix17.count == length - 1, let check = GB32100.checkCharacter(for: prefix17) else {
            throw .invalid("a prefix must be \(length - 1) characters of the GB 32100 alphabet")
        }
        return try OrganizationCode(parsing: prefix17 + String(check))
    }
}

/// Why an organisation code was rejected.
public enum OrganizationCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a unified social credit code: wrong length, a character outside the alphabet or a wrong
    /// check character; the payload says which.
    case invalid(String)

    /// A stable code for APIs, logs and tests.
    public var code: String { "org_code_invalid" }

    /// One line for people.
    public var description: String {
        switch self {
        case let .invalid(why): "not a unified social credit code: \(why)"
        }
    }
}
