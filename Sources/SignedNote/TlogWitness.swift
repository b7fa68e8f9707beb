// C2SP tlog-witness `add-checkpoint`: the request a log sends a witness (old size, consistency
// proof, checkpoint note) and the witness's decision, one HTTP status per rule of the spec. Pure:
// the caller keeps the recorded tree heads, makes a new one durable, and only then cosigns.
import CinnabarCrypto
import MerkleLog

/// The size and root hash of a tree: what a witness records for each log it cosigned.
public struct TreeHead: Hashable, Sendable, CustomStringConvertible {
    /// The number of leaves.
    public let size: UInt64
    /// The RFC 6962 root hash at `size`.
    public let root: Hash

    /// A tree head from its parts.
    public init(size: UInt64, root: Hash) {
        self.size = size
        self.root = root
    }

    /// The head of a checkpoint.
    public init(_ checkpoint: Checkpoint) {
        self.init(size: checkpoint.size, root: checkpoint.root)
    }

    /// The empty tree: what a witness holds for a log it never cosigned (tlog-witness: "or zero").
    public static let empty = TreeHead(size: 0, root: RFC6962.emptyRoot)

    /// `size root-base64`.
    public var description: String { "\(size) \(root.base64)" }
}

/// Why a witness refused an `add-checkpoint` request, with the HTTP status tlog-witness assigns.
public enum WitnessRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// The body is not an old-size line, proof lines, an empty line and a checkpoint note (400).
    case malformedRequest(String)
    /// The witness does not know the checkpoint's origin (404).
    case unknownLog(origin: String)
    /// The checkpoint's signatures do not satisfy the log's policy (403).
    case untrustedCheckpoint(NoteError)
    /// The old size is larger than the checkpoint's size (400).
    case oldSizeAboveCheckpoint(old: UInt64, size: UInt64)
    /// The old size is not the size the witness recorded (409, body: the recorded size).
    case oldSizeMismatch(old: UInt64, recorded: UInt64)
    /// The checkpoint has the recorded size but another root hash: a fork (409).
    case rootConflict(size: UInt64)
    /// The consistency proof does not lead from the recorded tree to the checkpoint (422).
    case inconsistent(ProofError)

    /// The HTTP status of tlog-witness §add-checkpoint.
    public var status: Int {
        switch self {
        case .malformedRequest, .oldSizeAboveCheckpoint: 400
        case .unknownLog: 404
        case .untrustedCheckpoint: 403
        case .oldSizeMismatch, .rootConflict: 409
        case .inconsistent: 422
        }
    }

    /// The size the witness recorded, sent as the `text/x.tlog.size` body of a 409.
    public var recordedSize: UInt64? {
        switch self {
        case let .oldSizeMismatch(_, recorded): recorded
        case let .rootConflict(size): size
        default: nil
        }
    }

    /// A stable code for APIs, logs and tests.
    public var code: String {
        switch self {
        case .malformedRequest: "malformed_request"
        case .unknownLog: "unknown_log"
        case .untrustedCheckpoint: "untrusted_checkpoint"
        case .oldSizeAboveCheckpoint: "old_size_above_checkpoint"
        case .oldSizeMismatch: "old_size_mismatch"
        case .rootConflict: "root_conflict"
        case .inconsistent: "inconsistent"
        }
    }

    /// One line for people.
    public var description: String {
        switch self {
        case let .malformedRequest(why): "malformed add-checkpoint request: \(why)"
        case let .unknownLog(origin): "this witness does not know the log \(quoted(origin))"
        case let .untrustedCheckpoint(error): "the checkpoint does not satisfy the log's policy: \(error)"
        case let .oldSizeAboveCheckpoint(old, size): "old size \(old) is larger than the checkpoint's size \(size)"
        case let .oldSizeMismatch(old, recorded):
            "old size \(old) is not the size of the latest checkpoint this witness cosigned, \(recorded)"
        case let .rootConflict(size): "this witness cosigned a different root hash for size \(size)"
        case let .inconsistent(error): "the consistency proof does not verify: \(error)"
        }
    }
}

/// The body of `POST <submission prefix>/add-checkpoint` (tlog-witness §add-checkpoint): `old
/// <size>`, at most 63 base64 consistency-proof hashes, an empty line, then the checkpoint note.
public struct AddCheckpointRequest: Hashable, Sendable, CustomStringConvertible {
    /// The most consistency-proof lines a client may send.
    public static let maxProofHashes = 63
    /// The longest header: `old ` and 20 digits, 63 hash lines of 44 characters, each with its newline.
    public static let maxHeaderBytes = 25 + maxProofHashes * 45
    /// The largest request body: the header, the empty line and the largest note.
    public static let maxBytes = maxHeaderBytes + 1 + Note.maxBytes

