// The validators' full mesh (Specs/peer-protocol.md): each node dials every peer and sends only on
// that outbound link; the links it accepts only receive. Blocking sockets and one thread per link.
import CinnabarCrypto
import Foundation
import Synchronization

/// This validator on the mesh. The seed is its Ed25519 validator key; it is never logged.
public struct PeerIdentity: Sendable {
    /// The validator's index in the validator set.
    public let index: Int
    /// The 32-byte Ed25519 seed.
    public let seed: [UInt8]

    public init(index: Int, seed: [UInt8]) {
        self.index = index
        self.seed = seed
    }
}

/// Printing, interpolating or dumping an identity never shows its seed.
extension PeerIdentity: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "PeerIdentity(index: \(index), seed: redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["index": index], displayStyle: .struct) }
}

/// A validator to link with: where it listens, and the Ed25519 key it must prove (from genesis).
public struct PeerEndpoint: Sendable {
    /// The validator's index in the validator set.
    public let index: Int
    /// Its 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    public let host: String
    public let port: UInt16

    public init(index: Int, publicKey: [UInt8], host: String, port: UInt16) {
        self.index = index
        self.publicKey = publicKey
        self.host = host
        self.port = port
    }
}

/// Why `PeerNetwork.start()` failed. Each case has a stable `code`.
public enum PeerNetworkError: Error, Equatable, CustomStringConvertible {
    /// The identity, the peer set or the limits cannot work.
    case invalidConfiguration(String)
    /// The listening socket could not be bound.
    case listenFailed(String)

    /// A stable machine code.
    public var code: String {
        switch self {
        case .invalidConfiguration: "peer.invalid-configuration"
        case .listenFailed: "peer.listen-failed"
        }
    }

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "invalid peer configuration: \(why)"
        case .listenFailed(let why): "cannot listen: \(why)"
        }
    }
}

/// Authenticated, encrypted links between validators: Noise_IK_25519_ChaChaPoly_SHA256 over TCP.
///
/// Each node dials every peer and uses that outbound link only to send, through a queue bounded in
/// bytes; links it accepts only receive, and `deliver` is called on that link's thread, in order.
/// A peer is admitted only if it proves the static key derived from its Ed25519 key in the peer
/// set, on the same chain (the prologue names the chain id).
public final class PeerNetwork: @unchecked Sendable {
    /// Limits and timers; equal on every node.
    public struct Configuration: Sendable {
        /// Named in the Noise prologue: links of different chains never complete a handshake.
        public var chainID: String
        /// The largest application message sent or accepted; a larger declared length closes the link.
        public var maxMessageBytes: Int = 64 << 20
        /// The bound on each peer's send queue; past it the oldest messages are dropped.
        public var maxQueuedBytesPerPeer: Int = 64 << 20
        /// The first pause before redialing; it doubles after each failed attempt.
        public var reconnectBackoffMin: Duration = .milliseconds(50)
        /// The longest pause before redialing, and the pause after `drop`.
        public var reconnectBackoffMax: Duration = .seconds(2)
        /// How long a connect, or a handshake, may take.
        public var handshakeTimeout: Duration = .seconds(5)
        /// How long a send may make no progress (the peer reads nothing) before its link is closed.
        public var sendStallTimeout: Duration = .seconds(5)

        public init(chainID: String) {
            self.chainID = chainID
        }
    }

    /// Counts since `init`.
    public struct Statistics: Sendable, Equatable {
        /// Application messages written whole to an outbound link.
        public internal(set) var messagesSent = 0
        /// Application messages received whole and delivered.
        public internal(set) var messagesReceived = 0
        /// Messages dropped from a full send queue (the oldest first).
        public internal(set) var messagesDroppedQueueFull = 0
        /// Messages refused by `send` for exceeding `maxMessageBytes`.
        public internal(set) var messagesRefusedOversize = 0
        /// Links closed because the other side broke the protocol: a bad or late handshake, an
        /// unknown static key, a failed decryption, bad framing.
        public internal(set) var linksClosedForGarbage = 0
    }

    /// Inbound connections still in their handshake; more are closed at once.
    private static let maxPendingHandshakes = 64

