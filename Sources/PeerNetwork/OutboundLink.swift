// The link a node dials to one peer and only sends on (Specs/peer-protocol.md §4): a queue bounded
// in bytes, and one thread that connects, handshakes, drains the queue, and redials with backoff.
import Foundation
import Synchronization

/// The counters behind `PeerNetwork.Statistics`, shared by every link's thread.
final class Counters: Sendable {
    private let value = Mutex(PeerNetwork.Statistics())

    func add(_ field: WritableKeyPath<PeerNetwork.Statistics, Int>, _ count: Int = 1) {
        value.withLock { $0[keyPath: field] += count }
    }

    var snapshot: PeerNetwork.Statistics { value.withLock { $0 } }
}

/// What every link of one node shares.
struct LinkEnvironment: Sendable {
    let prologue: [UInt8]
    let localStatic: X25519KeyPair
    let configuration: PeerNetwork.Configuration
    let log: @Sendable (String) -> Void
    let counters: Counters
}

/// One peer's outbound link. Messages wait in the queue while the link is down; a message whose
/// sending fails goes back in front, so each is written whole at most once, in order.
final class OutboundLink: @unchecked Sendable {
    let peer: PeerEndpoint
    private var remoteStaticKeyValue: [UInt8]  // guarded by `condition`
    private var remoteStaticKey: [UInt8] { locked { remoteStaticKeyValue } }
    private let environment: LinkEnvironment
    /// How often an idle sender checks that the other side has not closed the link.
    private static let idleProbeInterval: TimeInterval = 0.25

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: BoundedMessageQueue
    private var socket: TCPSocket?
    private var isConnected = false
    private var isStopping = false
    private var dropReason: String?

    init(peer: PeerEndpoint, remoteStaticKey: [UInt8], environment: LinkEnvironment) {
        self.peer = peer
        self.remoteStaticKeyValue = remoteStaticKey
        self.environment = environment
        queue = BoundedMessageQueue(maxBytes: environment.configuration.maxQueuedBytesPerPeer)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// True while a handshaken connection is up.
    var connected: Bool { locked { isConnected } }

    /// The charged size of the queued messages (≤ `maxQueuedBytesPerPeer`).
    var queuedBytes: Int { locked { queue.bytes } }

    /// Queues `message`, dropping the oldest queued ones if the bound requires. Never blocks on I/O.
    func enqueue(_ message: [UInt8]) {
        let dropped = locked {
            defer { condition.signal() }
            return queue.append(message)
        }
        if dropped > 0 { environment.counters.add(\.messagesDroppedQueueFull, dropped) }
    }

    /// The peer's validator key changed (a governance re-key): later handshakes expect `key`.
    func rekey(_ key: [UInt8]) { locked { remoteStaticKeyValue = key } }

    /// Closes the current connection, if any; the link redials after the longest backoff.
    func drop(reason: String) {
        locked {
            guard let socket else { return }
            dropReason = reason
            socket.shutdown()
            condition.signal()
        }
    }

    /// Ends the link's thread (the caller joins it).
    func stop() {
        locked {
            isStopping = true
            socket?.shutdown()
            condition.broadcast()
        }
    }

    /// The link's thread: dial, send until the link fails, pause, dial again.
    func run() {
        let configuration = environment.configuration
        var backoff = configuration.reconnectBackoffMin
        var reported: String? = nil
        func report(_ state: String) {  // each change of state or reason once, not each attempt
            guard state != reported else { return }
            reported = state
            environment.log("peer \(peer.index) (\(peer.host):\(peer.port)): \(state)")
        }
        while !locked({ isStopping }) {
            var pause = backoff
            do throws(LinkFailure) {
                let sender = try connect()
                report("outbound link up")
                backoff = configuration.reconnectBackoffMin
                let failure = pump(sender)
                let wasDropped = release(sender.socket)
                if locked({ isStopping }) { return }
                count(failure)
                report("outbound link down: \(failure)")
                pause = wasDropped ? configuration.reconnectBackoffMax : backoff
            } catch {
                if locked({ isStopping }) { return }
                count(error)
                report("unreachable: \(error)")
                backoff = min(backoff * 2, configuration.reconnectBackoffMax)
            }
            sleep(pause)
        }
    }

    private func count(_ failure: LinkFailure) {
        if case .garbage = failure { environment.counters.add(\.linksClosedForGarbage) }
    }

    /// Connects and runs the dialer's handshake within `handshakeTimeout`.
    private func connect() throws(LinkFailure) -> SecureSender {
        let configuration = environment.configuration
        let socket = try TCPSocket.connect(host: peer.host, port: peer.port, timeout: configuration.handshakeTimeout,
                                           isCancelled: { locked { isStopping } })
        let registered = locked {
            guard !isStopping else { return false }
            self.socket = socket
            return true
        }
        guard registered else { socket.close(); throw .closed("stopping") }
        do throws(LinkFailure) {
            let cipher = try LinkHandshake.dial(socket, prologue: environment.prologue, localStatic: environment.localStatic,
                                                remoteStaticKey: remoteStaticKey, deadline: .now + configuration.handshakeTimeout)
            socket.setSendTimeout(configuration.sendStallTimeout)
            locked { isConnected = true }
            return SecureSender(socket: socket, cipher: cipher)
        } catch {
            _ = release(socket)
            throw error
        }
    }

    /// Forgets and closes the connection; returns whether it was dropped on request.
    private func release(_ socket: TCPSocket) -> Bool {
        let wasDropped = locked {
            defer { (self.socket, isConnected, dropReason) = (nil, false, nil) }
            return dropReason != nil
        }
        socket.close()
        return wasDropped
    }

    /// Sends queued messages until the link fails, is dropped or the node stops.
    private func pump(_ sender: SecureSender) -> LinkFailure {
        var sender = sender
        while true {
            condition.lock()
            if queue.isEmpty && !isStopping && dropReason == nil {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Self.idleProbeInterval))
            }
            if isStopping { condition.unlock(); return .closed("stopping") }
            if let dropReason { condition.unlock(); return .closed("dropped: \(dropReason)") }
            let message = queue.popFirst()
            condition.unlock()
            // Checked before each send as well as when idle, so that a message is rarely written
            // into a connection the other side has already closed.
            if let failure = sender.socket.probeWhileSending() {
                if let message { requeue(message) }
                return failure
            }
            guard let message else { continue }
            do throws(LinkFailure) {
                try sender.send(message)
                environment.counters.add(\.messagesSent)
            } catch {
                requeue(message)
                return error
            }
        }
    }

    private func requeue(_ message: [UInt8]) {
        let dropped = locked { queue.pushFront(message) }
        if dropped > 0 { environment.counters.add(\.messagesDroppedQueueFull, dropped) }
    }

    /// Waits `duration`, or less if the node stops.
    private func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let deadline = Date(timeIntervalSinceNow: TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18)
        locked {
            while !isStopping && condition.wait(until: deadline) {}
        }
    }
}
