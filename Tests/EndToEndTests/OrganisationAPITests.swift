// Organisation-only reads signed with RFC 9421 (Ed25519 over "@method" "@path" "@query"), and
// the file check of POST /v1/verify, against a live node. Every refusal is a problem document
// with its stable code; nothing is answered to an unsigned, stale, forged or foreign request.
import API
import CinnabarCrypto
import Foundation
import Node
import Records
import XCTest

final class OrganisationAPITests: XCTestCase {
    var demo: DemoNode!
    override func setUpWithError() throws { demo = try DemoNode() }
    override func tearDown() { demo = nil }

    func signer(_ org: String) throws -> RecordSigner { try NodeDirectory(demo.ledger).loadOrganisationKey(org).signer() }

    /// GET `target` signed by `signer` (created `skew` seconds from now), optionally sent to another path.
    func signedGET(_ target: String, by signer: RecordSigner, keyID: String? = nil, skew: Int64 = 0,
                   sendTo sent: String? = nil) throws -> (status: Int, headers: [String: String], json: [String: Any]) {
        let h = MessageSignature.headers(method: "GET", target: target, created: Int64(Date().timeIntervalSince1970) + skew,
                                         keyID: keyID ?? signer.verificationMethod, key: signer.key)
        return try httpRequest("GET", demo.url + (sent ?? target), headers: ["Signature-Input": h.signatureInput, "Signature": h.signature])
    }

    func testTheIssuerAndACourtReadTheFullHistoryOfACode() throws {
        let code = try XCTUnwrap(demo.codes["notarial-revoked"])
        for org in ["notary", "court", "bureau"] {
            let answer = try signedGET("/v1/history/\(code)", by: try signer(org))
            XCTAssertEqual(answer.status, 200, "\(org): \(answer.json)")
            let records = try XCTUnwrap(answer.json["records"] as? [[String: Any]])
            XCTAssertEqual(records.map { $0["type"] as? String }, ["DOCUMENT_ISSUED", "DOCUMENT_REVOKED"])
            for r in records {
                XCTAssertEqual(r["key_id"] as? String, "k1")
                XCTAssertNotNil(r["leaf_index"] as? Int)
                XCTAssertNotNil(r["record"] as? [String: Any], "the record itself is returned")
                XCTAssertEqual(r["writer_role"] as? String, "NOTARY_OFFICE")
            }
        }
    }

    func testACaseListsItsRecordsToItsParticipantsOnly() throws {
        let code = try XCTUnwrap(demo.codes["case"])
        let answer = try signedGET("/v1/cases/\(code)", by: try signer("notary"))
        XCTAssertEqual(answer.status, 200, "\(answer.json)")
        let types = try XCTUnwrap(answer.json["records"] as? [[String: Any]]).compactMap { $0["type"] as? String }
        XCTAssertEqual(types.first, "CASE_OPENED")
        XCTAssertTrue(types.contains("EVIDENCE_DEPOSITED"), "\(types)")

        let outsider = try signedGET("/v1/cases/\(code)", by: try signer("lab"))
        XCTAssertEqual(outsider.status, 403)
        XCTAssertEqual(outsider.json["code"] as? String, "NOT_AUTHORISED")

        let notACase = try signedGET("/v1/cases/\(try XCTUnwrap(demo.codes["notarial-valid"]))", by: try signer("notary"))
        XCTAssertEqual(notACase.status, 400)
        XCTAssertEqual(notACase.json["code"] as? String, "not_a_case")
    }

