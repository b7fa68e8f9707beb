// Derived state of the records (issue 3 §4), kept in the store's `index` family and written in
// the same atomic batch as each block: record id → leaf, verification code → record, each
// record's history, each credit subject's events, each case's records, and the member registry.
// Everything here can be rebuilt from the leaves, byte for byte (`RecordIndex.rebuild`).
import CinnabarCrypto
import Foundation
import Ledger
import Records
import Storage
import Synchronization

/// Keys of the `index` family. Record ids are stored as their 16 raw bytes.
enum IndexKey {
    static func record(_ id: String) -> [UInt8] { [UInt8(ascii: "r")] + rawID(id) }
    static func code(_ hmac: [UInt8]) -> [UInt8] { [UInt8(ascii: "c")] + hmac }
    static func history(_ target: String, _ leaf: UInt64) -> [UInt8] { [UInt8(ascii: "t")] + rawID(target) + u64(leaf) }
    static func historyPrefix(_ target: String) -> [UInt8] { [UInt8(ascii: "t")] + rawID(target) }
    static func subject(_ subject: String, _ leaf: UInt64) -> [UInt8] { subjectPrefix(subject) + u64(leaf) }
    static func subjectPrefix(_ subject: String) -> [UInt8] {
        var w = BinaryWriter(); w.u8(UInt8(ascii: "s")); w.string(subject); return w.bytes
    }
    static func caseMember(_ caseID: String, _ leaf: UInt64) -> [UInt8] { [UInt8(ascii: "k")] + rawID(caseID) + u64(leaf) }
    static func casePrefix(_ caseID: String) -> [UInt8] { [UInt8(ascii: "k")] + rawID(caseID) }
    /// A file's SHA-256 (raw 32 bytes) → the record that lists it (a rendition or an exhibit).
    static func digest(_ sha256: [UInt8], _ leaf: UInt64) -> [UInt8] { [UInt8(ascii: "d")] + sha256 + u64(leaf) }
    static func digestPrefix(_ sha256: [UInt8]) -> [UInt8] { [UInt8(ascii: "d")] + sha256 }
    static let registry: [UInt8] = Array("m/registry".utf8)
    /// A validator-set change leaf, by leaf index (what a restarting node and bundles need).
    static func setChange(_ leaf: UInt64) -> [UInt8] { [UInt8(ascii: "v")] + u64(leaf) }
    static let setChangePrefix: [UInt8] = [UInt8(ascii: "v")]

    static func u64(_ v: UInt64) -> [UInt8] { var w = BinaryWriter(); w.u64(v); return w.bytes }
    static func rawID(_ id: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var it = id.utf8.makeIterator()
        while let hi = it.next(), let lo = it.next() { out.append(hexValue(hi) << 4 | hexValue(lo)) }
        return out
    }
    static func hexID(_ raw: some Collection<UInt8>) -> String {
        raw.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined()
    }
    /// Ids reaching here passed the schema (32 lower-case hex digits); wrapping arithmetic makes
    /// anything else a wrong key rather than a trap.
    private static func hexValue(_ c: UInt8) -> UInt8 { c <= 0x39 ? c &- 0x30 : c &- 0x61 &+ 10 }
}

/// Record summaries as stored under `r‖id`.
extension RecordSummary {
    var encoded: [UInt8] {
        var w = BinaryWriter()
        w.string(type.rawValue)
        w.string(writerOrg)
        w.string(docType?.rawValue ?? "")
        w.u64(leafIndex)
        if let licence { w.string(licence) }
        return w.bytes
    }

    init?(recordID: String, encoded: [UInt8]) {
        var r = BinaryReader(encoded)
        guard let t = r.string(), let type = RecordType(rawValue: t), let org = r.string(), let doc = r.string(),
              let leaf = r.u64() else { return nil }
        var licence: String?
        if !r.isAtEnd {
            guard let l = r.string(), r.isAtEnd else { return nil }
            licence = l
        }
        self.init(recordID: recordID, type: type, writerOrg: org, docType: DocumentType(rawValue: doc), leafIndex: leaf, licence: licence)
    }
}

/// The records' derived state and the admission of new records against it.
public final class RecordIndex: BlockApplier, @unchecked Sendable {
    private let store: LedgerStore
    private let registryState: Mutex<Registry>
    /// Logged records never change: parsed ones are kept (two generations, bounded).
    private let parsed = Mutex<(current: [String: LoggedRecord], previous: [String: LoggedRecord])>(([:], [:]))
    private let parsedCapacity = 16_384

    /// Opens the index of `store`; the registry starts from genesis unless a later one was stored.
    public init(store: LedgerStore, genesisRegistry: Registry) throws {
        self.store = store
        var registry = genesisRegistry
        if let raw = try store.indexValue(IndexKey.registry) {
            guard let stored = RegistryCoding.decode(raw, governance: genesisRegistry) else {
                throw StorageError(code: "store_corrupt", "the stored member registry is malformed")
            }
            registry = stored
        }
        registryState = Mutex(registry)
    }

