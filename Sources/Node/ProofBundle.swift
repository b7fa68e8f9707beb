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

    enum CodingKeys: String, CodingKey {
        case format, origin, checkpoint, policy, entries, writers, governance
        case governanceQuorum = "governance_quorum"
    }

    /// The tlog-policy of a validator set: every validator a witness, quorum ⌊2n/3⌋+1. With
    /// `witnesses` (external tlog-witnesses' `cosignature/v1` keys, named by their key names), the
    /// quorum also needs `witnessesRequired` of them (default: all). Throws if the result is not a
    /// valid policy (a witness named like a validator or a group, a bad threshold).
    public static func policy(genesis: Genesis, witnesses: [NoteVerifierKey] = [], witnessesRequired: Int? = nil) throws -> String {
        let set = try genesis.validatorSet()
        var text = genesis.validators.map { "witness \($0.name) \($0.key)\n" }.joined()
            + "group validators \(set.quorum) " + genesis.validators.map(\.name).joined(separator: " ") + "\n"
        if witnesses.isEmpty {
            text += "quorum validators\n"
        } else {
            text += witnesses.map { "witness \($0.name) \($0.vkey)\n" }.joined()
                + "group witnesses \(witnessesRequired ?? witnesses.count) " + witnesses.map(\.name).joined(separator: " ") + "\n"
                + "group validators-and-witnesses all validators witnesses\n"
                + "quorum validators-and-witnesses\n"
        }
        _ = try TlogPolicy(parsing: text)
        return text
    }

    /// The bundle of record `id` and its history, under the node's latest checkpoint.
    public static func make(node: LedgerNode, recordID id: String) throws -> ProofBundle? {
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
        let registry = node.records.registry
        let writers = orgs.sorted().compactMap { org -> Writer? in
            guard let m = registry.members[org] else { return nil }
            return Writer(org: org, role: m.role.rawValue, name: m.name, keys: m.keys.mapValues { Multikey.encode(publicKey: $0) })
        }
        return ProofBundle(format: format, origin: node.genesis.origin, checkpoint: note, policy: try policy(genesis: node.genesis),
                           entries: entries, writers: writers, governance: registry.governance.sorted(),
                           governanceQuorum: registry.governanceQuorum)
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
        // 1. The checkpoint: signed by a quorum of the pinned validators (and witnesses, if the policy names any).
        let cp: Checkpoint
        do {
            let note = try Note(parsing: checkpoint)
            cp = try policy.verify(note: note)
            _ = check(true, "checkpoint of size \(cp.size) is signed by a quorum of the validators in the policy"
                + ProofBundle.cosigners(of: note, in: policy))
        } catch {
            let witnesses = (try? Note(parsing: checkpoint)).map { ProofBundle.cosigners(of: $0, in: policy, missing: true) } ?? ""
            _ = check(false, "checkpoint signatures: \(error)\(witnesses)")
            return report
        }
        guard check(cp.origin == origin, "checkpoint origin is \(origin)") else { return report }
        // 2. Each entry: in the tree, inside its block, and signed by its writer.
        let registry = Registry(members: writers.compactMap { w in
            guard let role = Role(rawValue: w.role) else { return nil }
            return Member(org: w.org, role: role, name: w.name, keys: w.keys.compactMapValues { Multikey.ed25519PublicKey(multibase: $0) })
        }, governance: Set(governance), governanceQuorum: governanceQuorum)
        var logged: [LoggedRecord] = []
        for entry in entries {
            let label = "record \(entry.recordID) (leaf \(entry.leafIndex))"
            guard let leaf = Base64.decode(entry.leaf), let trailerLeaf = Base64.decode(entry.trailer),
                  let proof = Optional(entry.inclusionProof.compactMap(Hash.init(base64:))), proof.count == entry.inclusionProof.count,
                  let trailerProof = Optional(entry.trailerProof.compactMap(Hash.init(base64:))), trailerProof.count == entry.trailerProof.count
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
            report.loggedAt[entry.recordID] = trailer.timeMillis
            guard leaf.first == LeafTag.record.rawValue, let record = try? Record(bytes: Array(leaf.dropFirst())),
                  record.recordID == entry.recordID else { _ = check(false, "\(label): not a well-formed record"); return report }
            do {
                _ = try Admission.verifySignatures(record, registry: registry)
                _ = check(true, "\(label): \(record.type.rawValue) signed by \(record.writerOrg)#\(record.keyID) (eddsa-jcs-2022)")
            } catch { _ = check(false, "\(label): writer signature: \(error)"); return report }
            logged.append(LoggedRecord(record: record, leafIndex: entry.leafIndex, timeMillis: trailer.timeMillis))
        }
        // 3. The status, derived from the records in the bundle only.
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
