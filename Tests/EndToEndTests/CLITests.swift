// The offline CLI checks accept standard, real-world checkpoints and proofs and reject tampered ones,
// with one plain line and a non-zero exit.
import CinnabarCrypto
import Foundation
import MerkleLog
import XCTest

final class CLITests: XCTestCase {
    /// The Go checksum database's real checkpoint (from Tests/Vectors/signed-note.json).
    let sumdbKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
    let sumdbNote = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"

    func testCheckpointVerifyAcceptsARealGoSumDBCheckpoint() throws {
        let result = try cinnabar(["checkpoint", "verify", "--key", sumdbKey], input: sumdbNote)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("origin go.sum database tree"))
        XCTAssertTrue(result.stdout.contains("size 6476701"))
        XCTAssertTrue(result.stdout.contains("root mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="))
    }

    func testCheckpointVerifyRejectsATamperedCheckpoint() throws {
        let tampered = sumdbNote.replacingOccurrences(of: "6476701", with: "6476702")
        let result = try cinnabar(["checkpoint", "verify", "--key", sumdbKey], input: tampered)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "one plain line: \(result.stderr)")
    }

    func testCheckpointVerifyCountsDistinctSignersAgainstTheQuorum() throws {
        let dir = TemporaryDirectory()
        var vkeys: [String] = []
        for name in ["a", "b", "c"] {
            let r = try cinnabar(["keygen", "--name", "log.example/\(name)", "--out", "\(dir.path)/\(name).key"])
            XCTAssertEqual(r.status, 0, r.stderr)
            vkeys.append(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            let mode = try FileManager.default.attributesOfItem(atPath: "\(dir.path)/\(name).key")[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600)
        }
        // A ledger signed by its single validator: verify with that key plus two others.
        let ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        try expectSuccess(["dev", "load", "--dir", ledger, "--count", "10"])
        let genesis = try String(contentsOfFile: ledger + "/genesis.json", encoding: .utf8)
        let validatorKey = try XCTUnwrap(genesis.split(separator: "\"").first { $0.contains("+") && $0.contains("/dev-validator") }).description
        let note = try XCTUnwrap(try checkpointNote(ledger))
        let args = ["checkpoint", "verify", "--key", validatorKey, "--key", vkeys[0], "--key", vkeys[1]]
        XCTAssertEqual(try cinnabar(args + ["--quorum", "1"], input: note).status, 0)
        let short = try cinnabar(args + ["--quorum", "2"], input: note)
        XCTAssertEqual(short.status, 1)
        XCTAssertTrue(short.stderr.contains("only 1 of the 2"), short.stderr)
        XCTAssertEqual(try cinnabar(args, input: note).status, 1, "default quorum is all keys")
    }

    func checkpointNote(_ ledger: String) throws -> String? {
        // The last checkpoint, read through the audit-verified store by starting no server: use the CLI's own JSON.
        let node = try RunningProcess(["node", "--dir", ledger, "--listen", "127.0.0.1:0"])
        defer { node.kill(SIGTERM) }
        guard let line = node.waitForLine(containing: "serving http://") else { return nil }
        let url = String(line[line.range(of: "http://")!.lowerBound...]) + "checkpoint"
        return try String(contentsOf: URL(string: url)!, encoding: .utf8)
    }

    /// The RFC 6962 vectors' 8-leaf tree: proofs accepted, tampered proofs rejected.
    func testProofCommandsFollowRFC9162() throws {
        let vectors = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/rfc6962.json"))) as! [String: Any]
        let roots = vectors["roots"] as! [String]
        let leafHashes = vectors["leaf_hashes"] as! [String]
        let inclusion = (vectors["inclusion"] as! [[String: Any]]).first { ($0["Size"] as? Int) == 8 && ($0["Index"] as? Int) == 5 }
            ?? (vectors["inclusion"] as! [[String: Any]]).last!
        let size = inclusion["Size"] as! Int
        let index = (inclusion["Index"] ?? inclusion["LeafIndex"]) as! Int
        let path = inclusion["Proof"] as! [String]
        let args = ["proof", "verify-inclusion", "--size", "\(size)", "--index", "\(index)", "--root", roots[size],
                    "--leaf-hash", leafHashes[index]]
        let ok = try cinnabar(args + path)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        var flipped = path
        flipped[0] = Hash(bytes: Hash(base64: path[0])!.bytes.enumerated().map { $0 == 0 ? $1 ^ 1 : $1 })!.base64
        let bad = try cinnabar(args + flipped)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("inclusion proof rejected"), bad.stderr)
        XCTAssertEqual(try cinnabar(args + path.dropLast()).status, 1)

        let consistency = (vectors["consistency"] as! [[String: Any]]).first { ($0["From"] as? Int) == 3 && ($0["To"] as? Int) == 7 }!
        let cargs = ["proof", "verify-consistency", "--from", "3", "--from-root", roots[3], "--to", "7", "--to-root", roots[7]]
        XCTAssertEqual(try cinnabar(cargs + (consistency["Proof"] as! [String])).status, 0)
        let swapped = ["proof", "verify-consistency", "--from", "3", "--from-root", roots[7], "--to", "7", "--to-root", roots[3]]
        XCTAssertEqual(try cinnabar(swapped + (consistency["Proof"] as! [String])).status, 1)
        XCTAssertEqual(try cinnabar(["proof", "verify-inclusion", "--size", "8", "--index", "0", "--root", "notbase64", "--leaf-hash", leafHashes[0]]).status, 1)
    }

    func testAuditFailsWithOneLineOnATamperedStore() throws {
        let dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        try expectSuccess(["dev", "load", "--dir", ledger, "--count", "300"])
        let ok = try cinnabar(["audit", "--dir", ledger])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasPrefix("audit ok:"), ok.stdout)
        // Swap in someone else's genesis key: every checkpoint signature is now unknown.
        let other = try cinnabar(["keygen", "--name", "ledger.sc-legal.example/cinnabar/dev-validator", "--out", dir.path + "/other.key"])
        let genesisPath = ledger + "/genesis.json"
        var genesis = try String(contentsOfFile: genesisPath, encoding: .utf8)
        let current = try XCTUnwrap(genesis.split(separator: "\"").first { $0.contains("/dev-validator+") }).description
        genesis = genesis.replacingOccurrences(of: current, with: other.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        try genesis.write(toFile: genesisPath, atomically: true, encoding: .utf8)
        let bad = try cinnabar(["audit", "--dir", ledger])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("audit failed: block 1"), bad.stderr)
    }
}
