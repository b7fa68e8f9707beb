// The `cinnabar` command: run a node, manage keys, verify checkpoints and proofs offline,
// audit a store, and measure speed.
import ArgumentParser
import CCinnabar
import Foundation

@main
struct Cinnabar: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cinnabar",
        abstract: "A consortium ledger for public legal services.",
        subcommands: [NodeCommand.self, Dev.self, Validators.self, Keygen.self, Deposit.self, ImportCommand.self, Issue.self, Correct.self, Revoke.self, Supersede.self, Credit.self, VerifyCommand.self, HistoryCommand.self, BundleCommand.self, PolicyCommand.self,
                      CheckpointCommand.self, ProofCommand.self, WitnessCommand.self,
                      AuditCommand.self, SchemasCommand.self, Bench.self, SimCommand.self])

    /// Sets the allocator up for a long-running node, then runs ArgumentParser's own entry point.
    static func main() async {
        _ = ccinnabar_tune_malloc()
        await main(nil)
    }
}

/// A CLI failure: printed as one plain line, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Standard base64 32-byte hash from a command-line argument.
func parseHash(_ text: String, _ what: String) throws -> Hash {
    guard let h = Hash(base64: text) else { throw CLIError("\(what) is not a base64 SHA-256 hash: \(text)") }
    return h
}

/// Writes a line to standard output at once (no buffering: pipes and tests see it immediately).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Reads all of standard input.
func readStandardInput() -> [UInt8] {
    Array(FileHandle.standardInput.readDataToEndOfFile())
}

/// Splits `host:port`.
func parseListen(_ text: String) throws -> (String, Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
        throw CLIError("--listen must be HOST:PORT, got \(text)")
    }
    return (String(text[..<colon]), port)
}

import CinnabarCrypto
