// The CLI as a notary and a court use it against a live node: deposit a file, look its code up
// and match the file, fetch an offline bundle, check it with no network under a pinned policy,
// and see a one-bit change caught by the check that failed.
import CinnabarCrypto
import Foundation
import XCTest

final class ClientTests: XCTestCase {
    var demo: DemoNode!
    var dir: TemporaryDirectory { demo.dir }
    var ledger: String { demo.ledger }
    var url: String { demo.url }
    var demoCodes: [String: String] { demo.codes }

    override func setUpWithError() throws { demo = try DemoNode() }
    override func tearDown() { demo = nil }

    func testDepositThenVerifyTheFileByItsCode() throws {
        let exhibit = dir.path + "/exhibit.mp4"
        try Data("screen recording of the disputed web page".utf8).write(to: URL(fileURLWithPath: exhibit))
        let deposit = try cinnabar(["deposit", exhibit, "--as", ledger + "/orgs/notary.key", "--code-key", ledger + "/codes.key",
                                    "--node", url, "--case", try XCTUnwrap(demoCodes["case"])])
        XCTAssertEqual(deposit.status, 0, deposit.stderr)
        let codeLine = try XCTUnwrap(deposit.stdout.split(separator: "\n").first { $0.hasPrefix("code") })
        let code = String(codeLine.split(separator: " ", omittingEmptySubsequences: true)[1])
        XCTAssertTrue(code.hasPrefix("E"), code)

        let ok = try cinnabar(["verify", code.lowercased(), "--node", url, "--file", exhibit])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("matches the recorded SHA-256"), ok.stdout)

