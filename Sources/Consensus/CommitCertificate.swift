// The commit certificate (consensus.md §2.9): at least Q precommits for one (height, round,
// id(v)). Whoever holds it and the block can check the decision without trusting anyone.

/// ≥ Q precommits from distinct validators for one `(height, round, valueID)`.
public struct CommitCertificate: Hashable, Sendable, CustomStringConvertible {
    public let height: UInt64
    public let round: Int
    public let valueID: ValueID
    /// The precommits, sorted by validator index.
    public let precommits: [SignedVote]

    public init(height: UInt64, round: Int, valueID: ValueID, precommits: [SignedVote]) {
        self.height = height
        self.round = round
        self.valueID = valueID
        self.precommits = precommits.sorted { $0.vote.validator < $1.vote.validator }
    }

    /// Why a certificate was rejected.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongVote(validator: Int)
        case badSignature(validator: Int)
        case duplicateValidator(Int)
        case tooFewPrecommits(have: Int, need: Int)

        public var code: String {
            switch self {
            case .wrongVote: "certificate_wrong_vote"
            case .badSignature: "certificate_bad_signature"
            case .duplicateValidator: "certificate_duplicate_validator"
            case .tooFewPrecommits: "certificate_too_few_precommits"
            }
        }

        public var description: String {
            switch self {
            case let .wrongVote(v): "validator \(v)'s vote is not a precommit for the certified height, round and block"
            case let .badSignature(v): "validator \(v)'s precommit signature does not verify"
            case let .duplicateValidator(v): "validator \(v) appears twice"
            case let .tooFewPrecommits(have, need): "\(have) precommits, a quorum is \(need)"
            }
        }
    }

    /// Checks every precommit: type, height, round and id match, index in the set, signature
    /// valid, validators distinct, and at least Q of them. Returns the signatures checked.
    @discardableResult
    public func verify(_ parameters: ConsensusParameters) throws(Failure) -> Int {
        var seen = Set<Int>()
        for p in precommits {
            let v = p.vote
            guard v.type == .precommit, v.height == height, v.round == round, v.valueID == valueID,
                  v.validator < parameters.count else { throw .wrongVote(validator: v.validator) }
            guard seen.insert(v.validator).inserted else { throw .duplicateValidator(v.validator) }
            guard p.verify(parameters) else { throw .badSignature(validator: v.validator) }
        }
        guard seen.count >= parameters.quorum else {
            throw .tooFewPrecommits(have: seen.count, need: parameters.quorum)
        }
        return precommits.count
    }

    /// The indices of the validators that signed.
    public var signers: [Int] { precommits.map(\.vote.validator) }

    public var description: String { "cert(h\(height) r\(round) \(valueID) by \(signers))" }
}
