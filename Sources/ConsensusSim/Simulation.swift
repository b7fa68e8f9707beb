// The deterministic simulator (consensus.md §3.2): every node of a scenario in one thread, a
// virtual clock, a network that delays, drops, duplicates, reorders and partitions, disks that
// lose unsynced writes, crashes at any persistence point — all drawn from one seed. The
// invariant checker looks at every step; the trace hash proves the run is reproducible.
import CinnabarCrypto
import Consensus
import Ledger
import SignedNote

/// A safety or liveness property found broken.
public struct Violation: Sendable, CustomStringConvertible {
    /// "I1 agreement", "I4 no double-sign", …
    public let invariant: String
    public let detail: String
    public let atMillis: UInt64
    public let height: UInt64?

    public var description: String { "\(invariant) at t=\(atMillis)ms: \(detail)" }
}

/// What one run found.
public struct SimulationResult: Sendable {
    public let scenario: Scenario
    public let traceHash: UInt64
    /// The lowest and highest height decided by a correct, running node.
    public let minHeight: UInt64
    public let maxHeight: UInt64
    public let violations: [Violation]
    public let events: Int
    public let virtualMillis: UInt64
    public let crashes: Int
    /// Crashes struck at an armed persistence point.
    public let crashPointHits: Int
    public let halts: [String]
    public let signaturesMade: Int
    public let signaturesVerified: Int
    /// Trace lines (only when the run was asked to keep them).
    public let trace: [String]
}

/// Knobs that are not drawn from the seed.
public struct SimulationOptions: Sendable {
    /// Heights every correct node must reach, at least, before the run ends.
    public var minimumHeights: UInt64 = 4
    /// A proposer waits this long after its last decision before proposing (the block rate).
    public var blockIntervalMillis: UInt64 = 1_000
    public var maxBlockEntries = 16
    /// Client submissions: one every this many milliseconds on average (0: none).
    public var submitEveryMillis: UInt64 = 150
    /// Keep a readable trace of every event (slow; for printing a failing seed).
    public var keepTrace = false
    /// Stop at the first violation.
    public var stopAtFirstViolation = true
    /// Tick period for retransmission, status and block sync.
    public var tickMillis: UInt64 = 1_000
    /// Network delay bounds after GST (zero for the bench).
    public var baseDelayMillis: ClosedRange<UInt64> = 1...10
    /// Check the invariants (off only for the bench: the checker re-verifies every certificate and
    /// signature, work that is not the engine's).
    public var checkInvariants = true
    /// A run stops (as a liveness violation) after this many events: a runaway is a bug too.
    public var maxEvents = 400_000
    public init() {}
}

/// One run of one scenario.
public final class Simulation {
    enum Event {
        case deliver(to: Int, from: Int, ConsensusMessage)
        case timer(node: Int, incarnation: Int, Timeout)
        case tick(node: Int)
        case wake(node: Int)
        case crash(node: Int)
        case restart(node: Int)
        case armCrashPoint(node: Int, operations: Int)
        case corruptWAL(node: Int)
        case submit(node: Int)
        case gst
    }

    public let scenario: Scenario
    public let options: SimulationOptions
    let parameters: ConsensusParameters
    private(set) var nodes: [SimNode] = []
    private var queue = EventQueue<Event>()
    public private(set) var now: UInt64 = 0
    private var random: SimRandom
    private var traceHash: UInt64 = 0xcbf2_9ce4_8422_2325
    private var traceLines: [String] = []
    private var checker: InvariantChecker!
    private var events = 0
    private var crashes = 0
    private var crashPointHits = 0
    private var halts: [String] = []
    private var outagesByLink: [Int: [LinkOutage]] = [:]
    private var afterGST = false
    private var target: UInt64 = 0
    private var deadline: UInt64 = .max
    private var submitted = 0
    private var wakes: Set<Int> = []

    var blockIntervalMillis: UInt64 { options.blockIntervalMillis }
    var maxBlockEntries: Int { options.maxBlockEntries }