    private let me: PeerIdentity
    private let listenHost: String
    private let listenPort: UInt16
    private let configuration: Configuration
    private let log: @Sendable (String) -> Void
    private let deliver: @Sendable (_ from: Int, _ message: [UInt8]) -> Void
    private let configurationError: PeerNetworkError?
    private let environment: LinkEnvironment?
    /// Each peer's index by the X25519 static key it must prove.
    private let peerIndexByStaticKey: Mutex<[[UInt8]: Int]>
    private let outbound: [Int: OutboundLink]
    private let counters = Counters()
    private let threads = DispatchGroup()

    private struct InboundLink {
        let socket: TCPSocket
        var peer: Int? = nil  // known once the handshake completes
        var closedBecause: String? = nil  // set when this node closes it
    }

    private struct State {
        var listener: TCPSocket.Listener? = nil
        var isStarted = false
        var isStopping = false
        var inbound: [Int: InboundLink] = [:]  // by link number
        var nextLinkNumber = 0
        var pendingHandshakes = 0
    }

    private let state = Mutex(State())

    /// Prepares the links; nothing happens on the network until `start()`. `peers` may include
    /// this validator (with its own key); it is skipped. A configuration that cannot work is
    /// reported by `start()`. `deliver` runs on the link's own thread: while it runs, that link
    /// reads nothing more (TCP pushes back on the sender), the other links go on.
    public init(me: PeerIdentity, listenHost: String, listenPort: UInt16, peers: [PeerEndpoint], configuration: Configuration,
                log: @escaping @Sendable (String) -> Void, deliver: @escaping @Sendable (_ from: Int, _ message: [UInt8]) -> Void) {
        self.me = me
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.configuration = configuration
        self.log = log
        self.deliver = deliver
        switch Self.validate(me: me, peers: peers, configuration: configuration) {
        case .failure(let error):
            configurationError = error
            environment = nil
            peerIndexByStaticKey = Mutex([:])
            outbound = [:]
        case .success(let (localStatic, remoteKeys)):
            configurationError = nil
            let environment = LinkEnvironment(prologue: LinkHandshake.prologue(chainID: configuration.chainID), localStatic: localStatic,
                                              configuration: configuration, log: log, counters: counters)
            self.environment = environment
            peerIndexByStaticKey = Mutex(Dictionary(uniqueKeysWithValues: remoteKeys.map { ($0.value, $0.key) }))
            outbound = Dictionary(uniqueKeysWithValues: peers.filter { $0.index != me.index }.map {
                ($0.index, OutboundLink(peer: $0, remoteStaticKey: remoteKeys[$0.index]!, environment: environment))
            })
        }
    }

    /// This node's X25519 static key, and each other peer's, or why the configuration cannot work.
    private static func validate(me: PeerIdentity, peers: [PeerEndpoint], configuration: Configuration)
        -> Result<(X25519KeyPair, [Int: [UInt8]]), PeerNetworkError> {
        func invalid(_ why: String) -> Result<(X25519KeyPair, [Int: [UInt8]]), PeerNetworkError> { .failure(.invalidConfiguration(why)) }
        guard !configuration.chainID.isEmpty else { return invalid("the chain id is empty") }
        guard configuration.maxMessageBytes > 0, configuration.maxMessageBytes <= Int(UInt32.max) else {
            return invalid("maxMessageBytes must be in 1...\(UInt32.max)")
        }
        guard configuration.maxQueuedBytesPerPeer > 0 else { return invalid("maxQueuedBytesPerPeer must be positive") }
        guard configuration.reconnectBackoffMin > .zero, configuration.reconnectBackoffMax >= configuration.reconnectBackoffMin,
              configuration.handshakeTimeout > .zero, configuration.sendStallTimeout > .zero else {
            return invalid("timeouts must be positive and the backoff maximum at least its minimum")
        }
        guard let localStatic = X25519KeyPair(ed25519Seed: me.seed), let edKey = Ed25519PrivateKey(seed: me.seed) else {
            return invalid("the identity's seed is not 32 bytes")
        }
        guard Set(peers.map(\.index)).count == peers.count else { return invalid("two peers share an index") }
        var remoteKeys: [Int: [UInt8]] = [:]
        for peer in peers {
            if peer.index == me.index {
                guard peer.publicKey == edKey.publicKey.bytes else { return invalid("peer \(peer.index) is this node but with another key") }
                continue
            }
            guard let key = X25519KeyPair.publicKey(ed25519PublicKey: peer.publicKey) else {
                return invalid("peer \(peer.index)'s public key is not a valid Ed25519 key")
            }
            guard key != localStatic.publicKey, !remoteKeys.values.contains(key) else { return invalid("peer \(peer.index)'s key is used twice") }
            remoteKeys[peer.index] = key
        }
        return .success((localStatic, remoteKeys))
    }

