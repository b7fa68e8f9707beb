// Vote sets, proposal admission and commit certificates: distinct validators, first one wins,
// equivocation is evidence and never counted (consensus.md §2.4 pitfall 6).
import Consensus
import XCTest

final class VoteCountingTests: XCTestCase {
    let c = Consortium()

    func testDuplicateVotesCountOnce() {
        let v = c.block("a")
        var d = Driven(c, me: 0)
        for _ in 0..<5 { d.step(.vote(c.vote(.prevote, round: 0, c.id(v), from: 1))) }
        XCTAssertEqual(d.core.votes(.prevote, round: 0)?.count(for: c.id(v)), 1)
        XCTAssertEqual(d.core.evidence, [])
    }

    func testAConflictingVoteIsEvidenceAndCountsOnlyForItsOwnValueUpToABound() {
        let values = ["a", "b", "c", "d"].map { c.id(c.block($0)) }
        var d = Driven(c, me: 0)
        let first = c.vote(.prevote, round: 0, values[0], from: 1), second = c.vote(.prevote, round: 0, nil, from: 1)
        d.step(.vote(first))
        let out = d.step(.vote(second))
        XCTAssertEqual(out, [.evidence(.conflictingVotes(first, second))])
        let set = d.core.votes(.prevote, round: 0)!
        XCTAssertEqual(set.total, 1, "one validator")
        XCTAssertEqual(set.count(for: nil), 1)
        XCTAssertEqual(set.count(for: values[0]), 1)
        for id in values.dropFirst() { d.step(.vote(c.vote(.prevote, round: 0, id, from: 1))) }
        let after = d.core.votes(.prevote, round: 0)!
        XCTAssertEqual(after.count(for: values[1]), 1)
        XCTAssertEqual(after.count(for: values[2]), 0, "beyond \(VoteSet.maxVotesPerValidator) votes per validator")
        XCTAssertEqual(d.core.evidence.count, 4, "every conflicting vote is evidence, counted or not")
    }

    /// An equivocator's vote that a correct proposer's proof of lock carries must count even if its
    /// other vote arrived first (the simulator found the liveness loss with twins).
    func testAProofOfLockCountsAnEquivocatorsSecondVote() {
        let v = c.block("a"), w = c.block("b")
        var d = Driven(c, me: 0)
        d.step(.vote(c.vote(.prevote, round: 0, c.id(w), from: 3)))  // validator 3 equivocates
        let pol = [1, 2, 3].map { c.vote(.prevote, round: 0, c.id(v), from: $0) }
        d.step(.vote(c.vote(.prevote, round: 1, nil, from: 1)))
        let out = d.step(.proposal(c.proposal(round: 1, v, validRound: 0, pol: pol)))
        XCTAssertEqual(d.core.round, 1)
        XCTAssertEqual(d.signedVotes(out).first, Vote(type: .prevote, height: 1, round: 1, valueID: c.id(v), validator: 0))
    }

    func testAForgedSignatureIsIgnoredAndIsNotEvidence() {
        var d = Driven(c, me: 0)
        let real = c.vote(.prevote, round: 0, nil, from: 1)
        let forged = SignedVote(vote: Vote(type: .prevote, height: 1, round: 0, valueID: c.id(c.block("a")), validator: 2),
                                signature: real.signature)
        d.step(.vote(forged))
        XCTAssertNil(d.core.votes(.prevote, round: 0))
        d.step(.vote(c.vote(.prevote, round: 0, nil, from: 2)))
        XCTAssertEqual(d.core.evidence, [])
    }

    func testOnlyTheFirstProposalFromTheRoundsProposerCounts() {
        let v = c.block("a"), w = c.block("b")
        var d = Driven(c, me: 0)
        XCTAssertEqual(d.step(.proposal(c.proposal(round: 0, w, from: 2))), [], "not the proposer of round 0")
        XCTAssertNil(d.core.proposal(round: 0))
        let first = c.proposal(round: 0, v), second = c.proposal(round: 0, w)
        d.step(.proposal(first))
        let out = d.step(.proposal(second))
        XCTAssertEqual(out, [.evidence(.conflictingProposals(first.proposal, second.proposal))])
        XCTAssertEqual(d.core.proposal(round: 0)?.id, c.id(v))
    }