    func testUnsignedStaleForgedAndForeignRequestsAreRefused() throws {
        let code = try XCTUnwrap(demo.codes["notarial-valid"])
        let path = "/v1/history/\(code)"
        let notary = try signer("notary")

        let unsigned = try httpRequest("GET", demo.url + path)
        XCTAssertEqual(unsigned.status, 401)
        XCTAssertEqual(unsigned.json["code"] as? String, "SIGNATURE_REQUIRED")
        XCTAssertTrue(unsigned.headers["accept-signature"]?.contains("ed25519") ?? false, "\(unsigned.headers)")

        // Signed for one path, sent to another: the base differs, the signature fails.
        let other = "/v1/history/\(try XCTUnwrap(demo.codes["notarial-revoked"]))"
        let replayed = try signedGET(path, by: notary, sendTo: other)
        XCTAssertEqual(replayed.status, 401)
        XCTAssertEqual(replayed.json["code"] as? String, "SIGNATURE_INVALID")

        let stale = try signedGET(path, by: notary, skew: -3600)
        XCTAssertEqual(stale.status, 401)
        XCTAssertEqual(stale.json["code"] as? String, "SIGNATURE_INVALID")

        // The notary's key id, someone else's key.
        let forger = RecordSigner(org: notary.org, keyID: notary.keyID, key: Ed25519PrivateKey.generate())
        let forged = try signedGET(path, by: forger)
        XCTAssertEqual(forged.status, 401)
        XCTAssertEqual(forged.json["code"] as? String, "SIGNATURE_INVALID")

        let unknownKey = try signedGET(path, by: notary, keyID: "cinnabar:org:\(notary.org)#k9")
        XCTAssertEqual(unknownKey.status, 403)
        XCTAssertEqual(unknownKey.json["code"] as? String, "NOT_A_MEMBER")

        let garbage = try httpRequest("GET", demo.url + path, headers: ["Signature-Input": "cinnabar=(\"@method\"", "Signature": "cinnabar=:AA==:"])
        XCTAssertEqual(garbage.status, 401)
        XCTAssertEqual(garbage.json["code"] as? String, "SIGNATURE_INVALID")
    }

    func testTheCLIReadsHistoryWithItsKeyFile() throws {
        let code = try XCTUnwrap(demo.codes["notarial-corrected"])
        let ok = try cinnabar(["history", code, "--as", demo.ledger + "/orgs/notary.key", "--node", demo.url])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("DOCUMENT_CORRECTED"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("(key k1)"), ok.stdout)
        let refused = try cinnabar(["history", code, "--as", demo.ledger + "/orgs/lab.key", "--node", demo.url])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("Error: NOT_AUTHORISED"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1)
    }

    // MARK: POST /v1/verify

    func verifyFile(_ body: [UInt8], contentType: String = "application/json", query: String = "") throws
        -> (status: Int, headers: [String: String], json: [String: Any]) {
        try httpRequest("POST", demo.url + "/v1/verify" + query, body: body, headers: ["Content-Type": contentType])
    }

    func testAFileIsFoundByItsDigestWithOrWithoutItsCode() throws {
        let code = try XCTUnwrap(demo.codes["notarial-corrected"])
        let answer = try httpRequest("GET", demo.url + "/v1/verify/\(code)")
        let digest = try XCTUnwrap((answer.json["sha256"] as? [String])?.first)

        let byDigest = try verifyFile(Array("{\"sha256\":\"\(digest)\"}".utf8))
        XCTAssertEqual(byDigest.status, 200, "\(byDigest.json)")
        XCTAssertEqual(byDigest.json["matched"] as? Bool, true)
        let match = try XCTUnwrap((byDigest.json["matches"] as? [[String: Any]])?.first)
        XCTAssertEqual(match["result"] as? String, "VALID_CORRECTED")
        XCTAssertEqual(match["current"] as? Bool, true)
        XCTAssertEqual((match["rendition"] as? [String: Any])?["role"] as? String, "original")
        XCTAssertNil(match["code"], "a code is never derived from a digest")

        let withCode = try verifyFile(Array("{\"sha256\":\"\(digest.uppercased())\",\"code\":\"\(code.lowercased())\"}".utf8))
        XCTAssertEqual(withCode.json["matched"] as? Bool, true)
        XCTAssertEqual((withCode.json["matches"] as? [[String: Any]])?.first?["code"] as? String, code)

        let otherCode = try verifyFile(Array("{\"sha256\":\"\(digest)\",\"code\":\"\(try XCTUnwrap(demo.codes["notarial-valid"]))\"}".utf8))
        XCTAssertEqual(otherCode.status, 200)
        XCTAssertEqual(otherCode.json["matched"] as? Bool, false, "the file belongs to another document")
    }

