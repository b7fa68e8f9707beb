// Trust policies (c2sp.org/tlog-policy): the spec's example, thresholds, `quorum none`, every rule
// violation, and Cinnabar's case — validators as witnesses in a 3-of-4 group.
import CinnabarCrypto
import Foundation
import SignedNote
import XCTest

final class TlogPolicyTests: XCTestCase {
    private let origin = "example.com/log"
    private lazy var log = testKey(origin)
    private lazy var checkpointText = "\(origin)\n42\n\(SHA256.hash("root 42").base64)\n"

    /// The note for `checkpointText` signed by the log (unless `logSigns` is false) and `signers`.
    private func note(
        logSigns: Bool = true, _ signers: [NoteSigningKey] = [], cosigners: [NoteSigningKey] = []
    ) throws -> Note {
        var lines = try ((logSigns ? [log] : []) + signers).map { try $0.signature(for: checkpointText) }
        let checkpoint = try Checkpoint(parsing: checkpointText)
        lines += cosigners.map { Cosignature.sign(checkpoint, timestamp: 1_700_000_000, with: $0).noteSignature }
        return try Note(text: checkpointText, signatures: lines)
    }

    // MARK: The example of tlog-policy §Example policy, with generated keys.

    private lazy var x = (1...3).map { testKey("x\($0).example/witness") }
    private lazy var y = (1...3).map { testKey("y\($0).example/witness") }

    private func examplePolicyText() -> String {
        """
        log \(log.verifierKey.vkey)

        witness X1 \(x[0].cosignatureVerifierKey.vkey)
        witness X2 \(x[1].cosignatureVerifierKey.vkey)
        witness X3 \(x[2].cosignatureVerifierKey.vkey)
        group X-witnesses 2 X1 X2 X3

        witness Y1 \(y[0].cosignatureVerifierKey.vkey)
        witness Y2 \(y[1].cosignatureVerifierKey.vkey)
        witness Y3 \(y[2].cosignatureVerifierKey.vkey)
        group Y-witnesses any Y1 Y2 Y3

        group X-and-Y all X-witnesses Y-witnesses
        quorum X-and-Y

        """
    }

    func testSpecExamplePolicyParses() throws {
        let policy = try TlogPolicy(parsing: examplePolicyText())
        XCTAssertEqual(policy.logs.map(\.key), [log.verifierKey])
        XCTAssertEqual(policy.witnesses.map(\.name), ["X1", "X2", "X3", "Y1", "Y2", "Y3"])
        XCTAssertEqual(policy.groups.map(\.name), ["X-witnesses", "Y-witnesses", "X-and-Y"])
        XCTAssertEqual(policy.groups.map(\.threshold), [.atLeast(2), .any, .all])
        XCTAssertEqual(policy.groups.map(\.required), [2, 1, 2])
        XCTAssertEqual(policy.groups[2].members, ["X-witnesses", "Y-witnesses"])
        XCTAssertEqual(policy.quorum, .named("X-and-Y"))
        // formatted drops blank lines and comments but keeps the order, and parses back the same.
        XCTAssertEqual(try TlogPolicy(parsing: policy.formatted), policy)
        XCTAssertEqual(policy.formatted.split(separator: "\n").count, 11)
    }

    func testSpecExampleQuorumNeedsTwoXAndOneY() throws {
        let policy = try TlogPolicy(parsing: examplePolicyText())
        let cases: [([NoteSigningKey], Bool)] = [
            ([x[0], x[1], y[0]], true),
            ([x[1], x[2], y[2]], true),
            (x + y, true),
            ([x[0], y[0], y[1], y[2]], false),
            (x, false),
            (y, false),
            ([], false),
        ]
        for (cosigners, passes) in cases {
            let note = try note(cosigners: cosigners)
            let names = cosigners.map(\.name).joined(separator: ", ")
            if passes {
                XCTAssertEqual(try policy.verify(note: note).size, 42, names)
            } else {
                assertNoteError("quorum_not_met", try policy.verify(note: note), names)
            }
        }
        let error = assertNoteError("quorum_not_met", try policy.verify(note: note(cosigners: [x[0], y[0]])))
        XCTAssertEqual(
            error?.description,
            "quorum not met: group X-and-Y needs 2 of 2, has 1 (Y-witnesses); group X-witnesses needs 2 of 3, has 1 (X1)"
        )
    }

    // MARK: Thresholds.

