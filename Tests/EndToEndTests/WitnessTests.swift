// A court that is not a validator runs `cinnabar witness`: over real sockets it answers every
// add-checkpoint case of c2sp.org/tlog-witness, remembers what it cosigned across a SIGKILL, and a
// real `cinnabar node --witness` gets its checkpoints cosigned, serves them, puts them in bundles
// that a policy requiring the witness accepts and a policy requiring another witness refuses.
import CinnabarCrypto
import Foundation
import MerkleLog
import SignedNote
import XCTest

final class WitnessTests: XCTestCase {
    let dir = TemporaryDirectory()
    let origin = "ledger.sc-legal.example/cinnabar"
    let witnessName = "court.sc-legal.example/witness"
    var processes: [RunningProcess] = []

    override func tearDown() {
        for process in processes where process.process.isRunning { process.kill(SIGTERM) }
        processes = []
    }

    /// `cinnabar witness init`: the printed cosignature/v1 verifier key.
    func initWitness(_ path: String, name: String) throws -> NoteVerifierKey {
        let result = try cinnabar(["witness", "init", "--dir", path, "--name", name])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try NoteVerifierKey(parsing: result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Starts `cinnabar ARGS` and returns it with the base URL from its `serving http://…` line.
    func serve(_ arguments: [String]) throws -> (RunningProcess, String) {
        let process = try RunningProcess(arguments)
        processes.append(process)
        let line = try XCTUnwrap(process.waitForLine(containing: "serving http://"), "cinnabar \(arguments.joined(separator: " ")) did not start")
        let url = String(line[line.range(of: "http://")!.lowerBound...]).split(separator: "/").prefix(2).joined(separator: "//")
        return (process, url)
    }

    // MARK: The witness alone, fed checkpoints signed by four validators' keys

    let leaves = (0..<20).map { RFC6962.leafHash(Array("leaf \($0)".utf8)) }
    lazy var validators = (1...4).map { try! NoteSigningKey(name: "\(origin)/v\($0)", seed: SHA256.hash("e2e v\($0)").bytes) }

    func note(_ size: Int, root: Hash? = nil, signers: Int = 3, origin: String? = nil) throws -> Note {
        let checkpoint = try Checkpoint(origin: origin ?? self.origin, size: UInt64(size), root: root ?? RFC6962.rootHash(leaves[..<size]))
        return try Note.sign(text: checkpoint.text, with: Array(validators.prefix(signers)))
    }

    func body(old: Int, _ note: Note, proof: [Hash]? = nil) throws -> [UInt8] {
        let size = try Checkpoint(parsing: note.text).size
        let hashes = try proof ?? ConsistencyProof.plan(from: UInt64(old), to: size).map { RFC6962.rootHash(leaves[Int($0.lo)..<Int($0.hi)]) }
        return Array(try AddCheckpointRequest(oldSize: UInt64(old), proof: hashes, note: note).formatted.utf8)
    }

    func testWitnessAnswersEveryCaseAndRemembersAcrossAKill() throws {
        let witnessDir = dir.path + "/witness"
        let key = try initWitness(witnessDir, name: witnessName)
        let mode = try FileManager.default.attributesOfItem(atPath: witnessDir + "/witness.key")[.posixPermissions] as? NSNumber
        XCTAssertEqual(mode?.intValue, 0o600)
        let policy = dir.path + "/validators.policy"
        try (validators.enumerated().map { "witness v\($0.offset + 1) \($0.element.verifierKey.vkey)\n" }.joined()
            + "group validators 3 v1 v2 v3 v4\nquorum validators\n").write(toFile: policy, atomically: true, encoding: .utf8)
        let run = ["witness", "run", "--dir", witnessDir, "--listen", "127.0.0.1:0", "--log", "\(origin)=\(policy)"]
        var (witness, url) = try serve(run)
        func post(_ body: [UInt8]) throws -> (status: Int, headers: [String: String], body: String) {
            let answer = try httpExchange("POST", url + "/add-checkpoint", body: body)
            return (answer.status, answer.headers, String(decoding: answer.body, as: UTF8.self))
        }

        // 200: the first checkpoint, cosigned; the line verifies with the key `witness init` printed.
        let first = try post(try body(old: 0, try note(7)))
        XCTAssertEqual(first.status, 200, first.body)
        let cosignature = try TlogWitness.cosignature(inAnswer: first.body, on: try note(7), by: key)
        XCTAssertEqual(cosignature.keyName, witnessName)

        // 400 malformed, 404 unknown origin, 403 two of four validators, 400 old above the size,
        // 409 stale old size, 409 another root at the recorded size, 422 a wrong proof.
        XCTAssertEqual(try post(Array("old 7\nnot a proof line\n\n".utf8) + Array(try note(9).formatted.utf8)).status, 400)
        XCTAssertEqual(try post(try body(old: 0, try note(7, origin: "other.example/log"))).status, 404)
        let untrusted = try post(try body(old: 7, try note(9, signers: 2)))
        XCTAssertEqual(untrusted.status, 403)
        XCTAssertTrue(untrusted.body.contains("needs 3 of 4, has 2"), untrusted.body)
        XCTAssertEqual(try post(try body(old: 9, try note(7), proof: [])).status, 400)
        let stale = try post(try body(old: 3, try note(9)))
        XCTAssertEqual(stale.status, 409)
        XCTAssertEqual(stale.headers["content-type"], "text/x.tlog.size")
        XCTAssertEqual(stale.body, "7\n")
        XCTAssertEqual(try post(try body(old: 7, try note(7, root: leaves[1]), proof: [])).status, 409)
        var proof = try ConsistencyProof.plan(from: 7, to: 9).map { RFC6962.rootHash(leaves[Int($0.lo)..<Int($0.hi)]) }
        proof[0] = leaves[0]
        XCTAssertEqual(try post(try body(old: 7, try note(9), proof: proof)).status, 422)
        // Bounded body; other methods are refused.
        XCTAssertEqual(try post([UInt8](repeating: 0x41, count: AddCheckpointRequest.maxBytes + 1)).status, 413)
        XCTAssertEqual(try httpExchange("GET", url + "/add-checkpoint").status, 405)

        // Killed and restarted: it remembers size 7 and refuses to go back or to fork.
        witness.kill()
        (witness, url) = try serve(run)
        let afterRestart = try post(try body(old: 0, try note(7)))
        XCTAssertEqual(afterRestart.status, 409)
        XCTAssertEqual(afterRestart.body, "7\n")
        XCTAssertEqual(try post(try body(old: 0, try note(5))).status, 409)
        XCTAssertEqual(try post(try body(old: 7, try note(5), proof: [])).status, 400)
        XCTAssertEqual(try post(try body(old: 7, try note(7, root: leaves[2]), proof: [])).status, 409)
        let grown = try post(try body(old: 7, try note(12)))
        XCTAssertEqual(grown.status, 200, grown.body)
        XCTAssertNoThrow(try TlogWitness.cosignature(inAnswer: grown.body, on: try note(12), by: key))
        XCTAssertEqual(try post(try body(old: 7, try note(12))).body, "12\n")
        XCTAssertTrue(witness.lines.contains { $0.contains("refused a signed checkpoint") && $0.contains("different root hash for size 7") },
                      witness.lines.joined(separator: "\n"))
    }

    // MARK: A real node pushing to a real witness

    /// Waits until the node serves a witnessed checkpoint of at least `size` leaves; returns its note.
    func witnessedCheckpoint(_ node: String, atLeast size: UInt64, timeout: TimeInterval = 60) throws -> Note {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let answer = try httpExchange("GET", node + "/v1/checkpoint/witnessed")
            if answer.status == 200 {
                let note = try Note(parsing: String(decoding: answer.body, as: UTF8.self))
                if try Checkpoint(parsing: note.text).size >= size { return note }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw NotWitnessed(description: "the node served no witnessed checkpoint of size \(size) or more within \(timeout) s")
    }

    struct NotWitnessed: Error, CustomStringConvertible { let description: String }

    /// `cinnabar deposit` of a fresh file: its code and the tree size of its receipt.
    func deposit(_ ledger: String, node: String, _ text: String) throws -> (code: String, size: UInt64) {
        let file = dir.path + "/\(UUID().uuidString).bin"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let result = try cinnabar(["deposit", file, "--as", ledger + "/orgs/notary.key", "--code-key", ledger + "/codes.key", "--node", node])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        let code = try XCTUnwrap(lines.first { $0.hasPrefix("code") }?.split(separator: " ").dropFirst().first)
        let size = try XCTUnwrap(lines.first { $0.hasPrefix("leaf") }.flatMap { $0.components(separatedBy: "in a tree of ").last?.split(separator: ",").first })
        return (String(code), try XCTUnwrap(UInt64(size)))
    }

    func testNodeGetsItsCheckpointsWitnessedAndPoliciesCanRequireTheWitness() throws {
        let ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        let validatorsPolicy = dir.path + "/validators.policy"
        let policy = try cinnabar(["policy", "--dir", ledger])
        XCTAssertEqual(policy.status, 0, policy.stderr)
        try policy.stdout.write(toFile: validatorsPolicy, atomically: true, encoding: .utf8)

        let witnessDir = dir.path + "/witness"
        let key = try initWitness(witnessDir, name: witnessName)
        let (witness, witnessURL) = try serve(["witness", "run", "--dir", witnessDir, "--listen", "127.0.0.1:0", "--log", "\(origin)=\(validatorsPolicy)"])
        let nodeArguments = ["node", "--dir", ledger, "--listen", "127.0.0.1:0", "--witness", witnessURL, "--witness-key", key.vkey]
        var (node, nodeURL) = try serve(nodeArguments)

        let deposited = try deposit(ledger, node: nodeURL, "exhibit A")
        let witnessed = try witnessedCheckpoint(nodeURL, atLeast: deposited.size)
        // The validators' signature and the witness's cosignature, both checked.
        XCTAssertNoThrow(try TlogPolicy(parsing: policy.stdout).verify(note: witnessed))
        let cosignature = try Cosignature.verify(note: witnessed, key: key)
        XCTAssertEqual(cosignature.keyName, witnessName)

        // An independent check of the cosignature/v1 line: Python's `cryptography`, from the vkey alone.
        let noteFile = dir.path + "/witnessed.txt"
        try witnessed.formatted.write(toFile: noteFile, atomically: true, encoding: .utf8)
        let script = dir.path + "/check_cosignature.py"
        try pythonCosignatureCheck.write(toFile: script, atomically: true, encoding: .utf8)
        let python = try python3([script, key.vkey, noteFile], in: dir.path)
        XCTAssertEqual(python.status, 0, python.output)
        XCTAssertTrue(python.output.contains("cosignature/v1 verified at \(cosignature.timestamp)"), python.output)

        // The bundle carries the cosignature; a policy requiring the witness accepts it.
        let bundle = dir.path + "/exhibit.bundle.json"
        try expectSuccess(["bundle", deposited.code, "--node", nodeURL, "-o", bundle])
        let requiring = dir.path + "/with-witness.policy"
        let withWitness = try cinnabar(["policy", "--dir", ledger, "--witness-key", key.vkey])
        XCTAssertEqual(withWitness.status, 0, withWitness.stderr)
        try withWitness.stdout.write(toFile: requiring, atomically: true, encoding: .utf8)
        let ok = try cinnabar(["verify", "--bundle", bundle, "--policy", requiring])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("cosigned by witness \(witnessName) at "), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("bundle verified offline"), ok.stdout)
        XCTAssertEqual(try cinnabar(["verify", "--bundle", bundle, "--policy", validatorsPolicy]).status, 0)

        // A policy requiring another witness refuses it, and says which cosignature is missing.
        let otherKey = try initWitness(dir.path + "/other-witness", name: "other.example/witness")
        let other = dir.path + "/other-witness.policy"
        try (try cinnabar(["policy", "--dir", ledger, "--witness-key", otherKey.vkey])).stdout
            .write(toFile: other, atomically: true, encoding: .utf8)
        let refused = try cinnabar(["verify", "--bundle", bundle, "--policy", other])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stdout.contains("FAIL checkpoint signatures: quorum not met"), refused.stdout)
        XCTAssertTrue(refused.stderr.contains("no valid cosignature from witness other.example/witness"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1)

        // The node restarts knowing nothing of the witness's size: the witness's 409 names it, the
        // node proves consistency from there, and new checkpoints are cosigned again.
        node.kill(SIGTERM)
        (node, nodeURL) = try serve(nodeArguments)
        let later = try deposit(ledger, node: nodeURL, "exhibit B")
        let rewitnessed = try witnessedCheckpoint(nodeURL, atLeast: later.size)
        XCTAssertNoThrow(try Cosignature.verify(note: rewitnessed, key: key))
        XCTAssertFalse(node.lines.contains { $0.contains("witness \(witnessName) at ") }, node.lines.joined(separator: "\n"))
        let state = try String(contentsOfFile: witnessDir + "/state/tree-heads", encoding: .utf8)
        let recorded = try XCTUnwrap(UInt64(state.split(separator: "\n")[2]))
        XCTAssertGreaterThanOrEqual(recorded, later.size)
        XCTAssertFalse(witness.lines.contains { $0.contains("refused") }, witness.lines.joined(separator: "\n"))
    }
}

/// Verifies the cosignature/v1 line of the witness VKEY on the checkpoint note in FILE with
/// Python's `cryptography`: key ID, signed message and Ed25519 signature, all recomputed.
let pythonCosignatureCheck = #"""
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

vkey, path = sys.argv[1], sys.argv[2]
name, key_id, material = vkey.split("+", 2)
material = base64.b64decode(material)
assert material[0] == 0x04, "not a cosignature/v1 key"
public = material[1:]
assert hashlib.sha256(name.encode() + b"\n" + b"\x04" + public).digest()[:4].hex() == key_id, "key ID"
note = open(path, "rb").read()
text, signatures = note.split(b"\n\n", 1)
text += b"\n"
for line in signatures.decode().splitlines():
    dash, signer, blob = line.split(" ")
    if signer != name:
        continue
    raw = base64.b64decode(blob)
    assert raw[:4].hex() == key_id, "line key ID"
    timestamp = int.from_bytes(raw[4:12], "big")
    message = b"cosignature/v1\ntime %d\n" % timestamp + text
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
    print("cosignature/v1 verified at %d" % timestamp)
    sys.exit(0)
print("no line from", name)
sys.exit(1)
"""#
