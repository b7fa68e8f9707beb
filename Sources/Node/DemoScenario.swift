// A day in the life of the demo consortium: every record type, written by the organisations
// allowed to write it, through the node's real admission path. `make run` loads it as demo data;
// the tests use the ledger it leaves behind for the privacy scan, the schema contract and the
// rebuild check.
import CinnabarCrypto
import Foundation
import Records

/// What the scenario wrote, for printing and for tests.
public struct DemoScenarioResult: Sendable {
    /// Printed verification codes, by a short label ("notarial-valid", "award-suspended", …).
    public var codes: [(label: String, code: VerificationCode)] = []
    /// Record ids by label.
    public var records: [String: String] = [:]
    /// Personal data the scenario used off-ledger (names, ID numbers) — must never reach a leaf.
    public var personalData: [String] = []
    /// Every record submitted, with its type.
    public var written: [(type: RecordType, bytes: [UInt8])] = []
}

/// Writes the demo scenario into a node: in process, or through any `submit` (e.g. HTTP).
public struct DemoScenario: Sendable {
    let submitRecord: @Sendable ([UInt8]) async throws -> Void
    let writers: [String: RecordWriter]

    /// Writes into `node` in process.
    public init(node: LedgerNode) throws {
        try self.init(directory: node.directory) { _ = try await node.submit(record: $0) }
    }

    /// Signs with the demo organisation keys of `directory` and hands each record to `submit`,
    /// which returns once the record is durable.
    public init(directory: NodeDirectory, submit: @escaping @Sendable ([UInt8]) async throws -> Void) throws {
        submitRecord = submit
        let codeKey = try directory.loadCodeKey()
        var writers: [String: RecordWriter] = [:]
        for slug in ["notary", "lab", "court", "bureau", "arbitration", "legal-aid", "lawyers"] {
            writers[slug] = try RecordWriter(key: try directory.loadOrganisationKey(slug), codeKey: codeKey)
        }
        self.writers = writers
    }

    static func digest(_ label: String) -> String { SHA256.hash(label).hex }

