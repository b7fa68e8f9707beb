// A node's directory: its genesis (origin and validator set), its own config, its validator key
// (a 0600 file, never logged) and its RocksDB store.
import CinnabarCrypto
import Foundation
import Ledger
import SignedNote
import Storage

/// The genesis file: the log's origin and the validators in force at height 1.
public struct Genesis: Codable, Equatable, Sendable {
    public struct Member: Codable, Equatable, Sendable {
        /// Validator name; its checkpoint key name is `<origin>/<name>`.
        public var name: String
        /// C2SP verifier key string (type 0x01) under that key name.
        public var key: String
        public init(name: String, key: String) { self.name = name; self.key = key }
    }

    public var origin: String
    public var validators: [Member]

    public init(origin: String, validators: [Member]) {
        self.origin = origin
        self.validators = validators
    }

    /// The validator set, after checking every key string and that each key is named `<origin>/<name>`.
    public func validatorSet() throws -> ValidatorSet {
        guard !origin.isEmpty, !origin.contains(where: { $0.isWhitespace || $0 == "+" }) else {
            throw LedgerError.malformedGenesis("origin \"\(origin)\" is not a valid key-name prefix")
        }
        let members = try validators.map { member -> Validator in
            let vkey: NoteVerifierKey
            do { vkey = try NoteVerifierKey(parsing: member.key) } catch {
                throw LedgerError.malformedGenesis("validator \(member.name): \(error)")
            }
            guard vkey.name == "\(origin)/\(member.name)" else {
                throw LedgerError.malformedGenesis("validator \(member.name)'s key is named \(vkey.name), expected \(origin)/\(member.name)")
            }
            guard vkey.type == .ed25519 else {
                throw LedgerError.malformedGenesis("validator \(member.name)'s key is not a plain Ed25519 (0x01) key")
            }
            return Validator(name: member.name, publicKey: vkey.publicKey)
        }
        return try ValidatorSet(members)
    }
}

/// This node's settings.
public struct NodeConfig: Codable, Equatable, Sendable {
    /// Which validator of the genesis this node is.
    public var validator: String
    /// Address the HTTP API listens on, `host:port`.
    public var listen: String
    public var maxBlockEntries: Int?
    public var maxBlockDelayMillis: Int?
    public var maxQueuedEntries: Int?

    public init(validator: String, listen: String) {
        self.validator = validator
        self.listen = listen
    }
}

/// Reading and writing private key files: created 0600, refused if anyone else can read them.
public enum KeyFile {
    /// Writes `key` to a new file at `path` with mode 0600; fails if the file exists.
    public static func create(_ key: NoteSigningKey, at path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw StorageError(code: "key_file", "cannot create key file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let text = Array((key.skey + "\n").utf8)
        guard write(fd, text, text.count) == text.count, fsync(fd) == 0 else {
            throw StorageError(code: "key_file", "cannot write key file \(path)")
        }
    }

    /// Reads a private key file; refuses one that group or others may read or write.
    public static func load(_ path: String) throws -> NoteSigningKey {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StorageError(code: "key_file", "cannot read key file \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw StorageError(code: "key_file", "key file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        do { return try NoteSigningKey(parsing: text) } catch {
            throw StorageError(code: "key_file", "key file \(path) does not hold a signed-note private key")
        }
    }
}

/// The files of a node directory.
public struct NodeDirectory: Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    public var genesisPath: String { path + "/genesis.json" }
    public var configPath: String { path + "/node.json" }
    public var keyPath: String { path + "/validator.key" }
    public var storePath: String { path + "/store" }

    public func loadGenesis() throws -> Genesis { try readJSON(genesisPath) }
    public func loadConfig() throws -> NodeConfig { try readJSON(configPath) }
    public func loadKey() throws -> NoteSigningKey { try KeyFile.load(keyPath) }

    /// Creates a one-validator ledger: fresh key, genesis, config. Fails if the directory has one.
    public static func initialise(at path: String, origin: String, validator: String, listen: String) throws -> NodeDirectory {
        let dir = NodeDirectory(path)
        let fm = FileManager.default
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard !fm.fileExists(atPath: dir.genesisPath) else {
            throw StorageError(code: "already_initialised", "\(path) already holds a ledger (genesis.json exists)")
        }
        let key = try NoteSigningKey.generate(name: "\(origin)/\(validator)")
        try KeyFile.create(key, at: dir.keyPath)
        let genesis = Genesis(origin: origin, validators: [.init(name: validator, key: key.verifierKey.vkey)])
        _ = try genesis.validatorSet()
        try writeJSON(genesis, to: dir.genesisPath)
        try writeJSON(NodeConfig(validator: validator, listen: listen), to: dir.configPath)
        return dir
    }

    private func readJSON<T: Decodable>(_ file: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw StorageError(code: "missing_file", "\(file) is missing; run `cinnabar dev init --dir \(path)` first")
        }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw StorageError(code: "malformed_file", "\(file) is not valid: \(error)")
        }
    }

    private static func writeJSON<T: Encodable>(_ value: T, to file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(value).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}

/// A running ledger node: the store, the block builder and the sequencer, wired from a directory.
public final class LedgerNode: Sendable {
    public let directory: NodeDirectory
    public let genesis: Genesis
    public let config: NodeConfig
    public let validatorSet: ValidatorSet
    public let store: LedgerStore
    public let sequencer: Sequencer

    /// Opens the node in `directory`, checks its key against the genesis, and starts sequencing.
    public init(directory: NodeDirectory, clockMillis: @escaping @Sendable () -> UInt64 = LedgerNode.wallClockMillis) throws {
        self.directory = directory
        genesis = try directory.loadGenesis()
        config = try directory.loadConfig()
        validatorSet = try genesis.validatorSet()
        guard let me = validatorSet.validator(named: config.validator) else {
            throw LedgerError.malformedGenesis("this node's validator \(config.validator) is not in the genesis")
        }
        let key = try directory.loadKey()
        guard key.verifierKey.publicKey == me.publicKey, key.name == me.keyName(origin: genesis.origin) else {
            throw LedgerError.malformedGenesis("validator.key does not match validator \(me.name) in the genesis")
        }
        store = try LedgerStore(directory: directory.storePath)
        let builder = try BlockBuilder(store: store, origin: genesis.origin, validatorSet: validatorSet,
                                       validatorName: me.name, signer: key, clockMillis: clockMillis)
        var settings = Sequencer.Configuration()
        if let v = config.maxBlockEntries { settings.maxBlockEntries = v }
        if let v = config.maxBlockDelayMillis { settings.maxBlockDelay = .milliseconds(v) }
        if let v = config.maxQueuedEntries { settings.maxQueuedEntries = v }
        sequencer = Sequencer(store: store, builder: builder, configuration: settings)
        try sequencer.start()
    }

    /// Stops sequencing (committing what is queued) and closes the store. Call before exiting.
    public func close() {
        sequencer.stop()
        store.close()
    }

    /// Unix time in milliseconds from the system clock.
    public static let wallClockMillis: @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Verifier keys of the validators, for checking this log's checkpoints.
    public func verifierKeys() throws -> [NoteVerifierKey] { try validatorSet.verifierKeys(origin: genesis.origin) }
}