    /// The size of the checkpoint the client believes the witness cosigned last (0 for none).
    public let oldSize: UInt64
    /// The RFC 9162 consistency proof from `oldSize` to the checkpoint's size.
    public let proof: [Hash]
    /// The checkpoint note, with the log's signatures. Not verified here.
    public let note: Note
    /// The checkpoint in `note`, parsed but not verified.
    public let checkpoint: Checkpoint

    /// A request from its parts. Throws `malformedRequest` if the note is not a checkpoint, the
    /// proof has more than 63 hashes, or a proof is given for old size 0 (the spec forbids it).
    public init(oldSize: UInt64, proof: [Hash], note: Note) throws {
        guard proof.count <= AddCheckpointRequest.maxProofHashes else {
            throw WitnessRefusal.malformedRequest(
                "\(proof.count) consistency-proof lines, at most \(AddCheckpointRequest.maxProofHashes)")
        }
        guard oldSize > 0 || proof.isEmpty else {
            throw WitnessRefusal.malformedRequest("the consistency proof must be empty when the old size is 0")
        }
        do { checkpoint = try Checkpoint(parsing: note.text) } catch let error as NoteError {
            throw WitnessRefusal.malformedRequest(error.description)
        }
        self.oldSize = oldSize
        self.proof = proof
        self.note = note
    }

    /// Parses a request body. Throws `malformedRequest` naming the offending line, or the note's
    /// or checkpoint's own parse error.
    public init<Bytes: Collection>(parsing body: Bytes) throws where Bytes.Element == UInt8 {
        guard body.count <= AddCheckpointRequest.maxBytes else {
            throw WitnessRefusal.malformedRequest("body is \(body.count) bytes, more than \(AddCheckpointRequest.maxBytes)")
        }
        let bytes = Array(body)
        guard let split = firstBlankLine(bytes, limit: AddCheckpointRequest.maxHeaderBytes) else {
            throw WitnessRefusal.malformedRequest(
                "no empty line before the checkpoint within the first \(AddCheckpointRequest.maxHeaderBytes) bytes")
        }
        let lines = fields(of: String(decoding: bytes[..<split], as: UTF8.self), separatedBy: "\n")
        guard lines[0].utf8.starts(with: "old ".utf8),
            let oldSize = parseDecimal(String(decoding: lines[0].utf8.dropFirst(4), as: UTF8.self))
        else {
            throw WitnessRefusal.malformedRequest(
                "first line \(quoted(lines[0])) is not old and a decimal without leading zeroes")
        }
        var proof: [Hash] = []
        for (i, line) in lines.dropFirst().enumerated() {
            guard proof.count < AddCheckpointRequest.maxProofHashes else {
                throw WitnessRefusal.malformedRequest(
                    "more than \(AddCheckpointRequest.maxProofHashes) consistency-proof lines")
            }
            guard let hash = Hash(base64: line) else {
                throw WitnessRefusal.malformedRequest("line \(i + 2) \(quoted(line)) is not the base64 of a 32-byte hash")
            }
            proof.append(hash)
        }
        let note: Note
        do { note = try Note(parsing: bytes[(split + 2)...]) } catch let error as NoteError {
            throw WitnessRefusal.malformedRequest(error.description)
        }
        try self.init(oldSize: oldSize, proof: proof, note: note)
    }

    /// The body, byte for byte as `init(parsing:)` reads it.
    public var formatted: String {
        "old \(oldSize)\n" + proof.map { $0.base64 + "\n" }.joined() + "\n" + note.formatted
    }

    /// The body.
    public var description: String { formatted }
}

/// A tlog-witness (c2sp.org/tlog-witness): its cosigning key and, for each log it knows by
/// origin, the tlog-policy the log's checkpoints must satisfy — for a Cinnabar ledger, its
/// validators with a quorum of ⌊2n/3⌋+1 (`cinnabar policy`).
public struct TlogWitness: Sendable {
    /// The media type of a 409 answer's body: the recorded size in decimal and a newline.
    public static let sizeContentType = "text/x.tlog.size"

