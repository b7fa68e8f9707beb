// The offline proof bundle (DESIGN.md §2.5): one file a court can archive and check in twenty
// years without the node — the record and every status-changing record about it, each with its
// leaf, its inclusion proof, its block trailer and that trailer's proof (for the time), the signed
// checkpoint they are all proved under, the writers' registered keys, and the trust policy.
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Records
import SignedNote
import Storage

/// The bundle file (JSON).
public struct ProofBundle: Codable, Sendable {
    public static let format = "cinnabar-bundle/v1"

    public struct Entry: Codable, Sendable {
        public var recordID: String
        public var leafIndex: UInt64
        /// Base64 of the leaf data, tag byte included.
        public var leaf: String
        public var inclusionProof: [String]
        public var trailerIndex: UInt64
        public var trailer: String
        public var trailerProof: [String]

        enum CodingKeys: String, CodingKey {
            case recordID = "record_id", leafIndex = "leaf_index", leaf, inclusionProof = "inclusion_proof"
            case trailerIndex = "trailer_index", trailer, trailerProof = "trailer_proof"
        }
    }

    /// A validator-set change (consensus.md §2.10, §2.12): its leaf, and its inclusion proof under
    /// the signed checkpoint of its own block (size `leaf_index + 2`), which the set before the
    /// change signed. A verifier follows them in order from the genesis set of its policy.
    public struct SetChange: Codable, Sendable {
        public var leafIndex: UInt64
        /// Base64 of the leaf data, tag byte 0x02 included.
        public var leaf: String
        public var inclusionProof: [String]
        public var checkpoint: String

        enum CodingKeys: String, CodingKey {
            case leafIndex = "leaf_index", leaf, inclusionProof = "inclusion_proof", checkpoint
        }
    }

    /// A writer as registered when the bundle was made.
    public struct Writer: Codable, Sendable {
        public var org: String
        public var role: String
        public var name: String
        public var keys: [String: String]
    }

    public var format: String
    public var origin: String
    /// The signed checkpoint note every proof is under, with external witnesses' `cosignature/v1`
    /// lines when witnesses cosigned it.
    public var checkpoint: String
    /// The C2SP tlog-policy the node published (a verifier should use its own pinned copy).
    public var policy: String
    /// The record first, then the records about it in log order.
    public var entries: [Entry]
    public var writers: [Writer]
    public var governance: [String]
    public var governanceQuorum: Int
    /// Every validator-set change from genesis up to `checkpoint`, in log order. Empty (or absent,
    /// in bundles made before changes existed) while the genesis set is in force.
    public var validatorSetChanges: [SetChange] = []

    enum CodingKeys: String, CodingKey {
        case format, origin, checkpoint, policy, entries, writers, governance
        case governanceQuorum = "governance_quorum", validatorSetChanges = "validator_set_changes"
    }

    /// The tlog-policy of a validator set: every validator a witness, quorum ⌊2n/3⌋+1. With
    /// `witnesses` (external tlog-witnesses' `cosignature/v1` keys, named by their key names), the
    /// quorum also needs `witnessesRequired` of them (default: all). Throws if the result is not a
    /// valid policy (a witness named like a validator or a group, a bad threshold).
    public static func policy(genesis: Genesis, witnesses: [NoteVerifierKey] = [], witnessesRequired: Int? = nil) throws -> String {
        let set = try genesis.validatorSet()
        var text = genesis.validators.map { "witness \($0.name) \($0.key)\n" }.joined()
            + "group \(validatorsGroup) \(set.quorum) " + genesis.validators.map(\.name).joined(separator: " ") + "\n"
        if witnesses.isEmpty {
            text += "quorum \(validatorsGroup)\n"
        } else {
            text += witnesses.map { "witness \($0.name) \($0.vkey)\n" }.joined()
                + "group witnesses \(witnessesRequired ?? witnesses.count) " + witnesses.map(\.name).joined(separator: " ") + "\n"
                + "group validators-and-witnesses all \(validatorsGroup) witnesses\n"
                + "quorum validators-and-witnesses\n"
        }
        _ = try TlogPolicy(parsing: text)
        return text
    }

    /// The policy group that lists the validators, one `witness` line each, named as in the set.
    public static let validatorsGroup = "validators"

    /// The validator set a policy pins: the members of its `validators` group, each a plain
    /// Ed25519 key named `<origin>/<member>`. For a policy made by `policy(genesis:)`, the genesis set.
    public static func validators(in policy: TlogPolicy, origin: String) throws -> ValidatorSet {
        guard let group = policy.groups.first(where: { $0.name == validatorsGroup }) else {
            throw LedgerError.invalidValidatorSet("the policy has no \(validatorsGroup) group")
        }
        return try ValidatorSet(group.members.map { name in
            guard let w = policy.witnesses.first(where: { $0.name == name }), w.key.type == .ed25519,
                  w.key.name == "\(origin)/\(name)" else {
                throw LedgerError.invalidValidatorSet("policy member \(name) is not a validator key named \(origin)/\(name)")
            }
            return Validator(name: name, publicKey: w.key.publicKey)
        })
    }

