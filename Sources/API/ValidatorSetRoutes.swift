// `POST /v1/validator-set`: a governance-approved validator-set change (consensus.md §2.10),
// handed to the consortium's sequencer, which checks it against the set and epoch in force,
// shares it with its peers and includes it in the next block it proposes.
import CinnabarCrypto
import Foundation
import Hummingbird
import Ledger
import Node

struct ValidatorSetRoutes: Sendable {
    let node: LedgerNode

    func register(on router: Router<NodeRequestContext>) {
        router.post("/v1/validator-set") { request, _ in try await submit(request) }
    }

    struct ChangeBody: Decodable { let change: String }
    struct Pending: Encodable { let status: String; let epoch: UInt64 }

    func submit(_ request: Request) async throws -> Response {
        guard let consortium = node.sequencer as? ConsortiumSequencer else {
            throw Problem(.conflict, code: "single_validator",
                          title: "Not a consortium", detail: "this ledger has one validator; its set is fixed by its genesis")
        }
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: 2 * LeafLimits.maxBytes) } catch {
            throw Problem(.contentTooLarge, code: "request_too_large", title: "Request too large", detail: "a change is at most \(LeafLimits.maxBytes) bytes")
        }
        guard let parsed = try? JSONDecoder().decode(ChangeBody.self, from: Data(body.readableBytesView)),
              let leaf = Base64.decode(parsed.change) else {
            throw Problem.badRequest("malformed_request", "expected {\"change\": \"<base64 of the change leaf>\"}")
        }
        do { try await consortium.submitChange(leaf) } catch let error as SubmitError {
            throw Problem.refused(code: error.code, detail: error.description)
        }
        let data = try JSONEncoder().encode(Pending(status: "pending", epoch: node.validatorSetInForce.epoch))
        return Response(status: .accepted, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
