// The invariants of consensus.md §3.3, checked after every simulated step: agreement, validity,
// certificate integrity, no double-sign across crashes, lock discipline, append-only, liveness
// after GST. Twinned and equivocating validators are Byzantine: nothing is asserted of them.
import CinnabarCrypto
import Consensus
import Ledger
import MerkleLog
import SignedNote

final class InvariantChecker {
    private unowned let sim: Simulation
    private let parameters: ConsensusParameters
    private let correctNodes: Set<Int>
    private let byzantineValidators: Set<Int>
    private(set) var violations: [Violation] = []

    /// The reference log: the first decision at each height by a correct node, checked and applied.
    private var reference: LedgerChain
    private var decidedIDs: [ValueID] = []
    private var certificates: [CommitCertificate] = []
    private var checkpoints: [(size: UInt64, root: Hash)] = []
    private var leafHashes: [Hash] = []
    private var submittedEntries: Set<[UInt8]> = []
    private var loggedEntries: Set<[UInt8]> = []
    /// Per node, the heights it decided (in order).
    private var nodeHeights: [Int: UInt64] = [:]
    /// The signer oracle: what each correct validator signed, by (height, round, step).
    private struct Position: Hashable {
        let validator: Int
        let height: UInt64
        let round: Int
        let step: Step
    }
    private var signed: [Position: [UInt8]] = [:]
    /// Highest round with a non-nil own precommit, per (validator, height): the lock oracle.
    private var lockOracle: [Int: (height: UInt64, round: Int, id: ValueID)] = [:]
    private var checkpointsSigned: [Int: [UInt64: Hash]] = [:]
    private var maxCheckpointSigned: [Int: UInt64] = [:]
    private var expectedHalts: Set<Int> = []

    init(simulation: Simulation, parameters: ConsensusParameters, genesis: LedgerChain) {
        sim = simulation
        self.parameters = parameters
        correctNodes = Set(simulation.scenario.correctNodes)
        var byz = Set(simulation.scenario.twinned)
        if let e = simulation.scenario.equivocator { byz.insert(e) }
        byzantineValidators = byz
        reference = genesis
    }

    private func fail(_ invariant: String, _ detail: String, height: UInt64? = nil) {
        violations.append(Violation(invariant: invariant, detail: detail, atMillis: sim.now, height: height))
        sim.note("VIOLATION \(invariant): \(detail)")
    }

    func submitted(_ entry: [UInt8]) { submittedEntries.insert(entry) }

    func expectHalt(node: Int) { expectedHalts.insert(node) }

    func nodeEvent(node: Int, event: String) {
        guard event.hasPrefix("halt") else { return }
        if !expectedHalts.contains(node) { fail("I8 recovery", "node \(node) halted unexpectedly: \(event)") }
    }

    // MARK: I4 no double-sign, I5 lock discipline (from what correct nodes send)

    func observe(node: Int, effect: Effect) {
        let n = sim.nodes[node]
        guard correctNodes.contains(node), case let .send(m) = effect else { return }
        switch m {
        case let .proposal(p):
            sign(Position(validator: n.validator, height: p.proposal.height, round: p.proposal.round, step: .propose),
                 p.proposal.signBytes(chainID: parameters.chainID), what: p.description)
        case let .vote(v):
            let vote = v.vote
            sign(Position(validator: n.validator, height: vote.height, round: vote.round, step: vote.type.step),
                 vote.signBytes(chainID: parameters.chainID), what: v.description)
            if vote.type == .precommit, let id = vote.valueID {
                if let lock = lockOracle[n.validator], lock.height == vote.height, lock.round >= vote.round {} else {
                    lockOracle[n.validator] = (vote.height, vote.round, id)
                }
            }
            if vote.type == .prevote, let id = vote.valueID, let lock = lockOracle[n.validator], lock.height == vote.height,
               lock.round < vote.round, lock.id != id {
                // Only line 28 may prevote another value than the lock, with vr ≥ lockedRound.
                let vr = n.core?.proposals(round: vote.round).filter { $0.id == id }.map(\.validRound).max() ?? -1
                if vr < lock.round {
                    fail("I5 lock discipline", "node \(node) locked on \(lock.id) in round \(lock.round) prevoted \(id) in round \(vote.round) on a proposal with validRound \(vr)", height: vote.height)
                }
            }
        default:
            break
        }
    }

    private func sign(_ p: Position, _ bytes: [UInt8], what: String) {
        if let earlier = signed[p] {
            if earlier != bytes {
                fail("I4 no double-sign", "validator \(p.validator) signed two different messages at h\(p.height) r\(p.round) \(p.step): \(what)", height: p.height)
            }
        } else {
            signed[p] = bytes
        }
    }

    func observe(node: Int, checkpointSignature s: CheckpointSignature, size: UInt64, root: Hash) {
        guard correctNodes.contains(node) else { return }
        let v = sim.nodes[node].validator
        if let earlier = checkpointsSigned[v]?[size] {
            if earlier != root { fail("I4 no double-sign", "validator \(v) signed two roots for size \(size)", height: s.height) }
            return
        }
        if let top = maxCheckpointSigned[v], size < top {
            fail("I4 no double-sign", "validator \(v) signed size \(size) after size \(top)", height: s.height)
        }
        checkpointsSigned[v, default: [:]][size] = root
        maxCheckpointSigned[v] = max(size, maxCheckpointSigned[v] ?? 0)
        // A light client checks the signature on its own.
        let text = LedgerChain.checkpointText(origin: parameters.chainID, size: size, root: root)
        guard let note = try? Note(text: text, signatures: [s.line]),
              (try? note.verify(keys: [parameters.validators.validators[v].verifierKey(origin: parameters.chainID)])) != nil else {
            fail("I3 certificates", "validator \(v)'s checkpoint signature does not verify", height: s.height)
            return
        }
    }

