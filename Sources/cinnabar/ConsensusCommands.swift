// `cinnabar sim` runs the deterministic consensus simulator over many seeds; `cinnabar bench
// consensus` measures the engine against raw Ed25519 sign and verify rates in the same run.
import ArgumentParser
import CinnabarCrypto
import Consensus
import ConsensusSim
import ConsensusStorage
import Foundation
import Ledger

struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic consensus simulator over many seeds and check every invariant.",
        discussion: """
            Each seed draws validators (from --validators) and a mix of faults (from --faults) and runs \
            twice; the two trace hashes must match. Prints seeds run, heights decided and violations; on a \
            violation prints the seed and a minimal trace and exits with status 1.
            Fault kinds: \(FaultKind.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @Option(help: "Number of seeds to run.") var seeds = 100
    @Option(help: "First seed (default: random, printed).") var seed: UInt64?
    @Option(help: "Validator counts to draw from, comma-separated.") var validators = "1,4,7"
    @Option(help: "Twinned validators in every run (more than f must produce violations).") var twins: Int?
    @Option(help: "Fault kinds to draw from, comma-separated; 'all' or 'none'.") var faults = "all"
    @Flag(help: "Skip the second run of each seed.") var noDeterminismCheck = false
    @Flag(help: "Print one line per seed.") var verbose = false
    @Option(help: "Write the whole trace of the first failing seed to this file.") var traceFile: String?

    func run() throws {
        let first = seed ?? (UInt64(secureRandomBytes(count: 4).reduce(0) { $0 << 8 | UInt32($1) }) * 1000)
        var plan = CampaignPlan(seeds: (0..<UInt64(max(0, seeds))).map { first + $0 })
        plan.validatorChoices = try validators.split(separator: ",").map {
            guard let n = Int($0.trimmingCharacters(in: .whitespaces)), [1, 4, 5, 6, 7].contains(n) else {
                throw CLIError("--validators takes counts among 1, 4, 5, 6, 7; got \(validators)")
            }
            return n
        }
        switch faults {
        case "all": plan.faults = FaultKind.allCases.filter { $0 != .twins || twins == nil }
        case "none": plan.faults = []
        default:
            plan.faults = try faults.split(separator: ",").map {
                guard let k = FaultKind(rawValue: String($0).trimmingCharacters(in: .whitespaces)) else {
                    throw CLIError("unknown fault kind \($0); known: \(FaultKind.allCases.map(\.rawValue).joined(separator: ","))")
                }
                return k
            }
        }
        plan.twins = twins
        plan.checkDeterminism = !noDeterminismCheck
        say("sim: seeds \(first)…\(first + UInt64(max(1, seeds)) - 1), validators \(plan.validatorChoices), faults \(plan.faults.map(\.rawValue).joined(separator: ",")), twins \(twins.map(String.init) ?? "as drawn")")
        let started = Date()
        let report = Campaign.run(plan) { result in
            if verbose || !result.violations.isEmpty {
                say("  \(result.scenario): trace \(String(result.traceHash, radix: 16)), heights \(result.minHeight)…\(result.maxHeight), \(result.events) events, \(result.crashes) crashes\(result.halts.isEmpty ? "" : ", halted: \(result.halts.joined(separator: "; "))")\(result.violations.isEmpty ? "" : ", \(result.violations.count) VIOLATION(S)")")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        say("seeds run: \(report.runs)\(plan.checkDeterminism ? " (each twice)" : "") in \(String(format: "%.1f", seconds)) s; heights decided: \(report.heightsDecided); virtual time \(report.virtualMillis / 1000) s; crashes \(report.crashes); halts on damaged WAL \(report.halts)")
        say("runs per fault: " + FaultKind.allCases.compactMap { k in report.faultRuns[k].map { "\(k.rawValue) \($0)" } }.joined(separator: ", "))
        say("violations found: \(report.violations.count); nondeterministic seeds: \(report.nondeterministic.count)")
        for seed in report.nondeterministic { say("NONDETERMINISTIC seed \(seed): two runs gave different trace hashes") }
        if let (scenario, violation) = report.violations.first {
            say("FIRST VIOLATION: \(scenario)")
            say("  \(violation)")
            let (_, trace) = Campaign.minimalTrace(seed: scenario.seed, plan: plan)
            say("minimal trace (rerun with: cinnabar sim --seeds 1 --seed \(scenario.seed) --validators \(validators) --faults \(faults)\(twins.map { " --twins \($0)" } ?? "")):")
            for line in trace { say("  " + line) }
            if let traceFile {
                let (_, all, _) = Campaign.fullTrace(seed: scenario.seed, plan: plan)
                try (all.joined(separator: "\n") + "\n").write(toFile: traceFile, atomically: true, encoding: .utf8)
                say("whole trace: \(traceFile) (\(all.count) lines)")
            }
        }
        if report.failed { throw ExitCode(1) }
    }
}

struct BenchConsensus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus",
        abstract: "Decided heights per second and CPU per height for n = 1, 4, 7 simulated validators (zero network delay), beside raw Ed25519 rates.")

    @Option(help: "Heights to decide per validator count.") var heights = 300
    @Option(help: "Validator counts, comma-separated.") var validators = "1,4,7"

    func run() throws {
        let (signRate, verifyRate) = ed25519Rates()
        say("machine: Ed25519 sign \(rate(signRate))/s (libsodium), verify \(rate(verifyRate))/s (a validator key's table), one core, this run")
        say("n       heights/s     CPU/height      signs/h   verifies/h   signature CPU (share)")
        for n in validators.split(separator: ",").compactMap({ Int($0) }) {
            var options = SimulationOptions()
            options.minimumHeights = UInt64(heights)
            options.blockIntervalMillis = 0
            options.submitEveryMillis = 0
            options.baseDelayMillis = 0...0
            options.checkInvariants = false  // the checker's own signature checks are not the engine's
            let scenario = Scenario(seed: 42, validatorChoices: [n], allowed: [])
            let cpu0 = processCPUSeconds(), wall0 = Date()
            let result = Simulation(scenario: scenario, options: options).run()
            let cpu = processCPUSeconds() - cpu0, wall = Date().timeIntervalSince(wall0)
            guard result.violations.isEmpty, result.minHeight >= UInt64(heights) else {
                throw CLIError("the bench run did not decide \(heights) heights: \(result.violations.first.map { "\($0)" } ?? "")")
            }
            let h = Double(result.minHeight)
            let signs = Double(result.signaturesMade) / h, verifies = Double(result.signaturesVerified) / h
            let signatureCPU = signs / signRate + verifies / verifyRate
            let perHeight = cpu / h
            say(String(format: "%-4d %12.0f %11.3f ms %12.1f %12.1f %9.3f ms (%.0f%%)", n, h / wall, perHeight * 1000, signs, verifies,
                       signatureCPU * 1000, 100 * signatureCPU / perHeight))
        }
        say("(all n validators run in this one process: CPU/height is the whole network's; the simulated disk is in memory, so no fsync is counted)")
        try realDiskSingleValidator(heights: min(heights, 200))
    }

    /// n = 1 on real files: the replica with its fsync'd WAL and signer log, as a node would run it.
    private func realDiskSingleValidator(heights: Int) throws {
        let directory = MachineLimits.temporaryDirectory("consensus")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let seed = [UInt8](repeating: 1, count: 32)
        let set = try ValidatorSet([Validator(name: "v0", publicKey: Ed25519PrivateKey(seed: seed)!.publicKey)])
        let origin = "bench.cinnabar.example/consensus"
        let parameters = ConsensusParameters(chainID: origin, validators: set)
        let store = try FileStore(directory: directory)
        try SignerGuard.create(in: store)
        var chain = try LedgerChain(origin: origin, validators: set)
        let replica = try Replica(parameters: parameters, key: try ValidatorKey(index: 0, seed: seed, validators: set, origin: origin),
                                  store: store, evaluator: chain)
        let fsyncs = try fsyncRate(directory: directory)
        let wall0 = Date(), cpu0 = processCPUSeconds()
        var effects = try replica.start()
        var lines = ""
        for h in 1...UInt64(heights) {
            guard case .requestValue = effects.first else { throw CLIError("unexpected effects at height \(h): \(effects)") }
            let block = chain.makeBlock(entries: [[1] + Array("entry \(h)".utf8)], proposedTimeMillis: h, proposer: "v0", signatureLines: lines)
            effects = try replica.proposeValue(height: h, round: 0, value: block.encoded)
            guard case .decided = effects.last else { throw CLIError("height \(h) not decided: \(effects)") }
            chain.apply(block)
            lines = try replica.signCheckpoint(height: h, size: chain.size, root: chain.root)?.line.line ?? ""
            effects = try replica.startNextHeight(evaluator: chain)
        }
        let wall = Date().timeIntervalSince(wall0), cpu = processCPUSeconds() - cpu0
        say(String(format: "n = 1 on real files (fsync'd WAL and signer log): %.0f heights/s, CPU %.3f ms/height; this disk: %.0f fsyncs/s",
                   Double(heights) / wall, cpu * 1000 / Double(heights), fsyncs))
    }

    /// Appends of 100 bytes, each followed by fsync, per second on this disk.
    private func fsyncRate(directory: String) throws -> Double {
        let store = try FileStore(directory: directory)
        let start = Date()
        var n = 0
        while Date().timeIntervalSince(start) < 0.5 {
            try store.append("fsync-probe", [UInt8](repeating: 0, count: 100))
            try store.sync("fsync-probe")
            n += 1
        }
        try store.remove("fsync-probe")
        return Double(n) / Date().timeIntervalSince(start)
    }

    /// libsodium's signing rate, and the verify rate of a key with its table (the validators'
    /// keys have theirs after their first 16 signatures), one core each.
    private func ed25519Rates() -> (Double, Double) {
        let key = Ed25519PrivateKey.generate()
        let message = [UInt8](repeating: 7, count: 80)
        var n = 0
        let start = Date()
        while Date().timeIntervalSince(start) < 1 {
            for _ in 0..<200 { _ = key.signature(for: message) }
            n += 200
        }
        return (Double(n) / Date().timeIntervalSince(start), MachineLimits.ed25519VerifiesPerSecond(byLibsodium: false))
    }
}

/// CPU seconds used by this process so far (user + system).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
