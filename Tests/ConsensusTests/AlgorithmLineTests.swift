// Tendermint Algorithm 1, line by line (the paper's line numbers), on a four-validator
// consortium (Q = 3, W = 2) at height 1. Proposers: round r → validator (1 + r) mod 4.
import Consensus
import XCTest

final class AlgorithmLineTests: XCTestCase {
    let c = Consortium()

    func prevote(_ id: ValueID?, round: Int = 0, by v: Int) -> Vote {
        Vote(type: .prevote, height: 1, round: round, valueID: id, validator: v)
    }

    func precommit(_ id: ValueID?, round: Int = 0, by v: Int) -> Vote {
        Vote(type: .precommit, height: 1, round: round, valueID: id, validator: v)
    }

    /// Validator 0 locked on `v` in round 0 (it saw the proposal and a polka, and precommitted).
    func lockedInRoundZero(on value: [UInt8]) -> Driven {
        var d = Driven(c, me: 0)
        d.step(.proposal(c.proposal(round: 0, value)))
        d.step(.vote(c.vote(.prevote, round: 0, c.id(value), from: 1)))
        d.step(.vote(c.vote(.prevote, round: 0, c.id(value), from: 2)))
        XCTAssertEqual(d.core.lockedRound, 0)
        return d
    }

    func testStartRoundSchedulesTimeoutProposeForANonProposer() {
        let d = Driven(c, me: 0)
        XCTAssertEqual(d.scheduled(d.outputs), [Timeout(kind: .propose, height: 1, round: 0)])
        XCTAssertEqual(d.core.step, .propose)
    }

    func testStartRoundAsksTheProposerForAValueAndSchedulesNoTimeout() {
        let d = Driven(c, me: c.proposer(round: 0))
        XCTAssertEqual(d.outputs, [.requestValue(height: 1, round: 0)])
    }

    func testLine19ProposerBroadcastsTheValueItGot() {
        var d = Driven(c, me: c.proposer(round: 0))
        let v = c.block("a")
        let out = d.step(.proposalValue(height: 1, round: 0, value: v))
        guard case let .sign(.proposal(p, value, pol)) = out.first else { return XCTFail("\(out)") }
        XCTAssertEqual(p, Proposal(height: 1, round: 0, validRound: -1, valueID: c.id(v), proposer: d.me))
        XCTAssertEqual(value, v)
        XCTAssertEqual(pol, [])
        // It receives its own proposal: line 22 makes it prevote its value.
        XCTAssertEqual(d.signedVotes(out), [prevote(c.id(v), by: d.me)])
    }

    func testLine22PrevotesAValidProposalWhenUnlocked() {
        var d = Driven(c, me: 0)
        let v = c.block("a")
        let out = d.step(.proposal(c.proposal(round: 0, v)))
        XCTAssertEqual(d.signedVotes(out), [prevote(c.id(v), by: 0)])
        XCTAssertEqual(d.core.step, .prevote)
    }

    func testLine26PrevotesNilForAnInvalidValue() {
        var d = Driven(c, me: 0)
        let out = d.step(.proposal(c.proposal(round: 0, c.invalidBlock("bad"))))
        XCTAssertEqual(d.signedVotes(out), [prevote(nil, by: 0)])
    }