    /// The key that signs `cosignature/v1` lines; its name is the witness's name.
    public let key: NoteSigningKey
    private let policies: [[UInt8]: TlogPolicy]

    /// A witness with its key and the policy of each known log, by origin.
    public init(key: NoteSigningKey, logs: [(origin: String, policy: TlogPolicy)]) {
        self.key = key
        var policies: [[UInt8]: TlogPolicy] = [:]
        for log in logs { policies[Array(log.origin.utf8)] = log.policy }
        self.policies = policies
    }

    /// The type-0x04 verifier key that checks this witness's cosignatures.
    public var verifierKey: NoteVerifierKey { key.cosignatureVerifierKey }

    /// True iff the witness knows the log `origin`.
    public func knows(origin: String) -> Bool { policies[Array(origin.utf8)] != nil }

    /// Decides `request` against the tree head recorded for its log (nil: never cosigned) and
    /// returns the head to record before cosigning; throws the `WitnessRefusal` of the first rule
    /// broken, in the order of tlog-witness §add-checkpoint.
    ///
    /// The checkpoint must carry a verified signature from a key of the log's policy and satisfy
    /// its quorum; the old size must not exceed the checkpoint's size and must be the recorded
    /// size; at the recorded size the root must be the recorded root; and the proof must show the
    /// recorded tree is a prefix of the checkpoint's. So the witness never goes back to a smaller
    /// tree and never cosigns two roots for one size.
    public func check(_ request: AddCheckpointRequest, recorded: TreeHead?) throws -> TreeHead {
        let checkpoint = request.checkpoint
        guard let policy = policies[Array(checkpoint.origin.utf8)] else {
            throw WitnessRefusal.unknownLog(origin: checkpoint.origin)
        }
        do {
            // tlog-witness: if none of the signatures verify against a trusted key, 403 — even
            // under a policy that needs no further quorum.
            _ = try request.note.verify(keys: policy.logs.map(\.key) + policy.witnesses.map(\.key))
            _ = try policy.verify(note: request.note)
        } catch let error as NoteError {
            throw WitnessRefusal.untrustedCheckpoint(error)
        }
        guard request.oldSize <= checkpoint.size else {
            throw WitnessRefusal.oldSizeAboveCheckpoint(old: request.oldSize, size: checkpoint.size)
        }
        let recorded = recorded ?? .empty
        guard request.oldSize == recorded.size else {
            throw WitnessRefusal.oldSizeMismatch(old: request.oldSize, recorded: recorded.size)
        }
        guard checkpoint.size != recorded.size || checkpoint.root == recorded.root else {
            throw WitnessRefusal.rootConflict(size: recorded.size)
        }
        do {
            try ConsistencyProof.verify(
                from: recorded.size, fromRoot: recorded.root, to: checkpoint.size, toRoot: checkpoint.root,
                proof: request.proof)
        } catch let error as ProofError {
            throw WitnessRefusal.inconsistent(error)
        }
        return TreeHead(checkpoint)
    }

    /// The `cosignature/v1` line on `checkpoint` at `timestamp` (POSIX seconds). Call it only once
    /// the head `check` returned is durably recorded (tlog-witness: persist before responding).
    public func cosign(_ checkpoint: Checkpoint, timestamp: UInt64) -> NoteSignature {
        Cosignature.sign(checkpoint, timestamp: min(timestamp, Cosignature.maxTimestamp), with: key).noteSignature
    }

    /// The recorded size in a 409 answer's `text/x.tlog.size` body (`<decimal>\n`), or nil.
    public static func recordedSize(inConflictBody body: [UInt8]) -> UInt64? {
        guard body.last == UInt8(ascii: "\n") else { return nil }
        return parseDecimal(String(decoding: body.dropLast(), as: UTF8.self))
    }

    /// The cosignature by `witness` in a 200 answer's body (signature lines) on `note`, verified.
    /// Lines from other keys are ignored (tlog-witness: the client MUST ignore unknown keys).
    /// Throws `malformedNote` if the body is not signature lines, `noVerifiedSignature` if none is
    /// from `witness`, `signatureInvalid` if it does not verify.
    public static func cosignature(inAnswer body: String, on note: Note, by witness: NoteVerifierKey) throws -> Cosignature {
        // tlog-witness: the client MAY append the answer to the checkpoint and verify the note.
        let answered = try Note(parsing: note.text + "\n" + body)
        return try Cosignature.verify(note: answered, key: witness)
    }
}
