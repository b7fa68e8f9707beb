// A node's directory: its genesis (origin and validator set), its own config, its validator key
// (a 0600 file, never logged) and its RocksDB store.
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Foundation
import Ledger
import MerkleLog
import PeerNetwork
import Records
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

    /// A member organisation fixed at genesis (domain.md §6.1).
    public struct Organisation: Codable, Equatable, Sendable {
        /// Unified social credit code (GB 32100).
        public var org: String
        public var role: String
        public var name: String
        /// Registered record-signing keys: key id → multibase Ed25519 public key.
        public var keys: [String: String]
        public init(org: String, role: String, name: String, keys: [String: String]) {
            self.org = org
            self.role = role
            self.name = name
            self.keys = keys
        }
    }

    /// Governance: which organisations' signatures count, and how many a membership record needs.
    public struct Governance: Codable, Equatable, Sendable {
        public var members: [String]
        public var quorum: Int
        public init(members: [String], quorum: Int) { self.members = members; self.quorum = quorum }
    }

    /// Consensus timeouts (consensus.md §2.5): network-wide, so fixed here. Absent: the standard ones.
    public struct ConsensusTimeouts: Codable, Equatable, Sendable {
        public var proposeMillis: UInt64
        public var proposeDeltaMillis: UInt64
        public var voteMillis: UInt64
        public var voteDeltaMillis: UInt64
        public init(proposeMillis: UInt64, proposeDeltaMillis: UInt64, voteMillis: UInt64, voteDeltaMillis: UInt64) {
            self.proposeMillis = proposeMillis
            self.proposeDeltaMillis = proposeDeltaMillis
            self.voteMillis = voteMillis
            self.voteDeltaMillis = voteDeltaMillis
        }
    }

    public var origin: String
    public var validators: [Member]
    public var organisations: [Organisation]?
    public var governance: Governance?
    public var timeouts: ConsensusTimeouts?

    public init(origin: String, validators: [Member], organisations: [Organisation]? = nil, governance: Governance? = nil,
                timeouts: ConsensusTimeouts? = nil) {
        self.origin = origin
        self.validators = validators
        self.organisations = organisations
        self.governance = governance
        self.timeouts = timeouts
    }

    /// The consensus parameters every validator of this genesis runs.
    public func consensusParameters() throws -> ConsensusParameters {
        var t = Timeouts.standard
        if let c = timeouts {
            guard c.proposeMillis > 0, c.voteMillis > 0 else { throw LedgerError.malformedGenesis("consensus timeouts must be positive") }
            t = Timeouts(proposeMillis: c.proposeMillis, proposeDeltaMillis: c.proposeDeltaMillis, prevoteMillis: c.voteMillis,
                         prevoteDeltaMillis: c.voteDeltaMillis, precommitMillis: c.voteMillis, precommitDeltaMillis: c.voteDeltaMillis)
        }
        return ConsensusParameters(chainID: origin, validators: try validatorSet(), timeouts: t)
    }

    /// The member registry at genesis, after checking codes, roles and keys.
    public func registry() throws -> Registry {
        var members: [Records.Member] = []
        for o in organisations ?? [] {
            guard StringFormat.usci.accepts(o.org) else { throw LedgerError.malformedGenesis("organisation \(o.org) is not a valid USCI") }
            guard let role = Role(rawValue: o.role) else { throw LedgerError.malformedGenesis("organisation \(o.org) has unknown role \(o.role)") }
            var keys: [String: Ed25519PublicKey] = [:]
            for (id, mb) in o.keys {
                guard StringFormat.keyID.accepts(id), let key = Multikey.ed25519PublicKey(multibase: mb) else {
                    throw LedgerError.malformedGenesis("organisation \(o.org) key \(id) is not a multibase Ed25519 key")
                }
                keys[id] = key
            }
            members.append(Records.Member(org: o.org, role: role, name: o.name, keys: keys))
        }
        guard Set(members.map(\.org)).count == members.count else { throw LedgerError.malformedGenesis("an organisation is listed twice") }
        let governance = self.governance ?? Governance(members: [], quorum: 1)
        for g in governance.members where !members.contains(where: { $0.org == g && ($0.role == .justiceAdmin || $0.role == .court) }) {
            throw LedgerError.malformedGenesis("governance member \(g) is not a justice administration or court organisation")
        }
        guard governance.quorum >= 1, governance.members.isEmpty || governance.quorum <= governance.members.count else {
            throw LedgerError.malformedGenesis("governance quorum \(governance.quorum) is out of range")
        }
        return Registry(members: members, governance: Set(governance.members), governanceQuorum: governance.quorum)
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
    /// Code lookups (`/v1/verify`, `/v1/bundles`) allowed per client address: sustained rate and burst.
    public var lookupsPerSecond: Double?
    public var lookupBurst: Double?
    /// With more than one validator: where this node accepts its peers' links, `host:port`.
    public var peerListen: String?
    /// With more than one validator: where each other validator accepts links.
    public var peers: [PeerAddress]?
    /// True for an observer: a mirror that follows the validators, verifies and stores every
    /// block, serves reads, and neither votes nor takes writes. `validator` is then its name in
    /// `observers`, and validator.key its link key.
    public var observer: Bool?
    /// The consortium's observers (on every node): name, link key (a signed-note verifier key) and address.
    public var observers: [ObserverAddress]?

    /// An observer's identity and peer address.
    public struct ObserverAddress: Codable, Equatable, Sendable {
        public var name: String
        public var key: String
        public var address: String
        public init(name: String, key: String, address: String) { self.name = name; self.key = key; self.address = address }
    }

    /// A validator's peer address.
    public struct PeerAddress: Codable, Equatable, Sendable {
        /// The validator's name in the genesis.
        public var validator: String
        /// `host:port` of its peer listener.
        public var address: String
        public init(validator: String, address: String) { self.validator = validator; self.address = address }
    }

    public init(validator: String, listen: String, peerListen: String? = nil, peers: [PeerAddress]? = nil) {
        self.validator = validator
        self.listen = listen
        self.peerListen = peerListen
        self.peers = peers
    }
}