    /// The member registry as of the last durable block.
    public var registry: Registry { registryState.withLock { $0 } }

    /// The committed record `id`, or nil.
    public func summary(_ id: String) -> RecordSummary? {
        guard StringFormat.recordID.accepts(id) else { return nil }
        return committedSummary(admittedID: id)
    }

    /// `summary` for an id that admission has already checked against the schema (planning looks
    /// up every record and its references: checking the format again cost 4 % of the sequencer).
    private func committedSummary(admittedID id: String) -> RecordSummary? {
        guard let raw = try? store.indexValue(IndexKey.record(id)) else { return nil }
        return RecordSummary(recordID: id, encoded: raw)
    }

    /// The committed record whose code HMAC is `hmac`.
    public func record(codeHMAC hmac: [UInt8]) -> RecordSummary? {
        guard let raw = try? store.indexValue(IndexKey.code(hmac)), raw.count == 16 else { return nil }
        return summary(IndexKey.hexID(raw))
    }

    /// Ids of records about `target` (its history), in log order.
    public func history(of target: String) throws -> [String] {
        try store.indexEntries(prefix: IndexKey.historyPrefix(target)).map { IndexKey.hexID($0.value) }
    }

    /// Ids of records about a credit subject or practitioner (licence number or USCI), in log order.
    public func records(aboutSubject subject: String) throws -> [String] {
        try store.indexEntries(prefix: IndexKey.subjectPrefix(subject)).map { IndexKey.hexID($0.value) }
    }

    /// Ids of the records of a case, in log order.
    public func records(inCase caseID: String) throws -> [String] {
        try store.indexEntries(prefix: IndexKey.casePrefix(caseID)).map { IndexKey.hexID($0.value) }
    }

    /// Ids of the records that list a file with this SHA-256 (32 raw bytes), in log order.
    public func records(withDigest sha256: [UInt8]) throws -> [String] {
        try store.indexEntries(prefix: IndexKey.digestPrefix(sha256)).map { IndexKey.hexID($0.value) }
    }

    /// A committed record with its leaf index and block time.
    public func logged(_ id: String) throws -> LoggedRecord? {
        let hit = parsed.withLock { cache -> LoggedRecord? in
            if let r = cache.current[id] { return r }
            guard let r = cache.previous[id] else { return nil }
            cache.current[id] = r
            return r
        }
        if let hit { return hit }
        guard let loaded = try load(id) else { return nil }
        parsed.withLock { cache in
            if cache.current.count >= parsedCapacity / 2 { cache.previous = cache.current; cache.current = [:] }
            cache.current[id] = loaded
        }
        return loaded
    }

    private func load(_ id: String) throws -> LoggedRecord? {
        guard let summary = summary(id), let leaf = try store.leaf(at: summary.leafIndex),
              let block = try store.block(containingLeaf: summary.leafIndex) else { return nil }
        guard let record = try? Record(bytes: Array(leaf.dropFirst())) else {
            throw StorageError(code: "store_corrupt", "leaf \(summary.leafIndex) no longer parses as record \(id)")
        }
        return LoggedRecord(record: record, leafIndex: summary.leafIndex, timeMillis: block.timeMillis)
    }

    /// The record a verification code names (the index key is the code's HMAC under the
    /// consortium's code key, so a copy of the store cannot be searched for codes).
    public func record(code: VerificationCode, codeKey: CodeKey) -> RecordSummary? {
        record(codeHMAC: codeKey.raw(code))
    }

    /// The derived status of document `id` on `today` (YYYY-MM-DD), or nil if it is not a document.
    public func documentView(_ id: String, today: String) throws -> DocumentView? {
        guard let document = try logged(id), document.record.type == .documentIssued else { return nil }
        let events = try history(of: id).compactMap { try logged($0) }
        return Derivation.document(document, events: events, today: today, registry: registry, lookup: summary)
    }

    /// The public credit profile of a subject (licence number or USCI) on `today`.
    public func creditProfile(subject: String, today: String) throws -> [Derivation.CreditEntry] {
        var events: [LoggedRecord] = []
        for id in try records(aboutSubject: subject) {
            guard let event = try logged(id) else { continue }
            events.append(event)
            events += try history(of: id).compactMap { try logged($0) }
        }
        return Derivation.creditProfile(events: events, today: today, registry: registry, lookup: summary)
    }

    /// Full admission against the committed state (signatures included). Runs on the caller's
    /// task, so signature checks spread over all cores; the sequencing thread re-checks only what
    /// can have changed since (duplicates, state).
    public func admit(leaf: [UInt8]) throws(AdmissionError) -> AdmittedRecord {
        try Admission.admit(Array(leaf.dropFirst()), registry: registry, lookup: summary)
    }

