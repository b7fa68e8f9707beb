// Tendermint, Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT consensus"
// (arXiv:1807.04938, revised November 2019), for one height, as a pure state machine:
// `step(input) -> [output]`. No I/O, no clock, no randomness; line numbers are the paper's.
//
// Rule-evaluation order. The paper runs enabled "upon" rules in any order; replay needs one fixed
// order (consensus.md §2.4). After every input the core applies the first enabled rule of
//
//     L49 (decide, any round) > L55 (round skip) > L36 > L44 > L22 > L28 > L34 > L47
//
// and starts again from the top, until no rule is enabled. Every rule changes the step, the round,
// the decision or a "first time" set, so the loop ends. Safety never depends on this order.
//
// Where this differs from the paper, and why:
// - Heights: the core runs one height. Line 49's "h ← h + 1, reset, StartRound(0)" is done by the
//   driver, which makes a fresh core for h + 1 once the block is durable (decision order, §2.8).
// - getValue() (line 18) is asynchronous: the core emits `requestValue` and proposes when the
//   matching `proposalValue` arrives, if it is still in that round's propose step. As in the paper,
//   the proposer schedules no timeoutPropose for itself.
// - "broadcast" is `Output.sign`: the driver signs through the signer guard and feeds the message
//   back, so the core counts its own vote only once it is signed and durable.
// - valid(v) and id(v) come from a `ValueEvaluator`; a proposal whose value does not evaluate to
//   the id its header signs is dropped, so an admitted proposal's id names exactly its value.
// - The message log is bounded: rounds up to round_p + window; per validator and (round, type) its
//   first vote and at most two conflicting ones (each counted for its own value, as the paper's
//   log would count it, and reported as evidence); per round the proposer's first proposal and one
//   conflicting one. Lines 22 and 28 act once per round; lines 36 and 49 consider every proposal.
import CinnabarCrypto

/// One height of Tendermint consensus at one validator (or an observer, `me == nil`).
public struct Tendermint: Sendable {
    /// A proposal the core accepted: the first one from proposer(h, r) for its round.
    public struct AdmittedProposal: Hashable, Sendable {
        public let signed: SignedProposal
        public let value: EvaluatedValue
        public var round: Int { signed.proposal.round }
        public var validRound: Int { signed.proposal.validRound }
        public var id: ValueID { value.id }
        public var isValid: Bool { value.evaluation.isValid }
    }

    /// Evidence kept per height, at most (further conflicts are still ignored, not recorded).
    public static let maxEvidence = 64
    /// Proposals kept per round: the proposer's first, and one conflicting one (an equivocating
    /// proposer's second value may be the one a quorum decides; line 49 needs it).
    public static let maxProposalsPerRound = 2

    public let parameters: ConsensusParameters
    /// This validator's index in the set; nil for a node that only follows.
    public let me: Int?
    /// h_p (line 2).
    public let height: UInt64
    private let evaluator: any ValueEvaluator

    /// round_p and step_p (lines 3–4).
    public private(set) var round = 0
    public private(set) var step = Step.propose
    /// decision_p[h_p] (line 5).
    public private(set) var decision: Decision?
    /// lockedValue_p, lockedRound_p, validValue_p, validRound_p (lines 6–9).
    public private(set) var lockedValue: EvaluatedValue?
    public private(set) var lockedRound = -1
    public private(set) var validValue: EvaluatedValue?
    public private(set) var validRound = -1

    /// The message log of this height, all rounds kept (pitfall 4).
    private var proposals: [Int: [AdmittedProposal]] = [:]
    private var prevotes: [Int: VoteSet] = [:]
    private var precommits: [Int: VoteSet] = [:]
    /// Distinct senders of any message per round, for line 55.
    private var senders: [Int: Set<Int>] = [:]
    /// Rounds in which some id has a quorum of precommits: where line 49 can fire.
    private var decisionRounds: Set<Int> = []
    /// "for the first time" guards of lines 34, 36 and 47, per round.
    private var firedL34: Set<Int> = []
    private var firedL36: Set<Int> = []
    private var firedL47: Set<Int> = []
    /// Values already evaluated at this height, by id: a proposer's own value, re-proposals and
    /// duplicates are not evaluated (Merkle root, embedded signatures) twice. At most one entry per
    /// admitted proposal and own value, so bounded like the proposals.
    private var evaluated: [ValueID: EvaluatedValue] = [:]
    /// True between `requestValue` and the proposal for the current round.
    private var awaitingValue = false
    private var started = false
    public private(set) var evidence: [Evidence] = []
    /// Ed25519 verifications made so far (votes, proposals, certificates, values): bench accounting.
    public private(set) var signaturesVerified = 0

