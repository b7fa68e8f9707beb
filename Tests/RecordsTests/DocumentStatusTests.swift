// Document status as a projection of the log (domain.md §6.4, the results of §6.5): corrections keep
// a document valid, supersession points to the newer one, revocation is terminal (void from the
// start or from a date), awards can be suspended or unenforceable, and status records that break
// the write rules are ignored even if they reached the log.
import Records
import XCTest

final class DocumentStatusTests: XCTestCase {
    private func view(_ document: LoggedRecord, in log: RecordLog, today: String = "2025-05-01") -> DocumentView {
        Derivation.document(document, events: log.entries, today: today, registry: log.registry, lookup: log.lookup)
    }

    func testFreshDocumentIsValid() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let other = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: other)   // another document's history does not leak in
        let v = view(certificate, in: log)
        XCTAssertEqual(v.status, .valid)
        XCTAssertFalse(v.voidAbInitio)
        XCTAssertNil(v.revokedFrom)
        XCTAssertNil(v.supersededBy)
        XCTAssertEqual(v.renditions, [Fixture.rendition("original")])
        XCTAssertTrue(v.history.isEmpty)
        XCTAssertEqual(view(other, in: log).status, .revoked)
    }

    func testCorrectedDocumentStaysValidWithTheNewestRenditions() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentCorrected, by: c.notary, on: certificate, changes: ["renditions": .array([Fixture.rendition("first correction")])])
        let newest: [JSONValue] = [Fixture.rendition("second correction"), Fixture.rendition("second correction, Tibetan", lang: "bo")]
        log.status(.documentCorrected, by: c.notary, on: certificate, changes: ["kind": .string("format"), "renditions": .array(newest)])
        let v = view(certificate, in: log)
        XCTAssertEqual(v.status, .validCorrected)
        XCTAssertEqual(v.renditions, newest)
        XCTAssertEqual(v.history.map(\.record.type), [.documentCorrected, .documentCorrected])
    }

    func testSupersededDocumentNamesItsSuccessor() {
        let c = Consortium()
        let log = RecordLog(c)
        let old = log.issue(.notarialCertificate)
        let new = log.issue(.notarialCertificate)
        log.append(log.linkBytes(.documentSuperseded, by: c.notary, new: new, old: old))
        let v = view(old, in: log)
        XCTAssertEqual(v.status, .superseded)
        XCTAssertEqual(v.supersededBy, new.record.recordID)
        XCTAssertFalse(v.voidAbInitio, "superseded is not void")
        XCTAssertEqual(view(new, in: log).status, .valid, "the successor itself is valid")
    }

    func testRelatedDocumentIsNotSuperseded() {
        let c = Consortium()
        let log = RecordLog(c)
        let opinion = log.issue(.appraisalOpinion)
        let reAppraisal = log.issue(.appraisalOpinion, changes: ["doc_number": .string("(2025)川鉴字第2号")])
        log.append(log.linkBytes(.documentRelated, by: c.lab, new: reAppraisal, old: opinion))
        XCTAssertEqual(view(opinion, in: log).status, .valid, "relation ≠ revocation (domain.md §6.3)")
    }

    func testRevocationVoidFromTheStart() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: certificate, changes: ["effect": .string("void_ab_initio"), "effective_from": .string("2025-04-01")])
        for today in ["2025-03-15", "2025-04-01", "2030-01-01"] {
            let v = view(certificate, in: log, today: today)
            XCTAssertEqual(v.status, .revoked, today)
            XCTAssertTrue(v.voidAbInitio, today)
            XCTAssertNil(v.revokedFrom, today)
        }
    }

    func testRevocationFromADateTakesEffectOnThatDate() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: certificate, changes: ["effect": .string("from_date"), "effective_from": .string("2025-06-01")])
        let cases: [(String, DocumentStatus, String?)] = [
            ("2025-05-31", .valid, nil),
            ("2025-06-01", .revoked, "2025-06-01"),
            ("2025-07-01", .revoked, "2025-06-01"),
        ]
        for (today, status, from) in cases {
            let v = view(certificate, in: log, today: today)
            XCTAssertEqual(v.status, status, today)
            XCTAssertEqual(v.revokedFrom, from, today)
            XCTAssertFalse(v.voidAbInitio, today)
        }
    }

    func testDocumentExpiresAfterItsValidUntilDate() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate, changes: ["valid_until": .string("2025-12-31")])
        XCTAssertEqual(view(certificate, in: log, today: "2025-12-31").status, .valid, "valid on its last day")
        XCTAssertEqual(view(certificate, in: log, today: "2026-01-01").status, .expired)
        let open = log.issue(.notarialCertificate)
        XCTAssertEqual(view(open, in: log, today: "2099-01-01").status, .valid, "no valid_until, no expiry")
    }

    func testSuspendedEnforcementSuspendsTheAward() {
        let c = Consortium()
        let log = RecordLog(c)
        let award = log.issue(.arbitralAward)
        log.status(.documentEnforcementStatus, by: c.court, on: award, changes: ["status": .string("suspended")])
        XCTAssertEqual(view(award, in: log).status, .suspended)
        log.status(.documentEnforcementStatus, by: c.court, on: award, changes: ["status": .string("resumed")])
        XCTAssertEqual(view(award, in: log).status, .valid, "恢复执行")
    }

    func testAVoidRevocationOverridesAPendingDatedOne() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: certificate, changes: ["effect": .string("from_date"), "effective_from": .string("2030-01-01")])
        XCTAssertEqual(view(certificate, in: log).status, .valid, "the dated revocation is not in force yet")
        log.status(.documentRevoked, by: c.notary, on: certificate,
                   changes: ["effect": .string("void_ab_initio"), "decision_number": .string("(2025)川成证撤字第3号")])
        let v = view(certificate, in: log)
        XCTAssertEqual(v.status, .revoked)
        XCTAssertTrue(v.voidAbInitio)
    }

    func testRefusedEnforcementIsFinal() {
        // 不予执行 (仲裁法 art 63) cannot be resumed.
        let c = Consortium()
        let log = RecordLog(c)
        let award = log.issue(.arbitralAward)
        log.status(.documentEnforcementStatus, by: c.court, on: award, changes: ["status": .string("not_enforced")])
        log.status(.documentEnforcementStatus, by: c.court2, on: award, changes: ["status": .string("resumed")])
        XCTAssertEqual(view(award, in: log).status, .notEnforceable)
    }

    func testTerminatedEnforcementIsNotEnforceableUntilResumed() {
        for ruling in ["terminated"] {
            let c = Consortium()
            let log = RecordLog(c)
            let award = log.issue(.arbitralAward)
            log.status(.documentEnforcementStatus, by: c.court, on: award, changes: ["status": .string(ruling)])
            XCTAssertEqual(view(award, in: log).status, .notEnforceable, ruling)
            log.status(.documentEnforcementStatus, by: c.court2, on: award, changes: ["status": .string("resumed")])
            XCTAssertEqual(view(award, in: log).status, .valid, "\(ruling), then resumed")
            XCTAssertEqual(view(award, in: log).history.count, 2)
        }
    }

    func testRevocationIsTerminal() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: certificate)
        log.status(.documentCorrected, by: c.notary, on: certificate)
        log.status(.documentRevoked, by: c.notary, on: certificate,
                   changes: ["effect": .string("from_date"), "effective_from": .string("2030-01-01"), "decision_number": .string("(2025)川成证撤字第2号")])
        let v = view(certificate, in: log)
        XCTAssertEqual(v.status, .revoked, "a later correction does not un-revoke")
        XCTAssertTrue(v.voidAbInitio, "the first revocation stands; a later one does not soften it")
        XCTAssertEqual(v.history.count, 3)

        let award = log.issue(.arbitralAward)
        log.status(.documentRevoked, by: c.court, on: award, changes: ["reason": .string("set_aside_by_court")])
        log.status(.documentEnforcementStatus, by: c.court, on: award, changes: ["status": .string("resumed")])
        XCTAssertEqual(view(award, in: log).status, .revoked, "resuming enforcement does not revive a set-aside award")
    }

    func testUnauthorisedStatusRecordsInTheLogAreIgnored() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let otherOffices = log.issue(.notarialCertificate, by: c.notary2)
        let unauthorised: [(String, [UInt8])] = [
            ("a revocation by another notary office", log.statusBytes(.documentRevoked, by: c.notary2, on: certificate)),
            ("a revocation by a court of a notarial certificate", log.statusBytes(.documentRevoked, by: c.court, on: certificate)),
            ("a correction by a forensic lab", log.statusBytes(.documentCorrected, by: c.lab, on: certificate)),
            ("an enforcement ruling on a notarial certificate",
             log.statusBytes(.documentEnforcementStatus, by: c.court, on: certificate, changes: ["status": .string("not_enforced")])),
            ("a supersession by another office's new certificate",
             log.linkBytes(.documentSuperseded, by: c.notary2, new: otherOffices, old: certificate)),
            ("a revocation claiming the notary office's role from a lab",
             c.record(.documentRevoked, by: c.lab, claiming: .notaryOffice, refs: [Ref(recordID: certificate.record.recordID, rel: "target")],
                      payload: Fixture.payload(.documentRevoked))),
        ]
        for (name, bytes) in unauthorised {
            XCTAssertNotEqual(log.verdict(bytes), "admitted", "\(name) would be refused at admission")
            log.force(bytes)
        }
        let v = view(certificate, in: log)
        XCTAssertEqual(v.status, .valid)
        XCTAssertNil(v.supersededBy)
        XCTAssertEqual(v.renditions, [Fixture.rendition("original")])
        XCTAssertTrue(v.history.isEmpty, "\(v.history.map(\.record.type.rawValue))")
    }

    func testCourtSetAsideOfAnAwardRevokesIt() {
        let c = Consortium()
        let log = RecordLog(c)
        let award = log.issue(.arbitralAward)
        let setAside = log.status(.documentRevoked, by: c.court, on: award, changes: ["reason": .string("set_aside_by_court")])
        let v = view(award, in: log)
        XCTAssertEqual(v.status, .revoked)
        XCTAssertTrue(v.voidAbInitio)
        XCTAssertEqual(v.history.map(\.record.recordID), [setAside.record.recordID])
    }

    func testStatusRecordsOfAMemberLaterSuspendedStillCount() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        log.status(.documentRevoked, by: c.notary, on: certificate)
        log.append(c.governance(.memberSuspended, by: c.justice, cosigners: [c.court], about: c.notary))
        XCTAssertEqual(view(certificate, in: log).status, .revoked, "a later suspension does not undo a revocation made while active")
    }
}
