// Admission of submitted record bytes: a good record admits, and every broken one (not canonical,
// off-schema, bad refs, bad or missing proofs, retired keys) is refused with its exact stable code.
// Also: no personal data reaches the record bytes, only keyed HMACs and a masked name (domain.md §5).
import CinnabarCrypto
import Foundation
import Records
import XCTest

final class AdmissionTests: XCTestCase {
    /// A notarial certificate by the first notary office, as a draft.
    private func certificateDraft(_ c: Consortium, changes: JSONObject = [:]) -> RecordDraft {
        c.draft(.documentIssued, by: c.notary, payload: Fixture.payload(.documentIssued).with(changes))
    }

    /// JSON text of `value` with every object's members in reverse canonical order (valid JSON,
    /// same value, not RFC 8785).
    private func reverseOrdered(_ value: JSONValue) -> [UInt8] {
        switch value {
        case let .object(members):
            let canonicalOrder = CanonicalJSON.serialize(value)
            let keys = members.keys.sorted { a, b in
                // Canonical order is the order in which the keys appear in the canonical text.
                let needleA = CanonicalJSON.serialize(.string(a)), needleB = CanonicalJSON.serialize(.string(b))
                return firstIndex(of: needleA, in: canonicalOrder)! > firstIndex(of: needleB, in: canonicalOrder)!
            }
            let parts = keys.map { CanonicalJSON.serialize(.string($0)) + [UInt8(ascii: ":")] + reverseOrdered(members[$0]!) }
            return [UInt8(ascii: "{")] + Array(parts.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "}")]
        case let .array(elements):
            return [UInt8(ascii: "[")] + Array(elements.map(reverseOrdered).joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")]
        default:
            return CanonicalJSON.serialize(value)
        }
    }

    /// `bytes` parsed, changed by `change` and written canonically again (the proof is not redone).
    private func edited(_ bytes: [UInt8], _ change: (inout JSONObject) -> Void) -> [UInt8] {
        guard case var .object(members) = try? JSONParser.parse(bytes, maxBytes: Record.maxBytes) else { preconditionFailure("a record") }
        change(&members)
        return CanonicalJSON.serialize(.object(members))
    }

    private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    /// The code admission refuses `bytes` with, and for schema violations the JSON path too.
    private func refusal(_ bytes: [UInt8], _ log: RecordLog) -> String {
        do {
            _ = try log.admit(bytes)
            return "admitted"
        } catch let .record(.schema(e)) {
            return "\(e.code) at \(e.path)"
        } catch {
            return error.code
        }
    }

