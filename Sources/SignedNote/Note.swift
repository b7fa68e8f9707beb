// C2SP signed notes: a text ending in a newline, a blank line, then one or more signature lines.
// Parsing is strict and bounded; verification follows signed-note §Signatures to the letter.

/// A signed note (c2sp.org/signed-note): text plus signature lines, not yet verified.
///
/// The text MUST be ignored until `verify(keys:)` has returned (signed-note, introduction).
public struct Note: Hashable, Sendable, CustomStringConvertible {
    /// The largest note accepted, in bytes (signed-note §Format asks verifiers for a limit).
    public static let maxBytes = 128 * 1024
    /// The most signature lines accepted (signed-note §Format: at least 16 MUST be accepted).
    public static let maxSignatures = 64

    /// The note text, final newline included, separating blank line excluded.
    public let text: String
    /// The signature lines, in order.
    public let signatures: [NoteSignature]

    /// A note from its text and signature lines. Throws `malformedNote` if the text does not end in
    /// a newline or holds a control character or there are no signatures, `duplicateSignature`,
    /// `tooManySignatures` or `noteTooLarge` when those limits are broken.
    public init(text: String, signatures: [NoteSignature]) throws {
        try Note.checkText(text)
        guard !signatures.isEmpty else { throw NoteError.malformedNote("no signature lines") }
        guard signatures.count <= Note.maxSignatures else { throw NoteError.tooManySignatures(count: signatures.count) }
        try Note.checkDistinct(signatures)
        let size = text.utf8.count + 1 + signatures.reduce(0) { $0 + $1.line.utf8.count }
        guard size <= Note.maxBytes else { throw NoteError.noteTooLarge(bytes: size) }
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note (signed-note §Format). Throws `noteTooLarge`, `tooManySignatures`,
    /// `duplicateSignature` or `malformedNote` (naming the offending line).
    public init(parsing note: String) throws {
        guard note.utf8.count <= Note.maxBytes else { throw NoteError.noteTooLarge(bytes: note.utf8.count) }
        try self.init(parsingValidUTF8: Array(note.utf8))
    }

    /// Parses a signed note from bytes, which must be valid UTF-8 (signed-note §Format).
    public init<Bytes: Collection>(parsing bytes: Bytes) throws where Bytes.Element == UInt8 {
        guard bytes.count <= Note.maxBytes else { throw NoteError.noteTooLarge(bytes: bytes.count) }
        let input = Array(bytes)
        // Decoding replaces each invalid sequence with U+FFFD, so valid UTF-8 is exactly what survives unchanged.
        guard Array(String(decoding: input, as: UTF8.self).utf8) == input else {
            throw NoteError.malformedNote("note is not valid UTF-8")
        }
        try self.init(parsingValidUTF8: input)
    }

    private init(parsingValidUTF8 bytes: [UInt8]) throws {
        guard bytes.count <= Note.maxBytes else { throw NoteError.noteTooLarge(bytes: bytes.count) }
        let newline = UInt8(ascii: "\n")
        if let bad = bytes.firstIndex(where: { $0 < 0x20 && $0 != newline }) {
            throw NoteError.malformedNote("control character 0x\(hex2(bytes[bad])) at byte \(bad)")
        }
        // The text is separated from the signatures by the last empty line (signed-note §Format).
        guard let split = lastBlankLine(bytes) else {
            throw NoteError.malformedNote("no blank line between the text and the signature lines")
        }
        let text = bytes[..<(split + 1)]
        let block = bytes[(split + 2)...]
        guard let last = block.last else { throw NoteError.malformedNote("no signature lines after the blank line") }
        guard last == newline else {
            throw NoteError.malformedNote("the last signature line does not end in a newline")
        }
        let lines = block.dropLast().split(separator: newline, omittingEmptySubsequences: false)
        guard lines.count <= Note.maxSignatures else { throw NoteError.tooManySignatures(count: lines.count) }
        let signatures = try lines.map { try NoteSignature(parsingLine: String(decoding: $0, as: UTF8.self)) }
        try Note.checkDistinct(signatures)
        self.text = String(decoding: text, as: UTF8.self)
        self.signatures = signatures
    }

    /// The exact bytes of the note: text, blank line, signature lines.
    public var formatted: String {
        text + "\n" + signatures.map(\.line).joined()
    }

    /// The note as text.
    public var description: String { formatted }

    /// Signs `text` with each key (Ed25519, type 0x01) and returns the note.
    public static func sign(text: String, with keys: [NoteSigningKey]) throws -> Note {
        try Note(text: text, signatures: keys.map { try $0.signature(for: text) })
    }

    /// This note with `more` signature lines appended (a witness or validator adding its own).
    /// Throws `duplicateSignature` if a line's key name and ID are already present.
    public func adding(_ more: [NoteSignature]) throws -> Note {
        try Note(text: text, signatures: signatures + more)
    }

    /// Verifies the note against known keys and returns those whose signatures verified, in the
    /// order of `keys`.
    ///
    /// Per signed-note §Signatures: lines whose key name or ID differ from every known key are
    /// ignored; a line whose name and ID match a known key MUST verify, or the whole note is
    /// rejected (`signatureInvalid`); if no known key's signature verified, `noVerifiedSignature`.
    /// Type-0x04 keys verify `cosignature/v1` signatures (tlog-cosignature).
    public func verify(keys: [NoteVerifierKey]) throws -> [NoteVerifierKey] {
        let verified = try verifiedKeys(among: keys)
        guard !verified.isEmpty else {
            let names = keys.map { "\($0.name)+\(hex8($0.keyID))" }.joined(separator: ", ")
            throw NoteError.noVerifiedSignature(
                "the note carries no signature from a known key (\(names.isEmpty ? "none given" : names))")
        }
        return verified
    }

    /// The known keys whose signatures verified, possibly none. Throws `signatureInvalid` for a
    /// known key's line that does not verify.
    func verifiedKeys(among keys: [NoteVerifierKey]) throws -> [NoteVerifierKey] {
        var verified = Array(repeating: false, count: keys.count)
        for line in signatures {
            let candidates = keys.indices.filter { line.isFrom(keys[$0]) }
            if candidates.isEmpty { continue }  // unknown key: ignored
            // Name and ID identify a key; if the caller lists colliding keys, one of them must verify.
            let good = candidates.filter { keys[$0].isValidSignature(line.signature[...], text: text) }
            guard !good.isEmpty else { throw NoteError.signatureInvalid(keyName: line.keyName, keyID: line.keyID) }
            for i in good { verified[i] = true }
        }
        var seen = Set<NoteVerifierKey>()
        return keys.indices.filter { verified[$0] }.map { keys[$0] }.filter { seen.insert($0).inserted }
    }

    /// Note text rules (signed-note §Format): ends in a newline, no ASCII control characters but newline.
    static func checkText(_ text: String) throws {
        guard text.utf8.last == UInt8(ascii: "\n") else {
            throw NoteError.malformedNote("the text does not end in a newline")
        }
        if let bad = text.firstControlCharacter {
            throw NoteError.malformedNote("control character 0x\(hex2(bad)) in the text")
        }
    }

    /// No two lines with the same key name and key ID.
    private static func checkDistinct(_ signatures: [NoteSignature]) throws {
        var seen = Set<[UInt8]>()
        for s in signatures {
            let id: [UInt8] = [
                UInt8(s.keyID >> 24), UInt8(s.keyID >> 16 & 0xFF), UInt8(s.keyID >> 8 & 0xFF), UInt8(s.keyID & 0xFF),
            ]
            guard seen.insert(id + Array(s.keyName.utf8)).inserted else {
                throw NoteError.duplicateSignature(keyName: s.keyName, keyID: s.keyID)
            }
        }
    }

    /// Notes are equal when their bytes are.
    public static func == (a: Note, b: Note) -> Bool {
        a.text.sameBytes(as: b.text) && a.signatures == b.signatures
    }

    /// Hashes the text's bytes and the signatures.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(text.utf8))
        hasher.combine(signatures)
    }
}

/// The index of the first "\n" of the last "\n\n" in `bytes`, or nil.
private func lastBlankLine(_ bytes: [UInt8]) -> Int? {
    var i = bytes.count - 2
    while i >= 0 {
        if bytes[i] == UInt8(ascii: "\n") && bytes[i + 1] == UInt8(ascii: "\n") { return i }
        i -= 1
    }
    return nil
}
