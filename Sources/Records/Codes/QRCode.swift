// QR codes for verification URLs (domain.md §6.6): libqrencode in alphanumeric mode at error
// correction level Q, drawn as a self-contained SVG (one path, a 4-module quiet zone, no fonts).
import CQRencode

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A QR code symbol (ISO/IEC 18004) holding one alphanumeric-mode segment at error correction
/// level Q (about 25% of the codewords recoverable, so a stamped or creased print still scans), in
/// the smallest version that fits.
public struct QRCode: Hashable, Sendable {
    /// The characters of the QR alphanumeric mode (ISO/IEC 18004): upper-case letters,
    /// digits, space and `$%*+-./:`. It holds none of XML's special characters.
    public static let alphanumericCharacters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    /// Light modules around the symbol on every side, as ISO/IEC 18004 requires.
    public static let quietZoneModules = 4

    /// The encoded text.
    public let text: String
    /// The symbol version, 1–40.
    public let version: Int
    /// Modules per side, without the quiet zone: 17 + 4 · version.
    public let size: Int
    /// Whether each module is dark, row by row from the top left; `size · size` entries.
    public let modules: [Bool]

    /// Encodes `text`, which must be 1 or more characters of `alphanumericCharacters` (lower case
    /// is refused rather than folded: the caller decides the case of its URL).
    public init(alphanumeric text: String) throws(QRCodeError) {
        guard !text.isEmpty else { throw .empty }
        if let (offset, character) = text.enumerated().first(where: { !Self.alphanumericCharacters.contains($1) }) {
            throw .notAlphanumeric(character, position: offset + 1)
        }
        guard let input = QRinput_new2(0, QR_ECLEVEL_Q) else { throw .encoderFailed(errno: errno) }
        defer { QRinput_free(input) }
        let bytes = Array(text.utf8)
        guard let count = Int32(exactly: bytes.count) else { throw .tooLong(characters: bytes.count) }
        guard QRinput_append(input, QR_MODE_AN, count, bytes) == 0 else {
            throw .encoderFailed(errno: errno)
        }
        guard let symbol = QRcode_encodeInput(input) else {
            throw errno == ERANGE ? .tooLong(characters: bytes.count) : .encoderFailed(errno: errno)
        }
        defer { QRcode_free(symbol) }
        let version = Int(symbol.pointee.version)
        let size = Int(symbol.pointee.width)
        precondition(size == 17 + 4 * version, "libqrencode returned a \(size)-module symbol for version \(version)")
        // Bit 0 of each module byte is dark/light; the other bits say which pattern it belongs to.
        let data = UnsafeBufferPointer(start: symbol.pointee.data, count: size * size)
        self.text = text
        self.version = version
        self.size = size
        self.modules = data.map { $0 & 1 == 1 }
    }

    /// Whether the module at `row` and `column` (from 0, top left, quiet zone excluded) is dark.
    public func isDark(row: Int, column: Int) -> Bool {
        precondition((0..<size).contains(row) && (0..<size).contains(column), "module outside the symbol")
        return modules[row * size + column]
    }

    /// The number of dark modules.
    public var darkModuleCount: Int { modules.lazy.filter { $0 }.count }

    /// The symbol as a standalone SVG document, one unit per module: a white square with the quiet
    /// zone, the dark modules as one `<path>` of horizontal runs, and the text as its `<title>`.
    /// No external resources and no fonts, so it renders the same everywhere and embeds in a PDF.
    public var svg: String {
        let side = size + 2 * Self.quietZoneModules
        var path = ""
        for row in 0..<size {
            var column = 0
            while column < size {
                guard isDark(row: row, column: column) else {
                    column += 1
                    continue
                }
                let start = column
                while column < size && isDark(row: row, column: column) { column += 1 }
                let run = column - start
                path += "M\(start + Self.quietZoneModules) \(row + Self.quietZoneModules)h\(run)v1h-\(run)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges">\
            <title>\(text)</title>\
            <rect width="\(side)" height="\(side)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/>\
            </svg>

            """
    }
}

/// Why a text could not be drawn as a QR code.
public enum QRCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is empty.
    case empty
    /// The character at `position` (from 1) is not in the QR alphanumeric set.
    case notAlphanumeric(Character, position: Int)
    /// The text does not fit in a version 40 symbol at level Q.
    case tooLong(characters: Int)
    /// libqrencode failed for another reason (out of memory); `errno` is what it set.
    case encoderFailed(errno: Int32)

    /// A stable code for APIs, logs and tests.
    public var code: String {
        switch self {
        case .empty: "qr_empty"
        case .notAlphanumeric: "qr_not_alphanumeric"
        case .tooLong: "qr_too_long"
        case .encoderFailed: "qr_encoder_failed"
        }
    }

    /// One line for people.
    public var description: String {
        switch self {
        case .empty: "nothing to encode in a QR code"
        case let .notAlphanumeric(character, position):
            "character \(position) (\(character.debugDescription)) is not in the QR alphanumeric set"
        case let .tooLong(count): "\(count) characters do not fit in a QR code at error correction level Q"
        case let .encoderFailed(errno): "libqrencode failed (errno \(errno))"
        }
    }
}
