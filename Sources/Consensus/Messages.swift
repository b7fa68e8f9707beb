// The three signed messages of Tendermint (PROPOSAL, PREVOTE, PRECOMMIT) and the exact bytes a
// validator signs for each (consensus.md §2.3).
import CinnabarCrypto
import Ledger

/// The step of a round (Algorithm 1, line 4). Ordered: a validator signs at most one message per
/// (height, round, step), in increasing order (consensus.md §2.8).
public enum Step: UInt8, Comparable, Sendable, CustomStringConvertible {
    case propose = 0
    case prevote = 1
    case precommit = 2

    public static func < (a: Step, b: Step) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .propose: "propose"
        case .prevote: "prevote"
        case .precommit: "precommit"
        }
    }
}

/// The two kinds of vote. The raw value is the message type byte of the sign-bytes.
public enum VoteType: UInt8, Sendable, CustomStringConvertible {
    case prevote = 0x01
    case precommit = 0x02

    public var step: Step { self == .prevote ? .prevote : .precommit }
    public var description: String { self == .prevote ? "PREVOTE" : "PRECOMMIT" }
}

/// Sign-bytes common to every consensus message: a NUL-led domain tag, so that they can never
/// be mistaken for C2SP note text (which has no control characters).
public enum SignBytes {
    /// `"\0ledger-consensus/v1"`: 20 bytes.
    public static let domain: [UInt8] = [0x00] + Array("ledger-consensus/v1".utf8)
    /// The type byte of a PROPOSAL.
    public static let proposalType: UInt8 = 0x20
    /// How `validRound = −1` is written.
    public static let noRound: UInt32 = 0xFFFF_FFFF
}

/// ⟨PREVOTE, h, r, id(v) or nil⟩ or ⟨PRECOMMIT, h, r, id(v) or nil⟩ from one validator.
public struct Vote: Hashable, Sendable, CustomStringConvertible {
    public let type: VoteType
    public let height: UInt64
    public let round: Int
    /// id(v), or nil for a nil vote.
    public let valueID: ValueID?
    /// The voter's index in the validator set (not signed: the key that verifies says who).
    public let validator: Int

    public init(type: VoteType, height: UInt64, round: Int, valueID: ValueID?, validator: Int) {
        precondition(round >= 0 && round <= ConsensusParameters.maxRound, "round out of range")
        precondition(validator >= 0 && validator <= Int(UInt16.max), "validator index out of range")
        self.type = type
        self.height = height
        self.round = round
        self.valueID = valueID
        self.validator = validator
    }

    /// `domain ‖ u8 type ‖ str16 chainID ‖ u64 height ‖ u32 round ‖ (u8 0 | u8 1 ‖ 32-byte id)`.
    public func signBytes(chainID: String) -> [UInt8] {
        var w = BinaryWriter()
        w.raw(SignBytes.domain)
        w.u8(type.rawValue)
        w.string(chainID)
        w.u64(height)
        w.u32(UInt32(round))
        if let valueID {
            w.u8(1)
            w.hash(valueID.hash)
        } else {
            w.u8(0)
        }
        return w.bytes
    }

    public var description: String {
        "\(type)(h\(height) r\(round) \(valueID.map { "\($0)" } ?? "nil") by \(validator))"
    }
}

/// A vote and its Ed25519 signature over `vote.signBytes(chainID:)`.
public struct SignedVote: Hashable, Sendable, CustomStringConvertible {
    public let vote: Vote
    public let signature: [UInt8]

    public init(vote: Vote, signature: [UInt8]) {
        self.vote = vote
        self.signature = signature
    }

    /// True iff the signature verifies with the key of validator `vote.validator`.
    public func verify(_ parameters: ConsensusParameters) -> Bool {
        guard vote.validator < parameters.count, signature.count == 64 else { return false }
        let key = parameters.validators.validators[vote.validator].publicKey
        return key.isValidSignature(signature, for: vote.signBytes(chainID: parameters.chainID))
    }

