// The read API of the log: the C2SP checkpoint and tiles (tlog-tiles), JSON proofs, log info.
// Handlers parse, call the store, and format; the logic lives in MerkleLog and Storage.
import CinnabarCrypto
import Foundation
import Hummingbird
import Ledger
import MerkleLog
import Node
import Storage

/// Registers the log's read routes on `router`.
public struct LogRoutes: Sendable {
    let node: LedgerNode
    /// This node's name and validator verifier key (read once from its key file).
    let identity: (name: String, key: String)?

    public init(node: LedgerNode) {
        self.node = node
        let origin = node.genesis.origin
        identity = (try? node.directory.loadKey()).flatMap { key in
            (try? Validator(name: node.config.validator, publicKey: key.verifierKey.publicKey).verifierKey(origin: origin).vkey)
                .map { (node.config.validator, $0) }
        }
    }

    /// Full tiles and bundles never change: cache them for a year.
    static let immutable = "public, max-age=31536000, immutable"

    public func register(on router: Router<NodeRequestContext>) {
        router.get("/checkpoint") { _, _ in try checkpoint() }
        router.get("/tile/**") { _, context in try tile(context.parameters.getCatchAll()) }
        router.get("/v1/proofs/inclusion") { request, _ in try inclusion(request) }
        router.get("/v1/proofs/consistency") { request, _ in try consistency(request) }
        router.get("/v1/log") { _, _ in try logInfo() }
    }

    func checkpoint() throws -> Response {
        guard let tip = node.store.tip, let note = try node.store.checkpoint(height: tip.height) else {
            throw Problem.notFound("no_checkpoint", "the log has no checkpoint yet")
        }
        return Response(status: .ok,
                        headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: note)))
    }

    func tile(_ elements: [Substring]) throws -> Response {
        guard let first = elements.first else { throw Problem.notFound("no_such_tile", "no tile path given") }
        let size = node.store.size
        guard let (index, width) = TileID.parseIndexAndWidth(Array(elements.dropFirst())) else {
            throw Problem.notFound("no_such_tile", "malformed tile path /tile/\(elements.joined(separator: "/"))")
        }
        if first == "entries" {
            let start = index.multipliedReportingOverflow(by: 256)
            guard !start.overflow, start.partialValue + UInt64(width) <= size else {
                throw Problem.notFound("no_such_tile", "entry bundle \(index) of width \(width) is beyond the tree (size \(size))")
            }
            var bundle: [UInt8] = []
            for leaf in try node.store.leaves(from: start.partialValue, count: width) {
                bundle += [UInt8(leaf.count >> 8), UInt8(leaf.count & 0xFF)] + leaf
            }
            return Response(status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: LogRoutes.immutable],
                            body: .init(byteBuffer: ByteBuffer(bytes: bundle)))
        }
        guard let level = UInt8(first), String(level) == first, level < 8 else {
            throw Problem.notFound("no_such_tile", "tile level \(first) does not exist")
        }
        guard let tile = try node.store.tile(level: level, index: index), tile.width >= width else {
            throw Problem.notFound("no_such_tile", "tile \(level)/\(index) of width \(width) is beyond the tree (size \(size))")
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: LogRoutes.immutable],
                        body: .init(byteBuffer: ByteBuffer(bytes: tile.c2spBytes(width: width))))
    }

    struct InclusionBody: Encodable {
        let index: UInt64
        let size: UInt64
        let leaf_hash: String
        let inclusion_proof: [String]
    }

    func inclusion(_ query: Request) throws -> Response {
        let index = try number(query, "index")
        let size = try number(query, "size")
        try requireWithinTree(size)
        guard index < size else {
            throw Problem.badRequest("index_out_of_range", "index \(index) is not below size \(size)")
        }
        let proof = try node.store.hashReader.inclusionProof(index: index, size: size)
        let leafHash = try node.store.hashReader.hashes(of: [NodeID(level: 0, index: index)])[0]
        return json(InclusionBody(index: index, size: size, leaf_hash: leafHash.base64, inclusion_proof: proof.map { $0.base64 }))
    }

    struct ConsistencyBody: Encodable {
        let from: UInt64
        let to: UInt64
        let consistency_proof: [String]
    }

    func consistency(_ query: Request) throws -> Response {
        let from = try number(query, "from")
        let to = try number(query, "to")
        try requireWithinTree(to)
        guard from <= to else { throw Problem.badRequest("size_out_of_range", "from (\(from)) is larger than to (\(to))") }
        let proof = try node.store.hashReader.consistencyProof(from: from, to: to)
        return json(ConsistencyBody(from: from, to: to, consistency_proof: proof.map { $0.base64 }))
    }

    struct LogBody: Encodable {
        struct Member: Encodable { let name: String; let key: String }
        /// The answering node: its name, its verifier key, and whether it votes.
        struct Node: Encodable { let name: String; let key: String; let role: String }
        let origin: String
        let size: UInt64
        let height: UInt64
        let validators: [Member]
        let quorum: Int
        let epoch: UInt64
        let checkpoint: String
        let node: Node?
    }

    func logInfo() throws -> Response {
        let tip = node.store.tip
        let inForce = node.validatorSetInForce
        let members = try inForce.validators.validators.map {
            LogBody.Member(name: $0.name, key: try $0.verifierKey(origin: node.genesis.origin).vkey)
        }
        let note = try tip.flatMap { try node.store.checkpoint(height: $0.height) } ?? ""
        let me = identity.map { LogBody.Node(name: $0.name, key: $0.key, role: node.isObserver ? "observer" : "validator") }
        return json(LogBody(origin: node.genesis.origin, size: tip?.size ?? 0, height: tip?.height ?? 0,
                            validators: members, quorum: inForce.validators.quorum, epoch: inForce.epoch, checkpoint: note, node: me))
    }

    private func number(_ request: Request, _ name: String) throws -> UInt64 {
        guard let raw = request.uri.queryParameters[Substring(name)] else { throw Problem.badRequest("missing_parameter", "query parameter \(name) is required") }
        guard let value = UInt64(raw), String(value) == raw else {
            throw Problem.badRequest("invalid_parameter", "query parameter \(name) must be a non-negative decimal integer")
        }
        return value
    }

    private func requireWithinTree(_ size: UInt64) throws {
        let current = node.store.size
        guard size >= 1, size <= current else {
            throw Problem.badRequest("size_out_of_range", "size \(size) is outside the tree (1…\(current))")
        }
    }

    private func json<T: Encodable>(_ value: T) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(value))))
    }
}

