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

    func run() async throws {
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

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Print the C2SP tlog-policy of a ledger's validators (to pin them for offline checks).")
    @Option(help: "The node directory (its genesis.json).") var dir: String

    func run() throws {
        FileHandle.standardOutput.write(Data(try ProofBundle.policy(genesis: try NodeDirectory(dir).loadGenesis()).utf8))
    }
}
