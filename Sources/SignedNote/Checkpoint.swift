// The C2SP tlog-checkpoint note body: origin, tree size and root hash, one per line, then optional
// extension lines. Cinnabar's logs sign three-line checkpoints (DESIGN.md §2.2).
import CinnabarCrypto

/// A transparency-log checkpoint (c2sp.org/tlog-checkpoint §Note text). Parsing is exact, so
/// `text` reproduces the parsed bytes.
public struct Checkpoint: Hashable, Sendable, CustomStringConvertible {
    /// The log's identity, line 1. Non-empty; clients MUST NOT assume it is a URL.
    public let origin: String
    /// The number of leaves in the tree, line 2.
    public let size: UInt64
    /// The RFC 6962 root hash at `size`, line 3.
    public let root: Hash
    /// Opaque, non-empty extension lines after the root (NOT RECOMMENDED; Cinnabar writes none).
    public let extensions: [String]

    /// A checkpoint from its fields. Throws `malformedCheckpoint` if the origin is empty or an
    /// origin or extension line is empty, holds a newline or a control character.
    public init(origin: String, size: UInt64, root: Hash, extensions: [String] = []) throws {
        for (what, line) in [("origin", origin)] + extensions.map({ ("extension line", $0) }) {
            guard !line.isEmpty else { throw NoteError.malformedCheckpoint("empty \(what)") }
            guard !line.utf8.contains(where: { $0 < 0x20 }) else {
                throw NoteError.malformedCheckpoint("\(what) \(quoted(line)) holds a control character")
            }
        }
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// Parses a checkpoint body: at least three non-empty newline-terminated lines, the size an
    /// ASCII decimal without leading zeroes, the root the base64 of 32 bytes.
    public init(parsing text: String) throws {
        guard text.utf8.count <= Note.maxBytes else {
            throw NoteError.malformedCheckpoint("checkpoint is \(text.utf8.count) bytes, more than \(Note.maxBytes)")
        }
        guard text.utf8.last == UInt8(ascii: "\n") else {
            throw NoteError.malformedCheckpoint("text does not end in a newline")
        }
        if let bad = text.firstControlCharacter {
            throw NoteError.malformedCheckpoint("control character 0x\(hex2(bad))")
        }
        let lines = fields(of: String(decoding: text.utf8.dropLast(), as: UTF8.self), separatedBy: "\n")
        guard lines.count >= 3 else {
            throw NoteError.malformedCheckpoint("\(lines.count) line(s); origin, size and root hash are required")
        }
        guard !lines[0].isEmpty else { throw NoteError.malformedCheckpoint("empty origin line") }
        guard let size = parseDecimal(lines[1]) else {
            throw NoteError.malformedCheckpoint("tree size \(quoted(lines[1])) is not a decimal without leading zeroes")
        }
        guard let rootBytes = Base64.decode(lines[2]) else {
            throw NoteError.malformedCheckpoint("root hash \(quoted(lines[2])) is not standard base64")
        }
        guard let root = Hash(bytes: rootBytes) else {
            throw NoteError.malformedCheckpoint("root hash \(quoted(lines[2])) is \(rootBytes.count) bytes, not 32")
        }
        let extensions = Array(lines[3...])
        if let empty = extensions.firstIndex(where: \.isEmpty) {
            throw NoteError.malformedCheckpoint("line \(empty + 4) is empty; extension lines MUST be non-empty")
        }
        try self.init(origin: lines[0], size: size, root: root, extensions: extensions)
    }

    /// The note text: `origin\nsize\nbase64(root)\n` and each extension line with its newline.
    public var text: String {
        ([origin, String(size), root.base64] + extensions).map { $0 + "\n" }.joined()
    }

    /// The note text.
    public var description: String { text }

    /// Checkpoints are equal when their texts are the same bytes.
    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.size == b.size && a.root == b.root && a.text.sameBytes(as: b.text)
    }

    /// Hashes the text's bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(text.utf8))
    }
}
