// The witness's HTTP server (`cinnabar witness run`): `POST /add-checkpoint` of c2sp.org/tlog-witness,
// body bounded. The handler reads the body and calls the service; the rules live in SignedNote.
import Hummingbird
import Node
import SignedNote

/// The HTTP server of a tlog-witness.
public enum WitnessServer {
    /// Builds the application serving `service` on `host:port`; `onRunning` fires once it listens.
    /// `log` receives one line for each refusal that may be evidence of a log's misbehaviour (a
    /// checkpoint its validators signed that forks from what the witness cosigned).
    public static func application(service: WitnessService, host: String, port: Int,
                                   log: @escaping @Sendable (String) -> Void = { _ in },
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: NodeRequestContext.self)
        router.post("/add-checkpoint") { request, _ in try await addCheckpoint(request, service: service, log: log) }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
            router.on("/add-checkpoint", method: method) { _, _ -> Response in
                var problem = Problem(.methodNotAllowed, code: "method_not_allowed", title: "Method not allowed",
                                      detail: "/add-checkpoint answers POST only")
                problem.headers[.allow] = "POST"
                throw problem
            }
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "cinnabar-witness"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    static func addCheckpoint(_ request: Request, service: WitnessService, log: @Sendable (String) -> Void) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: AddCheckpointRequest.maxBytes) } catch {
            throw Problem(.contentTooLarge, code: "request_too_large", title: "Request too large",
                          detail: "an add-checkpoint body is at most \(AddCheckpointRequest.maxBytes) bytes")
        }
        do {
            let lines = try service.addCheckpoint(body.readableBytesView)
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(string: lines)))
        } catch let refusal as WitnessRefusal {
            if case .rootConflict = refusal { log("refused a signed checkpoint: \(refusal)") }
            if case .inconsistent = refusal { log("refused a signed checkpoint: \(refusal)") }
            // tlog-witness: a 409 carries the recorded size as text/x.tlog.size.
            if let size = refusal.recordedSize {
                return Response(status: .conflict, headers: [.contentType: TlogWitness.sizeContentType, .cacheControl: "no-store"],
                                body: .init(byteBuffer: ByteBuffer(string: "\(size)\n")))
            }
            throw Problem(HTTPResponse.Status(code: refusal.status), code: refusal.code, title: "Checkpoint refused",
                          detail: refusal.description)
        }
    }
}
