// Who may write what (domain.md §6.1, the writer(s) column of §6.3 and the write rule below it):
// every (role, record type) pair against a table written out from the domain model, then the
// cross-organisation rules, governance quorums and reference checks, each with its stable code.
import CinnabarCrypto
import Records
import XCTest

final class PermissionTableTests: XCTestCase {
    /// The column order of `expectedWriters`.
    private let columns: [Role] = [.justiceAdmin, .association, .notaryOffice, .forensicLab, .arbitrationCommission, .legalAidCenter, .court]

    /// domain.md §6.3, one row per record type, one mark per role ("Y" may write, "-" may not).
    /// Written out by hand from the domain model, not computed from `Permissions.roles`.
    private let expectedWriters: [(RecordType, String)] = [
        //                                   JA AS NO FL AC LA CO
        (.memberAdmitted,                   "Y  -  -  -  -  -  Y"),   // GOVERNANCE quorum (JA + COURT here)
        (.memberKeyRotated,                 "Y  -  -  -  -  -  Y"),
        (.memberSuspended,                  "Y  -  -  -  -  -  Y"),
        (.memberRemoved,                    "Y  -  -  -  -  -  Y"),
        (.orgRegistered,                    "Y  -  -  -  -  -  -"),   // JUSTICE_ADMIN (arbitration commissions are registered by it too)
        (.orgStatusChanged,                 "Y  -  -  -  -  -  -"),
        (.practitionerRegistered,           "Y  -  -  -  Y  -  -"),   // JUSTICE_ADMIN; arbitrators: ARBITRATION_COMMISSION
        (.practitionerStatusChanged,        "Y  -  -  -  Y  -  -"),
        (.caseOpened,                       "-  -  Y  Y  Y  Y  Y"),   // the handling org
        (.evidenceDeposited,                "-  -  Y  Y  Y  -  Y"),   // NOTARY, FORENSIC, COURT (+ ARBITRATION for its files)
        (.documentIssued,                   "Y  -  Y  Y  Y  Y  -"),   // issuer by doc type (JA for law firms)
        (.documentCorrected,                "Y  -  Y  Y  Y  Y  -"),   // original issuer
        (.documentRevoked,                  "Y  -  Y  Y  Y  Y  Y"),   // issuer; COURT for arbitral awards
        (.documentSuperseded,               "Y  -  Y  Y  Y  Y  -"),   // issuer of the new document
        (.documentRelated,                  "Y  -  Y  Y  Y  Y  -"),
        (.documentEnforcementStatus,        "-  -  -  -  -  -  Y"),   // COURT
        (.creditEvent,                      "Y  Y  -  -  -  -  -"),   // by class: JA / ASSOCIATION
        (.creditAmended,                    "Y  Y  -  -  -  -  -"),   // original issuer
        (.creditAnnulled,                   "Y  Y  -  -  -  -  Y"),   // original issuer or reviewing authority
        (.creditObjectionFiled,             "Y  Y  -  -  -  -  -"),   // the issuer that handles it
        (.creditObjectionResolved,          "Y  Y  -  -  -  -  -"),
        (.creditPublicationEnded,           "Y  Y  -  -  -  -  -"),   // issuer / JUSTICE_ADMIN
        (.payloadErased,                    "Y  Y  Y  Y  Y  Y  Y"),   // data-holding org (its own record)
    ]

    func testExpectedTableNamesEveryRecordTypeAndRoleOnce() {
        XCTAssertEqual(expectedWriters.map(\.0).count, RecordType.allCases.count)
        XCTAssertEqual(Set(expectedWriters.map(\.0)), Set(RecordType.allCases))
        XCTAssertEqual(Set(columns), Set(Role.allCases))
        for (type, row) in expectedWriters {
            XCTAssertEqual(row.split(separator: " ").count, columns.count, type.rawValue)
        }
    }

    func testFixturePayloadOfEveryTypeFitsItsSchema() throws {
        for type in RecordType.allCases {
            XCTAssertNoThrow(try RecordSchemas.payload(type).validate(.object(Fixture.payload(type))), type.rawValue)
        }
        for docType in DocumentType.allCases {
            XCTAssertNoThrow(try RecordSchemas.payload(.documentIssued).validate(.object(Fixture.payload(.documentIssued, docType: docType))))
        }
        for creditClass in CreditClass.allCases {
            XCTAssertNoThrow(try RecordSchemas.payload(.creditEvent).validate(.object(Fixture.payload(.creditEvent, creditClass: creditClass))))
        }
    }

