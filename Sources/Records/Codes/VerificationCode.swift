// Verification codes (domain.md §6.6, DESIGN.md §2.6): the 16-character capability printed on a
// document — a kind letter, 14 random symbols and a GB 32100 check character — and the forgiving
// parser that turns what people type back into one.
import CinnabarCrypto

/// What a verification code points to; the raw value is the code's first character.
public enum CodeKind: Character, CaseIterable, Sendable {
    /// `N` — 公证: a notarial certificate.
    case notarial = "N"
    /// `F` — 司法鉴定: a forensic appraisal opinion or inspection report.
    case forensic = "F"
    /// `A` — 仲裁: an arbitration award or decision.
    case arbitration = "A"
    /// `Y` — 法律援助: a legal-aid document.
    case legalAid = "Y"
    /// `L` — 律所/律师文书: a letter or document of a law firm or lawyer.
    case lawFirm = "L"
    /// `E` — 存证: an evidence deposit.
    case evidenceDeposit = "E"
    /// `P` — 执业证: a practice certificate.
    case practiceCertificate = "P"
    /// `K` — 案件: a case (一案一码, one code per case).
    case legalCase = "K"

    /// The English name, for display.
    public var englishName: String {
        switch self {
        case .notarial: "Notarial certificate"
        case .forensic: "Forensic appraisal"
        case .arbitration: "Arbitration"
        case .legalAid: "Legal aid"
        case .lawFirm: "Law firm document"
        case .evidenceDeposit: "Evidence deposit"
        case .practiceCertificate: "Practice certificate"
        case .legalCase: "Case"
        }
    }

    /// The Chinese name, for display.
    public var chineseName: String {
        switch self {
        case .notarial: "公证"
        case .forensic: "司法鉴定"
        case .arbitration: "仲裁"
        case .legalAid: "法律援助"
        case .lawFirm: "律所/律师文书"
        case .evidenceDeposit: "存证"
        case .practiceCertificate: "执业证"
        case .legalCase: "案件"
        }
    }

    /// The kind whose letter is the ASCII byte `letter`, if any.
    init?(letter: UInt8) {
        self.init(rawValue: Character(Unicode.Scalar(letter)))
    }

    /// The kind letter as an ASCII byte.
    var letter: UInt8 { rawValue.asciiValue! }
}

/// A 16-character verification code over the GB 32100 alphabet: 1 kind letter, 14 random symbols
/// (14 · log2 31 ≈ 69 bits) and 1 check character. It is a capability: whoever holds it may look
/// the document up, so it is never published, nor its plain hash.
public struct VerificationCode: Hashable, Sendable {
    /// The number of characters in a code.
    public static let length = 16
    /// The number of random symbols, between the kind letter and the check character.
    public static let randomSymbolCount = 14
    /// The most random bytes `generate` will draw before deciding its source is broken. A sound
    /// source rejects a byte with probability 8/256, so needing more than 1,024 never happens.
    static let maxRandomBytes = 1024
    /// Bytes below this bound map to a symbol by `byte % 31`; 248 = 8 · 31, so each symbol has
    /// exactly 8 bytes and the rest are rejected — no modulo bias.
    static let unbiasedByteBound = 248

    /// The 16 characters, without separators: `NK7Q3HXD9PRTWM45`.
    public let value: String

    /// The kind of thing the code points to (its first character).
    public var kind: CodeKind { CodeKind(rawValue: value.first!)! }

    /// The code in groups of four for people: `NK7Q-3HXD-9PRT-WM45`.
    public var grouped: String {
        let characters = Array(value)
        return stride(from: 0, to: Self.length, by: 4).map { String(characters[$0..<$0 + 4]) }
            .joined(separator: "-")
    }

    /// A code made of 16 symbols already checked to be valid.
    private init(symbols: [UInt8]) {
        self.value = String(decoding: symbols, as: UTF8.self)
    }

    /// A new code of `kind`, with 14 symbols drawn from `random` by rejection sampling: each byte
    /// below 248 gives the symbol of value `byte % 31`, every other byte is skipped. `random` is
    /// called until 14 symbols are drawn; by default it is libsodium's CSPRNG. Tests inject a
    /// seeded source.
    public static func generate(
        kind: CodeKind, random: () -> [UInt8] = { secureRandomBytes(count: 32) }
    ) -> VerificationCode {
        var symbols: [UInt8] = [kind.letter]
        symbols.reserveCapacity(length)
        var drawnBytes = 0
        while symbols.count < 1 + randomSymbolCount {
            let bytes = random()
            drawnBytes += bytes.count
            precondition(!bytes.isEmpty && drawnBytes <= maxRandomBytes,
                         "the random source gave \(drawnBytes) bytes without 14 usable ones")
            for byte in bytes where Int(byte) < unbiasedByteBound && symbols.count < 1 + randomSymbolCount {
                symbols.append(GB32100.symbols[Int(byte) % GB32100.modulus])
            }
        }
        symbols.append(GB32100.symbols[GB32100.checkValue(of: symbols)!])
        return VerificationCode(symbols: symbols)
    }

