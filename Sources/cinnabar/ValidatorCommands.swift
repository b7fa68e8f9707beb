// `cinnabar validators propose|approve|submit`: change the consortium's validator set, one
// validator at a time, with the approval of more than two thirds of the validators in force
// (consensus.md §2.10). The proposal is a small JSON file passed from operator to operator; each
// signs it with their validator key; any node takes it once approved.
import ArgumentParser
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Node
import SignedNote

struct Validators: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, remove or re-key a validator, with the approval of more than two thirds of the validators in force.",
        subcommands: [ValidatorsPropose.self, ValidatorsApprove.self, ValidatorsSubmit.self])
}

/// The file operators pass around: the set in force, the epoch, and the change leaf with the
/// approvals gathered so far.
struct ChangeProposal: Codable {
    struct Member: Codable { let name: String; let key: String }
    let origin: String
    let epoch: UInt64
    let current: [Member]
    var change: String

    func currentSet() throws -> ValidatorSet {
        try ValidatorSet(current.map { try ChangeProposal.validator($0, origin: origin) })
    }

    func decoded() throws -> ValidatorSetChange {
        guard let leaf = Base64.decode(change) else { throw CLIError("the proposal's change is not base64") }
        do { return try ValidatorSetChange(leafData: leaf) } catch { throw CLIError("the proposal's change does not decode: \(error)") }
    }

    static func validator(_ m: Member, origin: String) throws -> Validator {
        let vkey: NoteVerifierKey
        do { vkey = try NoteVerifierKey(parsing: m.key) } catch { throw CLIError("\(m.name)'s key: \(error)") }
        guard vkey.type == .ed25519, vkey.name == "\(origin)/\(m.name)" else {
            throw CLIError("\(m.name)'s key must be an Ed25519 verifier key named \(origin)/\(m.name)")
        }
        return Validator(name: m.name, publicKey: vkey.publicKey)
    }

    static func load(_ path: String) throws -> ChangeProposal {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        do { return try JSONDecoder().decode(ChangeProposal.self, from: data) } catch { throw CLIError("\(path) is not a change proposal") }
    }

    func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

struct ValidatorsPropose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose", abstract: "Write a proposal to add, remove or re-key one validator, against the set a node has in force.")

    @Option(help: "A node of the consortium (its /v1/log gives the set in force and the epoch).") var node: String
    @Option(help: "Add a validator: NAME=VERIFIER-KEY (a synced observer's key).") var add: String?
    @Option(help: "With --add: the API URL of the node that will validate; it must already run as an observer of this log, with that name and key, and be synced.") var observer: String?
    @Option(help: "Remove the validator NAME.") var remove: String?
    @Option(help: "Give validator NAME a new key: NAME=VERIFIER-KEY.") var rotate: String?
    @Option(name: .shortAndLong, help: "The proposal file to write.") var output: String

    func run() throws {
        let log = try NodeClient.json(try NodeClient.send("GET", normalisedNode(node) + "/v1/log"))
        guard let origin = log["origin"] as? String, let epoch = (log["epoch"] as? NSNumber)?.uint64Value,
              let members = log["validators"] as? [[String: Any]] else { throw CLIError("the node's /v1/log has no validator set") }
        let current = members.compactMap { m -> ChangeProposal.Member? in
            guard let name = m["name"] as? String, let key = m["key"] as? String else { return nil }
            return ChangeProposal.Member(name: name, key: key)
        }
        var next = current
        switch (add, remove, rotate) {
        case let (spec?, nil, nil):
            let joining = try member(spec)
            try requireSyncedObserver(joining, origin: origin, log: log)
            next.append(joining)
        case let (nil, name?, nil):
            guard next.contains(where: { $0.name == name }) else { throw CLIError("\(name) is not a validator") }
            next.removeAll { $0.name == name }
        case let (nil, nil, spec?):
            let m = try member(spec)
            guard let i = next.firstIndex(where: { $0.name == m.name }) else { throw CLIError("\(m.name) is not a validator") }
            next[i] = m
        default:
            throw CLIError("give exactly one of --add, --remove, --rotate")
        }
        let proposal = ChangeProposal(origin: origin, epoch: epoch, current: current, change: "")
        let new = try ValidatorSet(next.map { try ChangeProposal.validator($0, origin: origin) })
        do { _ = try ValidatorSetChange.step(from: try proposal.currentSet(), to: new) } catch { throw CLIError("\(error)") }
        var out = proposal
        out.change = Base64.encode(ValidatorSetChange(newSet: new, approvals: []).leafData)
        try out.write(output)
        say("wrote \(output): epoch \(epoch), \(current.count) → \(next.count) validators; needs \(try proposal.currentSet().quorum) approvals")
    }

    /// How far (in blocks) the joining observer may trail the node asked, and still count as synced.
    static let syncedWithinBlocks: UInt64 = 8

