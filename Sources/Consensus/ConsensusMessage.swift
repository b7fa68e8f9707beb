// What validators send each other (consensus.md §2.3, §2.7, §2.9, §2.11): the three signed
// Tendermint messages, validator checkpoint signatures after a decision, decided blocks with
// their certificates for nodes that fell behind, and an unsigned status.
import CinnabarCrypto
import SignedNote

/// A validator's C2SP signed-note signature (Ed25519, type 0x01, key `<origin>/<name>`) on
/// checkpoint(height), made once per height after the decision (binding decision 2).
public struct CheckpointSignature: Hashable, Sendable, CustomStringConvertible {
    public let height: UInt64
    public let validator: Int
    public let line: NoteSignature

    public init(height: UInt64, validator: Int, line: NoteSignature) {
        self.height = height
        self.validator = validator
        self.line = line
    }

    /// True iff the line is from validator `validator`'s key and verifies on `checkpointText`.
    public func verify(keys: [NoteVerifierKey], checkpointText: String) -> Bool {
        guard validator < keys.count, line.isFrom(keys[validator]), line.signature.count == 64 else { return false }
        return keys[validator].publicKey.isValidSignature(line.signature, for: Array(checkpointText.utf8))
    }

    public var description: String { "checkpoint-signature(h\(height) by \(validator))" }
}

/// One message on a validator-to-validator link.
public enum ConsensusMessage: Hashable, Sendable, CustomStringConvertible {
    case proposal(SignedProposal)
    case vote(SignedVote)
    case checkpointSignature(CheckpointSignature)
    /// A decided block and its certificate, for a node behind (block sync).
    case commit(CommitCertificate, value: [UInt8])
    /// "I am at (height, round)": unsigned, only ever a hint to send a node what it lacks.
    case status(validator: Int, height: UInt64, round: Int)

    /// The height the message is about.
    public var height: UInt64 {
        switch self {
        case let .proposal(p): p.proposal.height
        case let .vote(v): v.vote.height
        case let .checkpointSignature(s): s.height
        case let .commit(c, _): c.height
        case let .status(_, h, _): h
        }
    }

    public var description: String {
        switch self {
        case let .proposal(p): p.description
        case let .vote(v): v.description
        case let .checkpointSignature(s): s.description
        case let .commit(c, _): c.description
        case let .status(v, h, r): "status(\(v) at h\(h) r\(r))"
        }
    }
}