    /// The validator set, keys and genesis chain of a run (deterministic in the seed).
    static func consortium(seed: UInt64, validators n: Int, timeouts: Timeouts) -> (ConsensusParameters, [ValidatorKey], LedgerChain) {
        let origin = "sim.cinnabar.example/consensus"
        var seeds: [[UInt8]] = []
        var members: [Validator] = []
        for i in 0..<n {
            var w = BinaryWriter()
            w.raw(Array("cinnabar-sim-key".utf8))
            w.u64(seed)
            w.u32(UInt32(i))
            let s = SHA256.hash(w.bytes).bytes
            seeds.append(s)
            members.append(Validator(name: "v\(i)", publicKey: Ed25519PrivateKey(seed: s)!.publicKey))
        }
        let set = try! ValidatorSet(members)
        let parameters = ConsensusParameters(chainID: origin, validators: set, timeouts: timeouts)
        let keys = set.validators.enumerated().map { index, v in
            let i = members.firstIndex { $0.publicKey == v.publicKey }!
            return try! ValidatorKey(index: index, seed: seeds[i], validators: set, origin: origin)
        }
        return (parameters, keys, try! LedgerChain(origin: origin, validators: set))
    }

    public init(scenario: Scenario, options: SimulationOptions = .init(), timeouts: Timeouts = .standard) {
        self.scenario = scenario
        self.options = options
        var random = SimRandom(seed: scenario.seed ^ 0x5EED_0F_C0FFEE)
        let (parameters, keys, genesis) = Simulation.consortium(seed: scenario.seed, validators: scenario.validators,
                                                                timeouts: timeouts)
        self.parameters = parameters
        let disks = scenario.nodeValidator.map { _ in SimDisk(random: random.fork(), tearsOnCrash: scenario.tornTails) }
        self.random = random
        for (node, v) in scenario.nodeValidator.enumerated() {
            nodes.append(SimNode(id: node, key: keys[v], parameters: parameters, genesis: genesis, disk: disks[node],
                                 byzantine: v == scenario.equivocator, sim: self))
        }
        checker = InvariantChecker(simulation: self, parameters: parameters, genesis: genesis)
        for o in scenario.outages { outagesByLink[o.from * nodes.count + o.to, default: []].append(o) }
    }

    // MARK: - Running

    public func run() -> SimulationResult {
        for node in nodes {
            node.boot()
            queue.push(.tick(node: node.id), at: random.millis(0...options.tickMillis))
        }
        for c in scenario.crashes { queue.push(.crash(node: c.node), at: c.at) }
        for c in scenario.crashes { queue.push(.restart(node: c.node), at: c.at + c.downMillis) }
        for p in scenario.crashPoints { queue.push(.armCrashPoint(node: p.node, operations: p.operations), at: p.at) }
        if let c = scenario.corruptedWAL { queue.push(.corruptWAL(node: c.node), at: c.crashAt) }
        if options.submitEveryMillis > 0 { queue.push(.submit(node: 0), at: options.submitEveryMillis) }
        queue.push(.gst, at: scenario.gstMillis)

        while let (time, event) = queue.pop() {
            precondition(time >= now, "time went backwards")
            now = time
            events += 1
            handle(event)
            if options.stopAtFirstViolation && !checker.violations.isEmpty { break }
            if afterGST && finished() { break }
            if now > deadline {
                checker.liveness(target: target, deadline: deadline)
                break
            }
            if events >= options.maxEvents {
                checker.runaway(events: events, queued: queue.count)
                break
            }
        }
        let correct = scenario.correctNodes.filter { nodes[$0].status == .running }
        let heights = correct.map { nodes[$0].chain.height }
        if checker.violations.isEmpty && options.checkInvariants { checker.finish() }
        return SimulationResult(
            scenario: scenario, traceHash: traceHash, minHeight: heights.min() ?? 0, maxHeight: heights.max() ?? 0,
            violations: checker.violations, events: events, virtualMillis: now, crashes: crashes,
            crashPointHits: crashPointHits, halts: halts,
            signaturesMade: nodes.reduce(0) { $0 + ($1.replica?.signaturesMade ?? 0) },
            signaturesVerified: nodes.reduce(0) { $0 + ($1.replica?.signaturesVerified ?? 0) + $1.applicationVerifications },
            trace: traceLines)
    }

