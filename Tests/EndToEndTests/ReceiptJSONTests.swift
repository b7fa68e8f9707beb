// The receipt written by hand on the write path is the same JSON as its Encodable form.
@testable import API
import Foundation
import Records
import XCTest

final class ReceiptJSONTests: XCTestCase {
    func testTheHandWrittenReceiptEqualsTheEncodedOne() throws {
        let receipt = ReceiptBody(
            record_id: "fc8d0481b9a425a10aeea0117cb153b8", leaf_index: 21, duplicate: false, leaf: "AXsi+/==",
            leaf_hash: "R213HbXscXlJHzGX9h/1Unxh+xGoZUcoPHs8tWGWY74=", inclusion_proof: ["tVjl", "Xu9s"], tree_size: 75,
            checkpoint: "origin\n75\nGI1y\n\n— origin/v \"quoted\" back\\slash \u{1} NHP9\n", tlog_proof: "c2sp.org/tlog-proof@v1\nindex 21\n",
            block_height: 12, logged_at: "2026-11-29T18:58:56+08:00")
        let handWritten = try JSONSerialization.jsonObject(with: Data(receipt.json)) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: Data(JSON.encode(receipt))) as? NSDictionary
        XCTAssertNotNil(handWritten)
        XCTAssertEqual(handWritten, encoded)
        XCTAssertEqual(receipt.json, JSON.encode(receipt), "byte for byte, keys sorted")
        XCTAssertEqual(receipt.json, CanonicalJSON.serialize(receipt.value) + [0x0A], "and as the canonical encoder writes it")
        let duplicate = ReceiptBody(record_id: "x", leaf_index: 0, duplicate: true, leaf: "", leaf_hash: "", inclusion_proof: [], tree_size: 1,
                                    checkpoint: "", tlog_proof: "", block_height: 1, logged_at: "")
        XCTAssertEqual(duplicate.json, CanonicalJSON.serialize(duplicate.value) + [0x0A])
    }

    /// A batch's answer, written member by member, is canonical JSON with every outcome in order.
    func testABatchAnswerIsCanonicalJSON() throws {
        let receipt = ReceiptBody(
            record_id: "fc8d0481b9a425a10aeea0117cb153b8", leaf_index: 21, duplicate: false, leaf: "AXsi+/==",
            leaf_hash: "R213HbXscXlJHzGX9h/1Unxh+xGoZUcoPHs8tWGWY74=", inclusion_proof: ["tVjl"], tree_size: 75,
            checkpoint: "origin\n75\nGI1y\n", tlog_proof: "c2sp.org/tlog-proof@v1\nindex 21\n", block_height: 12,
            logged_at: "2026-11-29T18:58:56+08:00")
        let refused = Problem(.unprocessableContent, code: "schema_violation", title: "Record refused", detail: "$.type: \"x\" \u{7}")
        let outcomes = [
            RecordRoutes.Outcome(line: 1, status: 201, receipt: receipt, problem: nil),
            RecordRoutes.Outcome(line: 3, problem: refused),
            RecordRoutes.Outcome(line: 4, status: 200, receipt: nil, problem: refused.body),
        ]
        let answer = RecordRoutes.answer(outcomes)
        XCTAssertEqual(answer.last, 0x0A)
        XCTAssertTrue(CanonicalJSON.isCanonical(Array(answer.dropLast())), String(decoding: answer, as: UTF8.self))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any])
        XCTAssertEqual(object["logged"] as? Int, 1)
        XCTAssertEqual(object["duplicates"] as? Int, 1, "a line in the log counts as such even when its receipt could not be built")
        XCTAssertEqual(object["not_logged"] as? Int, 1)
        let results = try XCTUnwrap(object["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["line"] as? Int }, [1, 3, 4])
        XCTAssertEqual(results.map { $0["status"] as? Int }, [201, 422, 200])
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(receipt.json)) as? NSDictionary, results[0]["receipt"] as? NSDictionary)
        XCTAssertEqual((results[1]["problem"] as? [String: Any])?["detail"] as? String, "$.type: \"x\" \u{7}")
    }
}

extension ReceiptBody {
    /// The receipt as a JSON tree, for the canonical encoder to write as the oracle.
    var value: JSONValue {
        .object([
            "block_height": .integer(Int64(block_height)),
            "checkpoint": .string(checkpoint),
            "duplicate": .bool(duplicate),
            "inclusion_proof": .array(inclusion_proof.map(JSONValue.string)),
            "leaf": .string(leaf),
            "leaf_hash": .string(leaf_hash),
            "leaf_index": .integer(Int64(leaf_index)),
            "logged_at": .string(logged_at),
            "record_id": .string(record_id),
            "tlog_proof": .string(tlog_proof),
            "tree_size": .integer(Int64(tree_size)),
        ])
    }
}
