// `cinnabar schemas` publishes the record schemas; `cinnabar dev demo` writes the demo records.
import ArgumentParser
import Foundation
import Node
import Records

struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas", abstract: "Write the JSON Schema of every record type (Specs/records/).")
    @Option(help: "Output directory.") var out = "Specs/records"

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for type in RecordType.allCases {
            let text = RecordSchemas.pretty(RecordSchemas.publishedSchema(type)) + "\n"
            try text.write(toFile: "\(out)/\(type.rawValue).schema.json", atomically: true, encoding: .utf8)
        }
        say("wrote \(RecordType.allCases.count) schemas to \(out)")
    }
}

struct DevDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Write the demo records (every record type) and print their verification codes.")
    @Option(help: "The node directory (made by `cinnabar dev init`).") var dir: String
    @Option(help: "Write through this running node's API instead of opening the directory (a consortium).") var node: String?

    func run() async throws {
        if let url = node { return try await throughAPI(normalisedNode(url)) }
        let node = try LedgerNode(directory: NodeDirectory(dir))
        defer { node.close() }
        let result = try await DemoScenario(node: node).run()
        say("wrote \(result.written.count) demo records; ledger size \(node.store.size)")
        let today = RecordWriter.today()
        for (label, code) in result.codes {
            var status = ""
            if let summary = node.records.record(code: code, codeKey: try node.directory.loadCodeKey()),
               let view = try node.records.documentView(summary.recordID, today: today) {
                status = view.status.rawValue
            }
            say("  \(code.grouped)  \(label)\(status.isEmpty ? "" : "  → \(status)")")
        }
    }
}

extension DevDemo {
    /// The scenario posted to `POST /v1/records` of a running node, each record waited for.
    func throughAPI(_ url: String) async throws {
        let result = try await DemoScenario(directory: NodeDirectory(dir)) { bytes in
            _ = try NodeClient.json(try NodeClient.send("POST", url + "/v1/records", body: bytes))
        }.run()
        say("wrote \(result.written.count) demo records through \(url)")
        for (label, code) in result.codes { say("  \(code.grouped)  \(label)") }
    }
}

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Print the C2SP tlog-policy of a ledger's validators (to pin them for offline checks).")
    @Option(help: "The node directory (its genesis.json).") var dir: String

    func run() throws {
        FileHandle.standardOutput.write(Data(try ProofBundle.policy(genesis: try NodeDirectory(dir).loadGenesis()).utf8))
    }
}