    /// True once every correct, non-halted node reached the target height.
    private func finished() -> Bool {
        scenario.correctNodes.allSatisfy { n in
            if case .halted = nodes[n].status { return true }
            return nodes[n].chain.height >= target
        }
    }

    private func handle(_ event: Event) {
        switch event {
        case let .deliver(to, from, m):
            mix(1, to, from)
            mix(m)
            if options.keepTrace { note("n\(to) <- n\(from): \(m)") }
            nodes[to].deliver(m, from: from)
        case let .timer(node, life, t):
            mix(2, node, Int(t.kind.rawValue), t.height, UInt64(t.round))
            if options.keepTrace && life == nodes[node].incarnation { note("n\(node): fire \(t)") }
            nodes[node].timerFired(t, incarnation: life)
        case let .tick(node):
            mix(3, node)
            nodes[node].tick()
            queue.push(.tick(node: node), at: now + scaled(options.tickMillis, node: node))
        case let .wake(node):
            mix(10, node)
            wakes.remove(node)
            nodes[node].wake()
        case let .crash(node):
            mix(4, node)
            if nodes[node].status == .running {
                crashes += 1
                nodes[node].crash()
            }
        case let .restart(node):
            mix(5, node)
            if nodes[node].status == .crashed { nodes[node].restart() }
        case let .armCrashPoint(node, k):
            mix(6, node, k)
            if nodes[node].status == .running && !afterGST {
                nodes[node].disk.crashBeforeOperation = nodes[node].disk.operations + k
            }
        case let .corruptWAL(node):
            mix(7, node)
            // Wait for a running node whose WAL holds two durable records, then crash it and damage
            // the first: on restart it must halt, not replay around the hole.
            let walName = ConsensusWAL.fileName(height: nodes[node].height)
            guard !afterGST else { break }
            guard nodes[node].status == .running, nodes[node].disk.durableRecords(of: walName) >= 2 else {
                queue.push(.corruptWAL(node: node), at: now + 200)
                break
            }
            crashes += 1
            nodes[node].crash()
            if nodes[node].disk.corruptMiddle(of: walName) {
                note("n\(node): damaged a record in the middle of \(walName)")
                checker.expectHalt(node: node)
            }
            queue.push(.restart(node: node), at: now + 500)
        case let .submit(node):
            submitted += 1
            var entry: [UInt8] = [LeafTag.record.rawValue]
            entry += Array("{\"sim\":\(scenario.seed),\"n\":\(submitted)}".utf8)
            mix(8, node, submitted)
            checker.submitted(entry)
            nodes[node].submit(entry)
            if now < scenario.gstMillis + 120_000 {
                let nextNode = random.int(0...(nodes.count - 1))
                queue.push(.submit(node: nextNode), at: now + random.millis(1...(2 * options.submitEveryMillis)))
            }
        case .gst:
            afterGST = true
            for node in nodes {
                node.disk.crashBeforeOperation = nil
                if node.status == .crashed {
                    node.restart()
                }
            }
            let correct = scenario.correctNodes
            let h = correct.map { nodes[$0].chain.height }.max() ?? 0
            let r = correct.compactMap { nodes[$0].core?.round }.max() ?? 0
            target = max(h + 2, options.minimumHeights)
            deadline = now + livenessBound(round: r, heights: target - h)
            note("GST: heights up to \(h), rounds up to \(r); target \(target) by t=\(deadline)ms")
        }
        if options.checkInvariants { checker.afterStep() }
    }

