// The record API over a real socket: a signed record in, a receipt out that verifies offline
// (leaf, inclusion proof, signed checkpoint, C2SP tlog-proof under a tlog-policy); duplicates,
// refusals, record reads, citizen code lookups and their rate limit.
import API
import CinnabarCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MerkleLog
import Node
import Records
import SignedNote
import XCTest

final class RecordAPITests: XCTestCase {
    var demo: DemoNode!
    var base: String { demo.url }
    var ledger: String { demo.ledger }
    var demoCodes: [String: String] { demo.codes }

    override func setUpWithError() throws { demo = try DemoNode() }
    override func tearDown() { demo = nil }

    func request(_ method: String, _ path: String, body: [UInt8]? = nil) throws -> (status: Int, headers: [String: String], json: [String: Any]) {
        try httpRequest(method, base + path, body: body)
    }

    func writer() throws -> RecordWriter {
        let directory = NodeDirectory(ledger)
        return try RecordWriter(key: try directory.loadOrganisationKey("notary"), codeKey: try directory.loadCodeKey())
    }

    func testAReceiptVerifiesOfflineUnderThePolicy() throws {
        let record = try writer().evidence(sha256: SHA256.hash("exhibit A").hex)
        let response = try request("POST", "/v1/records", body: record.bytes)
        XCTAssertEqual(response.status, 201, "\(response.json)")
        let r = response.json
        XCTAssertEqual(r["record_id"] as? String, record.id)
        XCTAssertEqual(r["duplicate"] as? Bool, false)
        let leaf = try XCTUnwrap(Base64.decode(try XCTUnwrap(r["leaf"] as? String)))
        XCTAssertEqual(leaf, [0x01] + record.bytes, "the leaf is the tag and the exact record bytes")
        let index = try XCTUnwrap((r["leaf_index"] as? NSNumber)?.uint64Value)
        let size = try XCTUnwrap((r["tree_size"] as? NSNumber)?.uint64Value)
        let proof = try XCTUnwrap(r["inclusion_proof"] as? [String]).map { try XCTUnwrap(Hash(base64: $0)) }
        let note = try Note(parsing: try XCTUnwrap(r["checkpoint"] as? String))
        let checkpoint = try Checkpoint(parsing: note.text)
        XCTAssertEqual(checkpoint.size, size)
        XCTAssertNoThrow(try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf), index: index, size: size, proof: proof, root: checkpoint.root))

        // The same proof as C2SP tlog-proof text, checked against a tlog-policy of the validators.
        let genesis = try NodeDirectory(ledger).loadGenesis()
        let policyText = genesis.validators.map { "witness \($0.name) \($0.key)\n" }.joined()
            + "group validators \(genesis.validators.count) " + genesis.validators.map(\.name).joined(separator: " ") + "\nquorum validators\n"
        let policy = try TlogPolicy(parsing: policyText)
        let tlog = try TlogProof(parsing: try XCTUnwrap(r["tlog_proof"] as? String))
        XCTAssertNoThrow(try tlog.verify(leafHash: RFC6962.leafHash(leaf), policy: policy))
        var tampered = leaf
        tampered[tampered.count / 2] ^= 1
        XCTAssertThrowsError(try tlog.verify(leafHash: RFC6962.leafHash(tampered), policy: policy))

        // Submitted again: the original receipt, nothing written.
        let again = try request("POST", "/v1/records", body: record.bytes)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json["duplicate"] as? Bool, true)
        XCTAssertEqual((again.json["leaf_index"] as? NSNumber)?.uint64Value, index)

        // And it can be read back.
        let read = try request("GET", "/v1/records/\(record.id)")
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.json["record"] as? String, String(decoding: record.bytes, as: UTF8.self))
    }

    /// `POST /v1/batches`: one record per line, each admitted on its own, every line answered in
    /// order — logged, already logged, or the problem that kept it out — and nothing written for a
    /// refused line.
    func testABatchAnswersEveryLineInOrderAndLogsOnlyTheGoodOnes() throws {
        let writer = try writer()
        let earlier = writer.evidence(sha256: SHA256.hash("batch: logged before").hex)
        XCTAssertEqual(try request("POST", "/v1/records", body: earlier.bytes).status, 201)
        let fresh = (0..<3).map { writer.evidence(sha256: SHA256.hash("batch: exhibit \($0)").hex) }
        let refused = writer.evidence(sha256: SHA256.hash("batch: not canonical").hex)
        let spaced = Array(String(decoding: refused.bytes, as: UTF8.self).replacingOccurrences(of: ":", with: ": ").utf8)
        let sizeBefore = try XCTUnwrap((try request("GET", "/v1/log").json["size"] as? NSNumber)?.uint64Value)

        // Lines: 1 new, 2 new (CRLF), 3 blank, 4 not JSON, 5 logged before, 6 not canonical, 7 new,
        // 8 the same record as line 1 again.
        let lines: [[UInt8]] = [fresh[0].bytes, fresh[1].bytes + [0x0D], [], Array("not json".utf8), earlier.bytes, spaced,
                                fresh[2].bytes, fresh[0].bytes, [UInt8](repeating: 0x20, count: 69_999) + [0x7B]]
        let body = Array(lines.joined(separator: [0x0A]))
        let answer = try request("POST", "/v1/batches", body: body)
        XCTAssertEqual(answer.status, 200, "\(answer.json)")
        let results = try XCTUnwrap(answer.json["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { ($0["line"] as? NSNumber)?.intValue }, [1, 2, 4, 5, 6, 7, 8, 9])
        let statuses = results.map { ($0["status"] as? NSNumber)?.intValue ?? 0 }
        XCTAssertEqual(Array(statuses[1...5]), [201, 422, 200, 422, 201])
        XCTAssertEqual(Set([statuses[0], statuses[6]]), [200, 201], "one of the two copies is logged, the other answered as a duplicate")
        XCTAssertEqual((results[2]["problem"] as? [String: Any])?["code"] as? String, "record_invalid_json")
        XCTAssertEqual((results[4]["problem"] as? [String: Any])?["code"] as? String, "record_not_canonical")
        XCTAssertEqual(statuses[7], 413, "a line too large for a leaf is answered as a single POST would be")
        XCTAssertEqual((results[7]["problem"] as? [String: Any])?["code"] as? String, "record_too_large")
        XCTAssertEqual(answer.json["not_logged"] as? Int, 3)

        // Every receipt verifies offline, exactly as a single POST's would.
        let receipts = results.compactMap { $0["receipt"] as? [String: Any] }
        XCTAssertEqual(receipts.count, 5)
        for (receipt, record) in zip(receipts, [fresh[0], fresh[1], earlier, fresh[2], fresh[0]]) {
            XCTAssertEqual(receipt["record_id"] as? String, record.id)
            let leaf = try XCTUnwrap(Base64.decode(try XCTUnwrap(receipt["leaf"] as? String)))
            XCTAssertEqual(leaf, [0x01] + record.bytes)
            let index = try XCTUnwrap((receipt["leaf_index"] as? NSNumber)?.uint64Value)
            let size = try XCTUnwrap((receipt["tree_size"] as? NSNumber)?.uint64Value)
            let proof = try XCTUnwrap(receipt["inclusion_proof"] as? [String]).map { try XCTUnwrap(Hash(base64: $0)) }
            let checkpoint = try Checkpoint(parsing: try Note(parsing: try XCTUnwrap(receipt["checkpoint"] as? String)).text)
            XCTAssertNoThrow(try InclusionProof.verify(leafHash: RFC6962.leafHash(leaf), index: index, size: size, proof: proof,
                                                       root: checkpoint.root))
        }
        // The record sent twice in the batch is logged once: both lines name the same leaf.
        XCTAssertEqual((receipts[0]["leaf_index"] as? NSNumber)?.uint64Value, (receipts[4]["leaf_index"] as? NSNumber)?.uint64Value)
        XCTAssertEqual(Set([receipts[0]["duplicate"] as? Bool, receipts[4]["duplicate"] as? Bool]), [false, true])
        XCTAssertEqual(receipts[2]["duplicate"] as? Bool, true)

        // The log grew by the three new records and their blocks' trailers, nothing else.
        let log = try request("GET", "/v1/log").json
        let size = try XCTUnwrap((log["size"] as? NSNumber)?.uint64Value)
        let trailers = Set(receipts.filter { $0["duplicate"] as? Bool == false }.compactMap { ($0["block_height"] as? NSNumber)?.uint64Value }).count
        XCTAssertEqual(size - sizeBefore, UInt64(3 + trailers), "\(log)")
        XCTAssertEqual(try request("GET", "/v1/records/\(refused.id)").status, 404)
    }

    func testABatchOutsideItsBoundsIsRefusedWhole() throws {
        let sizeBefore = try request("GET", "/v1/log").json["size"] as? NSNumber
        let one = try writer().evidence(sha256: SHA256.hash("batch: bound").hex).bytes
        let cases: [([UInt8], Int, String)] = [
            ([], 400, "empty_batch"),
            (Array("\n \r\n\n".utf8), 400, "empty_batch"),
            (Array([[UInt8]](repeating: one, count: BatchLimits.maxRecords + 1).joined(separator: [0x0A])), 413, "batch_too_large"),
            ([UInt8](repeating: 0x20, count: BatchLimits.maxBytes + 1), 413, "batch_too_large"),
            ([UInt8](repeating: 0x0A, count: BatchLimits.maxBytes), 400, "empty_batch"),
        ]
        for (body, status, code) in cases {
            let r = try request("POST", "/v1/batches", body: body)
            XCTAssertEqual(r.status, status, code)
            XCTAssertEqual(r.headers["content-type"], "application/problem+json", code)
            XCTAssertEqual(r.json["code"] as? String, code)
        }
        XCTAssertEqual(try request("GET", "/v1/log").json["size"] as? NSNumber, sizeBefore, "a refused batch writes nothing")
    }

    func testRefusedRecordsGetProblemDocuments() throws {
        let good = try writer().evidence(sha256: SHA256.hash("exhibit B").hex).bytes
        let spaced = Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: ":", with: ": ").utf8)
        let cases: [([UInt8], Int, String)] = [
            (Array("not json".utf8), 422, "record_invalid_json"),
            (spaced, 422, "record_not_canonical"),
            ([UInt8](repeating: 0x20, count: 70_000), 413, "record_too_large"),
        ]
        for (body, status, code) in cases {
            let r = try request("POST", "/v1/records", body: body)
            XCTAssertEqual(r.status, status, code)
            XCTAssertEqual(r.headers["content-type"], "application/problem+json", code)
            XCTAssertEqual(r.json["code"] as? String, code)
        }
        XCTAssertEqual(try request("GET", "/v1/records/nothex").json["code"] as? String, "invalid_record_id")
        XCTAssertEqual(try request("GET", "/v1/records/\(String(repeating: "0", count: 32))").status, 404)
    }

    func testCitizensLookUpCodesAsTheyTypeThem() throws {
        let expected = ["notarial-valid": "VALID", "notarial-corrected": "VALID_CORRECTED", "notarial-revoked": "REVOKED",
                        "notarial-superseded": "SUPERSEDED", "award-suspended": "SUSPENDED", "award-set-aside": "REVOKED"]
        for (label, result) in expected {
            let code = try XCTUnwrap(demoCodes[label], "dev demo printed no code for \(label)")
            let typed = code.lowercased().replacingOccurrences(of: "-", with: " ")
            let r = try request("GET", "/v1/verify/\(typed.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!)")
            XCTAssertEqual(r.status, 200, label)
            XCTAssertEqual(r.json["result"] as? String, result, label)
            XCTAssertNotNil(r.json["receipt"] as? [String: Any])
            XCTAssertNotNil(r.json["caveat"] as? String)
        }
        let revoked = try request("GET", "/v1/verify/\(demoCodes["notarial-revoked"]!)")
        XCTAssertEqual(revoked.json["void_ab_initio"] as? Bool, true)
        XCTAssertEqual((revoked.json["history"] as? [[String: Any]])?.first?["type"] as? String, "DOCUMENT_REVOKED")
        XCTAssertEqual(revoked.json["holder"] as? String, "阿*")

        // A wrong check character is answered before any lookup; an unknown code is not found.
        var chars = Array(demoCodes["notarial-valid"]!.replacingOccurrences(of: "-", with: ""))
        chars[15] = chars[15] == "0" ? "1" : "0"
        XCTAssertEqual(try request("GET", "/v1/verify/\(String(chars))").json["code"] as? String, "code_bad_check_character")
        XCTAssertEqual(try request("GET", "/v1/verify/\(VerificationCode.generate(kind: .notarial).value)").status, 404)
    }

    /// Answers are cached by code for a tree size and a date: a status record changes the size,
    /// so the next lookup is answered afresh, never from the cache.
    func testACachedAnswerIsNotServedOnceTheDocumentIsRevoked() throws {
        let code = try XCTUnwrap(demoCodes["notarial-valid"])
        let first = try request("GET", "/v1/verify/\(code)")
        XCTAssertEqual(first.json["result"] as? String, "VALID")
        XCTAssertEqual(try request("GET", "/v1/verify/\(code)").json["result"] as? String, "VALID")
        let id = try XCTUnwrap(first.json["record_id"] as? String)
        let today = RecordWriter.today()
        let revocation = try writer().record(.documentRevoked, refs: [Ref(recordID: id, rel: "target")], payload: [
            "scope": .string("whole"), "effect": .string("void_ab_initio"), "effective_from": .string(today),
            "reason": .string("contrary_to_facts"), "decision_number": .string("(2026)川成证撤字第9号"), "announced_at": .string(today),
        ])
        XCTAssertEqual(try request("POST", "/v1/records", body: revocation.bytes).status, 201)
        let after = try request("GET", "/v1/verify/\(code)")
        XCTAssertEqual(after.json["result"] as? String, "REVOKED")
        XCTAssertEqual((after.json["history"] as? [[String: Any]])?.first?["type"] as? String, "DOCUMENT_REVOKED")
    }

    func testAPractitionersPublicCreditProfile() throws {
        let r = try request("GET", "/v1/practitioners/15101201910000001/credit")
        XCTAssertEqual(r.status, 200)
        let entries = try XCTUnwrap(r.json["entries"] as? [[String: Any]])
        let states = Set(entries.compactMap { $0["state"] as? String })
        XCTAssertEqual(states, ["ANNULLED", "AMENDED"], "the reward's publication ended; the penalty was annulled")
        let annulled = try XCTUnwrap(entries.first { $0["state"] as? String == "ANNULLED" })
        XCTAssertEqual(annulled["public_reason"] as? String, "penalty_revoked_by_court")
        XCTAssertEqual(try request("GET", "/v1/practitioners/x/credit").json["code"] as? String, "invalid_licence_number")
        let nobody = try request("GET", "/v1/practitioners/NOBODY-1234/credit").json["entries"] as? [[String: Any]]
        XCTAssertEqual(nobody?.count, 0)
        XCTAssertEqual(try request("GET", "/readyz").status, 200)
    }

    func testCodeLookupsAreRateLimitedPerClient() throws {
        let code = VerificationCode.generate(kind: .notarial).value
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<40 {
            let r = try request("GET", "/v1/verify/\(code)")
            statuses.append(r.status)
            if r.status == 429 { retryAfter = r.headers["retry-after"]; XCTAssertEqual(r.json["code"] as? String, "rate_limited") }
        }
        XCTAssertTrue(statuses.contains(429), "40 rapid lookups were never limited: \(statuses)")
        XCTAssertNotNil(retryAfter)
        XCTAssertNotEqual(try request("GET", "/v1/log").status, 429, "other routes are not limited")
    }

    var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// Every route the server registers is in Specs/openapi.yaml (the witness server's, in
    /// WitnessRoutes.swift, in Specs/witness.md), and live answers match it.
    func testTheServerAndItsOpenAPISpecAgree() throws {
        let spec = try String(contentsOf: packageRoot.appendingPathComponent("Specs/openapi.yaml"), encoding: .utf8)
        let witnessSpec = try String(contentsOf: packageRoot.appendingPathComponent("Specs/witness.md"), encoding: .utf8)
        let apiDir = packageRoot.appendingPathComponent("Sources/API")
        for file in try FileManager.default.contentsOfDirectory(atPath: apiDir.path) where file.hasSuffix(".swift") {
            let source = try String(contentsOf: apiDir.appendingPathComponent(file), encoding: .utf8)
            for part in source.components(separatedBy: "router.").dropFirst() {
                guard let open = part.firstIndex(of: "\""), part.hasPrefix("get(") || part.hasPrefix("post(") else { continue }
                let rest = part[part.index(after: open)...]
                var path = String(rest[..<rest.firstIndex(of: "\"")!])
                if path.hasSuffix("/**") { path = String(path.dropLast(3)) + "/{path}" }
                if file == "WitnessRoutes.swift" {
                    XCTAssertTrue(witnessSpec.contains("POST \(path)"), "witness route \(path) is missing from Specs/witness.md")
                } else {
                    XCTAssertTrue(spec.contains("\n  \(path):"), "route \(path) (\(file)) is missing from Specs/openapi.yaml")
                }
            }
        }
        let exhibit = SHA256.hash("exhibit C").hex
        let evidence = try writer().evidence(sha256: exhibit)
        let record = (id: evidence.id, digest: exhibit)
        XCTAssertEqual(try request("POST", "/v1/records", body: evidence.bytes).status, 201)
        let code = try XCTUnwrap(demoCodes["notarial-revoked"])
        func signedHeaders(_ target: String) throws -> String {
            let signer = try NodeDirectory(ledger).loadOrganisationKey("court").signer()
            let h = MessageSignature.headers(method: "GET", target: target, created: Int64(Date().timeIntervalSince1970),
                                             keyID: signer.verificationMethod, key: signer.key)
            let object = ["Signature-Input": h.signatureInput, "Signature": h.signature]
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let batch = [try writer().evidence(sha256: SHA256.hash("exhibit D").hex).bytes, Array("x".utf8), evidence.bytes]
        let cases = [
            "POST|/v1/batches|/v1/batches|200|{\"Content-Type\": \"application/x-ndjson\"}|"
                + String(decoding: Array(batch.joined(separator: [0x0A])), as: UTF8.self),
            "POST|/v1/batches|/v1/batches|400|{\"Content-Type\": \"application/x-ndjson\"}|\n",
            "GET|/checkpoint|/checkpoint|200", "GET|/v1/log|/v1/log|200",
            "GET|/v1/proofs/inclusion|/v1/proofs/inclusion?index=0&size=1|200",
            "GET|/v1/proofs/inclusion|/v1/proofs/inclusion?index=7&size=2|400",
            "GET|/v1/proofs/consistency|/v1/proofs/consistency?from=1&to=2|200",
            "GET|/tile/{path}|/tile/0/000.p/1|200", "GET|/tile/{path}|/tile/9/000|404",
            "GET|/v1/records/{id}|/v1/records/\(record.id)|200", "GET|/v1/records/{id}|/v1/records/zz|400",
            "GET|/v1/verify/{code}|/v1/verify/\(code.replacingOccurrences(of: "-", with: ""))|200",
            "GET|/v1/verify/{code}|/v1/verify/N0000|400",
            "GET|/v1/bundles/{code}|/v1/bundles/\(code.replacingOccurrences(of: "-", with: ""))|200",
            "GET|/v1/practitioners/{licence}/credit|/v1/practitioners/15101201910000001/credit|200",
            "GET|/healthz|/healthz|200", "GET|/readyz|/readyz|200", "GET|/v1/checkpoint/witnessed|/v1/checkpoint/witnessed|404",
            "POST|/v1/verify|/v1/verify|200|{\"Content-Type\": \"application/json\"}|{\"sha256\": \"\(record.digest)\"}",
            "POST|/v1/verify|/v1/verify?code=\(code)|200|{\"Content-Type\": \"application/octet-stream\"}|some file",
            "POST|/v1/verify|/v1/verify|400|{\"Content-Type\": \"application/json\"}|{}",
            "GET|/v1/history/{code}|/v1/history/\(code)|401",
            "GET|/v1/history/{code}|/v1/history/\(code)|200|\(try signedHeaders("/v1/history/\(code)"))",
            "GET|/v1/cases/{code}|/v1/cases/\(try XCTUnwrap(demoCodes["case"]))|200|\(try signedHeaders("/v1/cases/\(try XCTUnwrap(demoCodes["case"]))"))",
        ]
        let (status, text) = try python3([packageRoot.appendingPathComponent("Tests/Tools/check_openapi.py").path,
                                          packageRoot.appendingPathComponent("Specs/openapi.yaml").path, base] + cases,
                                         in: demo.dir.path)
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("\(cases.count) passed, 0 failed"), text)
    }

    /// Schema-driven fuzzing (schemathesis) against the live node: every answer conforms to
    /// Specs/openapi.yaml, no 5xx, undeclared methods get 405. "Positive data acceptance" is left
    /// out: the spec cannot say that an index must be below a size, or that a code's check
    /// character must match, so such requests are rightly refused with 400.
    func testSchemaFuzzingFindsNothing() throws {
        // Run in the test's temporary directory: schemathesis writes its cache beside it.
        // The hooks add a serializer for POST /v1/batches' application/x-ndjson.
        let (status, text) = try runTool("/usr/bin/env", ["python3", "-m", "schemathesis.cli", "run",
                                                          packageRoot.appendingPathComponent("Specs/openapi.yaml").path,
                                                          "--url", base, "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                                                          "--max-examples", "100", "--seed", "20261129", "--no-color"],
                                         in: URL(fileURLWithPath: demo.dir.path),
                                         environment: ["SCHEMATHESIS_HOOKS": packageRoot.appendingPathComponent("Tests/Tools/schemathesis_hooks.py").path])
        XCTAssertEqual(status, 0, text)
        let generated = text.split(separator: "\n").first { $0.contains(" generated, ") && $0.contains(" passed") }
        let count = generated.flatMap { Int($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") } ?? 0
        XCTAssertGreaterThanOrEqual(count, 1000, "too few requests generated: \(generated ?? "none")")
    }
}