    func testAProposalWhoseValueIsNotTheSignedIDIsDropped() {
        let v = c.block("a"), w = c.block("b")
        var d = Driven(c, me: 0)
        let honest = c.proposal(round: 0, v)
        d.step(.proposal(SignedProposal(proposal: honest.proposal, signature: honest.signature, value: w, proofOfLock: [])))
        XCTAssertNil(d.core.proposal(round: 0))
        d.step(.proposal(SignedProposal(proposal: honest.proposal, signature: honest.signature, value: [1, 2, 3], proofOfLock: [])))
        XCTAssertNil(d.core.proposal(round: 0), "undecodable value")
        d.step(.proposal(honest))
        XCTAssertEqual(d.core.proposal(round: 0)?.id, c.id(v))
    }

    func testCommitCertificateVerifiesOnlyAQuorumOfDistinctMatchingPrecommits() throws {
        let v = c.block("a")
        let id = c.id(v)
        let good = CommitCertificate(height: 1, round: 2, valueID: id, precommits: [0, 1, 2].map { c.vote(.precommit, round: 2, id, from: $0) })
        XCTAssertEqual(try good.verify(c.parameters), 3)
        let few = CommitCertificate(height: 1, round: 2, valueID: id, precommits: [0, 1].map { c.vote(.precommit, round: 2, id, from: $0) })
        XCTAssertThrowsError(try few.verify(c.parameters)) { XCTAssertEqual(($0 as? CommitCertificate.Failure)?.code, "certificate_too_few_precommits") }
        let twice = CommitCertificate(height: 1, round: 2, valueID: id, precommits: [0, 1, 1].map { c.vote(.precommit, round: 2, id, from: $0) })
        XCTAssertThrowsError(try twice.verify(c.parameters)) { XCTAssertEqual(($0 as? CommitCertificate.Failure)?.code, "certificate_duplicate_validator") }
        let otherRound = CommitCertificate(height: 1, round: 2, valueID: id,
                                           precommits: [c.vote(.precommit, round: 1, id, from: 0)] + [1, 2].map { c.vote(.precommit, round: 2, id, from: $0) })
        XCTAssertThrowsError(try otherRound.verify(c.parameters)) { XCTAssertEqual(($0 as? CommitCertificate.Failure)?.code, "certificate_wrong_vote") }
        let prevotes = CommitCertificate(height: 1, round: 2, valueID: id, precommits: [0, 1, 2].map { c.vote(.prevote, round: 2, id, from: $0) })
        XCTAssertThrowsError(try prevotes.verify(c.parameters))
        var forged = good.precommits
        forged[1] = SignedVote(vote: forged[1].vote, signature: forged[0].signature)
        XCTAssertThrowsError(try CommitCertificate(height: 1, round: 2, valueID: id, precommits: forged).verify(c.parameters)) {
            XCTAssertEqual(($0 as? CommitCertificate.Failure)?.code, "certificate_bad_signature")
        }
    }

    func testADecisionLearnedFromACertificateNeedsAValidBlockWithThatID() {
        let v = c.block("a"), w = c.block("b")
        let cert = CommitCertificate(height: 1, round: 0, valueID: c.id(v), precommits: [1, 2, 3].map { c.vote(.precommit, round: 0, c.id(v), from: $0) })
        var d = Driven(c, me: 0)
        d.step(.commit(cert, value: w))
        XCTAssertNil(d.decision, "block does not match the certificate")
        d.step(.commit(cert, value: v))
        XCTAssertEqual(d.decision?.value.id, c.id(v))
        XCTAssertEqual(d.decision?.certificate, cert)
    }
}