    func testTheFileItselfCanBeSentAndAnExhibitIsFound() throws {
        let exhibit = Array("CCTV export, camera 3, 2026-11-02".utf8)
        let record = try RecordWriter(key: try NodeDirectory(demo.ledger).loadOrganisationKey("notary"),
                                      codeKey: try NodeDirectory(demo.ledger).loadCodeKey())
            .evidence(sha256: SHA256.hash(exhibit).hex)
        XCTAssertEqual(try httpRequest("POST", demo.url + "/v1/records", body: record.bytes).status, 201)

        let sent = try verifyFile(exhibit, contentType: "application/octet-stream", query: "?code=\(record.code.value)")
        XCTAssertEqual(sent.status, 200, "\(sent.json)")
        XCTAssertEqual(sent.json["sha256"] as? String, SHA256.hash(exhibit).hex)
        let match = try XCTUnwrap((sent.json["matches"] as? [[String: Any]])?.first)
        XCTAssertEqual(match["kind"] as? String, "EVIDENCE_DEPOSITED")
        XCTAssertEqual(match["record_id"] as? String, record.id)

        let unknown = try verifyFile(Array("not deposited".utf8), contentType: "application/octet-stream")
        XCTAssertEqual(unknown.json["matched"] as? Bool, false)
        XCTAssertEqual((unknown.json["matches"] as? [Any])?.count, 0)
    }

    func testBadFileChecksAreProblemsWithStableCodes() throws {
        let unused = VerificationCode.generate(kind: .notarial).value
        let last = unused.last!
        let mistyped = unused.dropLast() + (last == "0" ? "1" : "0")
        let cases: [(body: String, type: String, status: Int, code: String)] = [
            ("{\"sha256\":\"abc\"}", "application/json", 400, "invalid_digest"),
            ("{\"sha256\":1}", "application/json", 400, "invalid_digest"),
            ("{\"digest\":\"00\"}", "application/json", 400, "invalid_request"),
            ("not json", "application/json", 400, "invalid_json"),
            ("{\"sha256\":\"\(String(repeating: "0", count: 64))\",\"code\":\"\(mistyped)\"}", "application/json", 400, "code_bad_check_character"),
            ("{\"sha256\":\"\(String(repeating: "0", count: 64))\",\"code\":\"\(unused)\"}", "application/json", 404, "NOT_FOUND"),
            ("x", "text/plain", 415, "unsupported_media_type"),
        ]
        for c in cases {
            let answer = try verifyFile(Array(c.body.utf8), contentType: c.type)
            XCTAssertEqual(answer.status, c.status, "\(c.body): \(answer.json)")
            XCTAssertEqual(answer.json["code"] as? String, c.code, c.body)
        }
    }
}