    /// `policy` with `set` as its validators: their `witness` lines and the `validators` group (at
    /// the set's quorum) replaced, every other witness, group and the quorum kept.
    public static func policy(_ policy: TlogPolicy, withValidators set: ValidatorSet, origin: String) throws -> TlogPolicy {
        guard let group = policy.groups.first(where: { $0.name == validatorsGroup }) else {
            throw LedgerError.invalidValidatorSet("the policy has no \(validatorsGroup) group")
        }
        let others = policy.witnesses.filter { !group.members.contains($0.name) }
        let validators = try set.validators.map { TlogPolicy.Witness(name: $0.name, key: try $0.verifierKey(origin: origin)) }
        let groups = policy.groups.map { g in
            g.name == validatorsGroup ? TlogPolicy.Group(name: g.name, threshold: .atLeast(set.quorum), members: set.validators.map(\.name)) : g
        }
        return try TlogPolicy(logs: policy.logs, witnesses: validators + others, groups: groups, quorum: policy.quorum)
    }

    /// The bundle of record `id` and its history, under the node's latest checkpoint.
    /// `validatorSetChanges` are the log's change leaves (leaf index and data, in log order); those
    /// within the bundle's checkpoint go in the bundle with their proofs.
    public static func make(node: LedgerNode, recordID id: String,
                            validatorSetChanges: [(index: UInt64, leaf: [UInt8])] = []) throws -> ProofBundle? {
        guard let subject = node.records.summary(id), let tip = node.store.tip,
              let tipNote = try node.store.checkpoint(height: tip.height) else { return nil }
        // The record, the records about it, and every record those refer to (evidence, the case,
        // a superseding document), so rules and status can be checked from the bundle alone.
        var ids = [id] + (try node.records.history(of: id))
        for rid in ids {
            for ref in try node.records.logged(rid)?.record.refs ?? [] where !ids.contains(ref.recordID) {
                ids.append(ref.recordID)
            }
        }
        var located: [(id: String, summary: RecordSummary, leaf: [UInt8], blockSize: UInt64, trailer: [UInt8])] = []
        for rid in ids {
            guard let summary = rid == id ? subject : node.records.summary(rid),
                  let leaf = try node.store.leaf(at: summary.leafIndex),
                  let block = try node.store.block(containingLeaf: summary.leafIndex),
                  let trailer = try node.store.leaf(at: block.size - 1) else { continue }
            located.append((rid, summary, leaf, block.size, trailer))
        }
        // Under the checkpoint external witnesses cosigned when it holds every entry (the same
        // records, so the same status, and the cosignatures with them); otherwise under the tip.
        let (size, note) = node.witnessed.best(coveringSize: located.map(\.blockSize).max() ?? 0)
            .map { ($0.size, $0.note.formatted) } ?? (tip.size, tipNote)
        let reader = node.store.hashReader
        var entries: [Entry] = []
        var orgs: Set<String> = []
        for (rid, summary, leaf, blockSize, trailer) in located {
            orgs.insert(summary.writerOrg)
            entries.append(Entry(
                recordID: rid, leafIndex: summary.leafIndex, leaf: Base64.encode(leaf),
                inclusionProof: try reader.inclusionProof(index: summary.leafIndex, size: size).map(\.base64),
                trailerIndex: blockSize - 1, trailer: Base64.encode(trailer),
                trailerProof: try reader.inclusionProof(index: blockSize - 1, size: size).map(\.base64)))
        }
        guard let changes = try setChanges(validatorSetChanges, upTo: size, store: node.store) else { return nil }
        let registry = node.records.registry
        let writers = orgs.sorted().compactMap { org -> Writer? in
            guard let m = registry.members[org] else { return nil }
            return Writer(org: org, role: m.role.rawValue, name: m.name, keys: m.keys.mapValues { Multikey.encode(publicKey: $0) })
        }
        return ProofBundle(format: format, origin: node.genesis.origin, checkpoint: note, policy: try policy(genesis: node.genesis),
                           entries: entries, writers: writers, governance: registry.governance.sorted(),
                           governanceQuorum: registry.governanceQuorum, validatorSetChanges: changes)
    }

