// The demo consortium's day, written through the real node: every record type by its allowed
// writer; then the published schemas (checked by Python's jsonschema), the privacy scan of every
// leaf, the rebuild of derived state, code lookups and status derivation on the result.
import CinnabarCrypto
import Foundation
import Ledger
import Node
import Records
import Storage
import XCTest

final class ScenarioTests: XCTestCase {
    nonisolated(unsafe) static var shared: (ledger: TemporaryLedger, result: DemoScenarioResult)?

    /// One scenario run shared by the tests of this class (it takes a few seconds).
    func scenario() async throws -> (TemporaryLedger, DemoScenarioResult, LedgerNode) {
        if ScenarioTests.shared == nil {
            let ledger = try TemporaryLedger()
            let node = try LedgerNode(directory: ledger.directory)
            let result = try await DemoScenario(node: node).run()
            node.close()
            ScenarioTests.shared = (ledger, result)
        }
        let (ledger, result) = ScenarioTests.shared!
        return (ledger, result, try LedgerNode(directory: ledger.directory))
    }

    var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func recordLeaves(_ store: LedgerStore) throws -> [[UInt8]] {
        try store.leaves(from: 0, count: Int(store.size)).filter { $0.first == LeafTag.record.rawValue }.map { Array($0.dropFirst()) }
    }

    func testEveryRecordTypeIsWrittenByAnAllowedWriter() async throws {
        let (_, result, node) = try await scenario()
        defer { node.close() }
        XCTAssertEqual(Set(result.written.map(\.type)), Set(RecordType.allCases))
        XCTAssertEqual(try recordLeaves(node.store).count, result.written.count)
        XCTAssertNil(Audit.run(store: node.store, genesis: node.genesis).failure)
    }

    func testPublishedSchemasAreTheOnesTheCodeEnforces() throws {
        let dir = packageRoot.appendingPathComponent("Specs/records")
        for type in RecordType.allCases {
            let published = try String(contentsOf: dir.appendingPathComponent("\(type.rawValue).schema.json"), encoding: .utf8)
            XCTAssertEqual(published, RecordSchemas.pretty(RecordSchemas.publishedSchema(type)) + "\n",
                           "Specs/records/\(type.rawValue).schema.json is stale: run `cinnabar schemas`")
        }
    }

    func testEveryLoggedRecordValidatesWithAnIndependentJSONSchemaValidator() async throws {
        let (ledger, _, node) = try await scenario()
        defer { node.close() }
        let dir = ledger.path + "/records-json"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var files: [String] = []
        for (i, record) in try recordLeaves(node.store).enumerated() {
            let path = "\(dir)/\(i).json"
            try Data(record).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", packageRoot.appendingPathComponent("Tests/Tools/validate_records.py").path,
                             packageRoot.appendingPathComponent("Specs/records").path] + files
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("\(files.count) passed, 0 failed"), text)
    }

    func testNoLeafHoldsPersonalDataInClear() async throws {
        let (_, result, node) = try await scenario()
        defer { node.close() }
        XCTAssertFalse(result.personalData.isEmpty)
        let leaves = try node.store.leaves(from: 0, count: Int(node.store.size))
        for secret in result.personalData {
            let forms: [[UInt8]] = [
                Array(secret.utf8),
                Array(secret.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined().utf8),
                Array(SHA256.hash(secret).hex.utf8),  // and no plain hash either
            ]
            for (i, leaf) in leaves.enumerated() {
                for form in forms {
                    XCTAssertFalse(leaf.contains(subsequence: form), "leaf \(i) contains personal data \(secret)")
                }
            }
        }
        // Codes are capabilities: never in a leaf, in clear or as a plain hash.
        for (_, code) in result.codes {
            for leaf in leaves {
                XCTAssertFalse(leaf.contains(subsequence: Array(code.value.utf8)))
                XCTAssertFalse(leaf.contains(subsequence: Array(SHA256.hash(code.value).hex.utf8)))
            }
        }
    }

    func testDerivedStateRebuildsByteForByteFromTheLeaves() async throws {
        let (_, _, node) = try await scenario()
        defer { node.close() }
        let stored = try RecordIndex.stored(store: node.store)
        let rebuilt = try RecordIndex.rebuild(store: node.store, genesisRegistry: try node.genesis.registry())
        XCTAssertFalse(stored.isEmpty)
        XCTAssertEqual(stored, rebuilt)
    }

    func testCodesFindTheirRecordAndStatusesFollowTheRecords() async throws {
        let (ledger, result, node) = try await scenario()
        defer { node.close() }
        let codeKey = try ledger.directory.loadCodeKey()
        let today = RecordWriter.today()
        let expected: [String: DocumentStatus] = [
            "notarial-corrected": .validCorrected, "notarial-valid": .valid, "notarial-revoked": .revoked,
            "notarial-superseded": .superseded, "notarial-replacement": .valid, "appraisal": .valid,
            "award-suspended": .suspended, "award-set-aside": .revoked, "legal-aid": .valid, "law-firm-letter": .valid,
        ]
        for (label, code) in result.codes {
            let summary = try XCTUnwrap(node.records.record(code: code, codeKey: codeKey), label)
            XCTAssertEqual(summary.recordID, result.records[label])
            if let status = expected[label] {
                let view = try XCTUnwrap(try node.records.documentView(summary.recordID, today: today))
                XCTAssertEqual(view.status, status, label)
                if label == "notarial-revoked" { XCTAssertTrue(view.voidAbInitio) }
                if label == "notarial-corrected" { XCTAssertEqual(view.renditions.count, 2) }
                if label == "notarial-superseded" { XCTAssertEqual(view.supersededBy, result.records["notarial-replacement"]) }
            }
        }
        // A well-formed code nobody issued finds nothing; the wrong key finds nothing either.
        XCTAssertNil(node.records.record(code: VerificationCode.generate(kind: .notarial), codeKey: codeKey))
        XCTAssertNil(node.records.record(code: result.codes[2].code, codeKey: CodeKey(bytes: [UInt8](repeating: 7, count: 32))))

        // The lawyer's public credit profile.
        let profile = try node.records.creditProfile(subject: "15101201910000001", today: today)
        let byID = Dictionary(uniqueKeysWithValues: profile.map { ($0.event.record.recordID, $0) })
        XCTAssertEqual(byID[result.records["penalty"]!]?.state, .annulled)
        XCTAssertEqual(byID[result.records["penalty"]!]?.publicReason, "penalty_revoked_by_court")
        XCTAssertEqual(byID[result.records["discipline"]!]?.state, .amended)
        XCTAssertEqual(byID[result.records["discipline"]!]?.fields["measure_code"]?.string, "warning")
        XCTAssertNil(byID[result.records["reward"]!], "publication ended")
    }

    func testGovernanceChangedTheRegistry() async throws {
        let (_, _, node) = try await scenario()
        defer { node.close() }
        let removed = node.records.registry.members.values.first { $0.name.hasPrefix("示例第二公证处") }
        XCTAssertEqual(removed?.status, .removed)
        XCTAssertEqual(removed.map { Set($0.keys.keys) }, ["k2"])
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
