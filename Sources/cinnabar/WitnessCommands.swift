// `cinnabar witness …`: a court or any other party that is not a validator runs a C2SP
// tlog-witness that countersigns a ledger's checkpoints, so verifiers can require its cosignature.
import API
import ArgumentParser
import Foundation
import Hummingbird
import Node
import SignedNote

struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP tlog-witness that cosigns ledgers' checkpoints (c2sp.org/tlog-witness).",
        subcommands: [WitnessInit.self, WitnessRun.self])
}

struct WitnessInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a witness directory: a fresh Ed25519 key (mode 0600) and an empty state; print its cosignature/v1 verifier key.")

    @Option(help: "The witness directory to create.") var dir: String
    @Option(help: "The witness's name, on its cosignature lines (a schema-less URL, e.g. court.sc-legal.example/witness).") var name: String

    func run() throws {
        let key = try WitnessDirectory.initialise(at: dir, name: name)
        FileHandle.standardError.write(Data("created \(dir): witness \(name), private key \(WitnessDirectory(dir).keyPath) (mode 0600)\n".utf8))
        print(key.cosignatureVerifierKey.vkey)
    }
}

struct WitnessRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve POST /add-checkpoint for the given logs.",
        discussion: "Each --log is ORIGIN=POLICY-FILE: the log's origin line and the C2SP tlog-policy its checkpoints must satisfy (for a Cinnabar ledger, `cinnabar policy --dir NODE-DIR`: ⌊2n/3⌋+1 of its validators). The origin may not contain \"=\".")

    @Option(help: "The witness directory (made by `cinnabar witness init`).") var dir: String
    @Option(help: "Listen address HOST:PORT.") var listen = "127.0.0.1:8090"
    @Option(name: .customLong("log"), help: "A log to witness, ORIGIN=POLICY-FILE (repeatable).") var logs: [String]

    func run() async throws {
        guard !logs.isEmpty else { throw CLIError("give at least one --log ORIGIN=POLICY-FILE") }
        let known = try logs.map { item -> (origin: String, policy: TlogPolicy) in
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw CLIError("--log must be ORIGIN=POLICY-FILE, got \(item)")
            }
            let origin = String(item[..<equals]), file = String(item[item.index(after: equals)...])
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("cannot read \(file)") }
            do { return (origin, try TlogPolicy(parsing: text)) } catch { throw CLIError("\(file): \(error)") }
        }
        let service = try WitnessService(directory: WitnessDirectory(dir), logs: known)
        let (host, port) = try parseListen(listen)
        let name = service.witness.key.name
        let app = WitnessServer.application(service: service, host: host, port: port, log: { say("cinnabar witness: \($0)") }) { bound in
            say("cinnabar witness: \(name) for \(known.map(\.origin).joined(separator: ", ")), serving http://\(host):\(bound)/add-checkpoint")
            say("cinnabar witness: verifier key \(service.witness.verifierKey.vkey)")
        }
        try await app.runService()
    }
}

/// `cinnabar node --witness URL --witness-key VKEY …`: the witnesses a node pushes its checkpoints to.
struct NodeWitnessOptions: ParsableArguments {
    @Option(name: .customLong("witness"),
            help: "A tlog-witness's submission URL to push each new checkpoint to (repeatable; the n-th --witness-key is its key).")
    var urls: [String] = []
    @Option(name: .customLong("witness-key"), help: "The cosignature/v1 verifier key of the witness at the same position.")
    var keys: [String] = []

    func validate() throws { _ = try witnesses() }

    func witnesses() throws -> [WitnessPusher.Witness] {
        guard urls.count == keys.count else {
            throw ValidationError("give one --witness-key per --witness (\(urls.count) URLs, \(keys.count) keys)")
        }
        return try zip(urls, keys).map { url, key in
            do { return try WitnessPusher.Witness(url: url, key: key) } catch { throw ValidationError("--witness \(url): \(error)") }
        }
    }

    /// Starts pushing `node`'s checkpoints to the witnesses; cancel the task to stop.
    func start(_ node: LedgerNode) throws -> Task<Void, Never> {
        let pusher = WitnessPusher(node: node, witnesses: try witnesses(), log: { say("cinnabar: \($0)") })
        return Task { await pusher.run() }
    }
}