    /// A value that breaks several rules is reported by the first in the schema's order: the
    /// fields as the schema lists them (a bad value, or a required one missing), then members the
    /// schema does not know, whatever order the members came in.
    func testTheFirstViolationInTheSchemasOrderIsReported() throws {
        let schema = Schema.object([Field("id", .string(.recordID)), Field("n", .integer(min: 0, max: 9)),
                                    Field("note", .string(.text(maxLength: 8)), required: false)])
        func violation(_ members: JSONObject) -> String? {
            do { try schema.validate(.object(members)); return nil } catch { return error.description }
        }
        let id = JSONValue.string(String(repeating: "a", count: 32))
        XCTAssertNil(violation(["id": id, "n": .integer(3)]))
        XCTAssertNil(violation(["note": .string("short"), "n": .integer(3), "id": id]))
        XCTAssertEqual(violation(["idd": id, "n": .integer(3)]), "$.id: expected a required member")
        XCTAssertEqual(violation(["n": .integer(99), "id": .string("x")]), "$.id: expected a string of format recordID")
        XCTAssertEqual(violation(["n": .integer(99), "id": id]), "$.n: expected an integer in 0…9")
        XCTAssertEqual(violation(["a": .null, "n": .integer(3), "id": id]), "$.a: expected no such member")
        XCTAssertEqual(violation(["id": id, "n": .integer(3), "note": .string("far too long")]), "$.note: expected a string of format text(maxLength: 8)")
    }

    func testEveryRoleMayWriteExactlyTheRecordTypesOfTheDomainTable() {
        let consortium = Consortium()
        var mismatches: [String] = []
        var cells = 0
        for (type, row) in expectedWriters {
            for (role, mark) in zip(columns, row.split(separator: " ")) {
                let log = RecordLog(consortium)
                let bytes = recordAsWritten(type, by: consortium[role], in: log)
                let want = mark == "Y" ? "admitted" : "role_may_not_write"
                let got = log.verdict(bytes)
                cells += 1
                if got != want { mismatches.append("\(role.rawValue) × \(type.rawValue): expected \(want), got \(got)") }
            }
        }
        XCTAssertEqual(cells, RecordType.allCases.count * Role.allCases.count)
        XCTAssertEqual(mismatches, [], mismatches.joined(separator: "\n"))
    }

    /// The record of `type` as an organisation of `org`'s role would write it, with the most
    /// favourable targets: its own documents and credit events where its role makes them, an
    /// arbitral award for a court's set-aside or enforcement ruling, else those of the right issuer.
    private func recordAsWritten(_ type: RecordType, by org: TestOrg, in log: RecordLog) -> [UInt8] {
        let c = log.consortium
        let role = org.role
        let ownDocType = DocumentType.allCases.first { $0.issuer == role }
        let ownCreditClass = CreditClass.allCases.first { $0.writers.contains(role) }
        func document() -> LoggedRecord {
            if let ownDocType { return log.issue(ownDocType, by: org) }
            if role == .court, type == .documentRevoked || type == .documentEnforcementStatus { return log.issue(.arbitralAward) }
            return log.issue(.notarialCertificate)
        }
        func creditEvent() -> LoggedRecord {
            if let ownCreditClass { return log.creditEvent(ownCreditClass, by: org) }
            return log.creditEvent(.adminPenalty, by: c.justice)
        }
        switch type {
        case .memberAdmitted, .memberKeyRotated, .memberSuspended, .memberRemoved:
            // Co-signed by every governance organisation, so only the writer's role decides.
            let cosigners = [c.justice, c.court].filter { $0.usci != org.usci }
            return c.governance(type, by: org, cosigners: cosigners, about: c.notary2)
        case .practitionerRegistered:
            let profession: Profession = role == .arbitrationCommission ? .arbitrator : .lawyer
            return c.record(type, by: org, payload: Fixture.payload(type, profession: profession))
        case .documentIssued:
            return c.record(type, by: org, payload: Fixture.payload(type, docType: ownDocType ?? .notarialCertificate))
        case .documentCorrected, .documentRevoked, .documentEnforcementStatus:
            return log.statusBytes(type, by: org, on: document())
        case .documentSuperseded, .documentRelated:
            let old = document()
            let new = document()
            return log.linkBytes(type, by: org, new: new, old: old)
        case .creditEvent:
            return c.record(type, by: org, payload: Fixture.payload(type, creditClass: ownCreditClass ?? .adminPenalty))
        case .creditAmended, .creditAnnulled, .creditObjectionFiled, .creditObjectionResolved, .creditPublicationEnded:
            return log.statusBytes(type, by: org, on: creditEvent())
        case .payloadErased:
            // Erasure of a record the organisation itself holds.
            let own: LoggedRecord
            if let ownDocType { own = log.issue(ownDocType, by: org) }
            else if let ownCreditClass { own = log.creditEvent(ownCreditClass, by: org) }
            else if role == .court { own = log.plain(.evidenceDeposited, by: org) }
            else { own = log.plain(.caseOpened, by: org) }
            return log.statusBytes(type, by: org, on: own)
        case .practitionerStatusChanged:
            // On a registration the writer made, if its role may register at all (else the bureau's).
            let registrar = role == .arbitrationCommission || role == .justiceAdmin ? org : c.justice
            let profession: Profession = registrar.role == .arbitrationCommission ? .arbitrator : .lawyer
            let registration = log.append(c.record(.practitionerRegistered, by: registrar, payload: Fixture.payload(.practitionerRegistered, profession: profession)))
            return log.statusBytes(type, by: org, on: registration)
        case .orgRegistered, .orgStatusChanged, .caseOpened, .evidenceDeposited:
            return c.record(type, by: org, payload: Fixture.payload(type))
        }
    }

