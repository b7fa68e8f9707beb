// The votes of one type in one round of one height: one vote per validator (the first wins),
// tallies by value id, and evidence when a validator votes twice differently
// (consensus.md §2.4 pitfall 6).

/// Prevotes or precommits of a single (height, round). Counts distinct validators, each with
/// voting power 1; a second, different vote from the same validator is evidence, never counted.
public struct VoteSet: Sendable {
    public let type: VoteType
    public let round: Int
    /// The counted vote of each validator.
    public private(set) var votes: [Int: SignedVote] = [:]
    /// Counted voting power per value id (nil = nil votes).
    private var tally: [ValueID?: Int] = [:]

    public init(type: VoteType, round: Int) {
        self.type = type
        self.round = round
    }

    /// What adding a vote did.
    public enum Added: Sendable {
        case counted
        case duplicate
        /// The validator already voted differently; the first vote stays counted.
        case conflicting(first: SignedVote)
    }

    /// Adds a vote already checked for height, round, type and signature.
    public mutating func add(_ signed: SignedVote) -> Added {
        precondition(signed.vote.type == type && signed.vote.round == round, "vote filed in the wrong set")
        if let first = votes[signed.vote.validator] {
            return first.vote == signed.vote ? .duplicate : .conflicting(first: first)
        }
        votes[signed.vote.validator] = signed
        tally[signed.vote.valueID, default: 0] += 1
        return .counted
    }

    /// Distinct validators that voted, whatever for (the paper's `⟨…, ∗⟩`).
    public var total: Int { votes.count }

    /// Distinct validators that voted for `id` (nil: voted nil).
    public func count(for id: ValueID?) -> Int { tally[id] ?? 0 }

    /// The value id with the most votes, if some id has at least `threshold` (ties impossible
    /// above half the validators).
    public func id(withAtLeast threshold: Int) -> ValueID?? {
        for (id, n) in tally where n >= threshold { return .some(id) }
        return nil
    }

    /// The votes for `id`, sorted by validator index (deterministic certificates and POLs).
    public func votes(for id: ValueID?) -> [SignedVote] {
        votes.values.filter { $0.vote.valueID == id }.sorted { $0.vote.validator < $1.vote.validator }
    }
}
