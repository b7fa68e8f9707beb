// What goes into the core and what comes out of it (consensus.md §3.2). The core is a pure
// function of the sequence of inputs: the driver logs inputs, replays them, and acts on outputs.

/// The three timeouts of Algorithm 1.
public enum TimeoutKind: UInt8, Hashable, Sendable, CustomStringConvertible {
    case propose = 1
    case prevote = 2
    case precommit = 3

    public var description: String {
        switch self {
        case .propose: "timeoutPropose"
        case .prevote: "timeoutPrevote"
        case .precommit: "timeoutPrecommit"
        }
    }
}

/// A scheduled timeout, keyed by (height, round, kind) and re-checked when it fires
/// (consensus.md §2.4 pitfall 11).
public struct Timeout: Hashable, Sendable, CustomStringConvertible {
    public let kind: TimeoutKind
    public let height: UInt64
    public let round: Int

    public init(kind: TimeoutKind, height: UInt64, round: Int) {
        self.kind = kind
        self.height = height
        self.round = round
    }

    public var description: String { "\(kind)(h\(height) r\(round))" }
}

/// One input to `Tendermint.step`.
public enum Input: Hashable, Sendable, CustomStringConvertible {
    /// Algorithm 1, line 10: start the height at round 0. Implied at the head of every WAL.
    case start
    /// A proposal from the network; its signatures are checked by the core.
    case proposal(SignedProposal)
    /// A vote from the network; its signature is checked by the core.
    case vote(SignedVote)
    /// This validator's own proposal, just signed by the signer guard (not re-verified).
    case ownProposal(SignedProposal)
    /// This validator's own vote, just signed by the signer guard (not re-verified).
    case ownVote(SignedVote)
    /// A timeout scheduled earlier has fired.
    case timeout(Timeout)
    /// getValue()'s answer (Algorithm 1, line 18) for the round it was requested in.
    case proposalValue(height: UInt64, round: Int, value: [UInt8])
    /// A decision learned from another node (block sync, consensus.md §2.11): a certificate and
    /// the block it certifies.
    case commit(CommitCertificate, value: [UInt8])

    public var description: String {
        switch self {
        case .start: "start"
        case let .proposal(p): "recv \(p)"
        case let .vote(v): "recv \(v)"
        case let .ownProposal(p): "own \(p)"
        case let .ownVote(v): "own \(v)"
        case let .timeout(t): "fire \(t)"
        case let .proposalValue(h, r, value): "value(h\(h) r\(r) \(value.count)B)"
        case let .commit(c, _): "recv \(c)"
        }
    }
}

/// One output of `Tendermint.step`, to be acted on in order.
public enum Output: Hashable, Sendable, CustomStringConvertible {
    /// "broadcast ⟨…⟩": sign this (through the signer guard), feed it back as
    /// `ownProposal`/`ownVote`, and send it to every peer.
    case sign(SignRequest)
    /// "schedule OnTimeoutX(h, r) to be executed after timeoutX(r)".
    case schedule(Timeout, afterMillis: UInt64)
    /// getValue(): answer with `Input.proposalValue` for the same height and round.
    case requestValue(height: UInt64, round: Int)
    /// Line 51: persist the block and certificate, apply, checkpoint-sign, then start the next
    /// height (consensus.md §2.8, decision order).
    case decide(Decision)
    /// A validator signed two different messages for one (height, round, step).
    case evidence(Evidence)

    public var description: String {
        switch self {
        case let .sign(r): r.description
        case let .schedule(t, ms): "schedule \(t) +\(ms)ms"
        case let .requestValue(h, r): "getValue(h\(h) r\(r))"
        case let .decide(d): d.description
        case let .evidence(e): e.description
        }
    }
}