    /// Binds and listens, then starts dialing every peer. Call once.
    public func start() throws {
        guard let environment else { throw configurationError! }
        let listener: TCPSocket.Listener
        do { listener = try TCPSocket.Listener(host: listenHost, port: listenPort) } catch {
            throw PeerNetworkError.listenFailed("\(listenHost):\(listenPort): \(error)")
        }
        state.withLock { state in
            precondition(!state.isStarted && !state.isStopping, "start() once, before stop()")
            state.isStarted = true
            state.listener = listener
        }
        log("validator \(me.index) listening on \(listenHost):\(listener.port)")
        spawn("peer-accept") { self.acceptConnections(listener, environment: environment) }
        for link in outbound.values {
            spawn("peer-out-\(link.peer.index)") { link.run() }
        }
    }

    /// The port the listener is bound to (the kernel's choice when asked for 0); 0 before `start()`.
    public var boundPort: UInt16 { state.withLock { $0.listener?.port ?? 0 } }

    /// Queues `message` for `peer` and returns at once. Beyond `maxQueuedBytesPerPeer` the oldest
    /// queued messages are dropped; a message above `maxMessageBytes` is refused. Both are counted.
    public func send(_ message: [UInt8], to peer: Int) {
        precondition(peer != me.index, "a node does not send to itself")
        guard configurationError == nil else { return }
        guard let link = outbound[peer] else { preconditionFailure("peer \(peer) is not in the peer set") }
        guard message.count <= configuration.maxMessageBytes else {
            counters.add(\.messagesRefusedOversize)
            log("peer \(peer): refused to send a message of \(message.count) bytes, above maxMessageBytes \(configuration.maxMessageBytes)")
            return
        }
        link.enqueue(message)
    }

    /// Sends `message` to every peer except this node.
    public func broadcast(_ message: [UInt8]) {
        for peer in outbound.keys { send(message, to: peer) }
    }

    /// The peers with an established outbound link.
    public func connectedPeers() -> Set<Int> {
        Set(outbound.values.filter(\.connected).map(\.peer.index))
    }

    /// The charged bytes waiting in `peer`'s send queue (never above `maxQueuedBytesPerPeer`).
    public func queuedBytes(to peer: Int) -> Int {
        outbound[peer]?.queuedBytes ?? 0
    }

    /// Peer `peer`'s validator key is now `publicKey` (Ed25519; a governance re-key): links must
    /// prove the new key from now on; its current links are closed. False if the key is unusable
    /// or already another peer's.
    @discardableResult
    public func rekey(_ peer: Int, publicKey: [UInt8]) -> Bool {
        guard let link = outbound[peer], let key = X25519KeyPair.publicKey(ed25519PublicKey: publicKey) else { return false }
        // nil: already this peer's key; false: another peer's; true: changed.
        let outcome = peerIndexByStaticKey.withLock { map -> Bool? in
            if let other = map[key] { return other == peer ? nil : false }
            for (k, i) in map where i == peer { map[k] = nil }
            map[key] = peer
            return true
        }
        switch outcome {
        case nil: return true
        case false?: return false
        case true?:
            link.rekey(key)
            drop(peer, reason: "its validator key changed")
            return true
        }
    }

    /// Closes `peer`'s links in both directions (it served bad data, say). Queued messages stay;
    /// this node redials after `reconnectBackoffMax`, and the peer may dial back at any time.
    public func drop(_ peer: Int, reason: String) {
        log("peer \(peer): dropping its links: \(reason)")
        let sockets = state.withLock { state in
            state.inbound.keys.filter { state.inbound[$0]!.peer == peer }.map { number in
                state.inbound[number]!.closedBecause = "dropped: \(reason)"
                return state.inbound[number]!.socket
            }
        }
        sockets.forEach { $0.shutdown() }
        outbound[peer]?.drop(reason: reason)
    }