    public func run() async throws -> DemoScenarioResult {
        var out = DemoScenarioResult()
        let today = RecordWriter.today()
        let year = String(today.prefix(4))
        let notary = writers["notary"]!, lab = writers["lab"]!, court = writers["court"]!, bureau = writers["bureau"]!
        let arbitration = writers["arbitration"]!, legalAid = writers["legal-aid"]!, lawyers = writers["lawyers"]!

        func submit(_ type: RecordType, _ label: String, _ r: (id: String, bytes: [UInt8])) async throws {
            try await submitRecord(r.bytes)
            out.records[label] = r.id
            out.written.append((type, r.bytes))
        }
        func submitCoded(_ type: RecordType, _ label: String, _ r: (id: String, code: VerificationCode, bytes: [UInt8])) async throws {
            try await submit(type, label, (r.id, r.bytes))
            out.codes.append((label, r.code))
        }
        let holders = [("张三", "510104199001011234"), ("扎西顿珠", "513321198502154321"), ("阿依莫", "513401199212123456")]
        out.personalData = holders.flatMap { [$0.0, $0.1] }

        // Organisations and practitioners (justice bureau; arbitrators by their commission).
        let lawFirm = try OrganizationCode.withCheckCharacter(prefix17: "31510000MD0000008").value
        try await submit(.orgRegistered, "law-firm", bureau.record(.orgRegistered, payload: [
            "org": .string(lawFirm), "kind": .string("law_firm"), "name": .string("四川示例律师事务所 (demo)"),
            "licence_number": .string("31510000-DEMO"), "status": .string("normal"),
        ]))
        try await submit(.practitionerRegistered, "lawyer", bureau.record(.practitionerRegistered, payload: [
            "licence_number": .string("15101201910000001"), "profession": .string("lawyer"), "org": .string(lawFirm),
            "status": .string("practising"),
        ]))
        try await submit(.practitionerRegistered, "arbitrator", arbitration.record(.practitionerRegistered, payload: [
            "licence_number": .string("ARB-2026-0001"), "profession": .string("arbitrator"), "org": .string(arbitration.key.org),
            "status": .string("practising"),
        ]))
        try await submit(.orgStatusChanged, "law-firm-status", bureau.record(.orgStatusChanged, payload: [
            "org": .string(lawFirm), "status": .string("normal"), "decision_number": .string("川司(\(year))1号"), "effective_at": .string(today),
        ]))
        try await submit(.practitionerStatusChanged, "lawyer-status", bureau.record(.practitionerStatusChanged,
                                                                                    refs: [Ref(recordID: out.records["lawyer"]!, rel: "target")], payload: [
            "licence_number": .string("15101201910000001"), "status": .string("practising"),
            "decision_number": .string("川司(\(year))2号"), "effective_from": .string(today),
        ]))

        // A notarial case: evidence captured, certificate issued then corrected.
        let caseCode = VerificationCode.generate(kind: .legalCase)
        try await submit(.caseOpened, "case", notary.record(.caseOpened, payload: [
            "code_hmac": .string(notary.codeKey.hmac(caseCode)), "case_kind": .string("notarial"), "opened_at": .string(today),
        ]))
        out.codes.append(("case", caseCode))
        let caseID = out.records["case"]!
        try await submitCoded(.evidenceDeposited, "evidence", notary.evidence(sha256: DemoScenario.digest("screen-recording.mp4"),
                                                                              sizeBytes: 48_213_504, mediaType: "video/mp4", caseID: caseID))
        try await submitCoded(.documentIssued, "notarial-corrected", notary.document(
            .notarialCertificate, number: "(\(year))川成证字第1号", holderName: holders[0].0, holderID: holders[0].1,
            renditionSHA256: DemoScenario.digest("certificate-1.pdf"), evidence: [out.records["evidence"]!], caseID: caseID))
        try await submit(.documentCorrected, "correction", notary.record(.documentCorrected,
            refs: [Ref(recordID: out.records["notarial-corrected"]!, rel: "target")], payload: [
                "kind": .string("supplement"),
                "renditions": .array([.object(["lang": .string("zh-Hans"), "format": .string("PDF"), "role": .string("original"),
                                               "sha256": .string(DemoScenario.digest("certificate-1-corrected.pdf"))]),
                                      .object(["lang": .string("bo"), "format": .string("PDF"), "role": .string("equal_text"),
                                               "sha256": .string(DemoScenario.digest("certificate-1-tibetan.pdf"))])]),
                "reason_code": .string("clerical_error"), "decision_number": .string("(\(year))川成证补字第1号"), "effective_at": .string(today),
            ]))

        // A certificate that stays valid, one revoked from the start, one superseded by a newer one.
        try await submitCoded(.documentIssued, "notarial-valid", notary.document(
            .notarialCertificate, number: "(\(year))川成证字第2号", holderName: holders[1].0, holderID: holders[1].1,
            renditionSHA256: DemoScenario.digest("certificate-2.pdf"), validUntil: "\(Int(year)! + 5)-12-31"))
        try await submitCoded(.documentIssued, "notarial-revoked", notary.document(
            .notarialCertificate, number: "(\(year))川成证字第3号", holderName: holders[2].0, holderID: holders[2].1,
            renditionSHA256: DemoScenario.digest("certificate-3.pdf")))
        try await submit(.documentRevoked, "revocation", notary.record(.documentRevoked,
            refs: [Ref(recordID: out.records["notarial-revoked"]!, rel: "target")], payload: [
                "scope": .string("whole"), "effect": .string("void_ab_initio"), "effective_from": .string(today),
                "reason": .string("contrary_to_facts"), "decision_number": .string("(\(year))川成证撤字第1号"), "announced_at": .string(today),
            ]))
        try await submitCoded(.documentIssued, "notarial-superseded", notary.document(
            .notarialCertificate, number: "(\(year))川成证字第4号", holderName: holders[0].0, holderID: holders[0].1,
            renditionSHA256: DemoScenario.digest("certificate-4.pdf")))
        try await submitCoded(.documentIssued, "notarial-replacement", notary.document(
            .notarialCertificate, number: "(\(year))川成证字第5号", holderName: holders[0].0, holderID: holders[0].1,
            renditionSHA256: DemoScenario.digest("certificate-5.pdf")))
        try await submit(.documentSuperseded, "supersession", notary.record(.documentSuperseded, refs: [
            Ref(recordID: out.records["notarial-replacement"]!, rel: "new"), Ref(recordID: out.records["notarial-superseded"]!, rel: "old"),
        ], payload: ["relation": .string("reissued"), "effective_at": .string(today)]))

        // Forensic opinions: a first opinion and a re-appraisal related to it.
        try await submitCoded(.documentIssued, "appraisal", lab.document(
            .appraisalOpinion, number: "川示鉴[\(year)]物鉴字第1号", holderName: holders[1].0, holderID: holders[1].1,
            renditionSHA256: DemoScenario.digest("opinion-1.pdf")))
        try await submitCoded(.documentIssued, "re-appraisal", lab.document(
            .appraisalOpinion, number: "川示鉴[\(year)]物鉴字第2号", holderName: holders[1].0, holderID: holders[1].1,
            renditionSHA256: DemoScenario.digest("opinion-2.pdf")))
        try await submit(.documentRelated, "relation", lab.record(.documentRelated, refs: [
            Ref(recordID: out.records["re-appraisal"]!, rel: "new"), Ref(recordID: out.records["appraisal"]!, rel: "old"),
        ], payload: ["relation": .string("re_appraisal")]))

        // Arbitration: one award suspended by the court, one set aside.
        try await submitCoded(.documentIssued, "award-suspended", arbitration.document(
            .arbitralAward, number: "(\(year))成仲裁字第1号", holderName: holders[2].0, holderID: holders[2].1,
            renditionSHA256: DemoScenario.digest("award-1.pdf")))
        try await submit(.documentEnforcementStatus, "enforcement", court.record(.documentEnforcementStatus,
            refs: [Ref(recordID: out.records["award-suspended"]!, rel: "target")], payload: [
                "status": .string("suspended"), "ruling_number": .string("(\(year))川01执异1号"), "effective_at": .string(today),
            ]))
        try await submitCoded(.documentIssued, "award-set-aside", arbitration.document(
            .arbitralAward, number: "(\(year))成仲裁字第2号", holderName: holders[0].0, holderID: holders[0].1,
            renditionSHA256: DemoScenario.digest("award-2.pdf")))
        try await submit(.documentRevoked, "set-aside", court.record(.documentRevoked,
            refs: [Ref(recordID: out.records["award-set-aside"]!, rel: "target")], payload: [
                "scope": .string("whole"), "effect": .string("void_ab_initio"), "effective_from": .string(today),
                "reason": .string("set_aside_by_court"), "decision_number": .string("(\(year))川01民特1号"),
            ]))

        // Legal aid and a law-firm letter issued through the justice bureau.
        try await submitCoded(.documentIssued, "legal-aid", legalAid.document(
            .legalAidDecision, number: "成法援决字[\(year)]第1号", holderName: holders[2].0, holderID: holders[2].1,
            renditionSHA256: DemoScenario.digest("legal-aid-1.pdf")))
        try await submitCoded(.documentIssued, "law-firm-letter", bureau.document(
            .lawFirmLetter, number: "川律函[\(year)]第1号", holderName: holders[1].0, holderID: holders[1].1,
            renditionSHA256: DemoScenario.digest("letter-1.pdf")))

        // Credit: a penalty later annulled by a court, a discipline amended after an objection, a
        // reward whose publication ended.
        func creditEvent(_ writer: RecordWriter, _ cls: String, _ measure: String, _ severity: String, _ basis: String) -> (id: String, bytes: [UInt8]) {
            writer.record(.creditEvent, payload: [
                "subject": .object(["kind": .string("practitioner"), "id": .string("15101201910000001")]),
                "profession": .string("lawyer"), "class": .string(cls), "measure_code": .string(measure),
                "severity": .string(severity), "legal_basis": .array([.string(basis)]),
                "decision_number": .string("\(writer.key.org.suffix(4))-\(year)-\(measure)"),
                "decided_at": .string(today), "effective_at": .string(today),
                "publication": .object(["public": .bool(true), "from": .string(today), "min_until": .string(today),
                                        "max_until": .string("\(Int(year)! + 3)-12-31")]),
            ])
        }
        try await submit(.creditEvent, "penalty", creditEvent(bureau, "admin_penalty", "warning", "general", "律师法第48条"))
        try await submit(.creditAnnulled, "annulment", court.record(.creditAnnulled,
            refs: [Ref(recordID: out.records["penalty"]!, rel: "target")], payload: [
                "cause": .string("revoked"), "by": .string("judgment"), "ruling_number": .string("(\(year))川01行终1号"),
                "public_reason_code": .string("penalty_revoked_by_court"), "annulled_at": .string(today),
            ]))
        try await submit(.creditEvent, "discipline", creditEvent(lawyers, "industry_discipline", "public_reprimand", "general", "处分规则第15条"))
        let discipline = out.records["discipline"]!
        try await submit(.creditObjectionFiled, "objection", lawyers.record(.creditObjectionFiled,
            refs: [Ref(recordID: discipline, rel: "target")], payload: ["objection_ref": .string("OBJ-1"), "filed_at": .string(today)]))
        try await submit(.creditObjectionResolved, "objection-resolved", lawyers.record(.creditObjectionResolved,
            refs: [Ref(recordID: discipline, rel: "target")], payload: [
                "objection_ref": .string("OBJ-1"), "outcome": .string("upheld"), "resolved_at": .string(today),
            ]))
        try await submit(.creditAmended, "amendment", lawyers.record(.creditAmended,
            refs: [Ref(recordID: discipline, rel: "target")], payload: ["reason": .string("review"), "measure_code": .string("warning")]))
        try await submit(.creditEvent, "reward", creditEvent(bureau, "reward", "commendation", "general", "司法部表彰办法"))
        try await submit(.creditPublicationEnded, "publication-ended", bureau.record(.creditPublicationEnded,
            refs: [Ref(recordID: out.records["reward"]!, rel: "target")], payload: ["cause": .string("expired"), "ended_at": .string(today)]))

        // Governance: admit a second notary office (justice bureau + court sign), rotate its key,
        // suspend it, remove it.
        let newKey = Ed25519PrivateKey.generate()
        let newOrg = try OrganizationCode.withCheckCharacter(prefix17: "12510100MB0000009").value
        func governance(_ type: RecordType, _ payload: JSONObject) -> (id: String, bytes: [UInt8]) {
            let draft = RecordDraft(type: type, writerOrg: bureau.key.org, writerRole: .justiceAdmin, keyID: bureau.key.keyID,
                                    createdAt: RecordWriter.timestamp(), payload: payload)
            return (draft.recordID, draft.signed(by: [bureau.signer, court.signer]))
        }
        try await submit(.memberAdmitted, "admitted", governance(.memberAdmitted, [
            "org": .string(newOrg), "role": .string("NOTARY_OFFICE"), "name": .string("示例第二公证处 (demo)"),
            "keys": .array([.object(["key_id": .string("k1"), "alg": .string("ed25519"),
                                     "public_key_multibase": .string(Multikey.encode(publicKey: newKey.publicKey))])]),
            "filing_number": .string("川网信备51010000000001号"), "mlps_level": .integer(3),
        ]))
        try await submit(.memberKeyRotated, "rotated", governance(.memberKeyRotated, [
            "org": .string(newOrg),
            "add_keys": .array([.object(["key_id": .string("k2"), "alg": .string("ed25519"),
                                         "public_key_multibase": .string(Multikey.encode(publicKey: Ed25519PrivateKey.generate().publicKey))])]),
            "retire_key_ids": .array([.string("k1")]),
        ]))
        try await submit(.memberSuspended, "suspended", governance(.memberSuspended, [
            "org": .string(newOrg), "decision_number": .string("川司(\(year))9号"), "effective_at": .string(today),
        ]))
        try await submit(.memberRemoved, "removed", governance(.memberRemoved, [
            "org": .string(newOrg), "decision_number": .string("川司(\(year))10号"), "effective_at": .string(today),
        ]))

        // The notary erases the evidence file off-ledger and logs it.
        try await submit(.payloadErased, "erased", notary.record(.payloadErased,
            refs: [Ref(recordID: out.records["evidence"]!, rel: "target")], payload: [
                "what": .string("blob"), "legal_basis": .string("retention_expiry"), "erased_at": .string(today),
            ]))
        return out
    }
}
