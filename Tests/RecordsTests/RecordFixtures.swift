// Fixtures for the record-model tests: a consortium with one member organisation per role (plus a
// second notary office and a second court, for "another issuer" cases), a schema-valid payload for
// every record type, signing, and an in-memory log whose lookup answers the permission checks.
import CinnabarCrypto
import Records
import XCTest

/// A member organisation of the test consortium: its USCI, role, signing key (registered as "k1")
/// and the key it uses to HMAC personal identifiers (domain.md §5: never a plain hash).
struct TestOrg {
    static let keyID = "k1"

    let name: String
    let usci: String
    let role: Role
    let key: Ed25519PrivateKey
    let personKey: [UInt8]

    init(name: String, serial: Int, role: Role) {
        self.name = name
        usci = TestOrg.usci(serial: serial)
        self.role = role
        key = Ed25519PrivateKey.generate()
        personKey = secureRandomBytes(count: 32)
    }

    /// A USCI with a valid GB 32100 check character: `12510000MB` + a 7-digit serial + check.
    static func usci(serial: Int) -> String {
        let digits = String(serial)
        let prefix17 = "12510000MB" + String(repeating: "0", count: 7 - digits.count) + digits
        return try! OrganizationCode.withCheckCharacter(prefix17: prefix17).value
    }

    var signer: RecordSigner { RecordSigner(org: usci, keyID: TestOrg.keyID, key: key) }
    var member: Member { Member(org: usci, role: role, name: name, keys: [TestOrg.keyID: key.publicKey]) }

    /// The keyed HMAC-SHA256 of a personal identifier, unpadded base64url (the `.hmac` format).
    func personHMAC(_ identifier: String) -> String {
        Fixture.base64URL(HMACSHA256.authenticationCode(key: personKey, message: Array(identifier.utf8)))
    }
}

/// The test consortium: one organisation per role, a second notary office and a second court.
/// Governance is the justice administration and the (first) court, with a quorum of 2.
struct Consortium {
    static let governanceQuorum = 2

    let orgs: [Role: TestOrg]
    let notary2: TestOrg
    let court2: TestOrg

    init() {
        var orgs: [Role: TestOrg] = [:]
        for (i, role) in Role.allCases.enumerated() { orgs[role] = TestOrg(name: "\(role.rawValue) 1", serial: 100 + i, role: role) }
        self.orgs = orgs
        notary2 = TestOrg(name: "NOTARY_OFFICE 2", serial: 200, role: .notaryOffice)
        court2 = TestOrg(name: "COURT 2", serial: 201, role: .court)
    }

    subscript(role: Role) -> TestOrg { orgs[role]! }

    var justice: TestOrg { self[.justiceAdmin] }
    var association: TestOrg { self[.association] }
    var notary: TestOrg { self[.notaryOffice] }
    var lab: TestOrg { self[.forensicLab] }
    var arbitration: TestOrg { self[.arbitrationCommission] }
    var legalAid: TestOrg { self[.legalAidCenter] }
    var court: TestOrg { self[.court] }

    /// The registry at genesis: every organisation active with its "k1" key.
    var registry: Registry {
        Registry(members: Array(orgs.values.map(\.member)) + [notary2.member, court2.member],
                 governance: [justice.usci, court.usci], governanceQuorum: Consortium.governanceQuorum)
    }

    /// The draft of a record of `type` written by `org` (claiming `role`, by default its own).
    func draft(_ type: RecordType, by org: TestOrg, claiming role: Role? = nil, refs: [Ref] = [],
               payload: JSONObject) -> RecordDraft {
        RecordDraft(type: type, writerOrg: org.usci, writerRole: role ?? org.role, keyID: TestOrg.keyID,
                    createdAt: Fixture.createdAt, refs: refs, payload: payload)
    }

    /// The signed bytes of a record of `type` by `org`, with proofs by `org` and then `cosigners`.
    func record(_ type: RecordType, by org: TestOrg, claiming role: Role? = nil, refs: [Ref] = [],
                payload: JSONObject, cosigners: [TestOrg] = []) -> [UInt8] {
        draft(type, by: org, claiming: role, refs: refs, payload: payload).signed(by: ([org] + cosigners).map(\.signer))
    }