    func testAnyAllAndNumericThresholds() throws {
        let w = (1...4).map { testKey("w\($0).example") }
        let witnessLines = w.enumerated().map { "witness w\($0.offset + 1) \($0.element.verifierKey.vkey)" }.joined(
            separator: "\n")
        let cases: [(String, Int, Bool)] = [
            ("any", 0, false), ("any", 1, true), ("any", 4, true),
            ("all", 3, false), ("all", 4, true),
            ("1", 1, true), ("2", 1, false), ("2", 2, true), ("3", 2, false), ("3", 3, true), ("4", 3, false),
            ("4", 4, true),
        ]
        for (threshold, signing, passes) in cases {
            let policy = try TlogPolicy(
                parsing: "log \(log.verifierKey.vkey)\n\(witnessLines)\ngroup g \(threshold) w1 w2 w3 w4\nquorum g\n")
            let result = Result { try policy.verify(note: note(Array(w.prefix(signing)))) }
            XCTAssertEqual((try? result.get()) != nil, passes, "\(threshold) with \(signing) signatures: \(result)")
        }
    }

    func testSingleWitnessQuorum() throws {
        let w = testKey("solo.example")
        let policy = try TlogPolicy(parsing: "witness solo \(w.verifierKey.vkey)\nquorum solo\n")
        XCTAssertNoThrow(try policy.verify(note: note(logSigns: false, [w])))
        let error = assertNoteError("quorum_not_met", try policy.verify(note: note(logSigns: true)))
        XCTAssertEqual(error?.description, "quorum not met: witness solo has not signed")
    }

    func testQuorumNone() throws {
        let withLog = try TlogPolicy(parsing: "log \(log.verifierKey.vkey)\nquorum none\n")
        XCTAssertEqual(withLog.quorum, TlogPolicy.Quorum.none)
        XCTAssertEqual(try withLog.verify(note: note()).origin, origin)
        assertNoteError("no_verified_signature", try withLog.verify(note: note(logSigns: false, [testKey("stranger")])))

        // No logs and no quorum: the log is known from context and nothing is required.
        let nothing = try TlogPolicy(parsing: "quorum none\n")
        XCTAssertEqual(try nothing.verify(note: note(logSigns: false, [testKey("stranger")])).size, 42)
        XCTAssertEqual(nothing.formatted, "quorum none\n")
    }

    // MARK: Cinnabar: four validators, any three.

    func testFourValidatorsThresholdThree() throws {
        let validators = (1...4).map { testKey("\(origin)/validator/\($0)") }
        let policy = try TlogPolicy(
            logs: [],
            witnesses: validators.enumerated().map { .init(name: "v\($0.offset + 1)", key: $0.element.verifierKey) },
            groups: [.init(name: "validators", threshold: .atLeast(3), members: ["v1", "v2", "v3", "v4"])],
            quorum: .named("validators"))
        XCTAssertEqual(try TlogPolicy(parsing: policy.formatted), policy)

        let two = try note(logSigns: false, [validators[0], validators[2]])
        let error = assertNoteError("quorum_not_met", try policy.verify(note: two))
        XCTAssertEqual(error?.description, "quorum not met: group validators needs 3 of 4, has 2 (v1, v3)")

        XCTAssertNoThrow(try policy.verify(note: note(logSigns: false, Array(validators.prefix(3)))))
        XCTAssertNoThrow(try policy.verify(note: note(logSigns: false, validators)))
        // Unknown keys do not count, and a listed validator's bad signature rejects the note.
        XCTAssertNoThrow(try policy.verify(note: note(logSigns: true, Array(validators.suffix(3)))))
        let forged = try note(logSigns: false, Array(validators.prefix(3))).adding([
            NoteSignature(
                keyName: validators[3].name, keyID: validators[3].keyID, signature: [UInt8](repeating: 0, count: 64))
        ])
        assertNoteError("signature_invalid", try policy.verify(note: forged))
    }

    func testMixedPlainAndCosignatureWitnesses() throws {
        let validator = testKey("\(origin)/validator/1")
        let external = testKey("witness.example/w")
        let policy = try TlogPolicy(
            parsing: """
                witness v1 \(validator.verifierKey.vkey)
                witness ext \(external.cosignatureVerifierKey.vkey) https://witness.example/
                group both all v1 ext
                quorum both
                """)
        XCTAssertEqual(policy.witnesses[1].url, "https://witness.example/")
        XCTAssertNoThrow(try policy.verify(note: note(logSigns: false, [validator], cosigners: [external])))
        // The external witness's plain signature is not a cosignature: its ID does not match.
        assertNoteError("quorum_not_met", try policy.verify(note: note(logSigns: false, [validator, external])))
    }

    // MARK: Logs.

