// The votes of one type in one round of one height. Counts are of distinct validators. A
// validator that votes twice differently is evidence; its extra votes are still counted for the
// values they name (at most `maxVotesPerValidator`), as the paper's message log would: otherwise
// an equivocator whose first vote reached us could hide its vote in a polka that others saw, and
// a correct proposer's proof of lock could never convince us (found by the simulator with twins).

/// Prevotes or precommits of a single (height, round).
public struct VoteSet: Sendable {
    /// Distinct votes kept per validator: its first, and conflicting ones up to this bound.
    public static let maxVotesPerValidator = 3

    public let type: VoteType
    public let round: Int
    /// The votes of each validator, first one first.
    private var byValidator: [Int: [SignedVote]] = [:]
    /// Validators with a vote for each value id (nil = nil votes).
    private var tally: [ValueID?: Int] = [:]

    public init(type: VoteType, round: Int) {
        self.type = type
        self.round = round
    }

    /// What adding a vote did.
    public enum Added: Sendable {
        case counted
        case duplicate
        /// The validator already voted differently: evidence. `counted` tells whether this vote
        /// was kept and counted for its own value (false once the per-validator bound is reached).
        case conflicting(first: SignedVote, counted: Bool)
    }

    /// Adds a vote already checked for height, round, type and signature.
    public mutating func add(_ signed: SignedVote) -> Added {
        precondition(signed.vote.type == type && signed.vote.round == round, "vote filed in the wrong set")
        let v = signed.vote.validator
        guard let earlier = byValidator[v] else {
            byValidator[v] = [signed]
            tally[signed.vote.valueID, default: 0] += 1
            return .counted
        }
        if earlier.contains(where: { $0.vote == signed.vote }) { return .duplicate }
        guard earlier.count < VoteSet.maxVotesPerValidator else { return .conflicting(first: earlier[0], counted: false) }
        byValidator[v] = earlier + [signed]
        tally[signed.vote.valueID, default: 0] += 1
        return .conflicting(first: earlier[0], counted: true)
    }

    /// The first vote of a validator.
    public func vote(of validator: Int) -> SignedVote? { byValidator[validator]?.first }

    /// True if this exact vote is already kept.
    public func contains(_ vote: Vote) -> Bool { byValidator[vote.validator]?.contains { $0.vote == vote } ?? false }

    /// Distinct validators that voted, whatever for (the paper's `⟨…, ∗⟩`).
    public var total: Int { byValidator.count }

    /// Distinct validators that voted for `id` (nil: voted nil).
    public func count(for id: ValueID?) -> Int { tally[id] ?? 0 }

    /// Each validator's vote for `id`, sorted by validator index (deterministic certificates and
    /// proofs of lock).
    public func votes(for id: ValueID?) -> [SignedVote] {
        byValidator.keys.sorted().compactMap { v in byValidator[v]!.first { $0.vote.valueID == id } }
    }
}