    /// A governance record of `type` written by `org` and co-signed by `cosigners`.
    func governance(_ type: RecordType, by org: TestOrg, cosigners: [TestOrg], about subject: TestOrg) -> [UInt8] {
        record(type, by: org, payload: Fixture.payload(type, subject: subject), cosigners: cosigners)
    }
}

/// Schema-valid payloads and small helpers.
enum Fixture {
    static let createdAt = "2025-03-01T10:00:00+08:00"
    static let issuedAt = "2025-03-01"

    /// 64 lower-case hex digits: the SHA-256 of `text`.
    static func digest(_ text: String) -> String { SHA256.hash(text).hex }

    /// Unpadded base64url (RFC 4648 §5), as the `.hmac` format wants.
    static func base64URL(_ bytes: [UInt8]) -> String {
        String(Base64.encode(bytes).compactMap { c -> Character? in
            switch c {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: c
            }
        })
    }

    /// A 43-character HMAC-shaped value for fields that hold keyed codes.
    static func hmac(_ label: String) -> String { base64URL(SHA256.hash("hmac:" + label).bytes) }

    static func rendition(_ label: String, lang: String = "zh-Hans") -> JSONValue {
        .object(["lang": .string(lang), "format": .string("PDF"), "role": .string("original"), "sha256": .string(digest(label))])
    }

    static func keyEntry(_ id: String, _ key: Ed25519PublicKey) -> JSONValue {
        .object(["key_id": .string(id), "alg": .string("ed25519"), "public_key_multibase": .string(Multikey.encode(publicKey: key))])
    }

    /// The practitioner role matching the issuer of `docType`.
    static func practitionerRole(_ docType: DocumentType) -> String {
        switch docType.issuer {
        case .notaryOffice: "notary"
        case .forensicLab: "appraiser"
        case .arbitrationCommission: "arbitrator"
        case .legalAidCenter: "legal_aid_worker"
        default: "lawyer"
        }
    }

    static func publication(public isPublic: Bool = true, from: String = "2025-03-01", minUntil: String? = "2025-09-01",
                            maxUntil: String? = "2028-03-01") -> JSONValue {
        var o: JSONObject = ["public": .bool(isPublic), "from": .string(from)]
        if let minUntil { o["min_until"] = .string(minUntil) }
        if let maxUntil { o["max_until"] = .string(maxUntil) }
        return .object(o)
    }

