// Blocking TCP sockets over Glibc for the peer links: connect with a timeout, listen, accept,
// whole-buffer sends that cannot raise SIGPIPE, reads with a deadline. Nothing here knows Noise.
import Glibc
import Synchronization

/// Why a link ended. Only `garbage` is the other side's fault: it is counted and logged as such.
enum LinkFailure: Error, CustomStringConvertible {
    /// The connection ended: refused, reset, closed by either side, or a system call failed.
    case closed(String)
    /// Nothing arrived by the deadline.
    case timedOut(String)
    /// The other side broke the protocol: bad handshake, unknown key, failed decryption, bad framing.
    case garbage(String)

    var description: String {
        switch self {
        case .closed(let reason), .timedOut(let reason), .garbage(let reason): reason
        }
    }

    /// The failure of the last system call, named after it.
    static func systemCall(_ name: String, errno code: Int32 = errno) -> LinkFailure {
        .closed("\(name): \(String(cString: strerror(code)))")
    }
}

/// A file descriptor that one thread uses and closes while any thread may shut it down to wake
/// that one: the lock makes a shutdown after the close a no-op, so a reused number is never touched.
private final class OwnedDescriptor: Sendable {
    let value: Int32
    private let isClosed = Mutex(false)

    init(_ value: Int32) { self.value = value }

    func shutdown() {
        isClosed.withLock { closed in
            if !closed { _ = Glibc.shutdown(value, Int32(SHUT_RDWR)) }
        }
    }

    func close() {
        isClosed.withLock { closed in
            if !closed { _ = Glibc.close(value) }
            closed = true
        }
    }

    deinit { close() }
}

/// A connected TCP socket. One thread reads or writes it; any thread may `shutdown()` it to wake
/// that thread, and only its owner `close()`s it.
final class TCPSocket: Sendable {
    private let owned: OwnedDescriptor
    private var descriptor: Int32 { owned.value }
    /// "host:port" of the other end, for logs.
    let remoteAddress: String