    /// A core for `height`, before `start`. `evaluator.nextHeight` must be `height`.
    public init(parameters: ConsensusParameters, me: Int?, height: UInt64, evaluator: any ValueEvaluator) {
        precondition(height >= 1, "heights start at 1")
        precondition(evaluator.nextHeight == height, "the evaluator judges another height")
        if let me { precondition(me >= 0 && me < parameters.count, "own index outside the validator set") }
        self.parameters = parameters
        self.me = me
        self.height = height
        self.evaluator = evaluator
    }

    // MARK: - Introspection (tests and the simulator's invariant checker)

    /// The first accepted proposal of `round`, if any.
    public func proposal(round: Int) -> AdmittedProposal? { proposals[round]?.first }
    /// Every accepted proposal of `round` (two only if the proposer equivocated).
    public func proposals(round: Int) -> [AdmittedProposal] { proposals[round] ?? [] }
    /// The prevotes or precommits of `round`.
    public func votes(_ type: VoteType, round: Int) -> VoteSet? {
        type == .prevote ? prevotes[round] : precommits[round]
    }
    /// False for a message the core would certainly ignore (another height, a round beyond the
    /// window, or one it already holds), so the driver need not log it.
    public func mayUse(_ input: Input) -> Bool {
        switch input {
        case let .proposal(p):
            let h = p.proposal
            return h.height == height && h.round <= round + parameters.futureRoundWindow
                && !(proposals[h.round]?.contains { $0.signed.proposal == h } ?? false)
        case let .vote(v):
            let vote = v.vote
            guard vote.height == height, vote.round <= round + parameters.futureRoundWindow else { return false }
            return !((vote.type == .prevote ? prevotes[vote.round] : precommits[vote.round])?.contains(vote) ?? false)
        case let .commit(c, _):
            return c.height == height && decision == nil
        default:
            return decision == nil
        }
    }

    /// True once a proposer asked for a value and has not proposed yet.
    public var isAwaitingValue: Bool { awaitingValue }

    // MARK: - The transition function

    /// Applies one input and returns the outputs, to be acted on in order.
    public mutating func step(_ input: Input) -> [Output] {
        var out: [Output] = []
        guard decision == nil else { return out }
        if case .start = input {
            precondition(!started, "started twice")
            started = true
            startRound(0, &out)  // line 10
        } else {
            precondition(started, "input before start")
            switch input {
            case .start: break
            case let .proposal(p): admit(p, signatureChecked: false, &out)
            case let .ownProposal(p):
                precondition(p.proposal.proposer == me, "own proposal from another validator")
                admit(p, signatureChecked: true, &out)
            case let .vote(v): admit(v, signatureChecked: false, &out)
            case let .ownVote(v):
                precondition(v.vote.validator == me, "own vote from another validator")
                admit(v, signatureChecked: true, &out)
            case let .timeout(t): onTimeout(t, &out)
            case let .proposalValue(h, r, value): onProposalValue(height: h, round: r, value: value, &out)
            case let .commit(certificate, value): onCommit(certificate, value: value, &out)
            }
        }
        applyRules(&out)
        assertInvariants()
        return out
    }

    /// The state every step must leave behind (TigerBeetle style: asserted, in debug builds).
    private func assertInvariants() {
        assert((lockedRound == -1) == (lockedValue == nil), "lockedRound and lockedValue disagree")
        assert((validRound == -1) == (validValue == nil), "validRound and validValue disagree")
        assert(lockedRound <= validRound, "a lock is always a valid value too (line 36)")
        assert(validRound <= round && lockedRound <= round, "locks come from past or current rounds")
        assert(!awaitingValue || (step == .propose && parameters.proposer(height: height, round: round) == me),
               "only the proposer waits for a value, in step propose")
        assert(decision == nil || decision!.height == height, "a decision for another height")
    }

    // MARK: - StartRound and the timeouts (lines 11–21, 57–67)