    /// The change leaves (index and data) within a tree of `size`, each with its inclusion proof
    /// under its own block's signed checkpoint, which the set before the change signed. Nil if the
    /// store lacks a block or checkpoint of one.
    static func setChanges(_ changes: [(index: UInt64, leaf: [UInt8])], upTo size: UInt64, store: LedgerStore) throws -> [SetChange]? {
        var out: [SetChange] = []
        for (index, leaf) in changes where index + 2 <= size {
            guard let block = try store.block(containingLeaf: index), let note = try store.checkpoint(height: block.height) else { return nil }
            out.append(SetChange(leafIndex: index, leaf: Base64.encode(leaf),
                                 inclusionProof: try store.hashReader.inclusionProof(index: index, size: block.size).map(\.base64),
                                 checkpoint: note))
        }
        return out
    }

    /// What the policy's `cosignature/v1` witnesses did for `note`: `; cosigned by witness NAME at
    /// TIME, …` for those whose cosignature verifies, `; no valid cosignature from witness NAME, …`
    /// for the others (with `missing`); empty if the policy names no such witness.
    static func cosigners(of note: Note, in policy: TlogPolicy, missing: Bool = false) -> String {
        var cosigned: [String] = [], absent: [String] = []
        for witness in policy.witnesses where witness.key.type == .cosignatureV1 {
            if let cosignature = try? Cosignature.verify(note: note, key: witness.key) {
                let time = Date(timeIntervalSince1970: TimeInterval(cosignature.timestamp)).ISO8601Format()
                cosigned.append("witness \(witness.name) at \(time)")
            } else {
                absent.append("witness \(witness.name)")
            }
        }
        return (cosigned.isEmpty ? "" : "; cosigned by " + cosigned.joined(separator: ", "))
            + (absent.isEmpty || !missing ? "" : "; no valid cosignature from " + absent.joined(separator: ", "))
    }

    /// Base64 hashes, or nil if any is malformed.
    static func hashes(_ base64: [String]) -> [Hash]? {
        let decoded = base64.compactMap(Hash.init(base64:))
        return decoded.count == base64.count ? decoded : nil
    }

    /// One check made while verifying, for the report.
    public struct Check: Sendable {
        public let passed: Bool
        public let what: String
    }

    /// What offline verification found.
    public struct Report: Sendable {
        public var checks: [Check] = []
        public var status: String?
        public var loggedAt: [String: UInt64] = [:]
        public var ok: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
        /// The first failed check, if any.
        public var failure: String? { checks.first { !$0.passed }?.what }
    }