    /// The I7 bound: per height to decide, the timeouts of n + 2 rounds from the highest round at
    /// GST (enough for a correct proposer whatever the faulty ones do), timers up to 25 % slow,
    /// plus ticks, block interval and sync slack.
    func livenessBound(round: Int, heights: UInt64) -> UInt64 {
        var perHeight: UInt64 = 0
        for r in round...(round + parameters.count + 2) {
            perHeight += parameters.timeouts.millis(.propose, round: r) + parameters.timeouts.millis(.prevote, round: r)
                + parameters.timeouts.millis(.precommit, round: r)
        }
        return (perHeight * 5 / 4 + 2 * options.tickMillis + options.blockIntervalMillis) * heights + 10_000
    }

    private func scaled(_ millis: UInt64, node: Int) -> UInt64 {
        max(1, millis * UInt64(scenario.timerRatePermille[node]) / 1000)
    }

    // MARK: - What nodes call

    func schedule(timer t: Timeout, node: Int, incarnation: Int, afterMillis ms: UInt64) {
        queue.push(.timer(node: node, incarnation: incarnation, t), at: now + scaled(ms, node: node))
    }

    func scheduleWake(node: Int, at time: UInt64) {
        guard !wakes.contains(node) else { return }
        wakes.insert(node)
        queue.push(.wake(node: node), at: max(time, now))
    }

    func broadcast(from: Int, _ m: ConsensusMessage) {
        for to in 0..<nodes.count where to != from { send(from: from, to: to, m) }
    }

    func send(from: Int, to: Int, _ m: ConsensusMessage) {
        if let outages = outagesByLink[from * nodes.count + to], outages.contains(where: { now >= $0.start && now < $0.end }) {
            return
        }
        let faulty = now < scenario.gstMillis
        if faulty && random.chance(permille: scenario.lossPermille) { return }
        var copies = 1
        if faulty && random.chance(permille: scenario.duplicatePermille) { copies += random.int(1...3) }
        for _ in 0..<copies {
            var delay = random.millis(options.baseDelayMillis)
            if faulty {
                delay += random.millis(0...scenario.maxJitterMillis)
                if random.chance(permille: scenario.longDelayPermille) { delay += random.millis(0...30_000) }
            }
            queue.push(.deliver(to: to, from: from, m), at: now + delay)
        }
    }

    /// The Byzantine validator's sending: its real message to half of the peers, a conflicting one
    /// (another block, or nil instead of a value) to the other half, and votes for far-future
    /// rounds and heights (a flood that must neither grow memory without bound nor skip rounds).
    func equivocate(from: Int, _ m: ConsensusMessage, key: ValidatorKey) {
        let peers = (0..<nodes.count).filter { $0 != from }
        let half = peers.count / 2
        var other = m
        switch m {
        case let .proposal(p) where p.proposal.validRound == -1:
            if let block = LedgerBlock(encoded: p.value) {
                let t = block.trailer
                let changed = LedgerBlock(entries: block.entries, trailer: BlockTrailer(
                    origin: t.origin, height: t.height, previousSize: t.previousSize, previousRoot: t.previousRoot,
                    timeMillis: t.timeMillis + 1, proposer: t.proposer, entryCount: t.entryCount,
                    validatorSetHash: t.validatorSetHash, nextValidatorSetHash: t.nextValidatorSetHash,
                    lastCosigsHash: t.lastCosigsHash), signatureLines: block.signatureLines)
                if let e = nodes[from].chain.evaluate(changed.encoded) {
                    let h = Proposal(height: p.proposal.height, round: p.proposal.round, validRound: -1, valueID: e.id,
                                     proposer: p.proposal.proposer)
                    let sig = key.privateKey.signature(for: h.signBytes(chainID: parameters.chainID))
                    other = .proposal(SignedProposal(proposal: h, signature: sig, value: changed.encoded, proofOfLock: []))
                }
            }
        case let .vote(v) where v.vote.valueID != nil:
            let nilVote = Vote(type: v.vote.type, height: v.vote.height, round: v.vote.round, valueID: nil, validator: v.vote.validator)
            other = .vote(SignedVote(vote: nilVote, signature: key.privateKey.signature(for: nilVote.signBytes(chainID: parameters.chainID))))
            if random.chance(permille: 300) {
                for (dh, dr) in [(UInt64(0), 1_000 + random.int(0...100_000)), (UInt64(random.int(1...3)), random.int(0...50))] {
                    let flood = Vote(type: .prevote, height: v.vote.height + dh, round: dr, valueID: nil, validator: v.vote.validator)
                    let s = SignedVote(vote: flood, signature: key.privateKey.signature(for: flood.signBytes(chainID: parameters.chainID)))
                    for to in peers { send(from: from, to: to, .vote(s)) }
                }
            }
        default:
            break
        }
        for (i, to) in peers.enumerated() { send(from: from, to: to, i < half ? m : other) }
    }