    /// Lines 11–21.
    private mutating func startRound(_ r: Int, _ out: inout [Output]) {
        precondition(r >= round && r <= ConsensusParameters.maxRound, "rounds only increase")
        round = r  // line 12
        step = .propose  // line 13
        awaitingValue = false
        if parameters.proposer(height: height, round: r) == me, let me {  // line 14
            if let validValue {  // lines 15–16
                let pol = prevotes[validRound]?.votes(for: validValue.id) ?? []
                assert(pol.count >= parameters.quorum, "validValue without its polka")
                let p = Proposal(height: height, round: r, validRound: validRound, valueID: validValue.id, proposer: me)
                out.append(.sign(.proposal(p, value: validValue.bytes, proofOfLock: pol)))  // line 19
            } else {
                awaitingValue = true  // line 18: getValue(), answered by Input.proposalValue
                out.append(.requestValue(height: height, round: r))
            }
        } else {
            let t = Timeout(kind: .propose, height: height, round: r)  // line 21
            out.append(.schedule(t, afterMillis: parameters.timeouts.millis(.propose, round: r)))
        }
    }

    /// getValue()'s answer: line 19 with proposal = the new value and validRound_p = −1.
    private mutating func onProposalValue(height h: UInt64, round r: Int, value: [UInt8], _ out: inout [Output]) {
        guard awaitingValue, h == height, r == round, step == .propose, let me else { return }
        awaitingValue = false
        assert(validValue == nil && validRound == -1, "a valid value appeared while proposing a new one")
        guard let e = evaluate(value) else { return }  // the application's own block is malformed
        let p = Proposal(height: height, round: r, validRound: -1, valueID: e.id, proposer: me)
        out.append(.sign(.proposal(p, value: value, proofOfLock: [])))
    }

    /// Lines 57–67: each timeout re-checks that it is still for the current height, round and step.
    private mutating func onTimeout(_ t: Timeout, _ out: inout [Output]) {
        guard t.height == height, t.round == round else { return }
        switch t.kind {
        case .propose:  // line 57; line 58 guards on step = propose (pitfall 1)
            guard step == .propose else { return }
            awaitingValue = false
            signVote(.prevote, nil, &out)  // line 59
            step = .prevote  // line 60
        case .prevote:  // line 61
            guard step == .prevote else { return }
            signVote(.precommit, nil, &out)  // line 63
            step = .precommit  // line 64
        case .precommit:  // line 65
            startRound(round + 1, &out)  // line 67
        }
    }

    /// A decision learned with its certificate (block sync): the certificate is ≥ Q precommits for
    /// (h, r, id(v)), which is what line 49 needs besides the proposal, and valid(v) is re-checked.
    private mutating func onCommit(_ certificate: CommitCertificate, value: [UInt8], _ out: inout [Output]) {
        guard certificate.height == height else { return }
        signaturesVerified += certificate.precommits.count
        guard (try? certificate.verify(parameters)) != nil else { return }
        guard let e = evaluate(value), e.id == certificate.valueID, e.isValid else { return }
        decide(Decision(height: height, round: certificate.round, value: EvaluatedValue(bytes: value, evaluation: e),
                        certificate: certificate), &out)
    }

    // MARK: - Admission: the message log

    /// Files a proposal if it is the first from proposer(h, r) for its round, signed, with a value
    /// that evaluates to the id it signs. Its proof of lock is filed as ordinary prevotes.
    private mutating func admit(_ sp: SignedProposal, signatureChecked: Bool, _ out: inout [Output]) {
        let p = sp.proposal
        guard p.height == height, p.round <= round + parameters.futureRoundWindow,
              p.proposer == parameters.proposer(height: height, round: p.round) else { return }
        let earlier = proposals[p.round] ?? []
        if earlier.contains(where: { $0.signed.proposal == p }) { return }  // seen (same id: same value)
        if earlier.count >= Tendermint.maxProposalsPerRound { return }
        guard signatureChecked || verify(sp) else { return }
        guard let e = evaluate(sp.value, claimed: p.valueID), e.id == p.valueID else { return }
        if let first = earlier.first {
            // Rules that act once per round (lines 22, 28) use the first; a second is evidence.
            record(.conflictingProposals(first.signed.proposal, p), &out)
        }
        if p.validRound >= 0 {
            for v in sp.proofOfLock.prefix(parameters.count)
            where v.vote.type == .prevote && v.vote.round == p.validRound && v.vote.valueID == p.valueID {
                admit(v, signatureChecked: false, &out)
            }
        }
        proposals[p.round] = earlier + [AdmittedProposal(signed: sp, value: EvaluatedValue(bytes: sp.value, evaluation: e))]
        senders[p.round, default: []].insert(p.proposer)
    }