    // MARK: - Cross-organisation rules (the write rule under §6.3)

    func testStatusRecordOnAnotherOrganisationsDocumentIsRefused() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let secondCertificate = log.issue(.notarialCertificate)
        let otherOfficesCertificate = log.issue(.notarialCertificate, by: c.notary2)
        let cases: [(String, [UInt8], String)] = [
            ("the issuer corrects its own certificate", log.statusBytes(.documentCorrected, by: c.notary, on: certificate), "admitted"),
            ("the issuer revokes its own certificate", log.statusBytes(.documentRevoked, by: c.notary, on: certificate), "admitted"),
            ("the issuer supersedes its own certificate",
             log.linkBytes(.documentSuperseded, by: c.notary, new: secondCertificate, old: certificate), "admitted"),
            ("the issuer erases its own certificate's payload", log.statusBytes(.payloadErased, by: c.notary, on: certificate), "admitted"),
            ("another notary office corrects it", log.statusBytes(.documentCorrected, by: c.notary2, on: certificate), "not_original_issuer"),
            ("another notary office revokes it", log.statusBytes(.documentRevoked, by: c.notary2, on: certificate), "not_original_issuer"),
            ("another notary office erases its payload", log.statusBytes(.payloadErased, by: c.notary2, on: certificate), "not_original_issuer"),
            ("a forensic lab corrects a notarial certificate", log.statusBytes(.documentCorrected, by: c.lab, on: certificate), "not_original_issuer"),
            ("another notary office links two certificates it did not issue",
             log.linkBytes(.documentSuperseded, by: c.notary2, new: secondCertificate, old: certificate), "not_original_issuer"),
            ("another notary office supersedes a certificate with its own new one",
             log.linkBytes(.documentSuperseded, by: c.notary2, new: otherOfficesCertificate, old: certificate), "not_original_issuer"),
            // A relation is not a status change (§6.3: relation ≠ revocation): the new document's issuer may cite any document.
            ("another notary office relates its own certificate to this one",
             log.linkBytes(.documentRelated, by: c.notary2, new: otherOfficesCertificate, old: certificate), "admitted"),
        ]
        for (name, bytes, want) in cases { XCTAssertEqual(log.verdict(bytes), want, name) }
    }

    func testCourtMaySetAsideArbitralDocumentsButNotOtherDocuments() {
        let c = Consortium()
        let log = RecordLog(c)
        let award = log.issue(.arbitralAward)
        let mediation = log.issue(.mediationStatement)
        let certificate = log.issue(.notarialCertificate)
        let setAside: JSONObject = ["reason": .string("set_aside_by_court")]
        let cases: [(String, [UInt8], String)] = [
            ("a court sets aside an arbitral award", log.statusBytes(.documentRevoked, by: c.court, on: award, changes: setAside), "admitted"),
            ("a court sets aside a mediation statement", log.statusBytes(.documentRevoked, by: c.court, on: mediation, changes: setAside), "admitted"),
            ("another court sets aside an arbitral award", log.statusBytes(.documentRevoked, by: c.court2, on: award, changes: setAside), "admitted"),
            ("a court revokes a notarial certificate", log.statusBytes(.documentRevoked, by: c.court, on: certificate), "not_original_issuer"),
            ("a court corrects an arbitral award", log.statusBytes(.documentCorrected, by: c.court, on: award), "role_may_not_write"),
        ]
        for (name, bytes, want) in cases { XCTAssertEqual(log.verdict(bytes), want, name) }
    }

    func testEnforcementRulingsApplyToArbitralDocumentsOnly() {
        let c = Consortium()
        let log = RecordLog(c)
        let award = log.issue(.arbitralAward)
        let mediation = log.issue(.mediationStatement)
        let certificate = log.issue(.notarialCertificate)
        let opinion = log.issue(.appraisalOpinion)
        let cases: [(String, [UInt8], String)] = [
            ("a court rules on an award's enforcement", log.statusBytes(.documentEnforcementStatus, by: c.court, on: award), "admitted"),
            ("another court rules on an award's enforcement", log.statusBytes(.documentEnforcementStatus, by: c.court2, on: award), "admitted"),
            ("a court rules on a mediation statement's enforcement",
             log.statusBytes(.documentEnforcementStatus, by: c.court, on: mediation), "admitted"),
            ("a court rules on a notarial certificate's enforcement",
             log.statusBytes(.documentEnforcementStatus, by: c.court, on: certificate), "reference_wrong_type"),
            ("a court rules on an appraisal opinion's enforcement",
             log.statusBytes(.documentEnforcementStatus, by: c.court, on: opinion), "reference_wrong_type"),
            ("the commission rules on its own award's enforcement",
             log.statusBytes(.documentEnforcementStatus, by: c.arbitration, on: award), "role_may_not_write"),
        ]
        for (name, bytes, want) in cases { XCTAssertEqual(log.verdict(bytes), want, name) }
    }

    func testReviewingAuthoritiesMayAnnulAnotherBodysCreditEvent() {
        let c = Consortium()
        let log = RecordLog(c)
        let discipline = log.creditEvent(.industryDiscipline, by: c.association)
        let penalty = log.creditEvent(.adminPenalty, by: c.justice)
        let cases: [(String, [UInt8], String)] = [
            ("the justice administration annuls an association's event (复议)",
             log.statusBytes(.creditAnnulled, by: c.justice, on: discipline), "admitted"),
            ("a court annuls an association's event (判决)",
             log.statusBytes(.creditAnnulled, by: c.court, on: discipline, changes: ["by": .string("judgment")]), "admitted"),
            ("a court annuls the justice administration's penalty",
             log.statusBytes(.creditAnnulled, by: c.court, on: penalty, changes: ["by": .string("judgment")]), "admitted"),
            ("the association annuls its own event", log.statusBytes(.creditAnnulled, by: c.association, on: discipline), "admitted"),
            ("a notary office annuls an association's event", log.statusBytes(.creditAnnulled, by: c.notary, on: discipline), "role_may_not_write"),
            ("an association annuls the justice administration's penalty",
             log.statusBytes(.creditAnnulled, by: c.association, on: penalty), "not_original_issuer"),
        ]
        for (name, bytes, want) in cases { XCTAssertEqual(log.verdict(bytes), want, name) }
    }

    func testOnlyTheIssuerOrJusticeAdministrationEndsPublicationAndOnlyTheIssuerAmends() {
        let c = Consortium()
        let log = RecordLog(c)
        let discipline = log.creditEvent(.industryDiscipline, by: c.association)
        let penalty = log.creditEvent(.adminPenalty, by: c.justice)
        let cases: [(String, [UInt8], String)] = [
            ("the justice administration ends an association event's publication",
             log.statusBytes(.creditPublicationEnded, by: c.justice, on: discipline), "admitted"),
            ("the association ends its own event's publication",
             log.statusBytes(.creditPublicationEnded, by: c.association, on: discipline), "admitted"),
            ("the association ends the justice administration's penalty's publication",
             log.statusBytes(.creditPublicationEnded, by: c.association, on: penalty), "not_original_issuer"),
            ("the justice administration amends an association's event", log.statusBytes(.creditAmended, by: c.justice, on: discipline), "not_original_issuer"),
            ("the justice administration files an objection on an association's event",
             log.statusBytes(.creditObjectionFiled, by: c.justice, on: discipline), "not_original_issuer"),
            ("the association resolves an objection on the penalty",
             log.statusBytes(.creditObjectionResolved, by: c.association, on: penalty), "not_original_issuer"),
            ("a court ends a penalty's publication", log.statusBytes(.creditPublicationEnded, by: c.court, on: penalty), "role_may_not_write"),
        ]
        for (name, bytes, want) in cases { XCTAssertEqual(log.verdict(bytes), want, name) }
    }

    func testCreditClassesAreWrittenOnlyByTheirBodies() {
        let c = Consortium()
        let log = RecordLog(c)
        // domain.md §6.3: admin_penalty/assessment/rating/reward-by-government: JUSTICE_ADMIN; industry
        // discipline/awards: ASSOCIATION; complaint outcomes: whichever of them decided.
        let expected: [(CreditClass, Set<Role>)] = [
            (.adminPenalty, [.justiceAdmin]), (.annualAssessment, [.justiceAdmin]), (.integrityRating, [.justiceAdmin]),
            (.industryDiscipline, [.association]), (.reward, [.justiceAdmin, .association]),
            (.complaintOutcome, [.justiceAdmin, .association]),
        ]
        XCTAssertEqual(Set(expected.map(\.0)), Set(CreditClass.allCases))
        for (creditClass, writers) in expected {
            for role in Role.allCases {
                let bytes = c.record(.creditEvent, by: c[role], payload: Fixture.payload(.creditEvent, creditClass: creditClass))
                XCTAssertEqual(log.verdict(bytes), writers.contains(role) ? "admitted" : "role_may_not_write", "\(role.rawValue) × \(creditClass.rawValue)")
            }
        }
    }

    func testArbitrationCommissionRegistersArbitratorsButNotOtherPractitioners() {
        let c = Consortium()
        let log = RecordLog(c)
        for profession in Profession.allCases {
            let bytes = c.record(.practitionerRegistered, by: c.arbitration, payload: Fixture.payload(.practitionerRegistered, profession: profession))
            XCTAssertEqual(log.verdict(bytes), profession == .arbitrator ? "admitted" : "role_may_not_write", profession.rawValue)
            let byJustice = c.record(.practitionerRegistered, by: c.justice, payload: Fixture.payload(.practitionerRegistered, profession: profession))
            XCTAssertEqual(log.verdict(byJustice), "admitted", "the justice administration registers a \(profession.rawValue)")
        }
    }

    func testDocumentTypesAreIssuedOnlyByTheirIssuer() {
        let c = Consortium()
        let log = RecordLog(c)
        let issuers: [(DocumentType, Role)] = [
            (.notarialCertificate, .notaryOffice), (.appraisalOpinion, .forensicLab), (.inspectionReport, .forensicLab),
            (.arbitralAward, .arbitrationCommission), (.mediationStatement, .arbitrationCommission),
            (.legalAidDecision, .legalAidCenter), (.lawFirmLetter, .justiceAdmin),
        ]
        XCTAssertEqual(Set(issuers.map(\.0)), Set(DocumentType.allCases))
        for (docType, issuer) in issuers {
            for role in Role.allCases {
                let bytes = c.record(.documentIssued, by: c[role], payload: Fixture.payload(.documentIssued, docType: docType))
                XCTAssertEqual(log.verdict(bytes), role == issuer ? "admitted" : "role_may_not_write", "\(role.rawValue) × \(docType.rawValue)")
            }
        }
    }

    // MARK: - Governance

    func testMembershipRecordsNeedAQuorumOfGovernanceSignatures() {
        let c = Consortium()
        let log = RecordLog(c)
        let cases: [(String, TestOrg, [TestOrg], String)] = [
            ("one governance signature", c.justice, [], "governance_quorum_not_met"),
            ("one governance signature and a notary office's", c.justice, [c.notary], "governance_quorum_not_met"),
            ("one governance signature and a non-governance court's", c.justice, [c.court2], "governance_quorum_not_met"),
            ("justice administration and court", c.justice, [c.court], "admitted"),
            ("court and justice administration", c.court, [c.justice], "admitted"),
            ("a notary office writes it, both governance members co-sign", c.notary, [c.justice, c.court], "role_may_not_write"),
            ("a court outside governance writes it, both members co-sign", c.court2, [c.justice, c.court], "role_may_not_write"),
            ("an association writes it, both members co-sign", c.association, [c.justice, c.court], "role_may_not_write"),
        ]
        for type in RecordType.allCases where type.isGovernance {
            for (name, writer, cosigners, want) in cases {
                XCTAssertEqual(log.verdict(c.governance(type, by: writer, cosigners: cosigners, about: c.lab)), want, "\(type.rawValue): \(name)")
            }
        }
    }

    func testQuorumFailureReportsHowManySignaturesCounted() {
        let c = Consortium()
        let log = RecordLog(c)
        XCTAssertThrowsError(try log.admit(c.governance(.memberSuspended, by: c.justice, cosigners: [c.notary], about: c.lab))) { error in
            XCTAssertEqual(error as? AdmissionError, .permission(.governanceQuorum(have: 1, need: 2)))
        }
    }

    // MARK: - References

    func testReferencesToMissingRecordsAreRefused() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let missing = RecordDraft.newRecordID()
        let cases: [(String, [UInt8])] = [
            ("a correction of a missing document",
             c.record(.documentCorrected, by: c.notary, refs: [Ref(recordID: missing, rel: "target")], payload: Fixture.payload(.documentCorrected))),
            ("an annulment of a missing credit event",
             c.record(.creditAnnulled, by: c.justice, refs: [Ref(recordID: missing, rel: "target")], payload: Fixture.payload(.creditAnnulled))),
            ("a document in a missing case",
             c.record(.documentIssued, by: c.notary, refs: [Ref(recordID: missing, rel: "case")], payload: Fixture.payload(.documentIssued))),
            ("a document citing missing evidence",
             c.record(.documentIssued, by: c.notary, refs: [Ref(recordID: missing, rel: "evidence")], payload: Fixture.payload(.documentIssued))),
            ("a supersession by a missing new document",
             c.record(.documentSuperseded, by: c.notary, refs: [Ref(recordID: missing, rel: "new"), Ref(recordID: certificate.record.recordID, rel: "old")],
                      payload: Fixture.payload(.documentSuperseded))),
        ]
        for (name, bytes) in cases { XCTAssertEqual(log.verdict(bytes), "reference_not_found", name) }
    }

    func testReferencesToTheWrongKindOfRecordAreRefused() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let penalty = log.creditEvent()
        let evidence = log.plain(.evidenceDeposited, by: c.notary)
        let legalCase = log.plain(.caseOpened, by: c.notary)
        func ref(_ r: LoggedRecord, _ rel: String) -> Ref { Ref(recordID: r.record.recordID, rel: rel) }
        let cases: [(String, [UInt8])] = [
            ("a correction aimed at a credit event", c.record(.documentCorrected, by: c.notary, refs: [ref(penalty, "target")], payload: Fixture.payload(.documentCorrected))),
            ("an amendment aimed at a document", c.record(.creditAmended, by: c.justice, refs: [ref(certificate, "target")], payload: Fixture.payload(.creditAmended))),
            ("a revocation aimed at evidence", c.record(.documentRevoked, by: c.notary, refs: [ref(evidence, "target")], payload: Fixture.payload(.documentRevoked))),
            ("an erasure aimed at a correction",
             c.record(.payloadErased, by: c.notary, refs: [ref(log.status(.documentCorrected, by: c.notary, on: certificate), "target")],
                      payload: Fixture.payload(.payloadErased))),
            ("a case ref to an evidence deposit", c.record(.documentIssued, by: c.notary, refs: [ref(evidence, "case")], payload: Fixture.payload(.documentIssued))),
            ("an evidence ref to a case", c.record(.documentIssued, by: c.notary, refs: [ref(legalCase, "evidence")], payload: Fixture.payload(.documentIssued))),
            ("a supersession whose old side is a credit event",
             c.record(.documentSuperseded, by: c.notary, refs: [ref(certificate, "new"), ref(penalty, "old")], payload: Fixture.payload(.documentSuperseded))),
        ]
        for (name, bytes) in cases { XCTAssertEqual(log.verdict(bytes), "reference_wrong_type", name) }
        let good = c.record(.documentIssued, by: c.notary, refs: [ref(legalCase, "case"), ref(evidence, "evidence")], payload: Fixture.payload(.documentIssued))
        XCTAssertEqual(log.verdict(good), "admitted", "a document in its case citing its evidence")
    }

    // MARK: - The writer

    func testSuspendedOrRemovedMemberMayNotWrite() throws {
        for change in [RecordType.memberSuspended, .memberRemoved] {
            let c = Consortium()
            let log = RecordLog(c)
            let before = c.record(.documentIssued, by: c.notary, payload: Fixture.payload(.documentIssued))
            XCTAssertEqual(log.verdict(before), "admitted")
            log.append(c.governance(change, by: c.justice, cosigners: [c.court], about: c.notary))
            XCTAssertEqual(log.registry.members[c.notary.usci]?.status, change == .memberSuspended ? .suspended : .removed)

            let record = try Record(bytes: before)
            XCTAssertThrowsError(try Permissions.check(record, registry: log.registry, lookup: log.lookup)) { error in
                XCTAssertEqual((error as? PermissionError)?.code, "writer_not_active", change.rawValue)
            }
            // Admission looks the signing key up first and names why it no longer signs.
            XCTAssertEqual(log.verdict(before), "member_not_active", change.rawValue)
            // Other members are unaffected.
            XCTAssertEqual(log.verdict(c.record(.documentIssued, by: c.notary2, payload: Fixture.payload(.documentIssued))), "admitted")
        }
    }

    func testAPractitionersStatusIsChangedOnlyThroughItsRegistration() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let lawyer = log.append(c.record(.practitionerRegistered, by: c.justice, payload: Fixture.payload(.practitionerRegistered, profession: .lawyer)))
        let arbitrator = log.append(c.record(.practitionerRegistered, by: c.arbitration,
                                             payload: Fixture.payload(.practitionerRegistered, profession: .arbitrator).with(["licence_number": .string("ARB-2025-0007")])))
        // A commission may not suspend a lawyer the justice bureau registered.
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.arbitration, on: lawyer)), "not_original_issuer")
        // Nor name another licence than the registration it points at.
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.arbitration, on: arbitrator)), "reference_subject_mismatch")
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.arbitration, on: arbitrator,
                                                   changes: ["licence_number": .string("ARB-2025-0007")])), "admitted")
        // The justice administration changes any practitioner's status, arbitrators included.
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.justice, on: arbitrator,
                                                   changes: ["licence_number": .string("ARB-2025-0007")])), "admitted")
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.justice, on: lawyer)), "admitted")
        // Without the registration it changes, the record is refused.
        XCTAssertEqual(log.verdict(c.record(.practitionerStatusChanged, by: c.justice, payload: Fixture.payload(.practitionerStatusChanged))), "record_bad_refs")
        // And it must point at a registration, not at some other record.
        XCTAssertEqual(log.verdict(log.statusBytes(.practitionerStatusChanged, by: c.justice, on: log.creditEvent())), "reference_wrong_type")
    }

    func testWriterClaimingAnotherRoleIsRefused() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let bytes = c.record(.documentIssued, by: c.notary, claiming: .forensicLab, payload: Fixture.payload(.documentIssued, docType: .appraisalOpinion))
        XCTAssertEqual(log.verdict(bytes), "writer_role_mismatch")
        XCTAssertThrowsError(try log.admit(bytes)) { error in
            XCTAssertEqual(error as? AdmissionError, .permission(.roleMismatch(claimed: .forensicLab, registered: .notaryOffice)))
        }
    }

    func testUnknownWriterIsRefused() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let stranger = TestOrg(name: "not a member", serial: 999, role: .notaryOffice)
        let bytes = c.record(.documentIssued, by: stranger, payload: Fixture.payload(.documentIssued))
        XCTAssertEqual(log.verdict(bytes), "key_unknown")
        XCTAssertThrowsError(try Permissions.check(try Record(bytes: bytes), registry: log.registry, lookup: log.lookup)) { error in
            XCTAssertEqual((error as? PermissionError)?.code, "writer_unknown")
        }
    }
}
