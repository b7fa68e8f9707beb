// The node's side of c2sp.org/tlog-witness: each configured witness gets the node's newest
// checkpoint with a consistency proof from the size the witness last recorded, one request in
// flight per witness (the newest tip wins), and its verified cosignature is kept for serving.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MerkleLog
import Node
import SignedNote

/// Pushes a node's checkpoints to external witnesses and records their cosignatures in
/// `node.witnessed`.
public final class WitnessPusher: Sendable {
    /// A witness: its submission prefix and the `cosignature/v1` key its answers must verify with.
    public struct Witness: Sendable {
        public let url: URL
        public let key: NoteVerifierKey

        /// Throws `badKey` if `key` is not a type-0x04 (cosignature/v1) verifier key, or if `url`
        /// is not an http(s) URL.
        public init(url: String, key: String) throws {
            let parsed = try NoteVerifierKey(parsing: key)
            guard parsed.type == .cosignatureV1 else {
                throw NoteError.badKey("witness key \(parsed.name)+… is not a cosignature/v1 (type 0x04) key")
            }
            guard let u = URL(string: url.hasSuffix("/") ? String(url.dropLast()) : url), u.scheme == "http" || u.scheme == "https" else {
                throw NoteError.badKey("witness URL \(url) is not an http or https URL")
            }
            self.url = u
            self.key = parsed
        }
    }

    /// How often an idle pusher looks for a new tip.
    static let idlePoll: Duration = .milliseconds(50)
    /// The longest wait after a failure; waits double from one second up to this.
    static let maxBackoff: Duration = .seconds(30)
    /// How long one add-checkpoint request may take.
    static let requestTimeoutSeconds: TimeInterval = 10

    let node: LedgerNode
    let witnesses: [Witness]
    let log: @Sendable (String) -> Void

    /// A pusher for `witnesses`; `log` receives a line on each failure and on each first cosignature after one.
    public init(node: LedgerNode, witnesses: [Witness], log: @escaping @Sendable (String) -> Void) {
        self.node = node
        self.witnesses = witnesses
        self.log = log
    }

    /// Pushes to every witness until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for witness in witnesses { group.addTask { await self.push(to: witness) } }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The loop for one witness: send the tip when it is new, follow a 409 to the witness's size,
    /// back off on anything else.
    func push(to witness: Witness) async {
        let endpoint = witness.url.appendingPathComponent("add-checkpoint")
        var oldSize: UInt64 = 0  // the size this witness is believed to have recorded
        var cosignedSize: UInt64?  // the size whose cosignature is held
        var backoff = Duration.zero
        var healthy = false
        while !Task.isCancelled {
            if backoff > .zero { try? await Task.sleep(for: backoff) }
            // Nothing new, or the witness is ahead of this node (another node pushed): wait.
            guard let tip = node.store.tip, tip.size != cosignedSize, tip.size >= oldSize,
                  let text = try? node.store.checkpoint(height: tip.height), let note = try? Note(parsing: text) else {
                try? await Task.sleep(for: WitnessPusher.idlePoll)
                continue
            }
            do {
                let proof = oldSize == 0 ? [] : try node.store.hashReader.consistencyProof(from: oldSize, to: tip.size)
                let request = try AddCheckpointRequest(oldSize: oldSize, proof: proof, note: note)
                let (status, body) = try await WitnessPusher.post(endpoint, body: Array(request.formatted.utf8))
                switch status {
                case 200:
                    let cosignature = try TlogWitness.cosignature(inAnswer: String(decoding: body, as: UTF8.self), on: note, by: witness.key)
                    node.witnessed.add(cosignature, on: note, size: tip.size)
                    oldSize = tip.size
                    cosignedSize = tip.size
                    backoff = .zero
                    if !healthy { log("witness \(witness.key.name) cosigned size \(tip.size)") }
                    healthy = true
                case 409:
                    // tlog-witness: the witness recorded another size; prove consistency from it.
                    guard let recorded = TlogWitness.recordedSize(inConflictBody: body), recorded != oldSize else {
                        throw Failure(description: "the witness holds another root hash for size \(oldSize): this log may have forked")
                    }
                    oldSize = recorded
                default:
                    throw Failure(description: "HTTP \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
                }
            } catch {
                log("witness \(witness.key.name) at \(witness.url): \(error)")
                healthy = false
                backoff = min(max(backoff * 2, .seconds(1)), WitnessPusher.maxBackoff)
            }
        }
    }

    /// One POST; the status and body, or the transport error.
    static func post(_ url: URL, body: [UInt8]) async throws -> (Int, [UInt8]) {
        var request = URLRequest(url: url, timeoutInterval: requestTimeoutSeconds)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        return try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let http = response as? HTTPURLResponse {
                    continuation.resume(returning: (http.statusCode, Array(data ?? Data())))
                } else {
                    continuation.resume(throwing: error ?? Failure(description: "no response from \(url)"))
                }
            }.resume()
        }
    }
}