    public var description: String { vote.description }
}

/// ⟨PROPOSAL, h, r, v, validRound⟩: the signed header; the value travels beside it.
public struct Proposal: Hashable, Sendable, CustomStringConvertible {
    public let height: UInt64
    public let round: Int
    /// The round in which the proposer saw a polka for this value, or −1 (Algorithm 1, line 19).
    public let validRound: Int
    public let valueID: ValueID
    /// The proposer's index in the validator set.
    public let proposer: Int

    public init(height: UInt64, round: Int, validRound: Int, valueID: ValueID, proposer: Int) {
        precondition(round >= 0 && round <= ConsensusParameters.maxRound, "round out of range")
        precondition(validRound >= -1 && validRound < round, "validRound must be −1 or an earlier round")
        precondition(proposer >= 0 && proposer <= Int(UInt16.max), "proposer index out of range")
        self.height = height
        self.round = round
        self.validRound = validRound
        self.valueID = valueID
        self.proposer = proposer
    }

    /// `domain ‖ u8 0x20 ‖ str16 chainID ‖ u64 height ‖ u32 round ‖ u32 validRound (0xFFFFFFFF
    /// for −1) ‖ 32-byte id(v)`.
    public func signBytes(chainID: String) -> [UInt8] {
        var w = BinaryWriter()
        w.raw(SignBytes.domain)
        w.u8(SignBytes.proposalType)
        w.string(chainID)
        w.u64(height)
        w.u32(UInt32(round))
        w.u32(validRound < 0 ? SignBytes.noRound : UInt32(validRound))
        w.hash(valueID.hash)
        return w.bytes
    }

    public var description: String { "PROPOSAL(h\(height) r\(round) vr\(validRound) \(valueID) by \(proposer))" }
}

/// A proposal as it travels: the signed header, the whole block, and — when `validRound ≥ 0` —
/// the proof of lock, the prevotes for (h, validRound, id(v)) that let receivers apply line 28
/// without further gossip (consensus.md §2.4 pitfall 5).
public struct SignedProposal: Hashable, Sendable, CustomStringConvertible {
    public let proposal: Proposal
    public let signature: [UInt8]
    public let value: [UInt8]
    public let proofOfLock: [SignedVote]

    public init(proposal: Proposal, signature: [UInt8], value: [UInt8], proofOfLock: [SignedVote]) {
        self.proposal = proposal
        self.signature = signature
        self.value = value
        self.proofOfLock = proofOfLock
    }

    /// True iff the header's signature verifies with the proposer's key.
    public func verify(_ parameters: ConsensusParameters) -> Bool {
        guard proposal.proposer < parameters.count, signature.count == 64 else { return false }
        let key = parameters.validators.validators[proposal.proposer].publicKey
        return key.isValidSignature(signature, for: proposal.signBytes(chainID: parameters.chainID))
    }

    public var description: String { proposal.description }
}

/// What the core asks its signer to sign; the driver signs through the signer guard and feeds
/// the signed message back (`Input.ownProposal` / `Input.ownVote`).
public enum SignRequest: Hashable, Sendable, CustomStringConvertible {
    case proposal(Proposal, value: [UInt8], proofOfLock: [SignedVote])
    case vote(Vote)

    public var height: UInt64 {
        switch self {
        case let .proposal(p, _, _): p.height
        case let .vote(v): v.height
        }
    }
    public var round: Int {
        switch self {
        case let .proposal(p, _, _): p.round
        case let .vote(v): v.round
        }
    }
    public var step: Step {
        switch self {
        case .proposal: .propose
        case let .vote(v): v.type.step
        }
    }
    public func signBytes(chainID: String) -> [UInt8] {
        switch self {
        case let .proposal(p, _, _): p.signBytes(chainID: chainID)
        case let .vote(v): v.signBytes(chainID: chainID)
        }
    }
    public var description: String {
        switch self {
        case let .proposal(p, _, _): "sign \(p)"
        case let .vote(v): "sign \(v)"
        }
    }
}