/// Reading and writing private key files: created 0600, refused if anyone else can read them.
public enum KeyFile {
    /// Writes `key` to a new file at `path` with mode 0600; fails if the file exists.
    public static func create(_ key: NoteSigningKey, at path: String) throws {
        try SecretFile.create(at: path, contents: Array((key.skey + "\n").utf8))
    }

    /// Reads a private key file; refuses one that group or others may read or write.
    public static func load(_ path: String) throws -> NoteSigningKey {
        let text = String(decoding: try SecretFile.read(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
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
    /// The consensus engine's files: the signer guard's log and the per-height WAL (mode 0700).
    public var consensusPath: String { path + "/consensus" }
    public var orgsPath: String { path + "/orgs" }
    public func orgKeyPath(_ slug: String) -> String { orgsPath + "/\(slug).key" }
    public var codeKeyPath: String { path + "/codes.key" }
    public func loadOrganisationKey(_ slug: String) throws -> OrganisationKey { try OrganisationKey.load(orgKeyPath(slug)) }
    public func loadCodeKey() throws -> CodeKey { try CodeKey.load(codeKeyPath) }

    public func loadGenesis() throws -> Genesis { try readJSON(genesisPath) }
    public func loadConfig() throws -> NodeConfig { try readJSON(configPath) }
    public func loadKey() throws -> NoteSigningKey { try KeyFile.load(keyPath) }

    /// The write path of this directory's validator over `store`: block builder, consensus engine
    /// (resumed at the store's tip, recovering a decision the WAL holds) and sequencer, not started.
    public func openSequencer(store: LedgerStore, applier: BlockApplier?, configuration: Sequencer.Configuration,
                              clockMillis: @escaping @Sendable () -> UInt64) throws -> Sequencer {
        var builder = try BlockBuilder(store: store)
        let consensus = try openEngine(store: store, tree: builder.tree)
        // Opening the engine may have signed and published a checkpoint a crash lost: read it.
        try builder.reset(to: store)
        return Sequencer(store: store, builder: builder, consensus: consensus, clockMillis: clockMillis,
                         configuration: configuration, applier: applier)
    }

    /// This directory's validator's consensus engine over `store`, whose tree's right edge is
    /// `tree`: resumed at the store's tip, recovering a decision the WAL holds. Checks that the
    /// key matches the genesis and that the signer state exists.
    func openEngine(store: LedgerStore, tree: TreeAppender) throws -> BlockConsensus {
        let genesis = try loadGenesis()
        let config = try loadConfig()
        let validators = try genesis.validatorSet()
        guard let me = validators.validator(named: config.validator) else {
            throw LedgerError.malformedGenesis("this node's validator \(config.validator) is not in the genesis")
        }
        let key = try loadKey()
        guard key.verifierKey.publicKey == me.publicKey, key.name == me.keyName(origin: genesis.origin) else {
            throw LedgerError.malformedGenesis("validator.key does not match validator \(me.name) in the genesis")
        }
        guard FileManager.default.fileExists(atPath: consensusPath) else {
            throw StorageError(code: "signer_state_missing", "\(consensusPath) is missing: this validator's signer state is gone, and it refuses to sign (consensus.md §2.8); restore it from a backup")
        }
        return try BlockConsensus(files: try FileStore(directory: consensusPath), origin: genesis.origin, validators: validators,
                                  me: me, key: key, store: store, tree: tree)
    }

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
        try BlockConsensus.create(in: try FileStore(directory: dir.consensusPath))
        let (organisations, governance) = try DemoConsortium.create(in: dir)
        let genesis = Genesis(origin: origin, validators: [.init(name: validator, key: key.verifierKey.vkey)],
                              organisations: organisations, governance: governance)
        _ = try genesis.validatorSet()
        _ = try genesis.registry()
        try writeJSON(genesis, to: dir.genesisPath)
        try writeJSON(NodeConfig(validator: validator, listen: listen), to: dir.configPath)
        return dir
    }

    /// The validators of a development consortium, in order: the organisations of domain.md §6.1
    /// that run nodes (a notary office, a forensic lab, a court, the justice bureau, then three more).
    public static let consortiumValidators = ["notary", "lab", "court", "bureau", "arbitration", "legal-aid", "lawyers"]

    /// Lays out a consortium of `count` validators on one machine: `DIR/<name>/` is each node's
    /// directory (its own validator key and signer state; the shared genesis, demo organisation
    /// keys and code key). Node i listens on `host`, API port `apiPort + i`, peer port
    /// `peerPort + i`; its peers reach it at `peerHosts[i]` (default: `host`; e.g. container names).
    public static func initialiseConsortium(at path: String, count: Int, origin: String, host: String, apiPort: Int, peerPort: Int,
                                            peerHosts: [String]? = nil, timeouts: Genesis.ConsensusTimeouts? = nil,
                                            observers: Int = 0) throws -> [NodeDirectory] {
        guard count >= 2, count <= consortiumValidators.count else {
            throw StorageError(code: "bad_argument", "a consortium has 2 to \(consortiumValidators.count) validators")
        }
        let fm = FileManager.default
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        let names = Array(consortiumValidators.prefix(count))
        let observerNames = (0..<observers).map { "observer-\($0 + 1)" }
        let nodes = (names + observerNames).map { NodeDirectory(path + "/" + $0) }
        for node in nodes where fm.fileExists(atPath: node.path) {
            throw StorageError(code: "already_initialised", "\(node.path) already exists")
        }
        var members: [Genesis.Member] = []
        var observerKeys: [String] = []
        for (i, node) in nodes.enumerated() {
            let name = i < count ? names[i] : observerNames[i - count]
            try fm.createDirectory(atPath: node.path, withIntermediateDirectories: true)
            let key = try NoteSigningKey.generate(name: "\(origin)/\(name)")
            try KeyFile.create(key, at: node.keyPath)
            // Observers get signer state too: a governance change may make one a validator.
            try BlockConsensus.create(in: try FileStore(directory: node.consensusPath))
            if i < count {
                members.append(.init(name: name, key: key.verifierKey.vkey))
            } else {
                observerKeys.append(key.verifierKey.vkey)
            }
        }
        // The demo organisations' keys and the code key: made once, held by every member node.
        let first = nodes[0]
        let (organisations, governance) = try DemoConsortium.create(in: first)
        for node in nodes.dropFirst() {
            try fm.createDirectory(atPath: node.orgsPath, withIntermediateDirectories: true)
            for file in try fm.contentsOfDirectory(atPath: first.orgsPath) {
                try SecretFile.create(at: node.orgsPath + "/" + file, contents: try SecretFile.read(first.orgsPath + "/" + file))
            }
            try SecretFile.create(at: node.codeKeyPath, contents: try SecretFile.read(first.codeKeyPath))
        }
        let genesis = Genesis(origin: origin, validators: members, organisations: organisations, governance: governance, timeouts: timeouts)
        _ = try genesis.consensusParameters()
        _ = try genesis.registry()
        let hosts = peerHosts ?? Array(repeating: host, count: nodes.count)
        guard hosts.count == nodes.count else { throw StorageError(code: "bad_argument", "give one peer host per node (\(nodes.count))") }
        let addresses = names.indices.map { NodeConfig.PeerAddress(validator: names[$0], address: "\(hosts[$0]):\(peerPort + $0)") }
        let observerAddresses = observerNames.indices.map {
            NodeConfig.ObserverAddress(name: observerNames[$0], key: observerKeys[$0], address: "\(hosts[count + $0]):\(peerPort + count + $0)")
        }
        for (i, node) in nodes.enumerated() {
            try writeJSON(genesis, to: node.genesisPath)
            let name = i < count ? names[i] : observerNames[i - count]
            var config = NodeConfig(validator: name, listen: "\(host):\(apiPort + i)", peerListen: "\(host):\(peerPort + i)",
                                    peers: addresses.filter { $0.validator != name })
            if !observerAddresses.isEmpty { config.observers = observerAddresses }
            if i >= count { config.observer = true }
            try writeJSON(config, to: node.configPath)
        }
        return nodes
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
/// With one validator in the genesis it decides alone; with several it runs consensus with them
/// over the peer links of node.json.
public final class LedgerNode: Sendable {
    public let directory: NodeDirectory
    public let genesis: Genesis
    public let config: NodeConfig
    public let validatorSet: ValidatorSet
    public let store: LedgerStore
    public let sequencer: any EntrySequencer
    /// Links to the other validators (nil with one validator).
    public let network: PeerNetwork?
    /// True for an observer: it mirrors the consortium's ledger and takes no writes (a node
    /// whose key a governance change added to the validators votes and takes writes from then on).
    public var isObserver: Bool {
        guard let consortium = sequencer as? ConsortiumSequencer else { return false }
        return !consortium.validatorSetInForce.validating
    }

    /// The epoch and the validator set deciding the next height (the genesis set with one validator).
    public var validatorSetInForce: (epoch: UInt64, validators: ValidatorSet) {
        guard let consortium = sequencer as? ConsortiumSequencer else { return (0, validatorSet) }
        let now = consortium.validatorSetInForce
        return (now.epoch, now.validators)
    }
    /// Records' derived state; admission runs against it.
    public let records: RecordIndex
    /// Recent checkpoints with external witnesses' cosignatures (filled when witnesses are configured).
    public let witnessed = WitnessedCheckpoints()

    /// Opens the node in `directory`, checks its key against the genesis, and starts sequencing
    /// (and, in a consortium, connecting to its peers).
    public init(directory: NodeDirectory, clockMillis: @escaping @Sendable () -> UInt64 = LedgerNode.wallClockMillis,
                log: @escaping @Sendable (String) -> Void = LedgerNode.standardError) throws {
        self.directory = directory
        genesis = try directory.loadGenesis()
        config = try directory.loadConfig()
        validatorSet = try genesis.validatorSet()
        store = try LedgerStore(directory: directory.storePath)
        records = try RecordIndex(store: store, genesisRegistry: try genesis.registry())
        if validatorSet.validators.count == 1 {
            var settings = Sequencer.Configuration()
            if let v = config.maxBlockEntries { settings.maxBlockEntries = v }
            if let v = config.maxBlockDelayMillis { settings.maxBlockDelay = .milliseconds(v) }
            if let v = config.maxQueuedEntries { settings.maxQueuedEntries = v }
            sequencer = try directory.openSequencer(store: store, applier: records, configuration: settings, clockMillis: clockMillis)
            network = nil
        } else {
            var settings = ConsortiumSequencer.Configuration()
            if let v = config.maxBlockEntries { settings.maxBlockEntries = v }
            if let v = config.maxQueuedEntries { settings.maxQueuedEntries = v }
            let (consortium, links) = try directory.openConsortium(store: store, applier: records, clockMillis: clockMillis,
                                                                   configuration: settings, log: log)
            sequencer = consortium
            network = links
        }
        try sequencer.start()
        try network?.start()
    }

    /// Log lines go to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Admits a signed record (canonical JSON bytes, without the leaf tag) and returns once it is
    /// durable. The same record submitted again gets the original's leaf index (`duplicate`).
    public func submit(record bytes: [UInt8]) async throws -> Receipt {
        try await submitRecord(bytes).receipt
    }

    /// Admits a record, sequences it and returns once its block is durable, with the record's id.
    public func submitRecord(_ bytes: [UInt8]) async throws -> (receipt: Receipt, recordID: String) {
        switch try admit(record: bytes) {
        case let .duplicate(receipt, recordID): return (receipt, recordID)
        case let .admitted(admitted, leaf): return (try await sequence(admitted, leaf: leaf), admitted.record.recordID)
        }
    }

    /// What admission made of a record: new and acceptable, or already logged.
    public enum Admitted: Sendable {
        case admitted(AdmittedRecord, leaf: [UInt8])
        case duplicate(Receipt, recordID: String)
    }

    /// Checks a record against the committed state (size, signature, schema, permission).
    public func admit(record bytes: [UInt8]) throws -> Admitted {
        let leaf = [LeafTag.record.rawValue] + bytes
        guard leaf.count <= LeafLimits.maxBytes else { throw SubmitError.rejected(.tooLarge(bytes: leaf.count)) }
        do { return .admitted(try records.admit(leaf: leaf), leaf: leaf) } catch {
            // A duplicate of a logged record is not an error: answer with the original receipt.
            if let parsed = try? Record(bytes: bytes), let original = records.summary(parsed.recordID), let tip = store.tip,
               let note = try store.checkpoint(height: tip.height) {
                return .duplicate(Receipt(index: original.leafIndex, duplicate: true, height: tip.height, size: tip.size, root: tip.root,
                                          timeMillis: tip.timeMillis, signedCheckpoint: note), recordID: parsed.recordID)
            }
            throw SubmitError.refused(code: error.code, reason: error.description)
        }
    }

    /// Sequences an admitted record; returns once its block is durable. Duplicates of logged
    /// records are answered by the sequencer's plan (one lookup per record).
    public func sequence(_ admitted: AdmittedRecord, leaf: [UInt8]) async throws -> Receipt {
        try await sequencer.submit(Entry(leaf: leaf, context: admitted))
    }

    /// Stops sequencing (committing what is queued) and closes the store. Call before exiting.
    public func close() {
        sequencer.stop()
        network?.stop()
        store.close()
    }

    /// Unix time in milliseconds from the system clock.
    public static let wallClockMillis: @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Verifier keys of the validators, for checking this log's checkpoints.
    public func verifierKeys() throws -> [NoteVerifierKey] { try validatorSet.verifierKeys(origin: genesis.origin) }
}