    func testLine26PrevotesNilForANewValueWhileLockedOnAnother() {
        let v = c.block("a"), w = c.block("b")
        var d = lockedInRoundZero(on: v)
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 1)))
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 3)))  // W senders in round 1: line 55
        XCTAssertEqual(d.core.round, 1)
        let out = d.step(.proposal(c.proposal(round: 1, w)))
        XCTAssertEqual(d.signedVotes(out).first, prevote(nil, round: 1, by: 0))
        XCTAssertEqual(d.core.lockedValue?.id, c.id(v))
    }

    func testLine28PrevotesAReproposedValueWhoseProofOfLockIsNotOlderThanTheLock() {
        let v = c.block("a"), w = c.block("b")
        var d = lockedInRoundZero(on: v)
        let pol = [1, 2, 3].map { c.vote(.prevote, round: 1, c.id(w), from: $0) }
        d.step(.vote(c.vote(.prevote, round: 2, c.id(w), from: 1)))
        let out = d.step(.proposal(c.proposal(round: 2, w, validRound: 1, pol: pol)))
        XCTAssertEqual(d.core.round, 2)
        XCTAssertEqual(d.signedVotes(out).last, prevote(c.id(w), round: 2, by: 0))
    }

    func testLine32PrevotesNilWhenLockedInARoundAfterTheProofOfLock() {
        let v = c.block("a"), w = c.block("b")
        var d = Driven(c, me: 0)
        // Lock on v in round 1.
        d.step(.vote(c.vote(.prevote, round: 1, c.id(v), from: 2)))
        d.step(.vote(c.vote(.prevote, round: 1, c.id(v), from: 3)))
        XCTAssertEqual(d.core.round, 1)
        d.step(.proposal(c.proposal(round: 1, v)))
        XCTAssertEqual(d.core.lockedRound, 1)
        // Round 2 re-proposes w with a polka from round 0: older than the lock.
        let pol = [1, 2, 3].map { c.vote(.prevote, round: 0, c.id(w), from: $0) }
        d.step(.vote(c.vote(.precommit, round: 2, nil, from: 1)))
        let out = d.step(.proposal(c.proposal(round: 2, w, validRound: 0, pol: pol)))
        XCTAssertEqual(d.core.round, 2)
        XCTAssertEqual(d.signedVotes(out).last, prevote(nil, round: 2, by: 0))
    }

    func testLine28WaitsForThePolkaOfTheValidRound() {
        let w = c.block("b")
        var d = Driven(c, me: 0)
        d.step(.vote(c.vote(.prevote, round: 2, nil, from: 1)))
        d.step(.vote(c.vote(.prevote, round: 2, nil, from: 2)))
        XCTAssertEqual(d.core.round, 2)
        let out = d.step(.proposal(c.proposal(round: 2, w, validRound: 1, pol: [])))
        XCTAssertEqual(d.signedVotes(out), [], "no polka for round 1 yet: neither line 22 nor 28")
        let later = d.step(.vote(c.vote(.prevote, round: 1, c.id(w), from: 1)))
            + d.step(.vote(c.vote(.prevote, round: 1, c.id(w), from: 2)))
            + d.step(.vote(c.vote(.prevote, round: 1, c.id(w), from: 3)))
        XCTAssertEqual(d.signedVotes(later), [prevote(c.id(w), round: 2, by: 0)])
    }

    func testLine34SchedulesTimeoutPrevoteOnceOnAQuorumOfMixedPrevotes() {
        let v = c.block("a")
        var d = Driven(c, me: 0)
        d.step(.timeout(Timeout(kind: .propose, height: 1, round: 0)))
        let out = d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 1)))
            + d.step(.vote(c.vote(.prevote, round: 0, nil, from: 2)))
            + d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 3)))
        XCTAssertEqual(d.scheduled(out), [Timeout(kind: .prevote, height: 1, round: 0)])
    }

    func testLine36LocksAndPrecommitsOnAPolkaInStepPrevote() {
        let v = c.block("a")
        let d = lockedInRoundZero(on: v)
        XCTAssertEqual(d.signedVotes(), [prevote(c.id(v), by: 0), precommit(c.id(v), by: 0)])
        XCTAssertEqual(d.core.lockedValue?.id, c.id(v))
        XCTAssertEqual(d.core.validValue?.id, c.id(v))
        XCTAssertEqual(d.core.validRound, 0)
        XCTAssertEqual(d.core.step, .precommit)
    }

    func testLine36InStepPrecommitUpdatesTheValidValueButNotTheLock() {
        let v = c.block("a")
        var d = Driven(c, me: 0)
        d.step(.timeout(Timeout(kind: .propose, height: 1, round: 0)))
        d.step(.proposal(c.proposal(round: 0, v)))
        d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 1)))
        d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 2)))
        d.step(.timeout(Timeout(kind: .prevote, height: 1, round: 0)))
        XCTAssertEqual(d.core.step, .precommit)
        let out = d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 3)))
        XCTAssertEqual(d.signedVotes(out), [], "no second precommit")
        XCTAssertEqual(d.core.validValue?.id, c.id(v))
        XCTAssertEqual(d.core.validRound, 0)
        XCTAssertEqual(d.core.lockedRound, -1)
    }

    func testLine44PrecommitsNilOnANilPolkaAndNeverUnlocks() {
        let v = c.block("a")
        var d = lockedInRoundZero(on: v)
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 1)))
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 2)))
        d.step(.timeout(Timeout(kind: .propose, height: 1, round: 1)))
        XCTAssertEqual(d.signedVotes().suffix(2), [prevote(nil, round: 1, by: 0), precommit(nil, round: 1, by: 0)])
        XCTAssertEqual(d.core.lockedRound, 0)
        XCTAssertEqual(d.core.lockedValue?.id, c.id(v))
    }

    func testLine47SchedulesTimeoutPrecommitOnAQuorumOfAnyPrecommits() {
        var d = Driven(c, me: 0)
        let out = d.step(.vote(c.vote(.precommit, round: 0, nil, from: 1)))
            + d.step(.vote(c.vote(.precommit, round: 0, nil, from: 2)))
            + d.step(.vote(c.vote(.precommit, round: 0, c.id(c.block("a")), from: 3)))
        XCTAssertEqual(d.scheduled(out), [Timeout(kind: .precommit, height: 1, round: 0)])
    }

    func testLine49DecidesOnAQuorumOfPrecommitsFromAPastRound() {
        let v = c.block("a")
        var d = Driven(c, me: 0)
        d.step(.proposal(c.proposal(round: 0, v)))
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 2)))
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 3)))
        XCTAssertEqual(d.core.round, 1)
        for v2 in [1, 2, 3] { d.step(.vote(c.vote(.precommit, round: 0, c.id(v), from: v2))) }
        XCTAssertEqual(d.decision?.round, 0)
        XCTAssertEqual(d.decision?.value.id, c.id(v))
        XCTAssertEqual(d.decision?.certificate.signers, [1, 2, 3])
        XCTAssertNoThrow(try d.decision?.certificate.verify(c.parameters))
    }

    func testLine49WaitsForTheBlockWhenOnlyThePrecommitsArrived() {
        let v = c.block("a")
        var d = Driven(c, me: 0)
        for v2 in [1, 2, 3] { d.step(.vote(c.vote(.precommit, round: 0, c.id(v), from: v2))) }
        XCTAssertNil(d.decision)
        d.step(.proposal(c.proposal(round: 0, v)))
        XCTAssertEqual(d.decision?.value.id, c.id(v))
    }

    func testLine55SkipsToTheHighestRoundWithWeakQuorumOfSenders() {
        var d = Driven(c, me: 0)
        d.step(.vote(c.vote(.prevote, round: 5, nil, from: 1)))
        XCTAssertEqual(d.core.round, 0, "one sender is not f + 1")
        let out = d.step(.vote(c.vote(.precommit, round: 5, nil, from: 2)))
        XCTAssertEqual(d.core.round, 5)
        XCTAssertEqual(d.scheduled(out), [Timeout(kind: .propose, height: 1, round: 5)])
    }

    func testFutureRoundFloodFromOneSenderNeverSkipsAndRoundsBeyondTheWindowAreDropped() {
        var d = Driven(c, me: 0)
        for r in 1...200 { d.step(.vote(c.vote(.prevote, round: r, nil, from: 3))) }
        XCTAssertEqual(d.core.round, 0)
        XCTAssertNil(d.core.votes(.prevote, round: 100), "beyond the window")
        d.step(.vote(c.vote(.prevote, round: 100, nil, from: 2)))
        XCTAssertEqual(d.core.round, 0, "messages beyond the window do not count")
    }

    func testLine57TimeoutProposePrevotesNilOnlyInStepProposeOfItsRound() {
        var d = Driven(c, me: 0)
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .propose, height: 1, round: 3)))), [], "another round")
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .propose, height: 2, round: 0)))), [], "another height")
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .propose, height: 1, round: 0)))), [prevote(nil, by: 0)])
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .propose, height: 1, round: 0)))), [], "step is prevote now")
    }

    func testLine61TimeoutPrevotePrecommitsNilOnlyInStepPrevote() {
        var d = Driven(c, me: 0)
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .prevote, height: 1, round: 0)))), [], "step is propose")
        d.step(.timeout(Timeout(kind: .propose, height: 1, round: 0)))
        XCTAssertEqual(d.signedVotes(d.step(.timeout(Timeout(kind: .prevote, height: 1, round: 0)))), [precommit(nil, by: 0)])
    }

    func testLine65TimeoutPrecommitStartsTheNextRound() {
        var d = Driven(c, me: 0)
        d.step(.timeout(Timeout(kind: .precommit, height: 1, round: 1)))
        XCTAssertEqual(d.core.round, 0, "stale")
        let out = d.step(.timeout(Timeout(kind: .precommit, height: 1, round: 0)))
        XCTAssertEqual(d.core.round, 1)
        XCTAssertEqual(d.core.step, .propose)
        XCTAssertEqual(d.scheduled(out), [Timeout(kind: .propose, height: 1, round: 1)])
    }

    func testLines15And16TheProposerReproposesItsValidValueWithItsProofOfLock() {
        let v = c.block("a")
        let me = c.proposer(round: 1)
        var d = Driven(c, me: me)
        d.step(.proposal(c.proposal(round: 0, v)))
        for other in (0..<4).filter({ $0 != me }).prefix(2) { d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: other))) }
        XCTAssertEqual(d.core.validRound, 0)
        let out = d.step(.timeout(Timeout(kind: .precommit, height: 1, round: 0)))
        guard case let .sign(.proposal(p, value, pol)) = out.first else { return XCTFail("\(out)") }
        XCTAssertEqual(p.round, 1)
        XCTAssertEqual(p.validRound, 0)
        XCTAssertEqual(value, v)
        XCTAssertEqual(pol.count, 3)
        XCTAssertTrue(pol.allSatisfy { $0.vote.round == 0 && $0.vote.valueID == c.id(v) && $0.verify(c.parameters) })
    }
}
