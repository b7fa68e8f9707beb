// Realistic records for demos, load tests and benchmarks, signed by the demo organisations.
// People appear only as keyed HMACs (keyed by the issuing organisation) and a masked display
// name; files only as digests (domain.md §5).
import CinnabarCrypto
import Foundation
import Records

/// Builds signed records as one organisation.
public struct RecordWriter: Sendable {
    public let key: OrganisationKey
    public let signer: RecordSigner
    public let codeKey: CodeKey

    public init(key: OrganisationKey, codeKey: CodeKey) throws {
        self.key = key
        signer = try key.signer()
        self.codeKey = codeKey
    }

    public var role: Role { Role(rawValue: key.role)! }

    /// RFC 3339 in China Standard Time (UTC+08:00), as writers stamp `created_at`.
    public static func timestamp(_ date: Date = Date()) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down)) + 8 * 3600
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civilDate(daysSinceEpoch: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))+08:00"
    }

    /// Proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (H. Hinnant's algorithm).
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Today's date (YYYY-MM-DD) in China Standard Time.
    public static func today(_ date: Date = Date()) -> String { String(timestamp(date).prefix(10)) }

    /// A signed record of `type` with `payload` and `refs`.
    public func record(_ type: RecordType, refs: [Ref] = [], payload: JSONObject, recordID: String? = nil) -> (id: String, bytes: [UInt8]) {
        var draft = RecordDraft(type: type, writerOrg: key.org, writerRole: role, keyID: key.keyID,
                                createdAt: RecordWriter.timestamp(), refs: refs, payload: payload)
        if let recordID { draft.recordID = recordID }
        return (draft.recordID, draft.signed(by: [signer]))
    }

    /// HMAC of a personal identifier under this organisation's own key (derived from its signing
    /// seed here; a real issuer keeps a separate HMAC key in its HSM).
    public func personHMAC(_ identifier: String) -> String {
        let secret = SHA256.hash(Array("cinnabar/person-hmac".utf8) + Array(key.privateKeyMultibase.utf8)).bytes
        return Base64URL.encode(HMACSHA256.authenticationCode(key: secret, message: Array(identifier.utf8)))
    }

    /// An evidence deposit of a file with the given SHA-256; returns its code too.
    public func evidence(sha256: String, sizeBytes: Int64 = 1024, mediaType: String = "application/pdf",
                        caseID: String? = nil) -> (id: String, code: VerificationCode, bytes: [UInt8]) {
        let code = VerificationCode.generate(kind: .evidenceDeposit)
        let now = RecordWriter.timestamp()
        let r = record(.evidenceDeposited, refs: caseID.map { [Ref(recordID: $0, rel: "case")] } ?? [], payload: [
            "code_hmac": .string(codeKey.hmac(code)),
            "content_digests": .array([.object(["alg": .string("sha256"), "value": .string(sha256)])]),
            "size_bytes": .integer(sizeBytes),
            "media_type": .string(mediaType),
            "capture": .object([
                "mode": .string("notarial_capture"), "tool": .string("cinnabar-capture"), "tool_version": .string("1.0"),
                "started_at": .string(now), "ended_at": .string(now),
            ]),
            "depositor_relation": .string("neutral_notary"),
        ])
        return (r.id, code, r.bytes)
    }

    /// A document of `docType` for a holder known by name and ID number (kept off the ledger),
    /// with one PDF rendition in Simplified Chinese.
    public func document(_ docType: DocumentType, number: String, holderName: String, holderID: String,
                         renditionSHA256: String, validUntil: String? = nil, evidence: [String] = [],
                         caseID: String? = nil) -> (id: String, code: VerificationCode, bytes: [UInt8]) {
        document(docType, number: number, holderName: holderName, holderID: holderID,
                 renditions: [.object(["lang": .string("zh-Hans"), "format": .string("PDF"), "role": .string("original"),
                                       "sha256": .string(renditionSHA256)])],
                 validUntil: validUntil, evidence: evidence, caseID: caseID)
    }

    /// A document with the given renditions (each `{lang, format, role, sha256}`).
    public func document(_ docType: DocumentType, number: String, holderName: String, holderID: String,
                         renditions: [JSONValue], validUntil: String? = nil, evidence: [String] = [],
                         caseID: String? = nil) -> (id: String, code: VerificationCode, bytes: [UInt8]) {
        let code = VerificationCode.generate(kind: CodeKind(rawValue: docType.codeKind)!)
        var payload: JSONObject = [
            "doc_type": .string(docType.rawValue),
            "doc_number": .string(number),
            "code_hmac": .string(codeKey.hmac(code)),
            "issued_at": .string(RecordWriter.today()),
            "practitioners": .array([]),
            "renditions": .array(renditions),
            "holder_hmac": .string(personHMAC(holderID)),
            "holder_masked": .string(String(holderName.prefix(1)) + "*"),
        ]
        if let validUntil { payload["valid_until"] = .string(validUntil) }
        var refs = evidence.map { Ref(recordID: $0, rel: "evidence") }
        if let caseID { refs.append(Ref(recordID: caseID, rel: "case")) }
        let r = record(.documentIssued, refs: refs, payload: payload)
        return (r.id, code, r.bytes)
    }
}