    /// A schema-valid payload for every record type. `docType`, `creditClass` and `profession`
    /// choose the variant where the write rules depend on it; `subject` is the organisation a
    /// membership record is about.
    static func payload(_ type: RecordType, docType: DocumentType = .notarialCertificate,
                        creditClass: CreditClass = .adminPenalty, profession: Profession = .lawyer,
                        subject: TestOrg? = nil) -> JSONObject {
        let subjectOrg = subject?.usci ?? TestOrg.usci(serial: 900)
        switch type {
        case .memberAdmitted:
            let key = subject?.key.publicKey ?? Ed25519PrivateKey.generate().publicKey
            return ["org": .string(subjectOrg), "role": .string(subject?.role.rawValue ?? Role.notaryOffice.rawValue),
                    "name": .string("新成员公证处"), "keys": .array([keyEntry("k1", key)]),
                    "filing_number": .string("川网信备51010000000001号"), "mlps_level": .integer(3)]
        case .memberKeyRotated:
            return ["org": .string(subjectOrg), "add_keys": .array([keyEntry("k2", Ed25519PrivateKey.generate().publicKey)]),
                    "retire_key_ids": .array([.string("k1")])]
        case .memberSuspended, .memberRemoved:
            return ["org": .string(subjectOrg), "decision_number": .string("川司〔2025〕12号"), "effective_at": .string("2025-03-01")]
        case .orgRegistered:
            return ["org": .string(TestOrg.usci(serial: 901)), "kind": .string("law_firm"), "name": .string("四川某某律师事务所"),
                    "licence_number": .string("25101200010001"), "status": .string("normal")]
        case .orgStatusChanged:
            return ["org": .string(TestOrg.usci(serial: 901)), "status": .string("suspended_for_rectification"),
                    "decision_number": .string("川司〔2025〕13号"), "effective_at": .string("2025-03-01")]
        case .practitionerRegistered:
            return ["licence_number": .string("15101200910001"), "profession": .string(profession.rawValue),
                    "org": .string(TestOrg.usci(serial: 901)), "status": .string("practising")]
        case .practitionerStatusChanged:
            return ["licence_number": .string("15101200910001"), "status": .string("suspended"),
                    "decision_number": .string("川司〔2025〕14号"), "effective_from": .string("2025-03-01"),
                    "effective_until": .string("2025-09-01")]
        case .caseOpened:
            return ["code_hmac": .string(hmac("case")), "case_kind": .string("notarial"), "opened_at": .string(issuedAt)]
        case .evidenceDeposited:
            return ["code_hmac": .string(hmac("evidence")),
                    "content_digests": .array([.object(["alg": .string("sha256"), "value": .string(digest("evidence"))])]),
                    "size_bytes": .integer(4096), "media_type": .string("video/mp4"),
                    "capture": .object(["mode": .string("notarial_capture"), "tool": .string("capture-kit"),
                                        "tool_version": .string("2.1"), "started_at": .string(createdAt),
                                        "ended_at": .string("2025-03-01T10:30:00+08:00")]),
                    "depositor_relation": .string("neutral_notary")]
        case .documentIssued:
            return ["doc_type": .string(docType.rawValue), "doc_number": .string("(2025)川成证字第1号"),
                    "code_hmac": .string(hmac("document")), "issued_at": .string(issuedAt),
                    "practitioners": .array([.object(["licence_number": .string("13101200910001"),
                                                      "role": .string(practitionerRole(docType))])]),
                    "renditions": .array([rendition("original")])]
        case .documentCorrected:
            return ["kind": .string("supplement"), "renditions": .array([rendition("corrected")]), "reason_code": .string("clerical"),
                    "decision_number": .string("(2025)川成证补字第1号"), "effective_at": .string("2025-04-01")]
        case .documentRevoked:
            return ["scope": .string("whole"), "effect": .string("void_ab_initio"), "effective_from": .string("2025-04-01"),
                    "reason": .string("contrary_to_facts"), "decision_number": .string("(2025)川成证撤字第1号")]
        case .documentSuperseded:
            return ["relation": .string("reissued"), "effective_at": .string("2025-04-01")]
        case .documentRelated:
            return ["relation": .string("related")]
        case .documentEnforcementStatus:
            return ["status": .string("suspended"), "ruling_number": .string("(2025)川01执异1号"), "effective_at": .string("2025-04-01")]
        case .creditEvent:
            return ["subject": .object(["kind": .string("practitioner"), "id": .string("15101200910001")]),
                    "profession": .string(Profession.lawyer.rawValue), "class": .string(creditClass.rawValue),
                    "measure_code": .string("warning"), "severity": .string("general"),
                    "legal_basis": .array([.string("lawyers_law:47")]), "decision_number": .string("川司罚〔2025〕1号"),
                    "decided_at": .string("2025-02-20"), "effective_at": .string("2025-03-01"), "publication": publication()]
        case .creditAmended:
            return ["reason": .string("clerical"), "severity": .string("serious")]
        case .creditAnnulled:
            return ["cause": .string("revoked"), "by": .string("reconsideration"), "ruling_number": .string("川府复〔2025〕1号"),
                    "public_reason_code": .string("ANNULLED_ON_REVIEW"), "annulled_at": .string("2025-05-01")]
        case .creditObjectionFiled:
            return ["objection_ref": .string("OBJ-1"), "filed_at": .string("2025-04-01")]
        case .creditObjectionResolved:
            return ["objection_ref": .string("OBJ-1"), "outcome": .string("rejected"), "resolved_at": .string("2025-04-15")]
        case .creditPublicationEnded:
            return ["cause": .string("expired"), "ended_at": .string("2028-03-02")]
        case .payloadErased:
            return ["what": .string("key"), "legal_basis": .string("pipl_47"), "erased_at": .string("2025-06-01")]
        }
    }

    /// True iff `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}

extension JSONObject {
    /// This payload with `changes` applied (a `.null` value removes the member).
    func with(_ changes: JSONObject) -> JSONObject {
        var out = self
        for (k, v) in changes { out[k] = v == .null ? nil : v }
        return out
    }
}

/// An in-memory log: admitted records in order, with the summaries permission checks look up.
final class RecordLog {
    let consortium: Consortium
    var registry: Registry
    private(set) var entries: [LoggedRecord] = []
    private(set) var summaries: [String: RecordSummary] = [:]