    func testLogSignatureAndOrigin() throws {
        let policy = try TlogPolicy(parsing: "log \(log.verifierKey.vkey) https://example.com/log/\nquorum none\n")
        XCTAssertEqual(policy.logs[0].url, "https://example.com/log/")
        assertNoteError("no_verified_signature", try policy.verify(note: note(logSigns: false, [testKey("stranger")])))

        // A log key named differently from the checkpoint origin does not vouch for it.
        let vectors = try SignedNoteVectors.load()
        let golang = try XCTUnwrap(vectors.verifying.first { $0.vkey.hasPrefix("sum.golang.org+") })
        let goPolicy = try TlogPolicy(parsing: "log \(golang.vkey)\nquorum none\n")
        assertNoteError("origin_mismatch", try goPolicy.verify(note: Note(parsing: golang.note)))

        let twoLogs = try TlogPolicy(
            parsing: "log \(testKey("other.example/log").verifierKey.vkey)\nlog \(log.verifierKey.vkey)\nquorum none\n")
        XCTAssertNoThrow(try twoLogs.verify(note: note()))
        assertNoteError(
            "malformed_checkpoint", try twoLogs.verify(note: Note.sign(text: "not a checkpoint\n", with: [log])))
    }

    // MARK: Syntax and rules.

    func testCommentsBlankLinesAndWhitespace() throws {
        let w = testKey("w.example")
        let text =
            "# a policy\n\n   \t\n  # indented comment\n\twitness\t w1   \(w.verifierKey.vkey)  \n group  g any w1\t\nquorum g"
        let policy = try TlogPolicy(parsing: text)
        XCTAssertEqual(policy.witnesses.map(\.name), ["w1"])
        XCTAssertEqual(policy.formatted, "witness w1 \(w.verifierKey.vkey)\ngroup g any w1\nquorum g\n")
        // Non-ASCII bytes are allowed in names and comments, and names are opaque octet strings.
        let kelvin = try TlogPolicy(
            parsing: """
                # Ünïcödé comment
                witness K \(testKey("k1").verifierKey.vkey)
                witness \u{212A} \(testKey("k2").verifierKey.vkey)
                group both all K \u{212A}
                quorum both
                """)
        XCTAssertEqual(kelvin.groups[0].required, 2)
    }

    func testRuleViolationsAreRejected() throws {
        let (a, b, c) = (
            testKey("a.example").verifierKey.vkey, testKey("b.example").verifierKey.vkey,
            testKey("c.example").verifierKey.vkey
        )
        let aAsCosigner = testKey("a.example").cosignatureVerifierKey.vkey
        let aRenamed = try NoteVerifierKey(
            name: "renamed.example", type: .ed25519, publicKey: testKey("a.example").verifierKey.publicKey
        ).vkey
        let aKey = testKey("a.example").verifierKey.publicKey.bytes
        let ecdsa =
            "a.example+\(hex8(NoteVerifierKey.keyID(name: "a.example", type: 2, keyMaterial: aKey)))+\(Base64.encode([2] + aKey))"
        let cases: [(String, String, Int)] = [
            ("unknown keyword", "witnesses w \(a)\nquorum none\n", 1),
            ("log without key", "log\nquorum none\n", 1),
            ("log with too many items", "log \(a) https://a.example/ extra\nquorum none\n", 1),
            ("log with a bad key", "log \(a.dropLast(2))\nquorum none\n", 1),
            ("log with an unknown key type", "log \(ecdsa)\nquorum none\n", 1),
            ("witness without key", "witness w\nquorum none\n", 1),
            ("witness with too many items", "witness w \(a) https://a.example/ extra\nquorum none\n", 1),
            ("duplicate log key", "log \(a)\nlog \(a)\nquorum none\n", 2),
            ("duplicate witness key", "witness w1 \(a)\nwitness w2 \(a)\nquorum none\n", 2),
            ("witness key under another name", "witness w1 \(a)\nwitness w2 \(aRenamed)\nquorum none\n", 2),
            ("witness key of another type", "witness w1 \(a)\nwitness w2 \(aAsCosigner)\nquorum none\n", 2),
            ("witness key is a log key", "log \(a)\nwitness w \(a)\nquorum none\n", 2),
            ("duplicate witness name", "witness w \(a)\nwitness w \(b)\nquorum none\n", 2),
            ("group named like a witness", "witness w \(a)\ngroup w any w\nquorum none\n", 2),
            ("witness named none", "witness none \(a)\nquorum none\n", 1),
            ("group named none", "witness w \(a)\ngroup none any w\nquorum none\n", 2),
            ("member defined later", "group g any w\nwitness w \(a)\nquorum g\n", 1),
            ("undefined member", "witness w \(a)\ngroup g any w x\nquorum g\n", 2),
            ("none as a member", "witness w \(a)\ngroup g any w none\nquorum g\n", 2),
            ("member twice in a group", "witness w \(a)\ngroup g any w w\nquorum g\n", 2),
            ("member of two groups", "witness w \(a)\nwitness v \(b)\ngroup g any w\ngroup h any w v\nquorum h\n", 4),
            ("group as member twice", "witness w \(a)\ngroup g any w\ngroup h any g\ngroup i any g\nquorum i\n", 4),
            ("group without members", "witness w \(a)\ngroup g any\nquorum none\n", 2),
            ("threshold 0", "witness w \(a)\ngroup g 0 w\nquorum g\n", 2),
            ("threshold above n", "witness w \(a)\nwitness v \(b)\ngroup g 3 w v\nquorum g\n", 3),
            ("negative threshold", "witness w \(a)\ngroup g -1 w\nquorum g\n", 2),
            ("word threshold", "witness w \(a)\ngroup g two w\nquorum g\n", 2),
            ("huge threshold", "witness w \(a)\ngroup g 99999999999999999999999 w\nquorum g\n", 2),
            ("quorum undefined", "witness w \(a)\nquorum v\n", 2),
            ("quorum before its group", "witness w \(a)\nquorum g\ngroup g any w\n", 2),
            ("two quorum lines", "witness w \(a)\nquorum w\nquorum none\n", 3),
            ("quorum with two names", "witness w \(a)\nwitness v \(b)\nquorum w v\n", 3),
            ("quorum without name", "quorum\n", 1),
            ("no quorum", "log \(a)\nwitness w \(b)\ngroup g any w\n", 0),
            ("empty file", "", 0),
            ("carriage return", "log \(a)\r\nquorum none\n", 1),
            ("control character", "log \(a)\nquorum\u{1} none\n", 2),
            ("DEL", "# comment \u{7F}\nquorum none\n", 1),
            ("control character in a comment", "# bell \u{7}\nwitness w \(c)\nquorum w\n", 1),
        ]
        for (what, text, line) in cases {
            let error = assertNoteError("malformed_policy", try TlogPolicy(parsing: text), what)
            if case let .malformedPolicy(reported, _)? = error {
                XCTAssertEqual(reported, line, "\(what): \(error!)")
            }
        }
    }

