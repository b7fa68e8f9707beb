// A random campaign of the faults of issue 7 §6 on four real validator processes, each in its own
// network namespace: SIGKILL and restart, SIGSTOP and continue, a restart from an empty store, a
// node cut off from the other three (1–3) and the four cut in halves (2–2), one fault at a time
// (f = 1), with records written through live nodes around and during each. The checker then
// verifies every node's checkpoint with light-client code, that every checkpoint seen during the
// campaign is a prefix of each node's final log, that every acknowledged record sits at one leaf on
// every node, and audits each store. `make test` runs a few rounds; a longer campaign on demand:
//   CINNABAR_CAMPAIGN_ROUNDS=40 CINNABAR_CAMPAIGN_SEED=7 swift test --filter FaultCampaignTests
import Foundation
import XCTest

final class FaultCampaignTests: XCTestCase {
    enum Fault: CaseIterable {
        case kill, stop, emptyStore, isolate, halves
    }

    func testARandomFaultCampaignKeepsOneLedger() throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = Int(environment["CINNABAR_CAMPAIGN_ROUNDS"] ?? "") ?? 5
        let seed = UInt64(environment["CINNABAR_CAMPAIGN_SEED"] ?? "") ?? 20261130
        var rng = SplitMix64(seed: seed)
        let lab = try NetworkLab(hosts: 4)
        let c = try Consortium(count: 4, lab: lab)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(4, to: 0)
        var seen: [String] = []
        // Every fault kind once (in a seeded order) before any repeats, so that a short campaign
        // covers them all.
        var plan = Fault.allCases.shuffled(using: &rng)
        while plan.count < rounds { plan.append(Fault.allCases.randomElement(using: &rng)!) }

        for (round, fault) in plan.prefix(rounds).enumerated() {
            let victim = Int.random(in: 0..<4, using: &rng)
            let others = (0..<4).filter { $0 != victim }
            let through = others.randomElement(using: &rng)!
            let context = "seed \(seed) round \(round): \(fault) on node \(victim), writes through node \(through)"
            print("campaign \(context)")
            switch fault {
            case .kill:
                c.kill(victim)
                acked += try c.write(6, to: through)
                try c.start(victim)
            case .stop:
                c.signal(victim, SIGSTOP)
                acked += try c.write(6, to: through)
                c.signal(victim, SIGCONT)
            case .emptyStore:
                // Its signer state stays: it syncs and signs nothing it signed before.
                c.kill(victim)
                try FileManager.default.removeItem(atPath: c.nodes[victim].storePath)
                acked += try c.write(6, to: through)
                try c.start(victim)
            case .isolate:
                try c.waitForSameSize()
                let cutOff = try c.log(victim).size
                try lab.partition([victim], others)
                acked += try c.write(6, to: through)
                XCTAssertEqual(try c.log(victim).size, cutOff, "\(context): the isolated node decided alone")
                try lab.heal()
            case .halves:
                try c.waitForSameSize()
                let before = try c.log(0).size
                let partner = others.randomElement(using: &rng)!
                let half = [victim, partner], rest = others.filter { $0 != partner }
                try lab.partition(half, rest)
                let pending = c.writeInBackground(3, to: through)
                Thread.sleep(forTimeInterval: 3)
                for i in c.nodes.indices {
                    XCTAssertEqual(try c.log(i).size, before, "\(context): node \(i) decided without a quorum")
                }
                XCTAssertTrue(pending.finished.isEmpty, "\(context): a write was acknowledged during a 2–2 partition")
                try lab.heal()
                acked += try pending.wait(timeout: 60)
            }
            acked += try c.write(2, to: victim)  // back in the consortium, it takes writes again
            seen.append(try c.log(through).checkpoint)
        }
        try c.checkOneLedger(acked: acked, earlier: seen)
        try c.stopAndAuditAll()
    }
}