    func observe(node: Int, effect: Effect) {
        mix(effect)
        if options.keepTrace {
            if case .schedule = effect {} else { note("n\(node): \(effect)") }
        }
        if options.checkInvariants { checker.observe(node: node, effect: effect) }
    }

    func observe(node: Int, checkpointSignature s: CheckpointSignature, size: UInt64, root: Hash) {
        mix(9, node, Int(s.height), size)
        if options.checkInvariants { checker.observe(node: node, checkpointSignature: s, size: size, root: root) }
    }

    func decided(node: Int, decision: Decision, chain: LedgerChain) {
        if options.checkInvariants { checker.decided(node: node, decision: decision, chain: chain) }
    }

    func crashPointHit() { crashPointHits += 1 }

    func record(node: Int, event: String) {
        if event.hasPrefix("halt") { halts.append("n\(node) \(event)") }
        note("n\(node): \(event)")
        checker.nodeEvent(node: node, event: event)
    }

    func note(_ line: String) {
        if options.keepTrace { traceLines.append("t=\(now) \(line)") }
    }

    // MARK: - Trace hash (FNV-1a over fixed-width fields)

    private func mix(_ words: UInt64...) {
        for w in words {
            var x = w
            for _ in 0..<8 {
                traceHash = (traceHash ^ (x & 0xFF)) &* 0x0000_0100_0000_01B3
                x >>= 8
            }
        }
    }

    private func mix(_ tag: Int, _ a: Int, _ b: Int = 0, _ c: UInt64 = 0, _ d: UInt64 = 0) {
        mix(UInt64(tag), now, UInt64(a), UInt64(b), c, d)
    }

    private func word(_ id: ValueID?) -> UInt64 {
        guard let id else { return 0 }
        return id.hash.withUnsafeBytes { $0.load(as: UInt64.self) }
    }

    private func mix(_ m: ConsensusMessage) {
        switch m {
        case let .proposal(p): mix(10, p.proposal.height, UInt64(p.proposal.round), UInt64(p.proposal.proposer), word(p.proposal.valueID))
        case let .vote(v): mix(UInt64(v.vote.type.rawValue), v.vote.height, UInt64(v.vote.round), UInt64(v.vote.validator), word(v.vote.valueID))
        case let .checkpointSignature(s): mix(11, s.height, UInt64(s.validator))
        case let .commit(c, _): mix(12, c.height, UInt64(c.round), word(c.valueID))
        case let .status(v, h, r): mix(13, UInt64(v), h, UInt64(r))
        }
    }

    private func mix(_ e: Effect) {
        switch e {
        case let .send(m): mix(20); mix(m)
        case let .schedule(t, ms): mix(21, UInt64(t.kind.rawValue), t.height, UInt64(t.round), ms)
        case let .requestValue(h, r): mix(22, h, UInt64(r))
        case let .decided(d): mix(23, d.height, UInt64(d.round), word(d.value.id))
        case let .evidence(ev): mix(24, UInt64(ev.validator))
        case .refused: mix(25)
        }
    }
}