    func testPoliciesFromPartsFollowTheSameRules() throws {
        let a = testKey("a.example").verifierKey
        let b = testKey("b.example").verifierKey
        let w = TlogPolicy.Witness(name: "w", key: a)
        assertNoteError("malformed_policy", try TlogPolicy(logs: [], witnesses: [w], groups: [], quorum: .named("g")))
        assertNoteError(
            "malformed_policy", try TlogPolicy(logs: [.init(key: a)], witnesses: [w], groups: [], quorum: .none))
        assertNoteError(
            "malformed_policy",
            try TlogPolicy(logs: [], witnesses: [.init(name: "two words", key: a)], groups: [], quorum: .none))
        assertNoteError(
            "malformed_policy",
            try TlogPolicy(logs: [.init(key: a, url: "has space")], witnesses: [], groups: [], quorum: .none))
        assertNoteError(
            "malformed_policy",
            try TlogPolicy(
                logs: [], witnesses: [w],
                groups: [.init(name: "g", threshold: .atLeast(2), members: ["w"])], quorum: .none))
        assertNoteError(
            "malformed_policy",
            try TlogPolicy(
                logs: [], witnesses: [w],
                groups: [.init(name: "g", threshold: .all, members: [])], quorum: .none))
        let policy = try TlogPolicy(
            logs: [.init(key: b, url: "https://b.example/")], witnesses: [w],
            groups: [.init(name: "g", threshold: .any, members: ["w"])], quorum: .named("g"))
        XCTAssertEqual(
            policy.formatted, "log \(b.vkey) https://b.example/\nwitness w \(a.vkey)\ngroup g any w\nquorum g\n")
        // The line number in an error is the entry's line in `formatted`.
        let error = assertNoteError(
            "malformed_policy",
            try TlogPolicy(
                logs: [.init(key: b)], witnesses: [w],
                groups: [.init(name: "g", threshold: .any, members: ["x"])], quorum: .none))
        XCTAssertEqual(error, .malformedPolicy(line: 3, "group g lists \"x\", which is not defined on an earlier line"))
    }

    func testLimits() throws {
        let many = (0...TlogPolicy.maxLogs).map { "log \(testKey("log\($0).example").verifierKey.vkey)" }.joined(
            separator: "\n")
        assertNoteError("malformed_policy", try TlogPolicy(parsing: many + "\nquorum none\n"))
        assertNoteError(
            "malformed_policy",
            try TlogPolicy(parsing: String(repeating: "#", count: TlogPolicy.maxBytes) + "\nquorum none\n"))
    }
}

/// Eight lower-case hex digits.
func hex8(_ id: UInt32) -> String { String(id, radix: 16).leftPadded8 }
