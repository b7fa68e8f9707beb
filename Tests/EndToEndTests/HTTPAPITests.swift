// The read API over a real socket: a node process serving C2SP checkpoint and tiles, JSON proofs
// and RFC 9457 errors; everything it serves is verified here with the pure cores.
import CinnabarCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MerkleLog
import Node
import SignedNote
import XCTest

final class HTTPAPITests: XCTestCase {
    var dir: TemporaryDirectory!
    var server: RunningProcess!
    var base = ""
    var keys: [NoteVerifierKey] = []

    override func setUpWithError() throws {
        dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        try expectSuccess(["dev", "load", "--dir", ledger, "--count", "1000"])
        keys = try NodeDirectory(ledger).loadGenesis().validators.map { try NoteVerifierKey(parsing: $0.key) }
        server = try RunningProcess(["node", "--dir", ledger, "--listen", "127.0.0.1:0"])
        let line = try XCTUnwrap(server.waitForLine(containing: "serving http://"), "the node did not start")
        base = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    override func tearDown() {
        server?.kill(SIGTERM)
        dir = nil
    }

    func get(_ path: String) throws -> (status: Int, headers: [String: String], body: Data) {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [String: String], Data)?
        nonisolated(unsafe) var failure: Error?
        URLSession.shared.dataTask(with: URL(string: base + path)!) { data, response, error in
            if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
                result = (http.statusCode, headers, data ?? Data())
            }
            failure = error
            semaphore.signal()
        }.resume()
        semaphore.wait()
        if let failure { throw failure }
        return try XCTUnwrap(result)
    }

    func json(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func checkpoint() throws -> Checkpoint {
        let (status, headers, body) = try get("/checkpoint")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(headers["content-type"], "text/plain; charset=utf-8")
        let note = try Note(parsing: String(decoding: body, as: UTF8.self))
        XCTAssertEqual(try note.verify(keys: keys).count, 1)
        return try Checkpoint(parsing: note.text)
    }

    func testCheckpointTilesAndEntriesLetAClientProveAnyLeaf() throws {
        let cp = try checkpoint()
        XCTAssertEqual(cp.size, 1000 + 1 + (cp.size - 1001))  // entries plus trailers
        // Level-0 tiles: full ones are immutable, the rightmost is partial.
        let full = try get("/tile/0/000")
        XCTAssertEqual(full.status, 200)
        XCTAssertEqual(full.body.count, 8192)
        XCTAssertTrue(full.headers["cache-control"]?.contains("immutable") ?? false)
        let width = Int(cp.size % 256)
        let partialPath = "/tile/0/" + TileID.encodeIndex(cp.size / 256) + (width > 0 ? ".p/\(width)" : "")
        XCTAssertEqual(try get(partialPath).body.count, (width > 0 ? width : 256) * 32)
        // Entry bundle 0 hashes to tile 0, entry by entry.
        let bundle = try get("/tile/entries/000")
        XCTAssertEqual(bundle.status, 200)
        var at = 0
        var hashes: [Hash] = []
        let bytes = [UInt8](bundle.body)
        while at < bytes.count {
            let n = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            hashes.append(RFC6962.leafHash(Array(bytes[at + 2..<at + 2 + n])))
            at += 2 + n
        }
        XCTAssertEqual(hashes.count, 256)
        XCTAssertEqual(hashes.flatMap { $0.bytes }, [UInt8](full.body))

        // JSON inclusion proof for leaf 77 verifies against the signed root.
        let proof = try json(try get("/v1/proofs/inclusion?index=77&size=\(cp.size)").body)
        let path = try XCTUnwrap(proof["inclusion_proof"] as? [String]).map { try XCTUnwrap(Hash(base64: $0)) }
        XCTAssertNoThrow(try InclusionProof.verify(leafHash: hashes[77], index: 77, size: cp.size, proof: path, root: cp.root))
    }

    func testConsistencyProofsLinkCheckpoints() throws {
        let cp = try checkpoint()
        let tile = [UInt8](try get("/tile/0/000").body)
        let firstRoot = try XCTUnwrap(Hash(bytes: tile[0..<32]))  // the tree of size 1 is the genesis trailer
        let body = try json(try get("/v1/proofs/consistency?from=1&to=\(cp.size)").body)
        let proof = try XCTUnwrap(body["consistency_proof"] as? [String]).map { try XCTUnwrap(Hash(base64: $0)) }
        XCTAssertNoThrow(try ConsistencyProof.verify(from: 1, fromRoot: firstRoot, to: cp.size, toRoot: cp.root, proof: proof))
    }

    func testLogDescribesOriginValidatorsAndQuorum() throws {
        let body = try json(try get("/v1/log").body)
        XCTAssertEqual(body["origin"] as? String, "ledger.sc-legal.example/cinnabar")
        XCTAssertEqual(body["quorum"] as? Int, 1)
        let validators = try XCTUnwrap(body["validators"] as? [[String: Any]])
        XCTAssertEqual(validators.first?["key"] as? String, keys[0].vkey)
    }

    func testBadRequestsGetProblemDocumentsWithStableCodes() throws {
        let cases: [(String, Int, String)] = [
            ("/v1/proofs/inclusion?index=abc&size=5", 400, "invalid_parameter"),
            ("/v1/proofs/inclusion?size=5", 400, "missing_parameter"),
            ("/v1/proofs/inclusion?index=9&size=5", 400, "index_out_of_range"),
            ("/v1/proofs/inclusion?index=0&size=99999999", 400, "size_out_of_range"),
            ("/v1/proofs/consistency?from=9&to=5", 400, "size_out_of_range"),
            ("/tile/0/999", 404, "no_such_tile"),
            ("/tile/0/x1/000", 404, "no_such_tile"),
            ("/tile/0/000.p/0", 404, "no_such_tile"),
            ("/tile/entries/777", 404, "no_such_tile"),
        ]
        for (path, status, code) in cases {
            let response = try get(path)
            XCTAssertEqual(response.status, status, path)
            XCTAssertEqual(response.headers["content-type"], "application/problem+json", path)
            let problem = try json(response.body)
            XCTAssertEqual(problem["code"] as? String, code, path)
            XCTAssertEqual(problem["status"] as? Int, status, path)
            XCTAssertNotNil(problem["detail"] as? String, path)
        }
    }
}