    // MARK: BlockApplier

    struct PlanState: Sendable { let registry: Registry }

    public func plan(_ entries: [Entry], firstIndex: UInt64) -> BlockPlan {
        var registry = self.registry
        var inBlock: [String: RecordSummary] = [:]
        var derived: [(key: [UInt8], value: [UInt8])] = []
        var outcomes: [EntryOutcome] = []
        var next = firstIndex
        for entry in entries {
            let admitted: AdmittedRecord
            if let context = entry.context as? AdmittedRecord {
                admitted = context
            } else {
                do { admitted = try Admission.admit(Array(entry.leaf.dropFirst()), registry: registry, lookup: { inBlock[$0] ?? self.summary($0) }) } catch {
                    outcomes.append(.rejected(.refused(code: error.code, reason: error.description)))
                    continue
                }
            }
            let record = admitted.record
            if let original = inBlock[record.recordID] ?? committedSummary(admittedID: record.recordID) {
                outcomes.append(.duplicate(of: original.leafIndex))
                continue
            }
            // State may have moved since admission (a member suspended, a key retired, a target just
            // logged): planning answers as full admission on this state would, with or without a
            // context. Governance records have all their signatures checked again; for the others,
            // checked at admission, the writer's key must still be registered, as the same bytes (a
            // rotation can give a key id to a new key): if it is not, the signature is checked again.
            do {
                let signers = record.type.isGovernance ? try Admission.verifySignatures(record, registry: registry).orgs : []
                if !record.type.isGovernance,
                   try Admission.registeredKey(VerificationMethod(org: record.writerOrg, keyID: record.keyID), registry: registry) != admitted.writerKey {
                    _ = try Admission.verifySignatures(record, registry: registry)
                }
                try Permissions.check(record, registry: registry, governanceSigners: signers, lookup: { inBlock[$0] ?? self.committedSummary(admittedID: $0) })
            } catch let error as AdmissionError {
                outcomes.append(.rejected(.refused(code: error.code, reason: error.description)))
                continue
            } catch let error as PermissionError {
                outcomes.append(.rejected(.refused(code: error.code, reason: error.description)))
                continue
            } catch {
                outcomes.append(.rejected(.refused(code: "admission_failed", reason: "\(error)")))
                continue
            }
            let summary = RecordSummary(record, leafIndex: next)
            inBlock[record.recordID] = summary
            derived += RecordIndex.derivedWrites(record, summary: summary)
            if record.type.isGovernance {
                registry.apply(record)
                derived.append((IndexKey.registry, RegistryCoding.encode(registry)))
            }
            outcomes.append(.append)
            next += 1
        }
        return BlockPlan(outcomes: outcomes, derived: derived, state: PlanState(registry: registry))
    }

    public func planDecided(_ leaves: [[UInt8]], firstIndex: UInt64) -> BlockPlan {
        var registry = self.registry
        var derived: [(key: [UInt8], value: [UInt8])] = []
        for (k, leaf) in leaves.enumerated() {
            derived += RecordIndex.derivedWrites(ofDecided: leaf, at: firstIndex + UInt64(k), registry: &registry)
        }
        return BlockPlan(outcomes: leaves.map { _ in .append }, derived: derived, state: PlanState(registry: registry))
    }

    /// The index entries a logged leaf adds, as its block wrote them (records and set changes;
    /// governance records also advance `registry`). Judges nothing: for blocks already decided.
    static func derivedWrites(ofDecided leaf: [UInt8], at index: UInt64, registry: inout Registry) -> [(key: [UInt8], value: [UInt8])] {
        if leaf.first == LeafTag.validatorSetChange.rawValue { return [(IndexKey.setChange(index), leaf)] }
        guard leaf.first == LeafTag.record.rawValue, let record = try? Record(bytes: Array(leaf.dropFirst())) else { return [] }
        var out = derivedWrites(record, summary: RecordSummary(record, leafIndex: index))
        if record.type.isGovernance {
            registry.apply(record)
            out.append((IndexKey.registry, RegistryCoding.encode(registry)))
        }
        return out
    }

    public func admitShared(_ leaf: [UInt8]) -> (any Sendable)? { try? admit(leaf: leaf) }

    public func committed(_ plan: BlockPlan) {
        guard let state = plan.state as? PlanState else { return }
        registryState.withLock { $0 = state.registry }
    }

