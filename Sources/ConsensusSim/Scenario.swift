// One simulated run's world, drawn from its seed (swarm testing: every seed picks its own mix
// of faults from the allowed list, consensus.md §3.2): validators, twins, Byzantine behaviour,
// network faults, crashes, disk faults, clock skew — all healed by a global stabilisation time.

/// The kinds of fault a run may draw.
public enum FaultKind: String, CaseIterable, Sendable {
    /// Nodes crash at random times and at armed persistence points, then restart.
    case crash
    /// A split of the validators (2–2 or 1–3 for n = 4; 3–4 or 2–5 for n = 7) for a while.
    case partition
    /// One direction of a link is down (A→B up, B→A down).
    case asymmetric
    /// Links going down and up every few hundred milliseconds.
    case flapping
    /// Messages dropped at random.
    case loss
    /// Messages delivered up to four times.
    case duplicate
    /// Random delays, up to ten times the propose timeout, reordering messages.
    case delay
    /// Torn tails on crash, and a damaged WAL record in the middle (the node must halt).
    case disk
    /// Timers running fast or slow, one block clock an hour off.
    case skew
    /// A Byzantine validator that sends two proposals, double-votes and floods future rounds.
    case equivocate
    /// ≤ f validators run as twins (two honest copies sharing a key), kept apart for a while.
    case twins
}

/// A directed link `from → to` that is down during `[start, end)`.
struct LinkOutage {
    let from: Int
    let to: Int
    let start: UInt64
    let end: UInt64
}

/// Everything fixed for one run.
public struct Scenario: Sendable, CustomStringConvertible {
    public let seed: UInt64
    public let validators: Int
    /// Validators that run as twins, and the Byzantine equivocator, if any.
    public let twinned: [Int]
    public let equivocator: Int?
    public private(set) var faults: [FaultKind]
    /// Global stabilisation time: no fault is active from here on.
    public private(set) var gstMillis: UInt64
    /// Node → validator index (twins: two nodes share one).
    let nodeValidator: [Int]
    var outages: [LinkOutage] = []
    var lossPermille = 0
    var duplicatePermille = 0
    var maxJitterMillis: UInt64 = 5
    var longDelayPermille = 0
    /// Crashes: (node, at), each followed by a restart after `downMillis`.
    var crashes: [(node: Int, at: UInt64, downMillis: UInt64)] = []
    /// Armed crash points: (node, at, after k more persistence operations).
    var crashPoints: [(node: Int, at: UInt64, operations: Int)] = []
    var tornTails = false
    /// A node whose WAL gets a damaged record while it is down (it must halt on restart).
    var corruptedWAL: (node: Int, crashAt: UInt64)?
    /// Timer speed per node (permille of real), and block-clock offset per node.
    var timerRatePermille: [Int]
    var clockOffsetMillis: [Int64]

    /// The nodes that belong to correct validators (not twinned, not the equivocator).
    public var correctNodes: [Int] {
        (0..<nodeValidator.count).filter { !twinned.contains(nodeValidator[$0]) && nodeValidator[$0] != equivocator }
    }
    public var nodeCount: Int { nodeValidator.count }

