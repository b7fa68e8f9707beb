// A throwaway one-validator ledger in a temporary directory, for node and storage tests.
import Foundation
import Node
import Records

/// A fresh node directory under the system temporary directory, removed on deinit.
final class TemporaryLedger {
    let path: String
    let directory: NodeDirectory

    init(origin: String = "test.example/cinnabar", validator: String = "v1") throws {
        path = NSTemporaryDirectory() + "cinnabar-test-\(UUID().uuidString)"
        directory = try NodeDirectory.initialise(at: path, origin: origin, validator: validator, listen: "127.0.0.1:0")
    }

    /// Rewrites node.json with batching settings.
    func configure(_ change: (inout NodeConfig) -> Void) throws {
        var config = try directory.loadConfig()
        change(&config)
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: directory.configPath))
    }

    /// A record writer for demo organisation `slug` (notary, lab, court, bureau, arbitration, legal-aid, lawyers).
    func writer(_ slug: String = "notary") throws -> RecordWriter {
        try RecordWriter(key: try directory.loadOrganisationKey(slug), codeKey: try directory.loadCodeKey())
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
