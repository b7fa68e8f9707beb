// A signed record: RFC 8785 canonical JSON with an envelope (domain.md §6.2), a typed payload and
// the writer's W3C Data Integrity proof (eddsa-jcs-2022). The leaf is 0x01 ‖ these bytes.
import CinnabarCrypto

/// A reference from a record to an earlier one.
public struct Ref: Hashable, Sendable {
    public let recordID: String
    /// target | new | old | case | evidence
    public let rel: String
    public init(recordID: String, rel: String) { self.recordID = recordID; self.rel = rel }
}

/// Why a record was refused. Stable codes for the API and CLI.
public enum RecordError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int)
    case invalidJSON(String)
    case notCanonical
    case schema(SchemaError)
    case badRefs(String)
    case badProof(String)

    public var code: String {
        switch self {
        case .tooLarge: "record_too_large"
        case .invalidJSON: "record_invalid_json"
        case .notCanonical: "record_not_canonical"
        case let .schema(e): e.code
        case .badRefs: "record_bad_refs"
        case .badProof: "record_bad_proof"
        }
    }

    public var description: String {
        switch self {
        case let .tooLarge(n): "record is \(n) bytes; the limit is \(Record.maxBytes)"
        case let .invalidJSON(why): "record is not valid JSON: \(why)"
        case .notCanonical: "record bytes are not RFC 8785 canonical JSON"
        case let .schema(e): "record does not fit its schema: \(e)"
        case let .badRefs(why): "record refs: \(why)"
        case let .badProof(why): "record proof: \(why)"
        }
    }
}

/// A parsed, schema-valid record. Signatures and permissions are checked by `Admission`.
public struct Record: Sendable {
    /// A leaf is at most 65,535 bytes with its tag.
    public static let maxBytes = 65_534

    /// The canonical JSON bytes (the leaf without its tag byte).
    public let bytes: [UInt8]
    public let json: JSONValue
    public let type: RecordType
    public let recordID: String
    public let writerOrg: String
    public let writerRole: Role
    public let keyID: String
    public let createdAt: String
    public let refs: [Ref]
    public let payload: JSONObject

    /// The single `target` ref of a status record.
    public var target: String? { refs.first { $0.rel == "target" }?.recordID }
    /// The `new` and `old` refs of a supersession or relation.
    public var newRef: String? { refs.first { $0.rel == "new" }?.recordID }
    public var oldRef: String? { refs.first { $0.rel == "old" }?.recordID }
    /// The case (CASE_OPENED record) this record belongs to.
    public var caseRef: String? { refs.first { $0.rel == "case" }?.recordID }

    /// The canonical form of the record without its proof: what eddsa-jcs-2022 signs
    /// (vc-di-eddsa v1.0 §3.3.2 step 2). The bytes are canonical, so removing the member from
    /// them is the same as serialising the object without it, at a fraction of the cost.
    public let unsecuredBytes: [UInt8]

    /// A string member of the payload.
    public func string(_ key: String) -> String? { payload[key]?.string }

    /// The SHA-256 digests (raw 32 bytes) of the files this record lists: a document's renditions
    /// (as issued or as corrected), or an exhibit's content digests.
    public var fileDigests: [[UInt8]] {
        let hex: [String]
        switch type {
        case .documentIssued, .documentCorrected:
            hex = (payload["renditions"]?.array ?? []).compactMap { $0["sha256"]?.string }
        case .evidenceDeposited:
            hex = (payload["content_digests"]?.array ?? []).filter { $0["alg"]?.string == "sha256" }.compactMap { $0["value"]?.string }
        default:
            hex = []
        }
        return hex.compactMap { Hash(hex: $0).map { Array($0.bytes) } }
    }

    /// Parses leaf body bytes: size, strict JSON, canonical form, schema, ref rules.
    public init(bytes: [UInt8]) throws(RecordError) {
        guard bytes.count <= Record.maxBytes else { throw .tooLarge(bytes: bytes.count) }
        let parsed: JSONParser.Parsed
        do { parsed = try JSONParser.parseReportingForm(bytes, maxBytes: Record.maxBytes) } catch { throw .invalidJSON("\(error)") }
        guard parsed.isCanonical else { throw .notCanonical }
        let json = parsed.value
        guard let typeName = json["type"]?.string, let type = RecordType(rawValue: typeName) else {
            throw .schema(SchemaError(path: "$.type", expected: "one of the record types"))
        }
        do { try RecordSchemas.record(type).validate(json) } catch { throw .schema(error) }
        // The schema guarantees every member below exists and has the right shape.
        self.bytes = bytes
        self.json = json
        self.type = type
        recordID = json["record_id"]!.string!
        writerOrg = json["writer_org"]!.string!
        writerRole = Role(rawValue: json["writer_role"]!.string!)!
        keyID = json["key_id"]!.string!
        createdAt = json["created_at"]!.string!
        refs = json["refs"]!.array!.map { Ref(recordID: $0["record_id"]!.string!, rel: $0["rel"]!.string!) }
        payload = json["payload"]!.object!
        unsecuredBytes = parsed.removingMember("proof", from: bytes) ?? bytes
        try checkRefs()
    }