    /// The index entries one record adds. The only place derived keys are made.
    static func derivedWrites(_ record: Record, summary: RecordSummary) -> [(key: [UInt8], value: [UInt8])] {
        let id = IndexKey.rawID(record.recordID)
        let leaf = summary.leafIndex
        var out: [(key: [UInt8], value: [UInt8])] = [(IndexKey.record(record.recordID), summary.encoded)]
        if let hmac = record.string("code_hmac").flatMap(Base64URL.decode) {
            out.append((IndexKey.code(hmac), id))
        }
        for ref in record.refs where ref.rel != "case" && ref.rel != "evidence" {
            out.append((IndexKey.history(ref.recordID, leaf), id))
        }
        for digest in record.fileDigests { out.append((IndexKey.digest(digest, leaf), id)) }
        if let caseID = record.caseRef { out.append((IndexKey.caseMember(caseID, leaf), id)) }
        if record.type == .caseOpened { out.append((IndexKey.caseMember(record.recordID, leaf), id)) }
        if let subject = record.payload["subject"]?["id"]?.string { out.append((IndexKey.subject(subject, leaf), id)) }
        if let licence = record.string("licence_number"),
           record.type == .practitionerRegistered || record.type == .practitionerStatusChanged {
            out.append((IndexKey.subject(licence, leaf), id))
        }
        return out
    }

    /// Recomputes every derived entry from the leaves, as the blocks would have written them.
    /// Later writes to the same key win, as in the store.
    public static func rebuild(store: LedgerStore, genesisRegistry: Registry) throws -> [[UInt8]: [UInt8]] {
        var registry = genesisRegistry
        var out: [[UInt8]: [UInt8]] = [:]
        var index: UInt64 = 0
        while index < store.size {
            let leaves = try store.leaves(from: index, count: 4096)
            for (k, leaf) in leaves.enumerated() {
                for (key, value) in derivedWrites(ofDecided: leaf, at: index + UInt64(k), registry: &registry) { out[key] = value }
            }
            index += UInt64(leaves.count)
            if leaves.isEmpty { break }
        }
        return out
    }

    /// The log's validator-set change leaves, in order (leaf index, leaf data).
    public static func setChanges(store: LedgerStore) throws -> [(index: UInt64, leafData: [UInt8])] {
        try store.indexEntries(prefix: IndexKey.setChangePrefix, limit: Int.max).compactMap { key, value in
            BinaryReader(Array(key.dropFirst())).u64Value.map { ($0, value) }
        }
    }

    /// Everything stored in the `index` family.
    public static func stored(store: LedgerStore) throws -> [[UInt8]: [UInt8]] {
        var out: [[UInt8]: [UInt8]] = [:]
        for (k, v) in try store.indexEntries(prefix: [], limit: Int.max) { out[k] = v }
        return out
    }
}

/// Unpadded base64url (RFC 4648 §5), as record HMAC fields use.
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = Array(Base64.encode(bytes).utf8)
        while out.last == UInt8(ascii: "=") { out.removeLast() }
        for i in out.indices {
            if out[i] == UInt8(ascii: "+") { out[i] = UInt8(ascii: "-") } else if out[i] == UInt8(ascii: "/") { out[i] = UInt8(ascii: "_") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
        for i in chars.indices {
            switch chars[i] {
            case UInt8(ascii: "-"): chars[i] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): chars[i] = UInt8(ascii: "/")
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): return nil
            default: break
            }
        }
        while chars.count % 4 != 0 { chars.append(UInt8(ascii: "=")) }
        return Base64.decode(String(decoding: chars, as: UTF8.self))
    }
}

/// Canonical encoding of the member registry (stored whenever membership changes).
enum RegistryCoding {
    static func encode(_ registry: Registry) -> [UInt8] {
        let members = JSONObject(registry.members.mapValues { m -> JSONValue in
            .object([
                "role": .string(m.role.rawValue),
                "name": .string(m.name),
                "status": .string(m.status.rawValue),
                "keys": .object(JSONObject(m.keys.mapValues { .string(Multikey.encode(publicKey: $0)) })),
            ])
        })
        return CanonicalJSON.serialize(.object(["members": .object(members)]))
    }

    static func decode(_ raw: [UInt8], governance: Registry) -> Registry? {
        guard let json = try? JSONParser.parse(raw, maxBytes: raw.count), let members = json["members"]?.object else { return nil }
        var out: [Member] = []
        for (org, m) in members {
            guard let role = m["role"]?.string.flatMap(Role.init(rawValue:)), let name = m["name"]?.string,
                  let status = m["status"]?.string.flatMap(Member.Status.init(rawValue:)), let keys = m["keys"]?.object else { return nil }
            var parsed: [String: Ed25519PublicKey] = [:]
            for (id, v) in keys {
                guard let k = v.string.flatMap(Multikey.ed25519PublicKey(multibase:)) else { return nil }
                parsed[id] = k
            }
            out.append(Member(org: org, role: role, name: name, keys: parsed, status: status))
        }
        return Registry(members: out, governance: governance.governance, governanceQuorum: governance.governanceQuorum)
    }
}
