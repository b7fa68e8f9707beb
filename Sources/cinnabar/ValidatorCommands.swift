// `cinnabar validators propose|approve|submit`: change the consortium's validator set, one
// validator at a time, with the approval of more than two thirds of the validators in force
// (consensus.md §2.10). The proposal is a small JSON file passed from operator to operator; each
// signs it with their validator key; any node takes it once approved.
import ArgumentParser
import CinnabarCrypto
import Foundation
import Ledger
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
            next.append(try member(spec))
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
