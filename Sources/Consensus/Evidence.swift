// Proof that a validator misbehaved: two different signed messages for one (height, round,
// step). Correct validators never produce it (the signer guard sees to that, across crashes).

/// Two conflicting messages signed by the same validator.
public enum Evidence: Hashable, Sendable, CustomStringConvertible {
    case conflictingVotes(SignedVote, SignedVote)
    case conflictingProposals(Proposal, Proposal)

    /// The index of the validator it implicates.
    public var validator: Int {
        switch self {
        case let .conflictingVotes(a, _): a.vote.validator
        case let .conflictingProposals(a, _): a.proposer
        }
    }

    public var description: String {
        switch self {
        case let .conflictingVotes(a, b): "equivocation: \(a) and \(b)"
        case let .conflictingProposals(a, b): "equivocation: \(a) and \(b)"
        }
    }
}