    /// Parses a code as people type or paste it, normalising first (domain.md §6.6): full-width
    /// forms become ASCII (`Ａ` → `A`, `０` → `0`); white space, dashes of every kind (`-`, `–`,
    /// `—`, `－`…) and invisible characters are dropped wherever they are; Latin letters are upper-cased;
    /// `O` is read as `0` and `I` as `1`. Then it rejects, in this order, a character outside the
    /// alphabet (`S`, `V`, `Z` with a suggestion), a length other than 16, an unknown kind letter
    /// and a wrong check character.
    public init(parsing input: String) throws(VerificationCodeError) {
        var symbols: [UInt8] = []
        symbols.reserveCapacity(Self.length)
        for scalar in input.unicodeScalars {
            guard let byte = try Self.normalised(scalar, position: symbols.count + 1) else { continue }
            symbols.append(byte)
        }
        guard symbols.count == Self.length else { throw .wrongLength(symbols.count) }
        guard CodeKind(letter: symbols[0]) != nil else {
            throw .unknownKind(Character(Unicode.Scalar(symbols[0])))
        }
        guard GB32100.endsWithCheckCharacter(symbols) else { throw .badCheckCharacter }
        self.init(symbols: symbols)
    }

    /// The QR payload for this code: the upper-case URL `HTTPS://<HOST>/V/<16 characters>`, so
    /// that the whole URL is in the QR alphanumeric set and encodes at 5.5 bits per character.
    /// `host` is an ASCII DNS name (letters, digits, `-`, `.`); it is upper-cased here.
    public func qrPayload(host: String) -> String {
        "HTTPS://\(host.uppercased())/V/\(value)"
    }

    /// The alphabet byte that `scalar` stands for, nil if it is to be dropped, or an error naming
    /// it as the `position`-th character of the code.
    private static func normalised(_ scalar: Unicode.Scalar, position: Int) throws(VerificationCodeError) -> UInt8? {
        var scalar = scalar
        // Full-width ASCII forms U+FF01…U+FF5E sit at a fixed offset from U+0021…U+007E.
        if (0xFF01...0xFF5E).contains(scalar.value) { scalar = Unicode.Scalar(scalar.value - 0xFEE0)! }
        let properties = scalar.properties
        if properties.isWhitespace || properties.isDash || properties.isDefaultIgnorableCodePoint { return nil }
        guard scalar.isASCII, var byte = UInt8(exactly: scalar.value) else {
            throw .badCharacter(Character(scalar), position: position)
        }
        if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) { byte -= 0x20 }
        switch byte {
        case UInt8(ascii: "O"): return UInt8(ascii: "0")
        case UInt8(ascii: "I"): return UInt8(ascii: "1")
        default:
            guard GB32100.value(ofByte: byte) != nil else {
                throw .badCharacter(Character(Unicode.Scalar(byte)), position: position)
            }
            return byte
        }
    }
}

/// Why a typed or scanned verification code was rejected. `code` is stable and machine-readable;
/// `description` is one line for people.
public enum VerificationCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// After normalisation the input does not have 16 characters; the payload is how many it has.
    case wrongLength(Int)
    /// The character at `position` (from 1, counting only the code's own characters) is not in
    /// the alphabet.
    case badCharacter(Character, position: Int)
    /// The first character is in the alphabet but is not one of the kind letters.
    case unknownKind(Character)
    /// The check character does not match the first 15: a character was mistyped or two swapped.
    case badCheckCharacter

    /// A stable code for APIs, logs and tests.
    public var code: String {
        switch self {
        case .wrongLength: "code_wrong_length"
        case .badCharacter: "code_bad_character"
        case .unknownKind: "code_unknown_kind"
        case .badCheckCharacter: "code_bad_check_character"
        }
    }

    /// For `S`, `V` and `Z`, which never occur in a code, the symbol most likely meant (`5`, `U`,
    /// `2`); nil otherwise.
    public var suggestion: Character? {
        guard case let .badCharacter(character, _) = self else { return nil }
        switch character {
        case "S": return "5"
        case "V": return "U"
        case "Z": return "2"
        default: return nil
        }
    }

    /// One line for people.
    public var description: String {
        switch self {
        case let .wrongLength(count):
            "a verification code has \(VerificationCode.length) characters, not \(count)"
        case let .badCharacter(character, position):
            if let suggestion {
                "character \(position) is \(character), which never occurs in a verification code:"
                    + " did you mean \(suggestion)?"
            } else {
                "character \(position) is \(Self.shown(character)), which is not allowed in a verification code"
            }
        case let .unknownKind(letter):
            "\(letter) is not a kind letter (\(CodeKind.allCases.map { String($0.rawValue) }.joined(separator: ", ")))"
        case .badCheckCharacter:
            "the check character does not match: a character was mistyped or two were swapped"
        }
    }

    /// A character as an error message shows it: quoted, with its code points when it is not
    /// printable ASCII (a Cyrillic А looks like A), and only as code points when it is a control.
    private static func shown(_ character: Character) -> String {
        let codePoints = character.unicodeScalars
            .map { "U+" + String($0.value, radix: 16, uppercase: true).leftPadded(to: 4) }
            .joined(separator: " ")
        if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return codePoints
        }
        let quoted = "\u{201C}\(character)\u{201D}"
        return character.isASCII ? quoted : "\(quoted) (\(codePoints))"
    }
}

extension String {
    /// The string with `0`s in front up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
