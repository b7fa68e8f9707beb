// Code lookups are capabilities being guessed at if they come too fast: each client address gets
// a token bucket; an empty bucket is answered 429 with Retry-After before any lookup.
import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The request context of the node: Hummingbird's basics plus the peer address.
public struct NodeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// A token bucket per client: `burst` lookups at once, refilled at `perSecond`.
public final class RateLimiter: Sendable {
    private struct Bucket { var tokens: Double; var updated: Double }
    private let buckets = Mutex<[String: Bucket]>([:])
    private let perSecond: Double
    private let burst: Double
    private let maxClients = 100_000
    private let now: @Sendable () -> Double

    public init(perSecond: Double, burst: Double, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.perSecond = perSecond
        self.burst = burst
        self.now = now
    }

    /// Takes a token for `client`; returns the seconds to wait if there is none.
    public func take(_ client: String) -> Int? {
        let t = now()
        return buckets.withLock { buckets in
            if buckets.count > maxClients { buckets.removeAll() }  // bounded memory under address churn
            var b = buckets[client] ?? Bucket(tokens: burst, updated: t)
            b.tokens = min(burst, b.tokens + (t - b.updated) * perSecond)
            b.updated = t
            defer { buckets[client] = b }
            guard b.tokens >= 1 else { return Int(((1 - b.tokens) / perSecond).rounded(.up)) }
            b.tokens -= 1
            return nil
        }
    }
}

/// Applies a `RateLimiter` to the routes under the given path prefixes (the code lookups).
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = NodeRequestContext
    let limiter: RateLimiter
    let prefixes: [String]

    public init(limiter: RateLimiter, prefixes: [String]) {
        self.limiter = limiter
        self.prefixes = prefixes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard prefixes.contains(where: { path.hasPrefix($0) }) else { return try await next(request, context) }
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = limiter.take(client) {
            throw Problem(.tooManyRequests, code: "rate_limited", title: "Too many lookups",
                          detail: "too many code lookups from this address; retry in \(wait) s").retryAfter(wait)
        }
        return try await next(request, context)
    }
}