    /// A validator joins as a synced observer first (consensus.md §2.10): the node at `--observer`
    /// must serve this log as an observer under the name and key being added, hold a checkpoint
    /// the consortium's log is consistent with (checked by a consistency proof from the node
    /// asked), and trail it by at most `syncedWithinBlocks` blocks.
    private func requireSyncedObserver(_ joining: ChangeProposal.Member, origin: String, log: [String: Any]) throws {
        guard let observer else {
            throw CLIError("a validator joins as a synced observer first: run it as an observer, then give --observer URL (its API)")
        }
        let theirs = try NodeClient.json(try NodeClient.send("GET", normalisedNode(observer) + "/v1/log"))
        guard theirs["origin"] as? String == origin else { throw CLIError("\(observer) serves another log than \(origin)") }
        guard let me = theirs["node"] as? [String: Any], me["role"] as? String == "observer" else {
            throw CLIError("\(observer) is not an observer of \(origin) (it must follow the log before it validates)")
        }
        guard me["name"] as? String == joining.name, me["key"] as? String == joining.key else {
            throw CLIError("\(observer) runs as \(me["name"] as? String ?? "?") with another key than the one proposed for \(joining.name)")
        }
        let height = (log["height"] as? NSNumber)?.uint64Value ?? 0, theirHeight = (theirs["height"] as? NSNumber)?.uint64Value ?? 0
        guard theirHeight + ValidatorsPropose.syncedWithinBlocks >= height else {
            throw CLIError("\(observer) is not synced: it holds \(theirHeight) of \(height) blocks")
        }
        // Its checkpoint is a prefix of the consortium's log: a consistency proof from the node asked.
        guard let ours = log["checkpoint"] as? String, let their = theirs["checkpoint"] as? String else {
            throw CLIError("no checkpoint to compare")
        }
        let a = try Checkpoint(parsing: try Note(parsing: their).text), b = try Checkpoint(parsing: try Note(parsing: ours).text)
        let (older, newer, server) = a.size <= b.size ? (a, b, node) : (b, a, observer)
        let proof = try NodeClient.json(try NodeClient.send("GET", normalisedNode(server) + "/v1/proofs/consistency?from=\(older.size)&to=\(newer.size)"))
        let hashes = (proof["consistency_proof"] as? [String] ?? []).compactMap(Hash.init(base64:))
        do { try ConsistencyProof.verify(from: older.size, fromRoot: older.root, to: newer.size, toRoot: newer.root, proof: hashes) } catch {
            throw CLIError("\(observer) holds a log that is not a prefix of the consortium's, or the other way round (sizes \(a.size), \(b.size)): \(error)")
        }
    }

    private func member(_ spec: String) throws -> ChangeProposal.Member {
        guard let eq = spec.firstIndex(of: "=") else { throw CLIError("expected NAME=VERIFIER-KEY, got \(spec)") }
        return ChangeProposal.Member(name: String(spec[..<eq]), key: String(spec[spec.index(after: eq)...]))
    }
}

struct ValidatorsApprove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a proposal with this validator's key (validator.key), in place.")

    @Argument(help: "The proposal file.") var file: String
    @Option(help: "This validator's key file (mode 0600).") var key: String

    func run() throws {
        var proposal = try ChangeProposal.load(file)
        let change = try proposal.decoded()
        let current = try proposal.currentSet()
        let signing = try KeyFile.load(key)
        guard let privateKey = Ed25519PrivateKey(seed: signing.seed),
              let approval = ValidatorSetChange.approve(origin: proposal.origin, epoch: proposal.epoch, current: current,
                                                        new: change.newSet, key: privateKey) else {
            throw CLIError("\(key) is not the key of a validator in force")
        }
        let approved = ValidatorSetChange(newSet: change.newSet, approvals: change.approvals.filter { $0.validator != approval.validator } + [approval])
        proposal.change = Base64.encode(approved.leafData)
        try proposal.write(file)
        let count = approved.verifiedApprovers(origin: proposal.origin, epoch: proposal.epoch, current: current).count
        say("approved by \(current.validators[approval.validator].name): \(count) of the \(current.quorum) approvals needed")
    }
}

struct ValidatorsSubmit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit an approved proposal to a node; it takes effect one height after the block that logs it.")

    @Argument(help: "The proposal file.") var file: String
    @Option(help: "A validator of the consortium.") var node: String

    func run() throws {
        let proposal = try ChangeProposal.load(file)
        let body = try JSONSerialization.data(withJSONObject: ["change": proposal.change])
        let answer = try NodeClient.json(try NodeClient.send("POST", normalisedNode(node) + "/v1/validator-set", body: Array(body)))
        say("submitted: \(answer["status"] as? String ?? "?") at epoch \(answer["epoch"] as? Int ?? -1)")
    }
}
