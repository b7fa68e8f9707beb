// The receipt written by hand on the write path is the same JSON as its Encodable form.
@testable import API
import Foundation
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
    }
}
