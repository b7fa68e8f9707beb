// `GET /v1/checkpoint/witnessed`: the node's checkpoint with the validators' signatures and the
// external witnesses' cosignature/v1 lines appended (c2sp.org/tlog-cosignature), for clients
// whose policy requires witnesses.
import Hummingbird
import Node

/// Registers the witnessed-checkpoint route.
public struct WitnessedRoutes: Sendable {
    let node: LedgerNode

    public init(node: LedgerNode) { self.node = node }

    public func register(on router: Router<NodeRequestContext>) {
        router.get("/v1/checkpoint/witnessed") { _, _ in try witnessed() }
    }

    /// The checkpoint cosigned by the most witnesses (the newest of those), or 404.
    func witnessed() throws -> Response {
        guard let best = node.witnessed.best() else {
            throw Problem.notFound("no_witnessed_checkpoint", "no witness has cosigned a checkpoint of this node yet (or none is configured)")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: best.note.formatted)))
    }
}
