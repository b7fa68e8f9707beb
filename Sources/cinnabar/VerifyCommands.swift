// Offline checks anyone can run: key generation, checkpoint signatures, Merkle proofs, audits.
import ArgumentParser
import CinnabarCrypto
import Foundation
import MerkleLog
import Node
import SignedNote
import Storage

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an Ed25519 signed-note key: write the private key (mode 0600), print the verifier key.")

    @Option(help: "Key name, e.g. ledger.sc-legal.example/cinnabar/notary-1.") var name: String
    @Option(help: "Private key file to create (default: NAME's last path element + .key).") var out: String?

    func run() throws {
        let key = try NoteSigningKey.generate(name: name)
        let path = out ?? (name.split(separator: "/").last.map(String.init) ?? "key") + ".key"
        try KeyFile.create(key, at: path)
        FileHandle.standardError.write(Data("wrote private key \(path) (mode 0600)\n".utf8))
        print(key.verifierKey.vkey)
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Check signed checkpoints.",
                                                    subcommands: [CheckpointVerify.self])
}

struct CheckpointVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a signed checkpoint note read from standard input.",
        discussion: "Exit 0 iff at least QUORUM distinct given keys signed it validly (default: all of them). Signature lines from keys not given are ignored. Prints origin, size and root.")

    @Option(name: .customLong("key"), help: "A verifier key (repeatable).") var keys: [String]
    @Option(help: "How many distinct keys must have signed (default: all given).") var quorum: Int?

    func run() throws {
        guard !keys.isEmpty else { throw CLIError("give at least one --key") }
        let verifiers = try keys.map { text in
            do { return try NoteVerifierKey(parsing: text) } catch { throw CLIError("bad --key \(text): \(error)") }
        }
        let needed = quorum ?? verifiers.count
        guard needed >= 1, needed <= verifiers.count else { throw CLIError("--quorum must be between 1 and the number of keys (\(verifiers.count))") }
        let input = readStandardInput()
        guard let text = String(validating: input, as: UTF8.self) else { throw CLIError("the note is not valid UTF-8") }
        let note: Note
        let checkpoint: Checkpoint
        do {
            note = try Note(parsing: text)
            checkpoint = try Checkpoint(parsing: note.text)
        } catch { throw CLIError("\(error)") }
        let signed: [NoteVerifierKey]
        do { signed = try note.verify(keys: verifiers) } catch { throw CLIError("\(error)") }
        let distinct = Set(signed.map { $0.publicKey })
        guard distinct.count >= needed else {
            throw CLIError("only \(distinct.count) of the \(needed) required keys signed this checkpoint")
        }
        print("origin \(checkpoint.origin)")
        print("size \(checkpoint.size)")
        print("root \(checkpoint.root.base64)")
        print("signed by \(distinct.count) of \(verifiers.count) keys: \(signed.map(\.name).joined(separator: ", "))")
    }
}

struct ProofCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "proof", abstract: "Verify RFC 9162 Merkle proofs offline.",
                                                    subcommands: [VerifyInclusion.self, VerifyConsistency.self])
}

struct VerifyInclusion: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-inclusion",
                                                    abstract: "Exit 0 iff the hashes prove the leaf is in the tree.")
    @Option(help: "Tree size.") var size: UInt64
    @Option(help: "Leaf index (from 0).") var index: UInt64
    @Option(help: "Tree root, base64.") var root: String
    @Option(help: "Leaf hash SHA-256(0x00 ‖ data), base64.") var leafHash: String
    @Argument(help: "Proof hashes, base64, leaf side first.") var hashes: [String] = []

    func run() throws {
        let proof = try hashes.enumerated().map { try parseHash($1, "proof hash \($0 + 1)") }
        do {
            try InclusionProof.verify(leafHash: try parseHash(leafHash, "--leaf-hash"), index: index, size: size,
                                      proof: proof, root: try parseHash(root, "--root"))
        } catch let error as ProofError { throw CLIError("inclusion proof rejected: \(error)") }
        print("ok: leaf \(index) is in the tree of size \(size)")
    }
}

struct VerifyConsistency: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-consistency",
                                                    abstract: "Exit 0 iff the hashes prove the old tree is a prefix of the new one.")
    @Option(help: "Old tree size.") var from: UInt64
    @Option(help: "Old root, base64.") var fromRoot: String
    @Option(help: "New tree size.") var to: UInt64
    @Option(help: "New root, base64.") var toRoot: String
    @Argument(help: "Proof hashes, base64.") var hashes: [String] = []

    func run() throws {
        let proof = try hashes.enumerated().map { try parseHash($1, "proof hash \($0 + 1)") }
        do {
            try ConsistencyProof.verify(from: from, fromRoot: try parseHash(fromRoot, "--from-root"), to: to,
                                        toRoot: try parseHash(toRoot, "--to-root"), proof: proof)
        } catch let error as ProofError { throw CLIError("consistency proof rejected: \(error)") }
        print("ok: the tree of size \(from) is a prefix of the tree of size \(to)")
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Recompute every hash from the leaves and check every block, tile and checkpoint signature.")
    @Option(help: "The node directory.") var dir: String

    func run() throws {
        let directory = NodeDirectory(dir)
        let genesis = try directory.loadGenesis()
        let store = try LedgerStore(directory: directory.storePath)
        defer { store.close() }
        let started = Date()
        let report = Audit.run(store: store, genesis: genesis) { done, total in
            FileHandle.standardError.write(Data("audit: \(done)/\(total) leaves\n".utf8))
        }
        if let failure = report.failure { throw CLIError("audit failed: \(failure)") }
        print("audit ok: \(report.leaves) leaves, \(report.blocks) blocks, \(report.tiles) tiles checked in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
}
