// Many seeds in a row (consensus.md §3.2): each run twice to prove determinism (equal trace
// hashes), violations collected with their scenario, and a minimal trace for a failing seed.

/// What to run.
public struct CampaignPlan: Sendable {
    public var seeds: [UInt64]
    public var validatorChoices: [Int] = [1, 4, 7]
    public var faults: [FaultKind] = FaultKind.allCases.filter { $0 != .twins }
    /// Force this many twinned validators in every run (nil: only as the `twins` fault draws).
    public var twins: Int?
    /// Run every seed a second time and compare trace hashes.
    public var checkDeterminism = true
    public var options = SimulationOptions()

    public init(seeds: [UInt64]) { self.seeds = seeds }
}

/// What a campaign found.
public struct CampaignReport: Sendable {
    public var runs = 0
    public var heightsDecided: UInt64 = 0
    public var events = 0
    public var crashes = 0
    public var halts = 0
    public var virtualMillis: UInt64 = 0
    /// Runs per fault kind drawn.
    public var faultRuns: [FaultKind: Int] = [:]
    public var violations: [(scenario: Scenario, violation: Violation)] = []
    /// Seeds whose two runs had different trace hashes.
    public var nondeterministic: [UInt64] = []

    public var failed: Bool { !violations.isEmpty || !nondeterministic.isEmpty }
}

public enum Campaign {
    /// Runs every seed of the plan (twice if asked) and reports; `progress` sees each result.
    public static func run(_ plan: CampaignPlan, progress: (SimulationResult) -> Void = { _ in }) -> CampaignReport {
        var report = CampaignReport()
        for seed in plan.seeds {
            let scenario = Scenario(seed: seed, validatorChoices: plan.validatorChoices, allowed: plan.faults, twins: plan.twins)
            let result = Simulation(scenario: scenario, options: plan.options).run()
            report.runs += 1
            report.heightsDecided += result.minHeight
            report.events += result.events
            report.crashes += result.crashes + result.crashPointHits
            report.halts += result.halts.count
            report.virtualMillis += result.virtualMillis
            for f in scenario.faults { report.faultRuns[f, default: 0] += 1 }
            for v in result.violations { report.violations.append((scenario, v)) }
            if plan.checkDeterminism {
                let again = Simulation(scenario: scenario, options: plan.options).run()
                if again.traceHash != result.traceHash { report.nondeterministic.append(seed) }
            }
            progress(result)
        }
        return report
    }

    /// Runs a seed again keeping its trace, and returns the lines that lead to its first
    /// violation: the last `limit` lines about the violating height (or the last lines at all).
    public static func minimalTrace(seed: UInt64, plan: CampaignPlan, limit: Int = 60) -> (Scenario, [String]) {
        let (scenario, lines, height) = fullTrace(seed: seed, plan: plan)
        var kept = lines
        if let h = height {
            let tag = "h\(h) "
            kept = lines.filter { $0.contains(tag) || $0.contains("VIOLATION") || $0.contains("crash") || $0.contains("halt") || $0.contains("GST") }
        }
        return (scenario, Array(kept.suffix(limit)))
    }

    /// Runs a seed again keeping every trace line; also returns the first violation's height.
    public static func fullTrace(seed: UInt64, plan: CampaignPlan) -> (Scenario, [String], UInt64?) {
        var options = plan.options
        options.keepTrace = true
        options.stopAtFirstViolation = true
        let scenario = Scenario(seed: seed, validatorChoices: plan.validatorChoices, allowed: plan.faults, twins: plan.twins)
        let result = Simulation(scenario: scenario, options: options).run()
        return (scenario, result.trace, result.violations.first?.height)
    }
}
