// `cinnabar schemas` publishes the record schemas; `cinnabar dev demo` writes the demo records.
import ArgumentParser
import Foundation
import Node
import Records
import SignedNote

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
        commandName: "policy", abstract: "Print the C2SP tlog-policy of a ledger's validators (to pin them for offline checks).",
        discussion: "With --witness-key, the policy also requires cosignatures from those tlog-witnesses (all of them, or --witnesses-required of them).")
    @Option(help: "The node directory (its genesis.json).") var dir: String
    @Option(name: .customLong("witness-key"), help: "A witness's cosignature/v1 verifier key to require (repeatable).") var witnessKeys: [String] = []
    @Option(help: "How many of the witnesses must have cosigned (default: all).") var witnessesRequired: Int?

    func run() throws {
        let witnesses = try witnessKeys.map { text in
            do { return try NoteVerifierKey(parsing: text) } catch { throw CLIError("bad --witness-key \(text): \(error)") }
        }
        if let k = witnessesRequired, witnesses.isEmpty || !(1...witnesses.count).contains(k) {
            throw CLIError("--witnesses-required must be between 1 and the number of --witness-key (\(witnesses.count))")
        }
        if let key = witnesses.first(where: { $0.type != .cosignatureV1 }) {
            throw CLIError("--witness-key \(key.name): not a cosignature/v1 (type 0x04) key; use the key `cinnabar witness init` printed")
        }
        let policy: String
        do {
            policy = try ProofBundle.policy(genesis: try NodeDirectory(dir).loadGenesis(), witnesses: witnesses,
                                            witnessesRequired: witnessesRequired)
        } catch let error as NoteError { throw CLIError("\(error)") }
        FileHandle.standardOutput.write(Data(policy.utf8))
    }
}