    func testGoodRecordIsAdmittedWithItsEnvelope() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let draft = certificateDraft(c)
        let record = try log.admit(draft.signed(by: [c.notary.signer]))
        XCTAssertEqual(record.type, .documentIssued)
        XCTAssertEqual(record.recordID, draft.recordID)
        XCTAssertEqual(record.writerOrg, c.notary.usci)
        XCTAssertEqual(record.writerRole, .notaryOffice)
        XCTAssertEqual(record.keyID, TestOrg.keyID)
        XCTAssertEqual(record.createdAt, Fixture.createdAt)
        XCTAssertEqual(record.string("doc_type"), DocumentType.notarialCertificate.rawValue)
        XCTAssertEqual(record.bytes, CanonicalJSON.serialize(record.json), "record bytes are their own canonical form")
        XCTAssertEqual(try record.proofs().map(\.verificationMethod), ["cinnabar:org:\(c.notary.usci)#k1"])
    }

    func testNonCanonicalBytesAreRefused() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let bytes = certificateDraft(c).signed(by: [c.notary.signer])
        let json = try JSONParser.parse(bytes, maxBytes: Record.maxBytes)
        let reordered = reverseOrdered(json)
        XCTAssertNotEqual(reordered, bytes)
        XCTAssertEqual(try JSONParser.parse(reordered, maxBytes: Record.maxBytes), json, "the same value, written differently")
        let cases: [(String, [UInt8], String)] = [
            ("members in another order", reordered, "record_not_canonical"),
            ("a space after the opening brace", [UInt8(ascii: "{"), UInt8(ascii: " ")] + bytes.dropFirst(), "record_not_canonical"),
            ("a trailing newline", bytes + [0x0A], "record_not_canonical"),
            ("an escaped character JCS writes literally", Array(String(decoding: bytes, as: UTF8.self)
                .replacingOccurrences(of: "\"type\":\"DOCUMENT_ISSUED\"", with: "\"type\":\"DOCUMENT\\u005fISSUED\"").utf8), "record_not_canonical"),
            ("truncated", Array(bytes.dropLast()), "record_invalid_json"),
            ("too large", bytes + [UInt8](repeating: 0x20, count: Record.maxBytes), "record_too_large"),
        ]
        for (name, input, want) in cases { XCTAssertEqual(refusal(input, log), want, name) }
        XCTAssertEqual(refusal(bytes, log), "admitted")
    }

    func testRecordsOffTheirSchemaAreRefusedWithThePath() {
        let c = Consortium()
        let log = RecordLog(c)
        let notary = c.notary.signer
        var badWriterOrg = certificateDraft(c)
        let usci = c.notary.usci
        let wrongCheck = GB32100.alphabet.first { $0 != usci.last! }!
        badWriterOrg.writerOrg = String(usci.dropLast()) + String(wrongCheck)
        let badOrgCheck = String(TestOrg.usci(serial: 901).dropLast()) + String(GB32100.alphabet.first { $0 != TestOrg.usci(serial: 901).last! }!)
        // Signing needs a valid created_at (it is the proof's `created`), so this one is edited after signing.
        let badCreatedAt = edited(certificateDraft(c).signed(by: [notary])) { $0["created_at"] = .string("2025-03-01 10:00:00") }
        let cases: [(String, [UInt8], String)] = [
            ("a required field missing", certificateDraft(c, changes: ["doc_number": .null]).signed(by: [notary]),
             "schema_violation at $.payload.doc_number"),
            ("an extra field", certificateDraft(c, changes: ["holder_name": .string("张三丰")]).signed(by: [notary]),
             "schema_violation at $.payload.holder_name"),
            ("a month 13", certificateDraft(c, changes: ["issued_at": .string("2025-13-01")]).signed(by: [notary]),
             "schema_violation at $.payload.issued_at"),
            ("a date with slashes", certificateDraft(c, changes: ["issued_at": .string("2025/03/01")]).signed(by: [notary]),
             "schema_violation at $.payload.issued_at"),
            ("created_at without a T and an offset", badCreatedAt, "schema_violation at $.created_at"),
            ("a USCI with a wrong check character in the envelope", badWriterOrg.signed(by: [notary]), "schema_violation at $.writer_org"),
            ("a USCI with a wrong check character in the payload",
             c.record(.orgRegistered, by: c.justice, payload: Fixture.payload(.orgRegistered).with(["org": .string(badOrgCheck)])),
             "schema_violation at $.payload.org"),
            ("a document type that does not exist", certificateDraft(c, changes: ["doc_type": .string("court_judgment")]).signed(by: [notary]),
             "schema_violation at $.payload.doc_type"),
            ("a wrong enum in a nested object",
             certificateDraft(c, changes: ["renditions": .array([.object(["lang": .string("zh-Hans"), "format": .string("DOCX"),
                                                                          "role": .string("original"), "sha256": .string(Fixture.digest("x"))])])])
                .signed(by: [notary]),
             "schema_violation at $.payload.renditions[0].format"),
            ("an empty renditions list", certificateDraft(c, changes: ["renditions": .array([])]).signed(by: [notary]),
             "schema_violation at $.payload.renditions"),
            ("a full name where a masked name goes", certificateDraft(c, changes: ["holder_masked": .string("张三丰")]).signed(by: [notary]),
             "schema_violation at $.payload.holder_masked"),
            ("an upper-case digest",
             certificateDraft(c, changes: ["renditions": .array([.object(["lang": .string("zh-Hans"), "format": .string("PDF"),
                                                                          "role": .string("original"), "sha256": .string(Fixture.digest("x").uppercased())])])])
                .signed(by: [notary]),
             "schema_violation at $.payload.renditions[0].sha256"),
        ]
        for (name, input, want) in cases { XCTAssertEqual(refusal(input, log), want, name) }
    }

    func testUnknownRecordTypeIsRefused() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let bytes = certificateDraft(c).signed(by: [c.notary.signer])
        guard case var .object(members) = try JSONParser.parse(bytes, maxBytes: Record.maxBytes) else { return XCTFail("an object") }
        members["type"] = .string("WITNESS_POLICY_SET")
        XCTAssertEqual(refusal(CanonicalJSON.serialize(.object(members)), log), "schema_violation at $.type")
    }

    func testBadRefsAreRefused() {
        let c = Consortium()
        let log = RecordLog(c)
        let certificate = log.issue(.notarialCertificate)
        let other = log.issue(.notarialCertificate)
        let penalty = log.creditEvent()
        func ref(_ r: LoggedRecord, _ rel: String) -> Ref { Ref(recordID: r.record.recordID, rel: rel) }
        var selfRef = c.draft(.documentCorrected, by: c.notary, payload: Fixture.payload(.documentCorrected))
        selfRef.refs = [Ref(recordID: selfRef.recordID, rel: "target")]
        let cases: [(String, [UInt8])] = [
            ("a record that refers to itself", selfRef.signed(by: [c.notary.signer])),
            ("two targets", c.record(.documentCorrected, by: c.notary, refs: [ref(certificate, "target"), ref(other, "target")],
                                     payload: Fixture.payload(.documentCorrected))),
            ("a status record without a target", c.record(.documentRevoked, by: c.notary, payload: Fixture.payload(.documentRevoked))),
            ("a target on a type that takes none", c.record(.creditEvent, by: c.justice, refs: [ref(penalty, "target")],
                                                            payload: Fixture.payload(.creditEvent))),
            ("a target on a new document", c.record(.documentIssued, by: c.notary, refs: [ref(certificate, "target")],
                                                    payload: Fixture.payload(.documentIssued))),
            ("the same record referenced twice", c.record(.documentIssued, by: c.notary, refs: [ref(certificate, "case"), ref(certificate, "evidence")],
                                                          payload: Fixture.payload(.documentIssued))),
            ("a supersession with a target instead of new/old",
             c.record(.documentSuperseded, by: c.notary, refs: [ref(certificate, "target")], payload: Fixture.payload(.documentSuperseded))),
            ("a supersession without its old document",
             c.record(.documentSuperseded, by: c.notary, refs: [ref(other, "new")], payload: Fixture.payload(.documentSuperseded))),
            ("evidence cited by a record that is not a document",
             c.record(.documentRevoked, by: c.notary, refs: [ref(certificate, "target"), ref(other, "evidence")], payload: Fixture.payload(.documentRevoked))),
        ]
        for (name, bytes) in cases { XCTAssertEqual(refusal(bytes, log), "record_bad_refs", name) }
        XCTAssertEqual(refusal(c.record(.documentSuperseded, by: c.notary, refs: [ref(other, "new"), ref(certificate, "old")],
                                        payload: Fixture.payload(.documentSuperseded)), log), "admitted")
        var unknownRel = c.draft(.documentCorrected, by: c.notary, payload: Fixture.payload(.documentCorrected))
        unknownRel.refs = [Ref(recordID: certificate.record.recordID, rel: "amends")]
        XCTAssertEqual(refusal(unknownRel.signed(by: [c.notary.signer]), log), "schema_violation at $.refs[0].rel")
    }

    func testTamperedProofOrRecordFailsTheSignature() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let bytes = certificateDraft(c).signed(by: [c.notary.signer])
        guard case let .object(members) = try JSONParser.parse(bytes, maxBytes: Record.maxBytes),
              case var .object(proof) = members["proof"], var value = proof["proofValue"]?.string else { return XCTFail("a proof") }
        // Change the last base58 digit by one: still 'z' + 64 bytes, a different signature.
        let base58 = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        let last = base58.firstIndex(of: value.removeLast())!
        value.append(base58[last == 0 ? 1 : last - 1])
        proof["proofValue"] = .string(value)
        var flippedProof = members
        flippedProof["proof"] = .object(proof)
        XCTAssertEqual(refusal(CanonicalJSON.serialize(.object(flippedProof)), log), "signature_invalid")

        var tampered = members
        tampered["payload"] = .object(Fixture.payload(.documentIssued).with(["doc_number": .string("(2025)川成证字第2号")]))
        XCTAssertEqual(refusal(CanonicalJSON.serialize(.object(tampered)), log), "signature_invalid", "a payload edited after signing")

        var garbled = members
        var garbledProof = proof
        garbledProof["proofValue"] = .string("z3mJr7AoUXx2Wqd")
        garbled["proof"] = .object(garbledProof)
        XCTAssertEqual(refusal(CanonicalJSON.serialize(.object(garbled)), log), "record_bad_proof", "a proofValue that is not 64 bytes")

        XCTAssertEqual(refusal(bytes, log), "admitted")
    }

    func testProofByAnUnregisteredKeyIsRefused() {
        let c = Consortium()
        let log = RecordLog(c)
        let unregistered = RecordSigner(org: c.notary.usci, keyID: "k2", key: Ed25519PrivateKey.generate())
        var draft = certificateDraft(c)
        draft.keyID = "k2"
        XCTAssertEqual(refusal(draft.signed(by: [unregistered]), log), "key_unknown", "an unregistered key id")
        let impostor = RecordSigner(org: c.notary.usci, keyID: TestOrg.keyID, key: Ed25519PrivateKey.generate())
        XCTAssertEqual(refusal(certificateDraft(c).signed(by: [impostor]), log), "signature_invalid", "another key under the registered id")
        let stranger = TestOrg(name: "not a member", serial: 998, role: .notaryOffice)
        XCTAssertEqual(refusal(c.record(.documentIssued, by: stranger, payload: Fixture.payload(.documentIssued)), log), "key_unknown",
                       "an organisation that is not a member")
    }

    func testRetiredKeyIsRefusedAfterRotation() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let newKey = Ed25519PrivateKey.generate()
        let rotation = c.record(.memberKeyRotated, by: c.justice, payload: [
            "org": .string(c.notary.usci),
            "add_keys": .array([Fixture.keyEntry("k2", newKey.publicKey)]),
            "retire_key_ids": .array([.string("k1")]),
        ], cosigners: [c.court])
        let beforeRotation = certificateDraft(c).signed(by: [c.notary.signer])
        XCTAssertEqual(refusal(beforeRotation, log), "admitted")
        log.append(rotation)
        XCTAssertNil(log.registry.key(org: c.notary.usci, keyID: "k1"))
        XCTAssertEqual(log.registry.key(org: c.notary.usci, keyID: "k2"), newKey.publicKey)

        XCTAssertEqual(refusal(beforeRotation, log), "key_unknown", "a record signed with the retired key")
        XCTAssertEqual(refusal(certificateDraft(c).signed(by: [c.notary.signer]), log), "key_unknown")
        var draft = certificateDraft(c)
        draft.keyID = "k2"
        XCTAssertEqual(refusal(draft.signed(by: [RecordSigner(org: c.notary.usci, keyID: "k2", key: newKey)]), log), "admitted",
                       "a record signed with the new key")
    }

    func testOrdinaryRecordCarriesExactlyOneProofByTheWriter() {
        let c = Consortium()
        let log = RecordLog(c)
        let draft = certificateDraft(c)
        XCTAssertEqual(refusal(draft.signed(by: [c.notary.signer, c.justice.signer]), log), "record_bad_proof", "two proofs")
        XCTAssertEqual(refusal(draft.signed(by: [c.notary.signer, c.notary.signer]), log), "record_bad_proof", "the writer's proof twice")
        XCTAssertEqual(refusal(draft.signed(by: [c.notary2.signer]), log), "record_bad_proof", "a proof by another member only")
        // Governance proof sets: one proof per organisation, the writer's among them.
        let admitted = c.draft(.memberSuspended, by: c.justice, payload: Fixture.payload(.memberSuspended, subject: c.lab))
        XCTAssertEqual(refusal(admitted.signed(by: [c.justice.signer, c.court.signer]), log), "admitted")
        XCTAssertEqual(refusal(admitted.signed(by: [c.court.signer, c.justice.signer]), log), "admitted", "proof order does not matter")
        XCTAssertEqual(refusal(admitted.signed(by: [c.justice.signer, c.justice.signer]), log), "record_bad_proof", "one organisation twice")
        XCTAssertEqual(refusal(admitted.signed(by: [c.court.signer, c.notary.signer]), log), "record_bad_proof", "no proof by the writer")
    }

    func testHolderNameAndIdentityNumberNeverReachTheRecordBytes() throws {
        let c = Consortium()
        let log = RecordLog(c)
        let holderName = "张三丰"
        let holderID = "51010519800101123X"
        XCTAssertEqual(holderID.count, 18)
        let bytes = certificateDraft(c, changes: [
            "holder_hmac": .string(c.notary.personHMAC(holderID)),
            "holder_masked": .string(String(holderName.prefix(1)) + "*"),
        ]).signed(by: [c.notary.signer])
        let record = try log.admit(bytes)
        XCTAssertEqual(record.string("holder_masked"), "张*")
        XCTAssertEqual(record.string("holder_hmac"), c.notary.personHMAC(holderID))

        let forbidden: [(String, String)] = [
            ("the full name", holderName),
            ("the given name", String(holderName.dropFirst())),
            ("the ID number", holderID),
            ("the ID number's first 17 digits", String(holderID.prefix(17))),
            ("the plain SHA-256 of the ID number (hex)", SHA256.hash(holderID).hex),
            ("the plain SHA-256 of the ID number (base64url)", Fixture.base64URL(SHA256.hash(holderID).bytes)),
            ("the plain SHA-256 of the ID number (base64)", SHA256.hash(holderID).base64),
        ]
        for (what, text) in forbidden {
            XCTAssertFalse(Fixture.contains(bytes, Array(text.utf8)), "the record bytes contain \(what)")
        }
        // The HMAC is keyed per issuer: another office's HMAC of the same person differs, so
        // records cannot be joined across issuers without their keys.
        XCTAssertNotEqual(c.notary.personHMAC(holderID), c.notary2.personHMAC(holderID))
    }
}
