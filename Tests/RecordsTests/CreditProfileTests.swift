// The public credit profile as a projection of the log (domain.md §3 "append-only implications",
// §6.4): each event shows only inside its publication window; amendments, objections, annulments
// (with the public reason, 行政处罚法 art 48) and the end of publication change what the public
// sees; credit repair counts only after the minimum period; unauthorised changes are ignored.
import Records
import XCTest

final class CreditProfileTests: XCTestCase {
    /// A penalty published from 2025-03-01, for at least until 2025-09-01 and at most until 2028-03-01.
    private func penalty(_ log: RecordLog, publication: JSONValue = Fixture.publication()) -> LoggedRecord {
        log.creditEvent(.adminPenalty, changes: ["publication": publication])
    }

    private func profile(_ log: RecordLog, today: String = "2025-05-01") -> [Derivation.CreditEntry] {
        Derivation.creditProfile(events: log.entries, today: today, registry: log.registry, lookup: log.lookup)
    }

    /// The states shown on `today`, by event id.
    private func states(_ log: RecordLog, today: String = "2025-05-01") -> [String: String] {
        Dictionary(uniqueKeysWithValues: profile(log, today: today).map { ($0.event.record.recordID, $0.state.rawValue) })
    }

    func testPublicEventInsideItsWindowIsShown() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        let entries = profile(log)
        XCTAssertEqual(entries.count, 1)
        let entry = try XCTUnwrap(entries.first)
        XCTAssertEqual(entry.state, .published)
        XCTAssertEqual(entry.state.rawValue, "PUBLIC")
        XCTAssertEqual(entry.event.record.recordID, event.record.recordID)
        XCTAssertEqual(entry.fields, event.record.payload)
        XCTAssertNil(entry.publicReason)
    }

    func testEventIsShownOnlyBetweenFromAndMaxUntil() {
        let c = Consortium()
        let log = RecordLog(c)
        let id = penalty(log).record.recordID
        let cases: [(String, String?)] = [
            ("2025-02-28", nil),           // before `from`
            ("2025-03-01", "PUBLIC"),      // on `from`
            ("2028-03-01", "PUBLIC"),      // on `max_until`
            ("2028-03-02", nil),           // after `max_until`: taken down automatically
        ]
        for (today, want) in cases { XCTAssertEqual(states(log, today: today)[id], want, today) }
    }

    func testAmendedEventShowsTheNewFields() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        log.status(.creditAmended, by: c.justice, on: event, changes: [
            "reason": .string("review"), "measure_code": .string("fine"), "severity": .string("serious"),
            "legal_basis": .array([.string("lawyers_law:48")]),
        ])
        let entry = try XCTUnwrap(profile(log).first)
        XCTAssertEqual(entry.state, .amended)
        XCTAssertEqual(entry.fields["measure_code"], .string("fine"))
        XCTAssertEqual(entry.fields["severity"], .string("serious"))
        XCTAssertEqual(entry.fields["legal_basis"], .array([.string("lawyers_law:48")]))
        XCTAssertEqual(entry.fields["decision_number"], event.record.payload["decision_number"], "fields not amended stay")
    }

    func testAmendedPublicationWindowApplies() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        log.status(.creditAmended, by: c.justice, on: event,
                   changes: ["publication": Fixture.publication(from: "2025-03-01", minUntil: "2025-06-01", maxUntil: "2025-12-01")])
        XCTAssertEqual(states(log, today: "2025-12-01")[event.record.recordID], "AMENDED")
        XCTAssertNil(states(log, today: "2025-12-02")[event.record.recordID], "the amended max_until counts")
    }

    func testObjectionShowsUntilResolved() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        let id = event.record.recordID
        log.status(.creditObjectionFiled, by: c.justice, on: event, changes: ["objection_ref": .string("OBJ-1")])
        XCTAssertEqual(states(log)[id], "UNDER_OBJECTION", "an objection does not hide the event (行政处罚法 art 73)")
        log.status(.creditObjectionFiled, by: c.justice, on: event, changes: ["objection_ref": .string("OBJ-2")])
        log.status(.creditObjectionResolved, by: c.justice, on: event, changes: ["objection_ref": .string("OBJ-1")])
        XCTAssertEqual(states(log)[id], "UNDER_OBJECTION", "one of two objections still open")
        log.status(.creditObjectionResolved, by: c.justice, on: event, changes: ["objection_ref": .string("OBJ-2")])
        XCTAssertEqual(states(log)[id], "PUBLIC", "rejected objections: back to public")
    }

    func testObjectionUpheldByAmendmentEndsAmended() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        log.status(.creditObjectionFiled, by: c.justice, on: event)
        log.status(.creditAmended, by: c.justice, on: event, changes: ["reason": .string("review"), "severity": .string("general")])
        XCTAssertEqual(states(log)[event.record.recordID], "UNDER_OBJECTION")
        log.status(.creditObjectionResolved, by: c.justice, on: event, changes: ["outcome": .string("upheld")])
        XCTAssertEqual(states(log)[event.record.recordID], "AMENDED")
    }

    func testAnnulledEventShowsThePublicReason() throws {
        for reviewer in [Role.justiceAdmin, .court, .association] {
            let c = Consortium()
            let log = RecordLog(c)
            let event = log.creditEvent(.industryDiscipline, by: c.association)
            log.status(.creditObjectionFiled, by: c.association, on: event)
            log.status(.creditAnnulled, by: c[reviewer], on: event, changes: ["public_reason_code": .string("L7-48-REVOKED")])
            let entry = try XCTUnwrap(profile(log).first, reviewer.rawValue)
            XCTAssertEqual(entry.state, .annulled, reviewer.rawValue)
            XCTAssertEqual(entry.state.rawValue, "ANNULLED")
            XCTAssertEqual(entry.publicReason, "L7-48-REVOKED", reviewer.rawValue)
        }
    }

    func testPublicationEndedOnExpiryHidesTheEventOnlyAfterTheMinimumPeriod() {
        // min_until is 2025-09-01: an "expiry" declared earlier cannot cut the minimum period short.
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        log.status(.creditPublicationEnded, by: c.justice, on: event, changes: ["cause": .string("expired"), "ended_at": .string("2025-04-30")])
        XCTAssertEqual(states(log)[event.record.recordID], "PUBLIC")
        log.status(.creditPublicationEnded, by: c.justice, on: event, changes: ["cause": .string("expired"), "ended_at": .string("2025-09-01")])
        XCTAssertEqual(states(log, today: "2025-08-31")[event.record.recordID], "PUBLIC", "not before the day it names")
        XCTAssertNil(states(log, today: "2025-09-01")[event.record.recordID])
        XCTAssertTrue(profile(log, today: "2025-09-02").isEmpty)
    }

    func testCreditRepairCountsOnlyAfterTheMinimumPeriod() {
        let c = Consortium()
        // min_until is 2025-09-01.
        let cases: [(String, String?)] = [
            ("2025-05-01", "PUBLIC"),     // repair before the minimum period: ignored
            ("2025-08-31", "PUBLIC"),
            ("2025-09-02", nil),          // after the minimum period: publication ends
        ]
        for (endedAt, want) in cases {
            let log = RecordLog(c)
            let event = penalty(log)
            log.status(.creditPublicationEnded, by: c.justice, on: event,
                       changes: ["cause": .string("credit_repair"), "repair_decision_number": .string("川信修〔2025〕1号"), "ended_at": .string(endedAt)])
            XCTAssertEqual(states(log, today: "2025-10-01")[event.record.recordID], want, "repair dated \(endedAt)")
        }
    }

    func testJusticeAdministrationMayEndAnAssociationEventsPublication() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = log.creditEvent(.industryDiscipline, by: c.association)
        XCTAssertEqual(states(log)[event.record.recordID], "PUBLIC")
        log.status(.creditPublicationEnded, by: c.justice, on: event,
                   changes: ["cause": .string("credit_repair"), "repair_decision_number": .string("川信修〔2025〕2号"), "ended_at": .string("2025-10-01")])
        XCTAssertNil(states(log, today: "2025-10-02")[event.record.recordID])
    }

    func testNonPublicEventIsHidden() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log, publication: Fixture.publication(public: false))
        XCTAssertNil(states(log)[event.record.recordID])
        log.status(.creditObjectionFiled, by: c.justice, on: event)
        XCTAssertNil(states(log)[event.record.recordID], "an objection does not publish it")
    }

    func testAnnulmentDoesNotPublishAnEventThatWasNeverPublic() {
        let c = Consortium()
        let log = RecordLog(c)
        let hidden = penalty(log, publication: Fixture.publication(public: false))
        log.status(.creditAnnulled, by: c.justice, on: hidden)
        let notYet = penalty(log, publication: Fixture.publication(from: "2025-06-01"))
        log.status(.creditAnnulled, by: c.justice, on: notYet)
        XCTAssertNil(states(log)[hidden.record.recordID], "a non-public event stays hidden when annulled (PIPL art 25)")
        XCTAssertNil(states(log)[notYet.record.recordID], "an event annulled before its publication starts is never shown")
    }

    func testUnauthorisedChangesByAnotherBodyAreIgnored() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let event = penalty(log)
        let unauthorised: [(String, [UInt8])] = [
            ("an amendment by the association", log.statusBytes(.creditAmended, by: c.association, on: event, changes: ["severity": .string("serious")])),
            ("an annulment by the association", log.statusBytes(.creditAnnulled, by: c.association, on: event)),
            ("an annulment by a notary office", log.statusBytes(.creditAnnulled, by: c.notary, on: event)),
            ("an end of publication by the association", log.statusBytes(.creditPublicationEnded, by: c.association, on: event)),
            ("an objection by a forensic lab", log.statusBytes(.creditObjectionFiled, by: c.lab, on: event)),
        ]
        for (name, bytes) in unauthorised {
            XCTAssertNotEqual(log.verdict(bytes), "admitted", "\(name) would be refused at admission")
            log.force(bytes)
        }
        // A credit event by a body that may not record its class is not shown either.
        let forged = log.force(c.record(.creditEvent, by: c.association, payload: Fixture.payload(.creditEvent, creditClass: .adminPenalty)))
        let entries = profile(log)
        XCTAssertEqual(entries.map(\.event.record.recordID), [event.record.recordID])
        let entry = try XCTUnwrap(entries.first)
        XCTAssertEqual(entry.state, .published)
        XCTAssertEqual(entry.fields, event.record.payload)
        XCTAssertFalse(entries.contains { $0.event.record.recordID == forged.record.recordID })
    }

    func testEventsOfAMemberLaterSuspendedStillShow() {
        let c = Consortium()
        let log = RecordLog(c)
        let event = log.creditEvent(.industryDiscipline, by: c.association)
        log.append(c.governance(.memberSuspended, by: c.justice, cosigners: [c.court], about: c.association))
        XCTAssertEqual(states(log)[event.record.recordID], "PUBLIC", "a body's suspension does not erase what it recorded while active")
    }
}
