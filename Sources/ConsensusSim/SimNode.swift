// One simulated validator node: the replica (core + WAL + signer guard) on a `SimDisk`, and the
// application around it — mempool, block store, the committed chain, checkpoint signatures —
// doing exactly what a real node does with the replica's effects (consensus.md §2.8 order).
import CinnabarCrypto
import Consensus
import Ledger
import SignedNote

/// A node of the simulation. Twins are two nodes with the same validator key.
final class SimNode {
    enum Status: Equatable {
        case running
        case crashed
        case halted(String)
    }

    let id: Int
    let key: ValidatorKey
    let disk: SimDisk
    let parameters: ConsensusParameters
    let genesis: LedgerChain
    let byzantine: Bool
    unowned let sim: Simulation

    private(set) var status = Status.crashed
    private(set) var replica: Replica?
    /// The committed chain and the blocks (value, certificate) by height − 1.
    private(set) var chain: LedgerChain
    private(set) var blocks: [(value: [UInt8], certificate: CommitCertificate)] = []
    /// Validator checkpoint signatures on checkpoint(chain.height), by validator.
    private var signatures: [Int: NoteSignature] = [:]
    private var ownSignature: CheckpointSignature?
    private var mempool: [[UInt8]] = []
    private var pendingRequest: (height: UInt64, round: Int)?
    /// Bumped at every crash, so timers of a previous life do not fire.
    private(set) var incarnation = 0
    /// Last block sync sent to each peer: (height, virtual time).
    private var lastSync: [Int: (UInt64, UInt64)] = [:]
    private var lastDecisionMillis: UInt64 = 0
    /// Signatures checked by the application (checkpoint lines) — bench accounting.
    private(set) var applicationVerifications = 0

    init(id: Int, key: ValidatorKey, parameters: ConsensusParameters, genesis: LedgerChain, disk: SimDisk,
         byzantine: Bool, sim: Simulation) {
        self.id = id
        self.key = key
        self.parameters = parameters
        self.genesis = genesis
        self.chain = genesis
        self.disk = disk
        self.byzantine = byzantine
        self.sim = sim
    }

    var validator: Int { key.index }
    var height: UInt64 { replica?.height ?? chain.height + 1 }

    // MARK: - Life cycle

    /// Creates the signer state (first boot only) and starts.
    func boot() {
        do { try SignerGuard.create(in: disk) } catch { preconditionFailure("fresh disk: \(error)") }
        restart()
    }

    /// Reads the block store, rebuilds the chain, opens the replica and replays its WAL.
    func restart() {
        precondition(status != .running, "restart of a running node")
        status = .running
        chain = genesis
        blocks = []
        signatures = [:]
        ownSignature = nil
        pendingRequest = nil
        do {
            for record in try RecordFile.recover(disk, "blocks") ?? [] {
                var r = BinaryReader(record)
                guard let value = r.blob(), let cert = r.blob(), let certificate = WireCodec.decodeCertificate(cert),
                      let block = LedgerBlock(encoded: value) else {
                    throw ConsensusError.malformedRecord(file: "blocks", reason: "undecodable block")
                }
                chain.apply(block)
                blocks.append((value, certificate))
            }
            let r = try Replica(parameters: parameters, key: key, store: disk, evaluator: chain)
            replica = r
            var effects: [Effect] = []
            if chain.height > 0 { effects += try signCheckpoint() }
            effects += try r.start()
            try perform(effects)
        } catch is SimCrash {
            sim.crashPointHit()
            crash()
        } catch {
            halt("\(error)")
        }
    }

    /// Power loss: memory is gone, the disk keeps what was synced (and maybe a torn tail).
    func crash() {
        guard status == .running else { return }
        status = .crashed
        replica = nil
        mempool = []
        incarnation += 1
        disk.crash()
        sim.record(node: id, event: "crash")
    }

    private func halt(_ why: String) {
        status = .halted(why)
        replica = nil
        incarnation += 1
        sim.record(node: id, event: "halt: \(why)")
    }

    // MARK: - Inputs from the simulation

    func submit(_ entry: [UInt8]) {
        guard status == .running else { return }
        mempool.append(entry)
    }

    func deliver(_ message: ConsensusMessage, from peer: Int) {
        guard status == .running, let replica else { return }
        run {
            switch message {
            case let .checkpointSignature(s):
                return try accept(s)
            case let .status(_, h, _):
                syncPeer(peer, theirHeight: h)
                return []
            case .commit:
                // A commit says nothing of its sender's height: answering it would ping-pong.
                return try replica.receive(message)
            case .proposal, .vote:
                if message.height < replica.height { syncPeer(peer, theirHeight: message.height) }
                return try replica.receive(message)
            }
        }
    }

    func timerFired(_ t: Timeout, incarnation life: Int) {
        guard status == .running, life == incarnation, let replica else { return }
        run { try replica.handle(.timeout(t)) }
    }

    /// The periodic tick: send own latest messages, checkpoint signature and status again.
    func tick() {
        guard status == .running, let replica else { return }
        for m in replica.retransmissions() { sim.broadcast(from: id, m) }
        if let ownSignature { sim.broadcast(from: id, .checkpointSignature(ownSignature)) }
        sim.broadcast(from: id, .status(validator: validator, height: replica.height, round: replica.core.round))
        run { try proposeIfReady() }
    }