    /// Files a vote: one per validator per (round, type); a second, different one is evidence.
    private mutating func admit(_ sv: SignedVote, signatureChecked: Bool, _ out: inout [Output]) {
        let v = sv.vote
        guard v.height == height, v.round <= round + parameters.futureRoundWindow, v.validator < parameters.count
        else { return }
        var set = (v.type == .prevote ? prevotes[v.round] : precommits[v.round]) ?? VoteSet(type: v.type, round: v.round)
        guard !set.contains(v), signatureChecked || verify(sv) else { return }
        switch set.add(sv) {
        case .counted, .duplicate: break
        case let .conflicting(first, counted):
            record(.conflictingVotes(first, sv), &out)
            guard counted else { return }
        }
        if v.type == .prevote {
            prevotes[v.round] = set
        } else {
            precommits[v.round] = set
            if v.valueID != nil && set.count(for: v.valueID) >= parameters.quorum { decisionRounds.insert(v.round) }
        }
        senders[v.round, default: []].insert(v.validator)
    }

    /// valid(v) and id(v), from the cache when these exact bytes were evaluated before.
    private mutating func evaluate(_ value: [UInt8], claimed: ValueID? = nil) -> Evaluation? {
        if let claimed, let known = evaluated[claimed], known.bytes == value { return known.evaluation }
        guard let e = evaluator.evaluate(value) else { return nil }
        signaturesVerified += e.signaturesVerified
        // Cached only when it is what was claimed: a flood of mismatched values cannot grow it.
        if claimed == nil || claimed == e.id, evaluated[e.id] == nil {
            evaluated[e.id] = EvaluatedValue(bytes: value, evaluation: e)
        }
        return e
    }

    private mutating func verify(_ sp: SignedProposal) -> Bool {
        signaturesVerified += 1
        return sp.verify(parameters)
    }

    private mutating func verify(_ sv: SignedVote) -> Bool {
        signaturesVerified += 1
        return sv.verify(parameters)
    }

    private mutating func record(_ e: Evidence, _ out: inout [Output]) {
        guard evidence.count < Tendermint.maxEvidence else { return }
        evidence.append(e)
        out.append(.evidence(e))
    }

    // MARK: - The upon rules, in the fixed order

    private mutating func applyRules(_ out: inout [Output]) {
        guard started else { return }
        while decision == nil {
            if ruleL49(&out) { continue }
            if ruleL55(&out) { continue }
            if ruleL36(&out) { continue }
            if ruleL44(&out) { continue }
            if ruleL22(&out) { continue }
            if ruleL28(&out) { continue }
            if ruleL34(&out) { continue }
            if ruleL47(&out) { continue }
            break
        }
    }

    /// Line 49: ⟨PROPOSAL, h, r, v, ∗⟩ from proposer(h, r) AND 2f+1 ⟨PRECOMMIT, h, r, id(v)⟩,
    /// in ANY round r, while decision = nil; line 50: if valid(v), decide (pitfall 4).
    private mutating func ruleL49(_ out: inout [Output]) -> Bool {
        for r in decisionRounds.sorted() {
            guard let set = precommits[r],
                  let p = proposals[r]?.first(where: { $0.isValid && set.count(for: $0.id) >= parameters.quorum }) else { continue }
            let certificate = CommitCertificate(height: height, round: r, valueID: p.id, precommits: set.votes(for: p.id))
            decide(Decision(height: height, round: r, value: p.value, certificate: certificate), &out)
            return true
        }
        return false
    }

    /// Line 51. Lines 52–54 (next height) are the driver's, once the block is durable.
    private mutating func decide(_ d: Decision, _ out: inout [Output]) {
        precondition(decision == nil, "decided twice")
        decision = d
        out.append(.decide(d))
    }

    /// Line 55: f+1 ⟨∗, h_p, round, ∗, ∗⟩ with round > round_p → StartRound(round). With several
    /// such rounds, the highest.
    private mutating func ruleL55(_ out: inout [Output]) -> Bool {
        var target: Int?
        for (r, who) in senders where r > round && who.count >= parameters.weakQuorum {
            target = max(target ?? r, r)
        }
        guard let target else { return false }
        startRound(target, &out)  // line 56
        return true
    }