    // MARK: I1 agreement, I2 validity, I3 certificates, I6 append-only (at each decision)

    func decided(node: Int, decision d: Decision, chain: LedgerChain) {
        guard correctNodes.contains(node) else { return }
        let h = d.height
        if let last = nodeHeights[node], h != last + 1 {
            fail("I6 append-only", "node \(node) decided height \(h) after \(last)", height: h)
        }
        nodeHeights[node] = h
        do { try d.certificate.verify(parameters) } catch {
            fail("I3 certificates", "node \(node)'s certificate for h\(h): \(error)", height: h)
        }
        if Int(h) <= decidedIDs.count {
            if decidedIDs[Int(h) - 1] != d.value.id {
                // I9: two certificates of one round share at least W signers, all of them equivocators.
                let other = certificates[Int(h) - 1]
                let both = Set(other.signers).intersection(d.certificate.signers).sorted()
                fail("I1 agreement", "node \(node) decided \(d.value.id) at h\(h) r\(d.round), another correct node \(other.valueID) in r\(other.round); validators in both certificates: \(both)", height: h)
                if other.round == d.certificate.round {
                    let innocent = both.filter { !byzantineValidators.contains($0) }
                    if both.count < parameters.weakQuorum || !innocent.isEmpty {
                        fail("I9 accountability", "the fork at h\(h) implicates \(both), correct among them: \(innocent)", height: h)
                    }
                }
            }
            return
        }
        guard Int(h) == decidedIDs.count + 1 else {
            fail("I6 append-only", "height \(h) decided before height \(decidedIDs.count + 1)", height: h)
            return
        }
        // The first decision of this height: check it independently and extend the reference log.
        guard let block = LedgerBlock(encoded: d.value.bytes), let e = reference.evaluate(d.value.bytes) else {
            fail("I2 validity", "block h\(h) does not evaluate", height: h)
            return
        }
        guard e.isValid, e.id == d.value.id else {
            fail("I2 validity", "block h\(h) is not valid(v) on the reference log", height: h)
            return
        }
        if h >= 2 {
            let text = reference.checkpointText
            let keys = (try? parameters.validators.verifierKeys(origin: parameters.chainID)) ?? []
            let verified = (try? Note(parsing: text + "\n" + block.signatureLines).verify(keys: keys))?.count ?? 0
            if verified < parameters.quorum {
                fail("I3 certificates", "block h\(h) embeds \(verified) valid signatures on checkpoint h\(h - 1)", height: h)
            }
        }
        for entry in block.entries {
            if !submittedEntries.contains(entry) { fail("I2 validity", "block h\(h) holds an entry nobody submitted", height: h) }
            if !loggedEntries.insert(entry).inserted { fail("I2 validity", "block h\(h) logs an entry twice", height: h) }
        }
        reference.apply(block)
        for leaf in block.leaves { leafHashes.append(RFC6962.leafHash(leaf)) }
        precondition(UInt64(leafHashes.count) == reference.size, "reference leaves out of step")
        decidedIDs.append(d.value.id)
        certificates.append(d.certificate)
        checkpoints.append((reference.size, reference.root))
        if chain.root != reference.root || chain.size != reference.size {
            fail("I1 agreement", "node \(node)'s tree differs from the reference at h\(h)", height: h)
        }
    }

    // MARK: after every step

    func afterStep() {
        // I5: a running correct node never forgets a lock it signed (amnesia after a crash).
        for node in correctNodes.sorted() {
            let n = sim.nodes[node]
            guard let core = n.core, let lock = lockOracle[n.validator], lock.height == core.height,
                  core.decision == nil else { continue }
            if core.lockedRound < lock.round {
                fail("I5 lock discipline", "node \(node) has lockedRound \(core.lockedRound) but precommitted \(lock.id) in round \(lock.round)", height: lock.height)
            }
        }
    }

    /// I7: the target was not reached by the deadline.
    func liveness(target: UInt64, deadline: UInt64) {
        let behind = correctNodes.sorted().filter { n in
            if case .halted = sim.nodes[n].status { return false }
            return sim.nodes[n].chain.height < target
        }
        guard !behind.isEmpty else { return }
        let heights = behind.map { "n\($0)@\(sim.nodes[$0].chain.height) r\(sim.nodes[$0].core?.round ?? -1)" }
        fail("I7 liveness", "after GST, \(heights.joined(separator: " ")) did not reach height \(target) by t=\(deadline)ms")
    }

    /// A run that does not end: too many events for its virtual time.
    func runaway(events: Int, queued: Int) {
        let heights = correctNodes.sorted().map { "n\($0)@\(sim.nodes[$0].chain.height) r\(sim.nodes[$0].core?.round ?? -1)" }
        fail("I7 liveness", "runaway: \(events) events, \(queued) queued by t=\(sim.now)ms; \(heights.joined(separator: " "))")
    }

    /// I6 at the end: every checkpoint is consistent with the last (RFC 9162 consistency proofs).
    func finish() {
        guard let last = checkpoints.last else { return }
        let reader = MemoryHashReader(leafHashes: leafHashes)
        for c in checkpoints.dropLast() {
            do {
                let proof = try reader.consistencyProof(from: c.size, to: last.size)
                try ConsistencyProof.verify(from: c.size, fromRoot: c.root, to: last.size, toRoot: last.root, proof: proof)
            } catch {
                fail("I6 append-only", "checkpoint \(c.size) is not consistent with \(last.size): \(error)")
            }
        }
    }
}
