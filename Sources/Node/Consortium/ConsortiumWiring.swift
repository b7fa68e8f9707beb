// A consortium validator's parts, from its directory: the sequencer over the store and the
// consensus files, and the authenticated links to the other validators named in node.json.
import CinnabarCrypto
import ConsensusStorage
import Dispatch
import Foundation
import Ledger
import PeerNetwork
import SignedNote
import Storage

extension PeerNetwork: PeerLinks {}

extension NodeDirectory {
    /// The write path of a validator among several, and its peer links (neither started).
    func openConsortium(store: LedgerStore, applier: BlockApplier, clockMillis: @escaping @Sendable () -> UInt64,
                        configuration: ConsortiumSequencer.Configuration,
                        log: @escaping @Sendable (String) -> Void) throws -> (ConsortiumSequencer, PeerNetwork) {
        let genesis = try loadGenesis()
        let config = try loadConfig()
        let parameters = try genesis.consensusParameters()
        let validators = parameters.validators.validators
        let observers = try (config.observers ?? []).map { o -> (name: String, key: NoteVerifierKey, address: String) in
            guard let vkey = try? NoteVerifierKey(parsing: o.key), vkey.type == .ed25519 else {
                throw StorageError(code: "malformed_file", "\(configPath): observer \(o.name)'s key is not an Ed25519 verifier key")
            }
            return (o.name, vkey, o.address)
        }
        let key = try loadKey()
        // Keys as the log has them now: a governance re-key replaces a genesis key (link indices
        // stay those of the genesis order, observers after).
        var inForce: [String: Ed25519PublicKey] = [:]
        for v in validators { inForce[v.name] = v.publicKey }
        for change in try RecordIndex.setChanges(store: store) {
            for v in try ValidatorSetChange(leafData: change.leafData).newSet.validators { inForce[v.name] = v.publicKey }
        }
        let me: Validator?
        let index: Int
        if config.observer == true {
            guard let k = observers.firstIndex(where: { $0.name == config.validator }) else {
                throw StorageError(code: "malformed_file", "\(configPath): observer \(config.validator) is not in its observers list")
            }
            guard key.verifierKey.publicKey == observers[k].key.publicKey else {
                throw LedgerError.malformedGenesis("validator.key does not match observer \(config.validator)")
            }
            me = nil
            index = validators.count + k
        } else {
            guard let i = validators.firstIndex(where: { $0.name == config.validator }) else {
                throw LedgerError.malformedGenesis("this node's validator \(config.validator) is not in the genesis")
            }
            guard key.verifierKey.publicKey == inForce[validators[i].name] else {
                throw LedgerError.malformedGenesis("validator.key does not match validator \(config.validator)'s key in the genesis or its latest re-key")
            }
            guard FileManager.default.fileExists(atPath: consensusPath) else {
                throw StorageError(code: "signer_state_missing", "\(consensusPath) is missing: this validator's signer state is gone, and it refuses to sign (consensus.md §2.8); restore it from a backup")
            }
            me = validators[i]
            index = i
        }
        guard let listen = config.peerListen, let (host, port) = NodeDirectory.hostPort(listen) else {
            throw StorageError(code: "malformed_file", "\(configPath): peerListen must be HOST:PORT for a node of a consortium")
        }
        var endpoints: [PeerEndpoint] = []
        for peer in config.peers ?? [] {
            guard let i = validators.firstIndex(where: { $0.name == peer.validator }), i != index,
                  let (h, p) = NodeDirectory.hostPort(peer.address) else {
                throw StorageError(code: "malformed_file", "\(configPath): peer \(peer.validator) at \(peer.address) is not another validator's HOST:PORT")
            }
            endpoints.append(PeerEndpoint(index: i, publicKey: (inForce[peer.validator] ?? validators[i].publicKey).bytes, host: h, port: p))
        }
        guard endpoints.count == validators.count - (me == nil ? 0 : 1) else {
            throw StorageError(code: "malformed_file", "\(configPath) must give the address of every other validator")
        }
        // Validators send to observers too (links are one-way: each side dials the other).
        if me != nil {
            for (k, o) in observers.enumerated() {
                guard let (h, p) = NodeDirectory.hostPort(o.address) else {
                    throw StorageError(code: "malformed_file", "\(configPath): observer \(o.name)'s address is not HOST:PORT")
                }
                endpoints.append(PeerEndpoint(index: validators.count + k, publicKey: o.key.publicKey.bytes, host: h, port: p))
            }
        }
        if me == nil { try FileManager.default.createDirectory(atPath: consensusPath, withIntermediateDirectories: true) }
        let sequencer = try ConsortiumSequencer(store: store, files: try FileStore(directory: consensusPath), parameters: parameters,
                                                seed: key.seed, linkIndex: index, applier: applier,
                                                clockMillis: clockMillis, configuration: configuration, log: log)
        let trace = ProcessInfo.processInfo.environment["CINNABAR_TRACE_CONSENSUS"] == "1"
        let linkLog: @Sendable (String) -> Void = { line in
            log(trace ? "\(DispatchTime.now().uptimeNanoseconds / 1_000_000) \(line)" : line)
        }
        let network = PeerNetwork(me: PeerIdentity(index: index, seed: key.seed), listenHost: host, listenPort: port, peers: endpoints,
                                  configuration: PeerNetwork.Configuration(chainID: genesis.origin), log: linkLog,
                                  deliver: { [weak sequencer] peer, bytes in sequencer?.deliver(from: peer, bytes) })
        // Validators re-keyed by governance: their links must prove the new key from now on.
        let linkIndexByName = Dictionary(uniqueKeysWithValues: validators.enumerated().map { ($0.element.name, $0.offset) }
            + observers.enumerated().map { ($0.element.name, validators.count + $0.offset) })
        let myIndex = index
        sequencer.attach(network) { [weak network] set in
            for v in set.validators {
                guard let i = linkIndexByName[v.name], i != myIndex else { continue }
                network?.rekey(i, publicKey: v.publicKey.bytes)
            }
        }
        return (sequencer, network)
    }

    static func hostPort(_ text: String) -> (String, UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        return (String(text[..<colon]), port)
    }
}