    init(_ consortium: Consortium) {
        self.consortium = consortium
        registry = consortium.registry
    }

    /// The lookup admission and derivation use.
    var lookup: (String) -> RecordSummary? {
        let summaries = summaries
        return { summaries[$0] }
    }

    /// Admits `bytes` against the current registry and log, without logging them.
    func admit(_ bytes: [UInt8]) throws(AdmissionError) -> Record {
        try Admission.admit(bytes, registry: registry, lookup: lookup).record
    }

    /// "admitted", or the code admission refuses `bytes` with.
    func verdict(_ bytes: [UInt8]) -> String {
        do {
            _ = try admit(bytes)
            return "admitted"
        } catch {
            return error.code
        }
    }

    /// Admits and logs `bytes`; a refusal fails the test. Membership records are applied to the registry.
    @discardableResult
    func append(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> LoggedRecord {
        do {
            let record = try admit(bytes)
            registry.apply(record)
            return log(record)
        } catch {
            XCTFail("expected admission, got \(error.code): \(error)", file: file, line: line)
            return log(try! Record(bytes: bytes))
        }
    }

    /// Logs `bytes` without the permission checks (only parsing), as if a faulty node let them in.
    @discardableResult
    func force(_ bytes: [UInt8]) -> LoggedRecord { log(try! Record(bytes: bytes)) }

    private func log(_ record: Record) -> LoggedRecord {
        let logged = LoggedRecord(record: record, leafIndex: UInt64(entries.count), timeMillis: 1_740_794_400_000 + UInt64(entries.count) * 1000)
        entries.append(logged)
        summaries[record.recordID] = logged.summary
        return logged
    }

    // Records written the usual way, admitted and logged.

    /// A document of `docType` issued by `org` (its issuer by default).
    @discardableResult
    func issue(_ docType: DocumentType, by org: TestOrg? = nil, changes: JSONObject = [:]) -> LoggedRecord {
        let issuer = org ?? consortium[docType.issuer]
        return append(consortium.record(.documentIssued, by: issuer, payload: Fixture.payload(.documentIssued, docType: docType).with(changes)))
    }

    /// A status record of `type` by `org` with a `target` ref to `target`.
    @discardableResult
    func status(_ type: RecordType, by org: TestOrg, on target: LoggedRecord, changes: JSONObject = [:]) -> LoggedRecord {
        append(statusBytes(type, by: org, on: target, changes: changes))
    }

    /// The bytes of a status record of `type` by `org` aimed at `target`.
    func statusBytes(_ type: RecordType, by org: TestOrg, on target: LoggedRecord, changes: JSONObject = [:]) -> [UInt8] {
        consortium.record(type, by: org, refs: [Ref(recordID: target.record.recordID, rel: "target")],
                          payload: Fixture.payload(type).with(changes))
    }

    /// The bytes of a DOCUMENT_SUPERSEDED or DOCUMENT_RELATED record by `org` linking `new` to `old`.
    func linkBytes(_ type: RecordType, by org: TestOrg, new: LoggedRecord, old: LoggedRecord) -> [UInt8] {
        consortium.record(type, by: org, refs: [Ref(recordID: new.record.recordID, rel: "new"), Ref(recordID: old.record.recordID, rel: "old")],
                          payload: Fixture.payload(type))
    }

    /// A credit event of `creditClass` by `org`.
    @discardableResult
    func creditEvent(_ creditClass: CreditClass = .adminPenalty, by org: TestOrg? = nil, changes: JSONObject = [:]) -> LoggedRecord {
        let writer = org ?? consortium.justice
        return append(consortium.record(.creditEvent, by: writer, payload: Fixture.payload(.creditEvent, creditClass: creditClass).with(changes)))
    }

    /// A record of `type` with the fixture payload and no refs.
    @discardableResult
    func plain(_ type: RecordType, by org: TestOrg) -> LoggedRecord {
        append(consortium.record(type, by: org, payload: Fixture.payload(type)))
    }
}