    private func checkRefs() throws(RecordError) {
        func count(_ rel: String) -> Int { refs.filter { $0.rel == rel }.count }
        guard Set(refs.map(\.recordID)).count == refs.count else { throw .badRefs("the same record is referenced twice") }
        guard !refs.contains(where: { $0.recordID == recordID }) else { throw .badRefs("a record cannot refer to itself") }
        guard count("case") <= 1 else { throw .badRefs("at most one case ref") }
        switch type {
        case .documentSuperseded, .documentRelated:
            guard count("new") == 1, count("old") == 1, count("target") == 0 else {
                throw .badRefs("\(type.rawValue) needs exactly one new and one old ref")
            }
        case _ where type.targetTypes != nil:
            guard count("target") == 1, count("new") == 0, count("old") == 0 else {
                throw .badRefs("\(type.rawValue) needs exactly one target ref")
            }
        default:
            guard count("target") == 0, count("new") == 0, count("old") == 0 else {
                throw .badRefs("\(type.rawValue) takes no target/new/old refs")
            }
        }
        if count("evidence") > 0, type != .documentIssued { throw .badRefs("only documents cite evidence") }
    }

    /// The writer's proofs: one, or several for governance records (a proof set).
    public func proofs() throws(RecordError) -> [DataIntegrityProof] {
        do { return try DataIntegrity.proofs(of: json) } catch { throw .badProof("\(error)") }
    }
}

/// A record before signing: what a writer fills in.
public struct RecordDraft: Sendable {
    public var type: RecordType
    public var recordID: String
    public var writerOrg: String
    public var writerRole: Role
    public var keyID: String
    public var createdAt: String
    public var refs: [Ref]
    public var payload: JSONObject

    /// A draft with a fresh random record id.
    public init(type: RecordType, writerOrg: String, writerRole: Role, keyID: String, createdAt: String,
                refs: [Ref] = [], payload: JSONObject) {
        self.type = type
        recordID = RecordDraft.newRecordID()
        self.writerOrg = writerOrg
        self.writerRole = writerRole
        self.keyID = keyID
        self.createdAt = createdAt
        self.refs = refs
        self.payload = payload
    }

    /// 128 random bits as 32 lower-case hex digits.
    public static func newRecordID() -> String {
        secureRandomBytes(count: 16).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The unsecured document (no proof).
    public var document: JSONValue {
        .object([
            "schema": .string(RecordSchemas.version),
            "type": .string(type.rawValue),
            "record_id": .string(recordID),
            "writer_org": .string(writerOrg),
            "writer_role": .string(writerRole.rawValue),
            "key_id": .string(keyID),
            "created_at": .string(createdAt),
            "refs": .array(refs.map { .object(["record_id": .string($0.recordID), "rel": .string($0.rel)]) }),
            "payload": .object(payload),
        ])
    }

    /// Signs with one key (ordinary records) or several (governance proof sets) and returns the
    /// canonical record bytes, ready to be a leaf after the 0x01 tag.
    public func signed(by signers: [RecordSigner]) -> [UInt8] {
        precondition(!signers.isEmpty, "a record needs a signer")
        let unsecured = document
        let proofs = signers.map { signer in
            DataIntegrity.sign(document: unsecured, created: createdAt, verificationMethod: signer.verificationMethod, key: signer.key)
        }
        return CanonicalJSON.serialize(DataIntegrity.secure(document: unsecured, proofs: proofs))
    }
}

/// An organisation's signing key, with the id it is registered under.
public struct RecordSigner: Sendable {
    public let org: String
    public let keyID: String
    public let key: Ed25519PrivateKey
    public init(org: String, keyID: String, key: Ed25519PrivateKey) { self.org = org; self.keyID = keyID; self.key = key }

    /// `cinnabar:org:<USCI>#<key id>`: names the registered key that verifies the proof.
    public var verificationMethod: String { VerificationMethod(org: org, keyID: keyID).string }
}

/// The verificationMethod of a record proof: `cinnabar:org:<USCI>#<key id>`.
public struct VerificationMethod: Hashable, Sendable {
    public let org: String
    public let keyID: String
    public init(org: String, keyID: String) { self.org = org; self.keyID = keyID }

    public var string: String { "cinnabar:org:\(org)#\(keyID)" }

    public init?(parsing s: String) {
        let prefix = "cinnabar:org:".utf8
        let utf8 = s.utf8
        guard utf8.starts(with: prefix), let hash = utf8.firstIndex(of: UInt8(ascii: "#")) else { return nil }
        guard let org = String(utf8[utf8.index(utf8.startIndex, offsetBy: prefix.count)..<hash]),
              let keyID = String(utf8[utf8.index(after: hash)...]) else { return nil }
        guard StringFormat.usci.accepts(org), StringFormat.keyID.accepts(keyID) else { return nil }
        self.org = org
        self.keyID = keyID
    }
}
