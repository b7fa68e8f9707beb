// C2SP tlog-proof@v1: an offline-verifiable proof that an entry is in a log (index, inclusion proof,
// (co)signed checkpoint), checked against a tlog-policy. Cinnabar's receipts carry one (DESIGN.md §2.5).
import CinnabarCrypto
import MerkleLog

/// A transparency log proof (c2sp.org/tlog-proof@v1 §Format).
public struct TlogProof: Hashable, Sendable, CustomStringConvertible {
    /// The first line of every proof.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// The most inclusion-proof hashes: a tree of at most 2^64 leaves has paths of at most 64.
    public static let maxHashes = 64
    /// The largest header (everything before the checkpoint) accepted, in bytes; bounds `extra`.
    public static let maxHeaderBytes = 16 * 1024

    /// Opaque, unauthenticated extra data (the `extra` line), or nil when the line is absent.
    public let extra: [UInt8]?
    /// The zero-based index of the entry in the log.
    public let index: UInt64
    /// The inclusion proof, from the leaf's sibling up to the root's child (RFC 9162 §2.1.3).
    public let hashes: [Hash]
    /// The checkpoint note, verbatim, with its signatures. Not verified until `verify`.
    public let note: Note
    /// The checkpoint in `note`, parsed but not verified.
    public let checkpoint: Checkpoint

    /// A proof from its parts. Empty `extra` is treated as absent (no `extra` line is written).
    /// Throws `malformedCheckpoint` if the note text is not a checkpoint, `malformedProof` if there
    /// are more than `maxHashes` hashes or the extra data is too long.
    public init(extra: [UInt8]? = nil, index: UInt64, hashes: [Hash], note: Note) throws {
        guard hashes.count <= TlogProof.maxHashes else {
            throw NoteError.malformedProof("\(hashes.count) inclusion-proof hashes, at most \(TlogProof.maxHashes)")
        }
        self.extra = extra?.isEmpty == false ? extra : nil
        self.index = index
        self.hashes = hashes
        self.note = note
        self.checkpoint = try Checkpoint(parsing: note.text)
        let headerBytes = formatted.utf8.count - note.formatted.utf8.count
        guard headerBytes <= TlogProof.maxHeaderBytes else {
            throw NoteError.malformedProof("header is \(headerBytes) bytes, more than \(TlogProof.maxHeaderBytes)")
        }
    }

    /// Parses a proof: the header line, an optional `extra <base64>` line, `index <N>`, zero or
    /// more base64 hash lines, an empty line, then a checkpoint note. Throws `malformedProof`
    /// naming the offending line, or the note's or checkpoint's own parse error.
    public init(parsing text: String) throws {
        let limit = TlogProof.maxHeaderBytes + 2 + Note.maxBytes
        guard text.utf8.count <= limit else {
            throw NoteError.malformedProof("proof is \(text.utf8.count) bytes, more than \(limit)")
        }
        let bytes = Array(text.utf8)
        // The header lines are all non-empty, so the first empty line ends them.
        guard let split = firstBlankLine(bytes, limit: TlogProof.maxHeaderBytes) else {
            throw NoteError.malformedProof(
                "no empty line before the checkpoint within the first \(TlogProof.maxHeaderBytes) bytes")
        }
        let lines = fields(of: String(decoding: bytes[..<split], as: UTF8.self), separatedBy: "\n")
        guard lines[0].sameBytes(as: TlogProof.header) else {
            throw NoteError.malformedProof("first line \(quoted(lines[0])) is not \(TlogProof.header)")
        }
        var next = 1
        var extra: [UInt8]?
        if next < lines.count, lines[next].utf8.starts(with: "extra ".utf8) {
            let data = lines[next].utf8.dropFirst(6)
            guard let decoded = Base64.decode(String(decoding: data, as: UTF8.self)), !decoded.isEmpty else {
                throw NoteError.malformedProof(
                    "line 2 \(quoted(lines[next])) is not extra followed by non-empty base64")
            }
            extra = decoded
            next += 1
        }
        guard next < lines.count, lines[next].utf8.starts(with: "index ".utf8),
            let index = parseDecimal(String(decoding: lines[next].utf8.dropFirst(6), as: UTF8.self))
        else {
            let found = next < lines.count ? quoted(lines[next]) : "nothing"
            throw NoteError.malformedProof(
                "line \(next + 1) should be index and a decimal without leading zeroes, found \(found)")
        }
        next += 1
        var hashes: [Hash] = []
        for (i, line) in lines[next...].enumerated() {
            guard hashes.count < TlogProof.maxHashes else {
                throw NoteError.malformedProof("more than \(TlogProof.maxHashes) inclusion-proof hashes")
            }
            guard let hash = Hash(base64: line) else {
                throw NoteError.malformedProof(
                    "line \(next + i + 1) \(quoted(line)) is not the base64 of a 32-byte hash")
            }
            hashes.append(hash)
        }
        let note = try Note(parsing: bytes[(split + 2)...])
        try self.init(extra: extra, index: index, hashes: hashes, note: note)
    }

    /// The proof text, byte for byte as `init(parsing:)` reads it.
    public var formatted: String {
        TlogProof.text(extra: extra, index: index, base64Hashes: hashes.map(\.base64), signedNote: note.formatted)
    }

    /// The proof text from its parts already encoded (a receipt has the hashes' base64 and the
    /// signed note's text at hand): what `formatted` gives for the same proof.
    public static func text(extra: [UInt8]? = nil, index: UInt64, base64Hashes: [String], signedNote: String) -> String {
        var out = TlogProof.header + "\n"
        if let extra, !extra.isEmpty { out += "extra \(Base64.encode(extra))\n" }
        out += "index \(index)\n"
        for hash in base64Hashes { out += hash + "\n" }
        return out + "\n" + signedNote
    }

    /// The proof text.
    public var description: String { formatted }

    /// Verifies that the leaf with hash `leafHash` (RFC 6962 `leafHash` of the entry) is at `index`
    /// in a checkpoint that satisfies `policy`, and returns that checkpoint.
    ///
    /// Throws what `TlogPolicy.verify(note:)` throws, or `inclusionProofInvalid`.
    @discardableResult
    public func verify(leafHash: Hash, policy: TlogPolicy) throws -> Checkpoint {
        let checkpoint = try policy.verify(note: note)
        do {
            try InclusionProof.verify(
                leafHash: leafHash, index: index, size: checkpoint.size, proof: hashes,
                root: checkpoint.root)
        } catch let error as ProofError {
            throw NoteError.inclusionProofInvalid(error)
        }
        return checkpoint
    }

    /// Proofs are equal when their texts are the same bytes.
    public static func == (a: TlogProof, b: TlogProof) -> Bool {
        a.formatted.sameBytes(as: b.formatted)
    }

    /// Hashes the text's bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(formatted.utf8))
    }
}