    /// Draws a run from `seed`: `validatorChoices` and `allowed` bound the choice; `twins` forces
    /// that many twinned validators (more than f is how the harness is made to fail).
    public init(seed: UInt64, validatorChoices: [Int], allowed: [FaultKind], twins: Int? = nil) {
        var random = SimRandom(seed: seed)
        self.seed = seed
        let n = random.pick(validatorChoices)
        validators = n
        let f = (n - 1) / 3
        var chosen = allowed.filter { _ in random.chance(permille: 500) }
        if chosen.isEmpty && !allowed.isEmpty { chosen = [random.pick(allowed)] }
        if f == 0 { chosen.removeAll { $0 == .equivocate || $0 == .twins || $0 == .partition || $0 == .disk } }
        var byzantine = 0
        var twinned: [Int] = []
        if let twins, twins > 0 {
            twinned = Array(random.shuffled(Array(0..<n)).prefix(min(twins, n)))
            if !chosen.contains(.twins) { chosen.append(.twins) }
        } else if chosen.contains(.twins) {
            twinned = Array(random.shuffled(Array(0..<n)).prefix(f))
        }
        byzantine += twinned.count
        var equivocator: Int?
        if chosen.contains(.equivocate), byzantine < f {
            equivocator = random.pick((0..<n).filter { !twinned.contains($0) })
            byzantine += 1
        } else {
            chosen.removeAll { $0 == .equivocate }
        }
        self.twinned = twinned.sorted()
        self.equivocator = equivocator
        faults = chosen
        var nodes = Array(0..<n)
        for v in self.twinned { nodes.append(v) }
        nodeValidator = nodes
        let count = nodes.count
        let gst: UInt64 = chosen.isEmpty ? 0 : random.millis(8_000...30_000)
        gstMillis = gst
        timerRatePermille = Array(repeating: 1000, count: count)
        clockOffsetMillis = Array(repeating: 0, count: count)

        let correctValidators = (0..<n).filter { !twinned.contains($0) && $0 != equivocator }
        for kind in chosen {
            switch kind {
            case .crash:
                // Crash-recovery: any correct node may crash, each comes back before GST.
                for _ in 0..<random.int(1...3) {
                    let node = random.pick(correctValidators)
                    let at = random.millis(0...gst)
                    crashes.append((node, at, random.millis(100...min(10_000, gst - min(gst, at) + 100))))
                }
                for _ in 0..<random.int(1...3) {
                    crashPoints.append((random.pick(correctValidators), random.millis(0...gst), random.int(1...40)))
                }
            case .partition:
                let shuffled = random.shuffled(Array(0..<n))
                let sideA = n == 4 ? random.pick([1, 2]) : random.pick([2, 3])
                let a = Set(shuffled.prefix(sideA))
                let start = random.millis(0...(gst / 2)), end = random.millis((gst / 2)...gst)
                for x in 0..<count where a.contains(nodes[x]) {
                    for y in 0..<count where !a.contains(nodes[y]) {
                        outages.append(LinkOutage(from: x, to: y, start: start, end: end))
                        outages.append(LinkOutage(from: y, to: x, start: start, end: end))
                    }
                }
            case .asymmetric:
                for _ in 0..<random.int(1...2) where count > 1 {
                    let x = random.int(0...(count - 1))
                    var y = random.int(0...(count - 1))
                    if y == x { y = (x + 1) % count }
                    outages.append(LinkOutage(from: x, to: y, start: random.millis(0...(gst / 2)), end: gst))
                }
            case .flapping:
                guard count > 1 else { break }
                let x = random.int(0...(count - 1))
                var y = random.int(0...(count - 1))
                if y == x { y = (x + 1) % count }
                var t = random.millis(0...(gst / 2))
                while t < gst {
                    let down = random.millis(100...1_500)
                    outages.append(LinkOutage(from: x, to: y, start: t, end: min(gst, t + down)))
                    outages.append(LinkOutage(from: y, to: x, start: t, end: min(gst, t + down)))
                    t += down + random.millis(100...1_500)
                }
            case .loss:
                lossPermille = random.int(20...300)
            case .duplicate:
                duplicatePermille = random.int(50...400)
            case .delay:
                maxJitterMillis = random.millis(20...800)
                longDelayPermille = random.int(5...50)
            case .disk:
                tornTails = true
                if correctValidators.count > 0, byzantine < f {
                    let node = random.pick(correctValidators)
                    corruptedWAL = (node, random.millis(1_000...max(1_000, gst / 2)))
                    byzantine += 1  // a halted node is lost for liveness, like a Byzantine one
                }
            case .skew:
                for x in 0..<count { timerRatePermille[x] = random.int(800...1250) }
                clockOffsetMillis[random.int(0...(count - 1))] = random.pick([-3_600_000, 3_600_000, 5_000, -5_000])
            case .equivocate:
                break
            case .twins:
                // Twin copies are kept apart for a while, each with part of the correct nodes: with
                // more than f twinned validators, each side can hold a quorum of keys.
                let start = random.millis(0...(gst / 3)), end = random.millis((gst / 2)...gst)
                var sideOf = [Int](repeating: 0, count: count)
                for x in 0..<count {
                    if x >= n { sideOf[x] = 1 } else if !twinned.contains(x) { sideOf[x] = random.int(0...1) }
                }
                for x in 0..<count {
                    for y in 0..<count where sideOf[x] != sideOf[y] {
                        outages.append(LinkOutage(from: x, to: y, start: start, end: end))
                    }
                }
            }
        }
        tornTails = tornTails || chosen.contains(.crash)
    }

    /// A fault-free run of `validators` in which `node` dies just before its `operation`-th disk
    /// operation (append, sync, truncate, replace or remove) after the start, torn tail and all,
    /// and comes back at GST: sweeping `operation` crashes the node at every persistence point.
    public static func crash(node: Int, beforeOperation operation: Int, validators: Int, seed: UInt64) -> Scenario {
        var s = Scenario(seed: seed, validatorChoices: [validators], allowed: [])
        s.faults = [.crash]
        s.gstMillis = 6_000
        s.crashPoints = [(node, 0, operation)]
        s.tornTails = true
        return s
    }

    public var description: String {
        var parts = ["seed=\(seed)", "n=\(validators)", "faults=\(faults.map(\.rawValue).joined(separator: ","))", "gst=\(gstMillis)ms"]
        if !twinned.isEmpty { parts.append("twins=\(twinned)") }
        if let equivocator { parts.append("equivocator=\(equivocator)") }
        if let c = corruptedWAL { parts.append("corruptWAL=node\(c.node)") }
        return parts.joined(separator: " ")
    }
}