    /// Verifies the bundle with no network against a pinned policy, on date `today`.
    public func verify(policy: TlogPolicy, today: String) -> Report {
        var report = Report()
        func check(_ passed: Bool, _ what: String) -> Bool {
            report.checks.append(Check(passed: passed, what: what))
            return passed
        }
        guard check(format == ProofBundle.format, "format is \(ProofBundle.format)") else { return report }
        // 1. The validator sets: the policy's (genesis) set, then each change in order (consensus.md §2.12).
        var epochs = (try? ProofBundle.validators(in: policy, origin: origin)).flatMap { try? ValidatorEpochs(genesis: $0, origin: origin) }
        if !validatorSetChanges.isEmpty {
            guard var followed = epochs else {
                _ = check(false, "the policy pins no \(ProofBundle.validatorsGroup) group to follow the validator-set changes from")
                return report
            }
            for change in validatorSetChanges {
                let label = "validator-set change at leaf \(change.leafIndex)"
                guard let leaf = Base64.decode(change.leaf), let proof = ProofBundle.hashes(change.inclusionProof) else {
                    _ = check(false, "\(label): malformed base64")
                    return report
                }
                do {
                    let step = try followed.apply(changeLeaf: leaf, index: change.leafIndex, proof: proof, checkpoint: change.checkpoint)
                    _ = check(true, "\(label) \(step), approved by a quorum of the validators before it and proved under their"
                        + " checkpoint; from size \(change.leafIndex + 3) the validators are "
                        + followed.set(forSize: change.leafIndex + 3).validators.map(\.name).sorted().joined(separator: ", "))
                } catch { _ = check(false, "\(label): \(error)"); return report }
            }
            epochs = followed
        }
        // 2. The checkpoint: signed by a quorum of the validators in force at its size (and
        // witnesses, if the policy names any).
        let cp: Checkpoint
        let note: Note
        do { note = try Note(parsing: checkpoint) } catch { _ = check(false, "checkpoint signatures: \(error)"); return report }
        let size = (try? Checkpoint(parsing: note.text))?.size ?? 0
        // After a change, the policy with the set in force at that size as its validators.
        let changed = epochs.map { $0.epoch(forSize: size) }.flatMap { $0.changeIndex == nil ? nil : $0 }
        do {
            let inForce = try changed.map { try ProofBundle.policy(policy, withValidators: $0.set, origin: origin) } ?? policy
            cp = try inForce.verify(note: note)
            let whose = changed.map { "in force at that size (\($0))" } ?? "in the policy"
            _ = check(true, "checkpoint of size \(cp.size) is signed by a quorum of the validators \(whose)"
                + ProofBundle.cosigners(of: note, in: inForce))
        } catch {
            var why = "checkpoint signatures: \(error)\(ProofBundle.cosigners(of: note, in: policy, missing: true))"
            if let epochs, epochs.epochs.count > 1 {
                why += "; at size \(size) the validators in force are the \(epochs.epoch(forSize: size))"
                if let former = ValidatorEpochs.signedOutOfTurn(epochs.formerValidators(signing: note, atSize: size)) { why += "; \(former)" }
            }
            _ = check(false, why)
            return report
        }
        guard check(cp.origin == origin, "checkpoint origin is \(origin)") else { return report }
        // 3. Each entry: in the tree, inside its block, and signed by its writer.
        let registry = Registry(members: writers.compactMap { w in
            guard let role = Role(rawValue: w.role) else { return nil }
            return Member(org: w.org, role: role, name: w.name, keys: w.keys.compactMapValues { Multikey.ed25519PublicKey(multibase: $0) })
        }, governance: Set(governance), governanceQuorum: governanceQuorum)
        var logged: [LoggedRecord] = []
        for entry in entries {
            let label = "record \(entry.recordID) (leaf \(entry.leafIndex))"
            guard let leaf = Base64.decode(entry.leaf), let trailerLeaf = Base64.decode(entry.trailer),
                  let proof = ProofBundle.hashes(entry.inclusionProof), let trailerProof = ProofBundle.hashes(entry.trailerProof)
            else { _ = check(false, "\(label): malformed base64"); return report }
            do {
                try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf), index: entry.leafIndex, size: cp.size, proof: proof, root: cp.root)
                _ = check(true, "\(label): RFC 9162 inclusion proof leads to the checkpoint root")
            } catch { _ = check(false, "\(label): inclusion proof: \(error)"); return report }
            let trailer: BlockTrailer
            do {
                try InclusionProof.verify(leafHash: RFC6962.leafHash(trailerLeaf), index: entry.trailerIndex, size: cp.size,
                                          proof: trailerProof, root: cp.root)
                trailer = try BlockTrailer(leafData: trailerLeaf)
            } catch { _ = check(false, "\(label): block trailer: \(error)"); return report }
            guard check(trailer.size == entry.trailerIndex + 1 && trailer.previousSize <= entry.leafIndex && entry.leafIndex < entry.trailerIndex,
                        "\(label): in block \(trailer.height) (leaves \(trailer.previousSize)…\(entry.trailerIndex)), logged at \(trailer.timeMillis) ms")
            else { return report }
            if let epochs, trailer.validatorSetHash != epochs.set(forSize: trailer.size).hash {
                _ = check(false, "\(label): block \(trailer.height) names another validator set than the one in force at size"
                    + " \(trailer.size): a validator-set change is missing from the bundle")
                return report
            }
            report.loggedAt[entry.recordID] = trailer.timeMillis
            guard leaf.first == LeafTag.record.rawValue, let record = try? Record(bytes: Array(leaf.dropFirst())),
                  record.recordID == entry.recordID else { _ = check(false, "\(label): not a well-formed record"); return report }
            do {
                _ = try Admission.verifySignatures(record, registry: registry)
                _ = check(true, "\(label): \(record.type.rawValue) signed by \(record.writerOrg)#\(record.keyID) (eddsa-jcs-2022)")
            } catch { _ = check(false, "\(label): writer signature: \(error)"); return report }
            logged.append(LoggedRecord(record: record, leafIndex: entry.leafIndex, timeMillis: trailer.timeMillis))
        }
        // 4. The status, derived from the records in the bundle only.
        if let subject = logged.first, subject.record.type == .documentIssued {
            let summaries = Dictionary(uniqueKeysWithValues: logged.map { ($0.record.recordID, $0.summary) })
            let view = Derivation.document(subject, events: Array(logged.dropFirst()), today: today, registry: registry,
                                           lookup: { summaries[$0] })
            report.status = view.status.rawValue
            _ = check(true, "status on \(today) from the \(logged.count - 1) records about it: \(view.status.rawValue)")
        }
        return report
    }
}

extension ProofBundle {
    /// Decodes a bundle; one without `validator_set_changes` (made before changes existed) has none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(format: try c.decode(String.self, forKey: .format), origin: try c.decode(String.self, forKey: .origin),
                  checkpoint: try c.decode(String.self, forKey: .checkpoint), policy: try c.decode(String.self, forKey: .policy),
                  entries: try c.decode([Entry].self, forKey: .entries), writers: try c.decode([Writer].self, forKey: .writers),
                  governance: try c.decode([String].self, forKey: .governance),
                  governanceQuorum: try c.decode(Int.self, forKey: .governanceQuorum),
                  validatorSetChanges: try c.decodeIfPresent([SetChange].self, forKey: .validatorSetChanges) ?? [])
    }
}