    /// Closes every link and the listener and returns once every thread has ended. Not from
    /// `deliver`, whose thread it would wait for.
    public func stop() {
        let (listener, sockets) = state.withLock { state -> (TCPSocket.Listener?, [TCPSocket]) in
            guard !state.isStopping else { return (nil, []) }
            state.isStopping = true
            return (state.listener, state.inbound.values.map(\.socket))
        }
        listener?.shutdown()
        sockets.forEach { $0.shutdown() }
        outbound.values.forEach { $0.stop() }
        threads.wait()
        listener?.close()
    }

    /// Counts since `init`.
    public var statistics: Statistics { counters.snapshot }

    private var isStopping: Bool { state.withLock { $0.isStopping } }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threads.enter()
        let thread = Thread { [threads] in
            body()
            threads.leave()
        }
        thread.name = name
        thread.start()
    }

    private func acceptConnections(_ listener: TCPSocket.Listener, environment: LinkEnvironment) {
        while true {
            guard let socket = listener.accept() else {
                if isStopping { return }
                Thread.sleep(forTimeInterval: 0.01)  // out of descriptors, say: do not spin
                continue
            }
            let link = state.withLock { state -> Int? in
                guard !state.isStopping, state.pendingHandshakes < Self.maxPendingHandshakes else { return nil }
                state.pendingHandshakes += 1
                state.nextLinkNumber += 1
                state.inbound[state.nextLinkNumber] = InboundLink(socket: socket)
                return state.nextLinkNumber
            }
            guard let link else {
                socket.close()
                continue
            }
            spawn("peer-in-\(link)") { self.receive(link: link, socket: socket, environment: environment) }
        }
    }

    /// An inbound link's thread: the listener's handshake, then deliveries until the link ends.
    private func receive(link: Int, socket: TCPSocket, environment: LinkEnvironment) {
        var peer: Int? = nil
        do throws(LinkFailure) {
            let (index, cipher) = try LinkHandshake.accept(socket, prologue: environment.prologue, localStatic: environment.localStatic,
                                                           deadline: .now + configuration.handshakeTimeout,
                                                           admit: { key in peerIndexByStaticKey.withLock { $0[key] } })
            peer = index
            // A confirmed link replaces the peer's older inbound links (a restarted peer's).
            let older = state.withLock { state -> [TCPSocket] in
                state.pendingHandshakes -= 1
                state.inbound[link]?.peer = index
                let older = state.inbound.filter { $0.key != link && $0.value.peer == index }.map(\.key)
                for number in older { state.inbound[number]?.closedBecause = "replaced by a newer link" }
                return older.compactMap { state.inbound[$0]?.socket }
            }
            older.forEach { $0.shutdown() }
            log("peer \(index) (\(socket.remoteAddress)): inbound link up")
            var receiver = SecureReceiver(socket: socket, cipher: cipher, maxMessageBytes: configuration.maxMessageBytes)
            while true {
                let message = try receiver.receive()
                counters.add(\.messagesReceived)
                deliver(index, message)
            }
        } catch {
            let who = peer.map { "peer \($0) (\(socket.remoteAddress))" } ?? socket.remoteAddress
            let closedBecause = state.withLock { state in
                if peer == nil { state.pendingHandshakes -= 1 }
                return state.inbound.removeValue(forKey: link)?.closedBecause
            }
            socket.close()
            switch error {
            case .garbage(let reason):
                counters.add(\.linksClosedForGarbage)
                log("\(who): closed for garbage: \(reason)")
            case .timedOut where peer == nil:
                counters.add(\.linksClosedForGarbage)
                log("\(who): closed for garbage: no handshake within \(configuration.handshakeTimeout)")
            case _ where isStopping:
                break
            case _ where peer != nil:
                log("\(who): inbound link down: \(closedBecause ?? error.description)")
            default:
                log("\(who): closed during the handshake: \(error)")
            }
        }
    }
}