    /// Line 36: ⟨PROPOSAL, h, round_p, v, ∗⟩ AND 2f+1 ⟨PREVOTE, h, round_p, id(v)⟩ while valid(v)
    /// ∧ step ≥ prevote, for the first time. Also runs in step precommit (pitfall 3).
    private mutating func ruleL36(_ out: inout [Output]) -> Bool {
        guard step >= .prevote, !firedL36.contains(round), let set = prevotes[round],
              let p = proposals[round]?.first(where: { $0.isValid && set.count(for: $0.id) >= parameters.quorum })
        else { return false }
        firedL36.insert(round)
        if step == .prevote {  // line 37
            lockedValue = p.value  // line 38
            lockedRound = round  // line 39
            signVote(.precommit, p.id, &out)  // line 40
            step = .precommit  // line 41
        }
        validValue = p.value  // line 42
        validRound = round  // line 43
        return true
    }

    /// Line 44: 2f+1 ⟨PREVOTE, h, round_p, nil⟩ while step = prevote. (It never unlocks: pitfall 2.)
    private mutating func ruleL44(_ out: inout [Output]) -> Bool {
        guard step == .prevote, let set = prevotes[round], set.count(for: nil) >= parameters.quorum else { return false }
        signVote(.precommit, nil, &out)  // line 45
        step = .precommit  // line 46
        return true
    }

    /// Line 22: ⟨PROPOSAL, h, round_p, v, −1⟩ from proposer(h, round_p) while step = propose.
    private mutating func ruleL22(_ out: inout [Output]) -> Bool {
        guard step == .propose, let p = proposals[round]?.first(where: { $0.validRound == -1 }) else { return false }
        let accept = p.isValid && (lockedRound == -1 || lockedValue?.id == p.id)  // line 23
        signVote(.prevote, accept ? p.id : nil, &out)  // lines 24, 26
        step = .prevote  // line 27
        awaitingValue = false
        return true
    }

    /// Line 28: ⟨PROPOSAL, h, round_p, v, vr⟩ AND 2f+1 ⟨PREVOTE, h, vr, id(v)⟩ while step = propose
    /// ∧ 0 ≤ vr < round_p.
    private mutating func ruleL28(_ out: inout [Output]) -> Bool {
        guard step == .propose, let p = proposals[round]?.first(where: {
            $0.validRound >= 0 && $0.validRound < round
                && (prevotes[$0.validRound]?.count(for: $0.id) ?? 0) >= parameters.quorum
        }) else { return false }
        let accept = p.isValid && (lockedRound <= p.validRound || lockedValue?.id == p.id)  // line 29
        signVote(.prevote, accept ? p.id : nil, &out)  // lines 30, 32
        step = .prevote  // line 33
        awaitingValue = false
        return true
    }

    /// Line 34: 2f+1 ⟨PREVOTE, h, round_p, ∗⟩ while step = prevote, for the first time.
    private mutating func ruleL34(_ out: inout [Output]) -> Bool {
        guard step == .prevote, !firedL34.contains(round), let set = prevotes[round],
              set.total >= parameters.quorum else { return false }
        firedL34.insert(round)
        let t = Timeout(kind: .prevote, height: height, round: round)  // line 35
        out.append(.schedule(t, afterMillis: parameters.timeouts.millis(.prevote, round: round)))
        return true
    }

    /// Line 47: 2f+1 ⟨PRECOMMIT, h, round_p, ∗⟩ for the first time.
    private mutating func ruleL47(_ out: inout [Output]) -> Bool {
        guard !firedL47.contains(round), let set = precommits[round], set.total >= parameters.quorum else { return false }
        firedL47.insert(round)
        let t = Timeout(kind: .precommit, height: height, round: round)  // line 48
        out.append(.schedule(t, afterMillis: parameters.timeouts.millis(.precommit, round: round)))
        return true
    }

    /// "broadcast ⟨PREVOTE|PRECOMMIT, h_p, round_p, id⟩": a request to sign; observers vote nothing.
    private func signVote(_ type: VoteType, _ id: ValueID?, _ out: inout [Output]) {
        guard let me else { return }
        out.append(.sign(.vote(Vote(type: type, height: height, round: round, valueID: id, validator: me))))
    }
}
