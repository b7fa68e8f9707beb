// `POST /v1/batches`: many signed records in one request, one per line (NDJSON: canonical JSON
// never holds a raw newline), each admitted and sequenced as `POST /v1/records` would, the answer
// holding every line's outcome in order once every accepted line's block is durable. For bulk
// imports, and for clients whose records outrun one HTTP request each.
import Foundation
import Hummingbird
import Ledger
import Node
import Records

/// Bounds of one batch: the records in it and the bytes of the whole body.
public enum BatchLimits {
    public static let maxRecords = 1000
    public static let maxBytes = 4 << 20
}

extension RecordRoutes {
    func submitBatch(_ request: Request) async throws -> Response {
        let body = try await writeBody(request, upTo: BatchLimits.maxBytes, tooLarge: Problem(
            .contentTooLarge, code: "batch_too_large", title: "Batch too large",
            detail: "a batch is at most \(BatchLimits.maxBytes) bytes and \(BatchLimits.maxRecords) records"))
        let lines = Self.records(in: body, upTo: BatchLimits.maxRecords + 1)
        guard !lines.isEmpty else {
            throw Problem.badRequest("empty_batch", "the body holds no record: send one canonical JSON record per line")
        }
        guard lines.count <= BatchLimits.maxRecords else {
            throw Problem(.contentTooLarge, code: "batch_too_large", title: "Batch too large",
                          detail: "a batch holds at most \(BatchLimits.maxRecords) records; this one holds more")
        }
        // Each line is admitted on its own task, so one batch's signatures are checked on every
        // core, and all of them wait for their blocks together.
        let outcomes = await withTaskGroup(of: (Int, Outcome).self) { group in
            for (position, line) in lines.enumerated() {
                group.addTask { (position, await outcome(line: line.number, record: line.bytes)) }
            }
            var outcomes = [Outcome?](repeating: nil, count: lines.count)
            for await (position, outcome) in group { outcomes[position] = outcome }
            return outcomes.compactMap { $0 }
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: Self.answer(outcomes))))
    }

    /// One line's outcome: its receipt (status 201 new, 200 already logged) or the problem that
    /// kept it out of the log (or, for a logged line, kept its receipt from being built).
    struct Outcome {
        let line: Int
        let status: Int
        let receipt: ReceiptBody?
        let problem: Problem.Body?
    }

    private func outcome(line: Int, record bytes: [UInt8]) async -> Outcome {
        // Too large for a leaf: the problem a single POST answers, before anything else.
        guard bytes.count <= LeafLimits.maxBytes else {
            return Outcome(line: line, problem: .recordTooLarge)
        }
        let submitted: (receipt: Receipt, recordID: String)
        do { submitted = try await node.submitRecord(bytes) } catch let error as SubmitError {
            return Outcome(line: line, problem: Problem(submission: error))
        } catch {
            return Outcome(line: line, problem: Problem(.internalServerError, code: "internal", title: "Internal error", detail: "\(error)"))
        }
        // Logged (or already logged) from here on: a receipt that cannot be built does not make
        // the line refused; its status still says it is in the log.
        let status = submitted.receipt.duplicate ? 200 : 201
        do {
            return Outcome(line: line, status: status, receipt: try receiptBody(submitted, record: bytes), problem: nil)
        } catch {
            let problem = Problem(.internalServerError, code: "receipt_unavailable", title: "Receipt unavailable",
                                  detail: "record \(submitted.recordID) is logged at leaf \(submitted.receipt.index), but its receipt could not be built: \(error); read it with GET /v1/records/\(submitted.recordID)")
            return Outcome(line: line, status: status, receipt: nil, problem: problem.body)
        }
    }

    /// The answer's JSON, members in sorted order, each receipt written as a single POST writes it.
    static func answer(_ outcomes: [Outcome]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(outcomes.count * 3000 + 100)
        func put(_ text: String) { out.append(contentsOf: text.utf8) }
        // Only lines in the log carry 201 or 200, with their receipt or with receipt_unavailable.
        let logged = outcomes.filter { $0.status == 201 }.count, duplicates = outcomes.filter { $0.status == 200 }.count
        put("{\"duplicates\":\(duplicates),\"logged\":\(logged),\"not_logged\":\(outcomes.count - logged - duplicates),\"results\":[")
        for (i, outcome) in outcomes.enumerated() {
            put(i == 0 ? "{\"line\":\(outcome.line)," : ",{\"line\":\(outcome.line),")
            if let problem = outcome.problem {
                put("\"problem\":{\"code\":"); CanonicalJSON.writeString(problem.code, into: &out)
                put(",\"detail\":"); CanonicalJSON.writeString(problem.detail, into: &out)
                put(",\"status\":\(problem.status),\"title\":"); CanonicalJSON.writeString(problem.title, into: &out)
                put(",\"type\":"); CanonicalJSON.writeString(problem.type, into: &out)
                put("},")
            }
            if let receipt = outcome.receipt {
                put("\"receipt\":")
                receipt.write(into: &out)
                put(",")
            }
            put("\"status\":\(outcome.status)}")
        }
        put("]}\n")
        return out
    }

    /// The first `limit` non-blank lines of a body with their 1-based line numbers; a CR before
    /// the LF is dropped. One walk that stops at the limit: 4 MiB of newlines cost no more than
    /// their own bytes.
    static func records(in body: [UInt8], upTo limit: Int) -> [(number: Int, bytes: [UInt8])] {
        var lines: [(number: Int, bytes: [UInt8])] = []
        var number = 0, start = body.startIndex
        while start <= body.endIndex, lines.count < limit {
            let end = body[start...].firstIndex(of: 0x0A) ?? body.endIndex
            number += 1
            var line = body[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { lines.append((number, Array(line))) }
            start = end + 1
        }
        return lines
    }
}

extension RecordRoutes.Outcome {
    /// A line kept out of the log, under its problem's status.
    init(line: Int, problem: Problem) {
        self.init(line: line, status: Int(problem.status.code), receipt: nil, problem: problem.body)
    }
}