/// The RFC 9421 profile without a node: the signature base, parsing, and what is refused.
final class MessageSignatureTests: XCTestCase {
    let key = Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32))!
    let keyID = "cinnabar:org:12510100MB0000001U#k1"

    func testTheSignatureBaseFollowsRFC9421Section2_5() {
        let parameters = MessageSignature.parameters(created: 1_764_400_000, keyID: keyID)
        XCTAssertEqual(String(decoding: MessageSignature.base(method: "get", target: "/v1/cases/K1W7?x=1", parameters: parameters), as: UTF8.self), """
            "@method": GET
            "@path": /v1/cases/K1W7
            "@query": ?x=1
            "@signature-params": ("@method" "@path" "@query");created=1764400000;keyid="\(keyID)";alg="ed25519"
            """)
        XCTAssertTrue(String(decoding: MessageSignature.base(method: "GET", target: "/v1/x", parameters: parameters), as: UTF8.self)
            .contains("\"@query\": ?\n"), "an absent query is a lone ?")
    }

    func testWhatIsSignedVerifiesAndNothingElse() throws {
        let h = MessageSignature.headers(method: "GET", target: "/v1/history/ABC", created: 1000, keyID: keyID, key: key)
        let signed = try MessageSignature.parse(signatureInput: h.signatureInput, signature: h.signature)
        XCTAssertEqual(signed.keyID, keyID)
        XCTAssertEqual(signed.created, 1000)
        XCTAssertNoThrow(try MessageSignature.verify(signed, method: "GET", target: "/v1/history/ABC", key: key.publicKey, now: 1000))
        XCTAssertThrowsError(try MessageSignature.verify(signed, method: "POST", target: "/v1/history/ABC", key: key.publicKey, now: 1000))
        XCTAssertThrowsError(try MessageSignature.verify(signed, method: "GET", target: "/v1/history/ABC?x", key: key.publicKey, now: 1000))
        XCTAssertThrowsError(try MessageSignature.verify(signed, method: "GET", target: "/v1/history/ABC", key: key.publicKey, now: 1301)) {
            XCTAssertEqual($0 as? MessageSignatureError, .stale(seconds: -301))
        }
        let other = Ed25519PrivateKey(seed: [UInt8](repeating: 8, count: 32))!
        XCTAssertThrowsError(try MessageSignature.verify(signed, method: "GET", target: "/v1/history/ABC", key: other.publicKey, now: 1000)) {
            XCTAssertEqual($0 as? MessageSignatureError, .badSignature)
        }
    }

    func testHeadersOutsideTheProfileAreRefused() {
        let sig = "sig1=:\(Base64.encode([UInt8](repeating: 1, count: 64))):"
        let refused: [(String, String)] = [
            ("sig1=(\"@method\" \"@path\");created=1;keyid=\"k\"", "cover exactly"),
            ("sig1=(\"@method\" \"@path\" \"@query\");keyid=\"k\"", "created"),
            ("sig1=(\"@method\" \"@path\" \"@query\");created=1", "keyid"),
            ("sig1=(\"@method\" \"@path\" \"@query\");created=1;keyid=\"k\";alg=\"rsa-pss-sha512\"", "ed25519"),
            ("sig1=(\"@method\" \"@path\" \"@query\");created=1;keyid=\"k\", sig2=(\"@method\")", "only one"),
            ("sig1=(\"@method\" \"@path\" \"@query\";created=1;keyid=\"k\"", "malformed"),
            ("sig1=(\"@method\" \"@path\" \"@query\");created=1;keyid=\"k\";color=\"red\"", "unknown signature parameter"),
        ]
        for (input, why) in refused {
            XCTAssertThrowsError(try MessageSignature.parse(signatureInput: input, signature: sig), input) {
                XCTAssertTrue("\($0)".contains(why), "\(input): \($0)")
            }
        }
        XCTAssertThrowsError(try MessageSignature.parse(signatureInput: nil, signature: sig)) { XCTAssertEqual($0 as? MessageSignatureError, .missing) }
        XCTAssertThrowsError(try MessageSignature.parse(signatureInput: "sig1=(\"@method\" \"@path\" \"@query\");created=1;keyid=\"k\"",
                                                        signature: "sig1=:AAAA:"), "a short signature")
        // Extra RFC 9421 parameters and escapes are understood, and the parameters are signed as sent.
        XCTAssertEqual(try MessageSignature.parse(signatureInput: "sig1=(\"@method\" \"@path\" \"@query\");created=1;keyid=\"a\\\"b\";nonce=\"n\"",
                                                  signature: sig).keyID, "a\"b")
    }
}
