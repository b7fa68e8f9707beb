// `cinnabar node` and `cinnabar dev …`: start a node from its directory; create a dev ledger.
import API
import ArgumentParser
import CinnabarCrypto
import Foundation
import Hummingbird
import Ledger
import MerkleLog
import Node
import Records

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Run a ledger node from its directory.")

    @Option(help: "The node directory (made by `cinnabar dev init`).") var dir: String
    @Option(help: "Listen address HOST:PORT (default: node.json's).") var listen: String?
    @OptionGroup var witnesses: NodeWitnessOptions

    func run() async throws {
        let node = try LedgerNode(directory: NodeDirectory(dir))
        let pushing = try witnesses.start(node)
        let (host, port) = try parseListen(listen ?? node.config.listen)
        let app = HTTPServer.application(node: node, host: host, port: port) { bound in
            say("cinnabar: \(node.genesis.origin) at size \(node.store.size), serving http://\(host):\(bound)/")
            say("cinnabar: verification page http://\(host):\(bound)/ (a code opens directly at http://\(host):\(bound)/V/<CODE>)")
        }
        try await app.runService()
        pushing.cancel()
        node.close()
    }
}

struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Development helpers: a one-validator ledger and synthetic load.",
        subcommands: [DevInit.self, DevDemo.self, DevLoad.self])
}

struct DevInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a one-validator ledger, or with --validators N a consortium of N nodes, with fresh keys.")

    @Option(help: "The node directory to create (with --validators: the directory that holds one per node).") var dir: String
    @Option(help: "The log's origin (checkpoint first line).") var origin = "ledger.sc-legal.example/cinnabar"
    @Option(help: "This validator's name (one validator only).") var validator = "dev-validator"
    @Option(help: "Listen address HOST:PORT (with --validators: node i serves PORT+i and takes peer links on PORT+1000+i).")
    var listen = "127.0.0.1:8080"
    @Option(help: "Validators: 1, or 2 to 7 for a consortium on this machine (notary, lab, court, bureau, …).") var validators = 1
    @Option(help: "Consensus timeouts in the genesis, ms: propose,vote (default 3000,1000; consensus.md §2.5).") var timeouts: String?
    @Option(help: "With --validators: observers (mirrors that verify and store every block, and take no writes) to add.")
    var observers = 0
    @Option(help: "With --validators: the host names peers use to reach each node, comma-separated (default: the listen host).")
    var peerHosts: String?

    func run() throws {
        if validators > 1 { return try consortium() }
        let directory = try NodeDirectory.initialise(at: dir, origin: origin, validator: validator, listen: listen)
        let genesis = try directory.loadGenesis()
        print("created \(dir): origin \(origin), validator \(validator)")
        print("verifier key: \(genesis.validators[0].key)")
    }
}

extension DevInit {
    func consortium() throws {
        let (host, port) = try parseListen(listen)
        var custom: Genesis.ConsensusTimeouts?
        if let timeouts {
            let parts = timeouts.split(separator: ",").compactMap { UInt64($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw CLIError("--timeouts takes PROPOSE,VOTE in milliseconds") }
            custom = Genesis.ConsensusTimeouts(proposeMillis: parts[0], proposeDeltaMillis: parts[0] / 3,
                                               voteMillis: parts[1], voteDeltaMillis: parts[1] / 2)
        }
        let nodes = try NodeDirectory.initialiseConsortium(at: dir, count: validators, origin: origin, host: host, apiPort: port + 1,
                                                           peerPort: port + 1001,
                                                           peerHosts: peerHosts.map { $0.split(separator: ",").map(String.init) }, timeouts: custom,
                                                           observers: observers)
        print("created a consortium of \(validators) validators\(observers > 0 ? " and \(observers) observers" : "") in \(dir), origin \(origin)")
        for node in nodes {
            let config = try node.loadConfig()
            let role = config.observer == true ? " (observer)" : ""
            print("  \(config.validator)\(role): \(node.path)  API http://\(config.listen)/  peers \(config.peerListen ?? "")")
        }
    }
}

struct DevLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Deposit synthetic evidence records, signed by the demo notary office; print one ACK line per durable record.",
        discussion: "Each ACK line is `ACK <index> <size> <root-b64> <leaf-sha256-b64>`, printed only after the block is fsync'd. Used by the crash test.")

    @Option(help: "The node directory (made by `cinnabar dev init`).") var dir: String
    @Option(help: "Records to deposit.") var count = 1000
    @Option(help: "Concurrent submitters.") var concurrency = 64
    @Flag(help: "Print ACK lines.") var acks = false

    func run() async throws {
        let directory = NodeDirectory(dir)
        let writer = try RecordWriter(key: try directory.loadOrganisationKey("notary"), codeKey: try directory.loadCodeKey())
        let node = try LedgerNode(directory: directory)
        defer { node.close() }
        let out = AckPrinter(enabled: acks)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var i = worker
                    while i < count {
                        let digest = SHA256.hash(secureRandomBytes(count: 32)).hex
                        let record = writer.evidence(sha256: digest).bytes
                        let receipt = try await node.submit(record: record)
                        out.ack(receipt, leafHash: SHA256.hash([LeafTag.record.rawValue] + record))
                        i += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A record-tagged leaf of random bytes.
func syntheticLeaf(bytes: Int) -> [UInt8] {
    [LeafTag.record.rawValue] + secureRandomBytes(count: max(0, bytes - 1))
}

/// Writes ACK lines to stdout, flushed per line so a killed process loses none it printed.
final class AckPrinter: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    init(enabled: Bool) { self.enabled = enabled }

    func ack(_ r: Receipt, leafHash: Hash) {
        guard enabled else { return }
        let line = "ACK \(r.index) \(r.size) \(r.root.base64) \(leafHash.base64)\n"
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