    private init(descriptor: Int32, remoteAddress: String) {
        owned = OwnedDescriptor(descriptor)
        self.remoteAddress = remoteAddress
        var one: Int32 = 1
        // Consensus messages are small and latency-bound: no Nagle delay.
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        // A link whose sent data stays unacknowledged this long is dead (a cut cable, a partition):
        // the kernel closes it, and the dialer redials, instead of backing off retransmissions for
        // minutes. Validators send a status every 250 ms, so a live link always has data in flight.
        var userTimeout = TCPSocket.userTimeoutMillis
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCPSocket.tcpUserTimeout, &userTimeout, socklen_t(MemoryLayout<UInt32>.size))
    }

    /// TCP_USER_TIMEOUT (Linux, tcp(7)).
    private static let tcpUserTimeout: Int32 = 18
    private static let userTimeoutMillis: UInt32 = 4_000

    /// Connects to `host:port`, trying each address `getaddrinfo` gives, within `timeout` each.
    /// `isCancelled` is polled every 100 ms so that `stop()` need not wait out the timeout.
    static func connect(host: String, port: UInt16, timeout: Duration, isCancelled: () -> Bool) throws(LinkFailure) -> TCPSocket {
        var lastFailure = LinkFailure.closed("no address for \(host)")
        for address in try resolve(host: host, port: port, passive: false) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastFailure = .systemCall("socket"); continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var failure: LinkFailure? = nil
            if address.withSockaddr({ Glibc.connect(fd, $0, $1) }) != 0 {
                failure = errno == EINPROGRESS ? awaitConnection(fd, timeout: timeout, isCancelled: isCancelled) : .systemCall("connect")
            }
            if let failure {
                Glibc.close(fd)
                lastFailure = failure
                continue
            }
            _ = fcntl(fd, F_SETFL, flags)
            return TCPSocket(descriptor: fd, remoteAddress: "\(host):\(port)")
        }
        throw lastFailure
    }

    private static func awaitConnection(_ fd: Int32, timeout: Duration, isCancelled: () -> Bool) -> LinkFailure? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if isCancelled() { return .closed("cancelled") }
            let now = ContinuousClock.now
            guard now < deadline else { return .timedOut("connect timed out after \(timeout)") }
            var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pollfd, 1, min(100, milliseconds(until: deadline, from: now)))
            if ready < 0 && errno != EINTR { return .systemCall("poll") }
            guard ready > 0 else { continue }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return .systemCall("getsockopt") }
            return error == 0 ? nil : .systemCall("connect", errno: error)
        }
    }

    /// Writes all of `bytes`; MSG_NOSIGNAL turns a peer's reset into an error, not SIGPIPE.
    func sendAll(_ bytes: [UInt8]) throws(LinkFailure) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut("send made no progress") : .systemCall("send")
            }
            sent += n
        }
    }

    /// Reads exactly `count` bytes, by `deadline` if one is given.
    func receive(exactly count: Int, deadline: ContinuousClock.Instant?) throws(LinkFailure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            if let deadline {
                let now = ContinuousClock.now
                guard now < deadline else { throw .timedOut("nothing arrived in time") }
                var pollfd = Glibc.pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pollfd, 1, milliseconds(until: deadline, from: now))
                if ready < 0 && errno != EINTR { throw .systemCall("poll") }
                guard ready > 0 else { continue }
            }
            let n = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + received, count - received, 0) }
            if n == 0 { throw .closed("the other side closed the connection") }
            if n < 0 {
                if errno == EINTR { continue }
                throw .systemCall("recv")
            }
            received += n
        }
        return buffer
    }

    /// For a link that only sends: whether the other side has closed it (or, against the
    /// protocol, sent something). Does not block.
    func probeWhileSending() -> LinkFailure? {
        var byte: UInt8 = 0
        let n = recv(descriptor, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        if n == 0 { return .closed("the other side closed the connection") }
        if n > 0 { return .garbage("bytes arrived on a send-only link") }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? nil : .systemCall("recv")
    }

    /// Bounds each blocking send: a peer that reads nothing for this long has its link closed.
    func setSendTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Wakes any thread blocked on this socket; safe from any thread, a no-op once closed.
    func shutdown() { owned.shutdown() }

    /// Releases the descriptor; only the owning thread calls it, once it is done with the socket.
    func close() { owned.close() }

    /// A listening socket, bound with SO_REUSEADDR so that a restarted node gets its port back.
    final class Listener: Sendable {
        private let owned: OwnedDescriptor
        /// The port actually bound (the one asked for, or the kernel's choice for 0).
        let port: UInt16

        init(host: String, port: UInt16, backlog: Int32 = 64) throws(LinkFailure) {
            let (descriptor, port) = try Self.bindAndListen(host: host, port: port, backlog: backlog)
            owned = OwnedDescriptor(descriptor)
            self.port = port
        }

        private static func bindAndListen(host: String, port: UInt16, backlog: Int32) throws(LinkFailure) -> (Int32, UInt16) {
            var lastFailure = LinkFailure.closed("no address for \(host)")
            for address in try resolve(host: host, port: port, passive: true) {
                let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { lastFailure = .systemCall("socket"); continue }
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                guard address.withSockaddr({ bind(fd, $0, $1) }) == 0, listen(fd, backlog) == 0 else {
                    lastFailure = .systemCall("bind/listen on \(host):\(port)")
                    Glibc.close(fd)
                    continue
                }
                var bound = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                _ = withUnsafeMutablePointer(to: &bound) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                }
                return (fd, SocketAddress(storage: bound).port)
            }
            throw lastFailure
        }

        /// The next connection; nil once the listener is shut down or on a transient failure
        /// (the caller checks whether it is stopping).
        func accept() -> TCPSocket? {
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(owned.value, $0, &length) }
            }
            guard fd >= 0 else { return nil }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            return TCPSocket(descriptor: fd, remoteAddress: SocketAddress(storage: peer).description)
        }

        /// Wakes the thread blocked in `accept()`.
        func shutdown() { owned.shutdown() }

        func close() { owned.close() }
    }
}

/// The milliseconds left before `deadline`, rounded up, for poll().
private func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
    let (seconds, attoseconds) = (deadline - now).components
    return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
}

/// An IPv4 or IPv6 socket address.
private struct SocketAddress: CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t { storage.ss_family == sa_family_t(AF_INET6) ? socklen_t(MemoryLayout<sockaddr_in6>.size) : socklen_t(MemoryLayout<sockaddr_in>.size) }
    var family: Int32 { Int32(storage.ss_family) }

    var port: UInt16 {
        withUnsafeBytes(of: storage) { raw in
            storage.ss_family == sa_family_t(AF_INET6)
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        withUnsafeBytes(of: storage) { raw in
            if storage.ss_family == sa_family_t(AF_INET6) {
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            } else {
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            }
        }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }
}

/// getaddrinfo for TCP: every address of `host` (numeric or a name), in the resolver's order.
private func resolve(host: String, port: UInt16, passive: Bool) throws(LinkFailure) -> [SocketAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)
    var list: UnsafeMutablePointer<addrinfo>? = nil
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0 else { throw .closed("cannot resolve \(host): \(String(cString: gai_strerror(status)))") }
    defer { freeaddrinfo(list) }
    var addresses: [SocketAddress] = []
    var entry = list
    while let info = entry?.pointee {
        if let address = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(info.ai_addrlen))) }
            addresses.append(SocketAddress(storage: storage))
        }
        entry = info.ai_next
    }
    return addresses
}
