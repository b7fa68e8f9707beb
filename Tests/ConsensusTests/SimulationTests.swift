// Seeds through the deterministic simulator (consensus.md §3.2–3.4): a fixed list per fault
// kind, random seeds across all kinds, every seed run twice for determinism, and the proof that
// the harness can fail (more twins than the protocol tolerates).
import CinnabarCrypto
import ConsensusSim
import XCTest

final class SimulationTests: XCTestCase {
    /// Runs the seeds and fails with each violation's seed and scenario.
    @discardableResult
    func campaign(_ seeds: [UInt64], validators: [Int], faults: [FaultKind], twins: Int? = nil,
                  file: StaticString = #filePath, line: UInt = #line) -> CampaignReport {
        var plan = CampaignPlan(seeds: seeds)
        plan.validatorChoices = validators
        plan.faults = faults
        plan.twins = twins
        let report = Campaign.run(plan)
        for (scenario, violation) in report.violations {
            XCTFail("\(scenario): \(violation) — rerun: cinnabar sim --seeds 1 --seed \(scenario.seed)", file: file, line: line)
        }
        XCTAssertEqual(report.nondeterministic, [], "two runs of these seeds differ", file: file, line: line)
        XCTAssertEqual(report.runs, seeds.count, file: file, line: line)
        return report
    }

    func testHappyPathDecidesEveryHeightInRoundZeroForOneFourAndSevenValidators() {
        for n in [1, 4, 7] {
            let result = Simulation(scenario: Scenario(seed: 1, validatorChoices: [n], allowed: [])).run()
            XCTAssertEqual(result.violations.map(\.description), [])
            XCTAssertGreaterThanOrEqual(result.minHeight, 4)
            XCTAssertEqual(result.crashes, 0)
        }
        campaign(Array(1...6), validators: [1, 4, 7], faults: [])
    }

    func testCrashesAtEveryPersistencePointNeverDoubleSignAndTheNodesCatchUp() {
        let report = campaign(Array(100...129), validators: [1, 4, 7], faults: [.crash])
        XCTAssertGreaterThan(report.crashes, 30)
    }

    /// consensus.md §3.4: "crash at each point" — before and after each WAL append and fsync, after
    /// signing before sending, after deciding before the block is durable, mid checkpoint
    /// signature, while the WAL is reset: the node comes back, never double-signs, catches up.
    func testACrashAtEveryPersistencePointOfTheFirstHeightsIsRecovered() {
        for (n, operations) in [(1, 1...30), (4, 1...45)] {
            for k in operations {
                let scenario = Scenario.crash(node: 0, beforeOperation: k, validators: n, seed: 77)
                let result = Simulation(scenario: scenario).run()
                XCTAssertEqual(result.violations.map(\.description), [], "n = \(n), crash before operation \(k)")
                XCTAssertEqual(result.crashPointHits, 1, "n = \(n): the crash struck before operation \(k)")
                XCTAssertGreaterThanOrEqual(result.minHeight, 4)
            }
        }
    }

    func testTornTailsAndADamagedWALHaltOnlyTheDamagedNode() {
        let report = campaign(Array(200...219), validators: [4, 7], faults: [.disk, .crash])
        XCTAssertGreaterThan(report.halts, 0, "some seeds damage a WAL record in the middle: that node must halt")
    }

    func testPartitionsAsymmetricAndFlappingLinksNeverForkAndHealWithinTheLivenessBound() {
        campaign(Array(300...329), validators: [4, 7], faults: [.partition, .asymmetric, .flapping])
    }

    func testLossDuplicationReorderingAndLongDelaysAreSafeAndLive() {
        campaign(Array(400...429), validators: [1, 4, 7], faults: [.loss, .duplicate, .delay])
    }

    func testAnEquivocatingProposerAndUpToFTwinsCannotFork() {
        let report = campaign(Array(500...529), validators: [4, 7], faults: [.equivocate, .twins])
        XCTAssertGreaterThan(report.faultRuns[.equivocate, default: 0] + report.faultRuns[.twins, default: 0], 20)
    }

    func testClockSkewAndDriftingTimersNeverAffectSafety() {
        campaign(Array(600...619), validators: [1, 4, 7], faults: [.skew, .loss])
    }

    func testFixedSeedsAcrossEveryFaultKind() {
        campaign(Array(1_000...1_039), validators: [1, 4, 7], faults: FaultKind.allCases)
    }

    func testRandomSeedsAcrossEveryFaultKind() {
        let base = UInt64(secureRandomBytes(count: 4).reduce(0) { $0 << 8 | UInt32($1) }) * 1_000
        print("random seeds \(base)…\(base + 79)")
        campaign((0..<80).map { base + $0 }, validators: [1, 4, 7], faults: FaultKind.allCases)
    }

    /// With f + 1 twinned validators each side of the twins' partition can hold a quorum of keys:
    /// the checker must catch the fork on some seeds. A harness that cannot fail proves nothing.
    func testMoreTwinsThanTheProtocolToleratesProduceAgreementViolations() {
        var plan = CampaignPlan(seeds: Array(1...20))
        plan.validatorChoices = [4]
        plan.faults = []
        plan.twins = 2
        plan.checkDeterminism = false
        let report = Campaign.run(plan)
        let forks = report.violations.filter { $0.violation.invariant == "I1 agreement" }
        XCTAssertGreaterThan(forks.count, 0, "no fork found with 2 twins out of 4")
        let (_, trace) = Campaign.minimalTrace(seed: forks[0].scenario.seed, plan: plan)
        XCTAssertTrue(trace.contains { $0.contains("VIOLATION I1 agreement") }, "the minimal trace ends at the violation")
    }
}