        let other = dir.path + "/other.mp4"
        try Data("a different file".utf8).write(to: URL(fileURLWithPath: other))
        let mismatch = try cinnabar(["verify", code, "--node", url, "--file", other])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stderr.contains("does not match"), mismatch.stderr)
        XCTAssertEqual(mismatch.stderr.split(separator: "\n").count, 1)

        // --json: the node's receipt with the code the writer made (the node only ever sees its HMAC).
        let second = dir.path + "/second.mp4"
        try Data("a second recording".utf8).write(to: URL(fileURLWithPath: second))
        let asJSON = try cinnabar(["deposit", second, "--as", ledger + "/orgs/notary.key", "--code-key", ledger + "/codes.key", "--node", url, "--json"])
        XCTAssertEqual(asJSON.status, 0, asJSON.stderr)
        let receipt = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [String: Any])
        let jsonCode = try XCTUnwrap(receipt["code"] as? String, asJSON.stdout)
        XCTAssertNotNil(receipt["inclusion_proof"] as? [String])
        let found = try cinnabar(["verify", jsonCode, "--node", url, "--file", second])
        XCTAssertEqual(found.status, 0, found.stderr)

        let badKey = try cinnabar(["deposit", exhibit, "--as", ledger + "/orgs/lawyers.key", "--code-key", ledger + "/codes.key", "--node", url])
        XCTAssertEqual(badKey.status, 1)
        XCTAssertTrue(badKey.stderr.contains("role_may_not_write"), badKey.stderr)
    }

    func testABundleVerifiesOfflineAndAOneBitChangeIsCaught() throws {
        let code = try XCTUnwrap(demoCodes["notarial-revoked"])
        let bundle = dir.path + "/revoked.bundle.json"
        let policy = dir.path + "/policy.txt"
        try expectSuccess(["bundle", code, "--node", url, "-o", bundle])
        let policyText = try cinnabar(["policy", "--dir", ledger])
        XCTAssertEqual(policyText.status, 0)
        try policyText.stdout.write(toFile: policy, atomically: true, encoding: .utf8)
        demo.stop()  // offline from here on

        let ok = try cinnabar(["verify", "--bundle", bundle, "--policy", policy])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("bundle verified offline: REVOKED"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("signed by a quorum of the validators"), ok.stdout)

        // Flip one bit of the revocation record inside the bundle.
        var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: bundle))) as? [String: Any])
        var entries = try XCTUnwrap(json["entries"] as? [[String: Any]])
        var leaf = try XCTUnwrap(Base64.decode(try XCTUnwrap(entries[1]["leaf"] as? String)))
        leaf[leaf.count - 10] ^= 0x01
        entries[1]["leaf"] = Base64.encode(leaf)
        json["entries"] = entries
        let tampered = dir.path + "/tampered.bundle.json"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: tampered))
        let bad = try cinnabar(["verify", "--bundle", tampered, "--policy", policy])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdout.contains("FAIL"), bad.stdout)
        XCTAssertTrue(bad.stderr.contains("inclusion proof"), bad.stderr)

        // A policy pinning other validators rejects the checkpoint itself.
        let otherKey = try cinnabar(["keygen", "--name", "ledger.sc-legal.example/cinnabar/dev-validator", "--out", dir.path + "/x.key"])
        let otherPolicy = dir.path + "/other-policy.txt"
        try "witness dev-validator \(otherKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\ngroup validators 1 dev-validator\nquorum validators\n"
            .write(toFile: otherPolicy, atomically: true, encoding: .utf8)
        let untrusted = try cinnabar(["verify", "--bundle", bundle, "--policy", otherPolicy])
        XCTAssertEqual(untrusted.status, 1)
        XCTAssertTrue(untrusted.stderr.contains("checkpoint signatures"), untrusted.stderr)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let path = dir.path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The first word after `label` on a line of `output`.
    func value(after label: String, in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(label) }.flatMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
    }

    func testIssueCorrectRevokeAsTheLifeOfACertificate() throws {
        let notary = ["--as", ledger + "/orgs/notary.key", "--node", url]
        let original = try file("cert.pdf", "notarial certificate, first version")
        let issued = try cinnabar(["issue", original, "--type", "notarial_certificate", "--number", "(2026)川成证字第99号",
                                   "--holder-name", "王五", "--holder-id", "510104199901011111", "--code-key", ledger + "/codes.key"] + notary)
        XCTAssertEqual(issued.status, 0, issued.stderr)
        let code = try XCTUnwrap(value(after: "code", in: issued.stdout), issued.stdout)
        let issuedJSON = try cinnabar(["issue", try file("cert2.pdf", "another certificate"), "--type", "notarial_certificate",
                                       "--number", "(2026)川成证字第98号", "--holder-name", "赵六", "--holder-id", "510104199901012222", "--code-key", ledger + "/codes.key", "--json"] + notary)
        XCTAssertEqual(issuedJSON.status, 0, issuedJSON.stderr)
        XCTAssertTrue(issuedJSON.stdout.contains("\"code\":\"N"), issuedJSON.stdout)

        let valid = try cinnabar(["verify", code, "--node", url, "--file", original])
        XCTAssertEqual(valid.status, 0, valid.stderr)
        XCTAssertTrue(valid.stdout.contains(": VALID\n"), valid.stdout)

        let corrected = try file("cert-corrected.pdf", "notarial certificate, corrected")
        let tibetan = try file("cert-bo.pdf", "equal Tibetan text")
        try expectSuccess(["correct", code, corrected, tibetan, "--langs", "zh-Hans,bo", "--decision", "(2026)川成证补字第9号"] + notary)
        let afterCorrection = try cinnabar(["verify", code, "--node", url, "--file", tibetan])
        XCTAssertEqual(afterCorrection.status, 0, afterCorrection.stderr)
        XCTAssertTrue(afterCorrection.stdout.contains("VALID_CORRECTED"), afterCorrection.stdout)
        XCTAssertEqual(try cinnabar(["verify", code, "--node", url, "--file", original]).status, 1, "the superseded rendition no longer matches")
        // --json checks the file all the same: a mismatch is one line on stderr and no JSON.
        let jsonMismatch = try cinnabar(["verify", code, "--node", url, "--file", original, "--json"])
        XCTAssertEqual(jsonMismatch.status, 1)
        XCTAssertEqual(jsonMismatch.stdout, "")
        XCTAssertTrue(jsonMismatch.stderr.contains("earlier rendition"), jsonMismatch.stderr)
        let jsonMatch = try cinnabar(["verify", code, "--node", url, "--file", tibetan, "--json"])
        XCTAssertEqual(jsonMatch.status, 0, jsonMatch.stderr)
        XCTAssertTrue(jsonMatch.stdout.contains("\"result\":\"VALID_CORRECTED\""), jsonMatch.stdout)

        // Only the issuer may revoke: the forensic lab is refused, the notary office is not.
        let byLab = try cinnabar(["revoke", code, "--decision", "X-1", "--reason", "other", "--as", ledger + "/orgs/lab.key", "--node", url])
        XCTAssertEqual(byLab.status, 1)
        XCTAssertTrue(byLab.stderr.contains("not_original_issuer") || byLab.stderr.contains("role_may_not_write"), byLab.stderr)
        try expectSuccess(["revoke", code, "--decision", "(2026)川成证撤字第9号", "--reason", "contrary_to_facts"] + notary)
        let revoked = try cinnabar(["verify", code, "--node", url, "--json"])
        XCTAssertTrue(revoked.stdout.contains("\"result\":\"REVOKED\""), revoked.stdout)
    }

    func testCreditEventsAndTheirAnnulment() throws {
        let event = try cinnabar(["credit", "event", "--subject", "15101201910000001", "--profession", "lawyer", "--class", "admin_penalty",
                                  "--measure", "fine", "--basis", "律师法第49条", "--decision", "川司罚(2026)7号",
                                  "--as", ledger + "/orgs/bureau.key", "--node", url])
        XCTAssertEqual(event.status, 0, event.stderr)
        // "credit event …: record <id> at leaf …"
        let id = try XCTUnwrap(event.stdout.components(separatedBy: ": record ").dropFirst().first?.split(separator: " ").first.map(String.init))
        let notAllowed = try cinnabar(["credit", "event", "--subject", "15101201910000001", "--profession", "lawyer", "--class", "admin_penalty",
                                       "--measure", "fine", "--basis", "x", "--decision", "y", "--as", ledger + "/orgs/notary.key", "--node", url])
        XCTAssertEqual(notAllowed.status, 1)
        XCTAssertTrue(notAllowed.stderr.contains("role_may_not_write"), notAllowed.stderr)
        try expectSuccess(["credit", "annul", id, "--cause", "revoked", "--by", "judgment", "--ruling", "(2026)川01行终9号",
                           "--public-reason", "penalty_revoked_by_court", "--as", ledger + "/orgs/court.key", "--node", url])
        let profile = try String(contentsOf: URL(string: url + "/v1/practitioners/15101201910000001/credit")!, encoding: .utf8)
        XCTAssertTrue(profile.contains(id), profile)
    }

    func testANewerCertificateSupersedesTheOldOne() throws {
        let notary = ["--as", ledger + "/orgs/notary.key", "--node", url]
        var codes: [String] = []
        for (n, text) in [(98, "licence, 2025 edition"), (97, "licence, 2026 edition")] {
            let issued = try cinnabar(["issue", try file("doc\(n).pdf", text), "--type", "notarial_certificate", "--number", "(2026)川成证字第\(n)号",
                                       "--holder-name", "赵六", "--holder-id", "510104199901012222", "--code-key", ledger + "/codes.key"] + notary)
            XCTAssertEqual(issued.status, 0, issued.stderr)
            codes.append(try XCTUnwrap(value(after: "code", in: issued.stdout)))
        }
        let byCourt = try cinnabar(["supersede", codes[0], codes[1], "--relation", "renewed", "--as", ledger + "/orgs/court.key", "--node", url])
        XCTAssertEqual(byCourt.status, 1, "only the issuer supersedes its documents")
        try expectSuccess(["supersede", codes[0], codes[1], "--relation", "renewed"] + notary)
        XCTAssertTrue(try cinnabar(["verify", codes[0], "--node", url]).stdout.contains(": SUPERSEDED"))
        XCTAssertTrue(try cinnabar(["verify", codes[1], "--node", url]).stdout.contains(": VALID"))
    }

    func testCreditAmendmentsAndObjections() throws {
        let bureau = ["--as", ledger + "/orgs/bureau.key", "--node", url]
        let event = try cinnabar(["credit", "event", "--subject", "15101201910000001", "--profession", "lawyer", "--class", "admin_penalty",
                                  "--measure", "fine", "--basis", "律师法第49条", "--decision", "川司罚(2026)8号"] + bureau)
        XCTAssertEqual(event.status, 0, event.stderr)
        let id = try XCTUnwrap(event.stdout.components(separatedBy: ": record ").dropFirst().first?.split(separator: " ").first.map(String.init))
        try expectSuccess(["credit", "amend", id, "--reason", "clerical", "--measure", "warning"] + bureau)
        try expectSuccess(["credit", "objection", "file", id, "--ref", "异议(2026)3号"] + bureau)
        try expectSuccess(["credit", "objection", "resolve", id, "--ref", "异议(2026)3号", "--outcome", "rejected"] + bureau)
        let wrongOutcome = try cinnabar(["credit", "objection", "resolve", id, "--ref", "x", "--outcome", "maybe"] + bureau)
        XCTAssertEqual(wrongOutcome.status, 1)
        XCTAssertEqual(wrongOutcome.stderr.split(separator: "\n").count, 1, wrongOutcome.stderr)
        let profile = try httpRequest("GET", url + "/v1/practitioners/15101201910000001/credit")
        XCTAssertEqual(profile.status, 200)
        let text = String(describing: profile.json)
        XCTAssertTrue(text.contains("warning"), "the amended measure is shown: \(text)")
    }

    func testABulkImportShowsProgressAndResumesWithoutDuplicates() throws {
        var csv = "path,label,media_type\n"
        for i in 1...40 { csv += "\(try file("exhibit\(i).bin", "exhibit number \(i)")),\"photo \(i), front\",image/jpeg\n" }
        let input = dir.path + "/deposits.csv"
        try csv.write(toFile: input, atomically: true, encoding: .utf8)
        let results = dir.path + "/results.csv"
        // Batches of 16: three requests (16, 16, 8 rows).
        let args = ["import", input, "--as", ledger + "/orgs/notary.key", "--code-key", ledger + "/codes.key", "--node", url, "--out", results,
                    "--batch", "16"]
        let first = try cinnabar(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("40/40 (100%)"), first.stderr)
        let rows = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 40)
        XCTAssertTrue(rows.allSatisfy { $0.hasSuffix(",ok") }, "\(rows)")
        XCTAssertTrue(rows.contains { $0.contains("\"photo 7, front\"") }, "labels with commas are quoted")
        // Each row's own leaf: columns row,label(quoted, with a comma),code,record_id,leaf_index,…
        let leaves = rows.map { $0.split(separator: ",").reversed().dropFirst(2).first.map(String.init) ?? "" }
        XCTAssertEqual(Set(leaves).count, 40, "\(leaves)")
        XCTAssertTrue(leaves.allSatisfy { UInt64($0) != nil }, "\(leaves)")

        let again = try cinnabar(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("skipping 40 rows"), again.stderr)
        XCTAssertEqual(try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").count, 41, "nothing deposited twice")

        let found = try cinnabar(["verify", "--file", dir.path + "/exhibit7.bin", "--node", url])
        XCTAssertEqual(found.status, 0, found.stderr)
        XCTAssertTrue(found.stdout.contains("EVIDENCE_DEPOSITED"), found.stdout)

        try "sha256,size_bytes\nnot-a-digest,5\n".write(toFile: input, atomically: true, encoding: .utf8)
        let bad = try cinnabar(args)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("row 1: sha256 must be 64 hex digits"), bad.stderr)
    }
}