    /// The block interval has passed: answer a pending getValue() if the signatures are in.
    func wake() {
        guard status == .running else { return }
        run { try proposeIfReady() }
    }

    // MARK: - The application

    private func run(_ body: () throws -> [Effect]) {
        do {
            try perform(try body())
        } catch is SimCrash {
            sim.crashPointHit()
            crash()
        } catch {
            halt("\(error)")
        }
    }

    /// Acts on effects in order; a decision brings more (next height), handled in turn.
    private func perform(_ first: [Effect]) throws {
        var queue = first
        var next = 0
        while next < queue.count {
            let effect = queue[next]
            next += 1
            guard let replica else { return }
            sim.observe(node: id, effect: effect)
            switch effect {
            case let .send(m):
                if byzantine { sim.equivocate(from: id, m, key: key) } else { sim.broadcast(from: id, m) }
            case let .schedule(t, ms):
                sim.schedule(timer: t, node: id, incarnation: incarnation, afterMillis: ms)
            case let .requestValue(h, r):
                // Answered from a later event: a run of heights never happens inside one event.
                pendingRequest = (h, r)
                sim.scheduleWake(node: id, at: max(sim.now, lastDecisionMillis + sim.blockIntervalMillis))
            case let .decided(d):
                queue += try commit(d, replica)
            case .evidence, .refused:
                break
            }
        }
    }

    /// The decision order of consensus.md §2.8: (a) block + certificate durable, (b) applied,
    /// (c) checkpoint signature durable and sent, (d) the next height's WAL.
    private func commit(_ d: Decision, _ replica: Replica) throws -> [Effect] {
        guard let block = LedgerBlock(encoded: d.value.bytes) else { preconditionFailure("decided an undecodable block") }
        var w = BinaryWriter()
        w.blob(d.value.bytes)
        w.blob(WireCodec.encode(d.certificate))
        try disk.append("blocks", RecordFile.frame(w.bytes))
        try disk.sync("blocks")  // (a)
        chain.apply(block)  // (b)
        blocks.append((d.value.bytes, d.certificate))
        let included = Set(block.entries)
        mempool.removeAll { included.contains($0) }
        pendingRequest = nil
        lastDecisionMillis = sim.now
        sim.decided(node: id, decision: d, chain: chain)
        signatures = [:]
        var effects = try signCheckpoint()  // (c)
        effects += try replica.startNextHeight(evaluator: chain)  // (d)
        return effects
    }

    private func signCheckpoint() throws -> [Effect] {
        guard let replica, let s = try replica.signCheckpoint(height: chain.height, size: chain.size, root: chain.root) else {
            return []
        }
        ownSignature = s
        signatures[s.validator] = s.line
        sim.observe(node: id, checkpointSignature: s, size: chain.size, root: chain.root)
        sim.broadcast(from: id, .checkpointSignature(s))
        return try proposeIfReady()
    }

    private func accept(_ s: CheckpointSignature) throws -> [Effect] {
        guard s.height == chain.height, chain.height > 0, signatures[s.validator] == nil else { return [] }
        applicationVerifications += 1
        guard s.verify(keys: chain.verifierKeys, checkpointText: chain.checkpointText) else { return [] }
        signatures[s.validator] = s.line
        return try proposeIfReady()
    }

    /// getValue(): once the quorum of signatures on the tip is in (consensus.md §2.9) and the block
    /// interval has passed, propose the mempool's head.
    private func proposeIfReady() throws -> [Effect] {
        guard let request = pendingRequest, let replica, request.height == replica.height,
              request.round == replica.core.round, replica.core.isAwaitingValue else { return [] }
        guard chain.height == 0 || signatures.count >= parameters.quorum else { return [] }
        guard sim.now >= lastDecisionMillis + sim.blockIntervalMillis else {
            sim.scheduleWake(node: id, at: lastDecisionMillis + sim.blockIntervalMillis)
            return []
        }
        pendingRequest = nil
        let lines = signatures.keys.sorted().map { signatures[$0]!.line }.joined()
        let time = UInt64(max(1, Int64(sim.now) + sim.scenario.clockOffsetMillis[id] + 1_700_000_000_000))
        let block = chain.makeBlock(entries: Array(mempool.prefix(sim.maxBlockEntries)), proposedTimeMillis: time,
                                    proposer: parameters.validators.validators[validator].name, signatureLines: lines)
        return try replica.proposeValue(height: request.height, round: request.round, value: block.encoded)
    }

    /// Block sync: a peer is at `theirHeight` ≤ our tip: send it the decided block and certificate
    /// for that height, at most once per second per peer and height.
    private func syncPeer(_ peer: Int, theirHeight: UInt64) {
        guard theirHeight >= 1, theirHeight <= chain.height else { return }
        if let (h, t) = lastSync[peer], h == theirHeight, sim.now < t + 1_000 { return }
        lastSync[peer] = (theirHeight, sim.now)
        let b = blocks[Int(theirHeight - 1)]
        sim.send(from: id, to: peer, .commit(b.certificate, value: b.value))
    }

    /// For the checker: the core's lock and the accepted proposal of a round.
    var core: Tendermint? { replica?.core }
}