/// The node's HTTP server.
public enum HTTPServer {
    /// Builds the application serving `node` on `host:port`; `onRunning` fires once it listens.
    public static func application(node: LedgerNode, host: String, port: Int,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: NodeRequestContext.self)
        let limiter = RateLimiter(perSecond: node.config.lookupsPerSecond ?? 5, burst: node.config.lookupBurst ?? 20)
        router.add(middleware: RateLimitMiddleware(limiter: limiter, prefixes: ["/v1/verify", "/v1/bundles/"]))
        LogRoutes(node: node).register(on: router)
        WitnessedRoutes(node: node).register(on: router)
        RecordRoutes(node: node, codeKey: try? node.directory.loadCodeKey()).register(on: router)
        WebRoutes().register(on: router)
        ValidatorSetRoutes(node: node).register(on: router)
        router.get("/healthz") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        // Ready once the store has a signed checkpoint and the sequencer accepts writes.
        router.get("/readyz") { _, _ in
            guard node.store.tip != nil, node.store.db.isOpen else {
                throw Problem(.serviceUnavailable, code: "not_ready", title: "Not ready", detail: "the store has no checkpoint yet or is closed")
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        // Known paths answer other methods with 405 and an Allow header, not 404.
        let served: [(String, HTTPRequest.Method)] = [
            ("/checkpoint", .get), ("/tile/**", .get), ("/v1/proofs/inclusion", .get), ("/v1/proofs/consistency", .get),
            ("/v1/log", .get), ("/v1/records", .post), ("/v1/batches", .post), ("/v1/records/{id}", .get), ("/v1/verify/{code}", .get),
            ("/v1/bundles/{code}", .get), ("/v1/practitioners/{licence}/credit", .get), ("/healthz", .get), ("/readyz", .get),
            ("/v1/verify", .post), ("/v1/history/{code}", .get), ("/v1/cases/{code}", .get),
            ("/v1/checkpoint/witnessed", .get), ("/v1/validator-set", .post),
        ] + WebRoutes.served
        for (path, allowed) in served {
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .options, .trace, HTTPRequest.Method("QUERY")!] where method != allowed {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    var problem = Problem(.methodNotAllowed, code: "method_not_allowed", title: "Method not allowed",
                                          detail: "\(path) answers \(allowed.rawValue) only")
                    problem.headers[.allow] = allowed.rawValue
                    throw problem
                }
            }
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "cinnabar"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}
