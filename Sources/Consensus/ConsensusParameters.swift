// The fixed, network-wide parameters of one consensus instance: who votes, the quorum sizes,
// who proposes, the linear timeouts (consensus.md §2.1, §2.5, §2.6) and the buffer bounds.
import Ledger

/// Timeouts of consensus.md §2.5, linear in the round as in the paper:
/// `timeoutX(r) = initTimeoutX + r · timeoutDeltaX`, reset at every height.
public struct Timeouts: Hashable, Sendable {
    public var proposeMillis: UInt64
    public var proposeDeltaMillis: UInt64
    public var prevoteMillis: UInt64
    public var prevoteDeltaMillis: UInt64
    public var precommitMillis: UInt64
    public var precommitDeltaMillis: UInt64

    /// Propose 3 s + 1 s·r; prevote and precommit 1 s + 0.5 s·r (consensus.md §2.5).
    public static let standard = Timeouts(
        proposeMillis: 3_000, proposeDeltaMillis: 1_000, prevoteMillis: 1_000, prevoteDeltaMillis: 500,
        precommitMillis: 1_000, precommitDeltaMillis: 500)

    public init(proposeMillis: UInt64, proposeDeltaMillis: UInt64, prevoteMillis: UInt64, prevoteDeltaMillis: UInt64,
                precommitMillis: UInt64, precommitDeltaMillis: UInt64) {
        self.proposeMillis = proposeMillis
        self.proposeDeltaMillis = proposeDeltaMillis
        self.prevoteMillis = prevoteMillis
        self.prevoteDeltaMillis = prevoteDeltaMillis
        self.precommitMillis = precommitMillis
        self.precommitDeltaMillis = precommitDeltaMillis
    }

    /// The duration of timeout `kind` in round `round`, in milliseconds.
    public func millis(_ kind: TimeoutKind, round: Int) -> UInt64 {
        precondition(round >= 0 && round <= ConsensusParameters.maxRound, "round out of range")
        let r = UInt64(round)
        switch kind {
        case .propose: return proposeMillis + r * proposeDeltaMillis
        case .prevote: return prevoteMillis + r * prevoteDeltaMillis
        case .precommit: return precommitMillis + r * precommitDeltaMillis
        }
    }
}

/// Everything every validator must agree on to run one height.
public struct ConsensusParameters: Sendable {
    /// The highest round any message may name. Rounds are `u32` on the wire; this keeps
    /// `round + window` and timeout arithmetic far from overflow.
    public static let maxRound = 1 << 24

    /// The chain ID that every sign-bytes string starts with: the log's origin.
    public let chainID: String
    /// The validators in force, sorted by public key; each has voting power 1.
    public let validators: ValidatorSet
    public let timeouts: Timeouts
    /// Messages are kept for rounds up to `round + futureRoundWindow` of the current height
    /// (consensus.md §2.4 pitfall 7); each sender has at most one proposal, one prevote and one
    /// precommit per round, so memory per height is bounded by `n · 3 · (round + window)`.
    public let futureRoundWindow: Int

    public init(chainID: String, validators: ValidatorSet, timeouts: Timeouts = .standard, futureRoundWindow: Int = 64) {
        precondition(futureRoundWindow >= 1 && futureRoundWindow <= 4096, "window out of range")
        precondition(validators.validators.count <= Int(UInt16.max), "too many validators for a u16 index")
        self.chainID = chainID
        self.validators = validators
        self.timeouts = timeouts
        self.futureRoundWindow = futureRoundWindow
    }

    /// n, the number of validators (= total voting power).
    public var count: Int { validators.validators.count }

    /// Q = ⌊2n/3⌋ + 1: more than two thirds (the paper's 2f + 1).
    public var quorum: Int { 2 * count / 3 + 1 }

    /// W = ⌊n/3⌋ + 1: more than one third (the paper's f + 1, used by line 55).
    public var weakQuorum: Int { count / 3 + 1 }

    /// proposer(h, r) = V[(h + r) mod n] with V sorted by public key (consensus.md §2.6).
    public func proposer(height: UInt64, round: Int) -> Int {
        precondition(round >= 0, "negative round")
        return Int((height &+ UInt64(round)) % UInt64(count))
    }
}
