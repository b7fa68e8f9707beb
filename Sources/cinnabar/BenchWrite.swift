// `cinnabar bench write`: POST /v1/records end to end — HTTP parsing, admission, sequencing, the
// durable block and the receipt — driven by wrk over loopback, beside in-process ingest of the
// same kind of records in the same run (the issue's goal: HTTP at least 70% of in-process).
import API
import ArgumentParser
import Foundation
import Node

struct BenchWrite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "POST /v1/records records/s under load (wrk), each answered with its receipt, beside in-process ingest.")

    @Option(help: "Seconds of HTTP load.") var seconds = 8
    @Option(help: "Concurrent connections.") var connections = 256
    @Option(help: "Records for the in-process comparison.") var count = 60_000
    @Option(help: "The node's block linger (ms), as node.json's max_block_delay_millis.") var lingerMillis: Int?
    @Flag(help: "Post with ?wait=false (202, no receipt): admission and HTTP without the receipt.") var noWait = false
    @Option(help: "Records per request: above 1, each request posts that many to POST /v1/batches.") var batch = 1

    func run() async throws {
        try WrkReport.requireWrk("bench write")
        try checkBatchSize(batch)
        guard batch == 1 || !noWait else { throw CLIError("--no-wait takes single records: a batch always waits for its receipts") }
        let (verifyRateBefore, cores) = MachineLimits.printVerifyLimit()

        // In-process ingest, as `bench ingest` measures it.
        let (inProcessDirectory, inProcessDir) = try BenchIngest.freshLedger("write-ingest")
        defer { try? FileManager.default.removeItem(atPath: inProcessDir) }
        let inProcess: Double
        do {
            let records = try await BenchIngest.signedEvidence(count: count, directory: inProcessDirectory)
            let node = try LedgerNode(directory: inProcessDirectory)
            defer { node.close() }
            inProcess = try await BenchIngest.ingest(records, into: node, concurrency: 512, progress: false)
        }
        print("in-process ingest: \(rate(inProcess)) records/s (\(count) records)")

        // HTTP: enough distinct records that wrk never runs out (a repeat would be a cheap duplicate).
        let (directory, dir) = try BenchIngest.freshLedger("write")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if let lingerMillis {
            var config = try directory.loadConfig()
            config.maxBlockDelayMillis = lingerMillis
            try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: directory.configPath))
        }
        let pool = Int(inProcess * Double(seconds) * 1.5) + 10_000
        let records = try await BenchIngest.signedEvidence(count: pool, directory: directory, salt: "http")
        let node = try LedgerNode(directory: directory)
        defer { node.close() }
        let port = PortBox()
        let app = HTTPServer.application(node: node, host: "127.0.0.1", port: 0) { bound in port.set(bound) }
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        let bound = try await port.wait()
        let sizeBefore = node.store.size, heightBefore = node.store.tip?.height ?? 0

        print("wrk -t2 -c\(connections) -d\(seconds)s --latency, \(pool) distinct signed records; server and wrk share the \(cores) cores")
        let route = WrkReport.writeRoute(batch: batch) + (noWait ? "?wait=false" : "")
        let report = try await WrkReport.post(records, to: "http://127.0.0.1:\(bound)\(route)",
                                        connections: connections, seconds: seconds, workDirectory: dir, batch: batch)
        try await Task.sleep(for: .milliseconds(noWait ? 3000 : 200))  // let the last acknowledged block land
        // Count what the ledger holds, not what wrk saw: each record is one leaf, each block one trailer.
        let blocks = (node.store.tip?.height ?? 0) - heightBefore
        let committed = Double(node.store.size - sizeBefore - blocks)
        try report.checkBatches(batch, committed: committed)
        let http = committed / Double(seconds)
        print(String(format: "POST %@: %@ records/s committed with receipts (%.0f records, %llu blocks), p50 %@, p99 %@%@",
                     WrkReport.writeRoute(batch: batch), rate(http), committed, blocks, report.field("50%"), report.field("99%"),
                     batch > 1 ? " per batch of \(batch)" : ""))
        let verifyRate = MachineLimits.printVerifyLimitAfterRun(before: verifyRateBefore)
        print(String(format: "HTTP write = %.0f%% of in-process ingest (goal ≥ 70%%); in-process = %.0f%% of the raw verify rate on %d cores",
                     100 * http / inProcess, 100 * inProcess / (verifyRate * Double(cores)), cores))
    }
}

/// One wrk run posting distinct records to a URL, and what it reported.
struct WrkReport {
    let text: String

    /// Writes `records` (one canonical JSON text per line) and the script into `workDirectory`,
    /// runs `wrk -t2 --latency` for `seconds`, and fails if wrk saw a refused write.
    /// With `batch` > 1, each request carries that many records, one per line, for `POST /v1/batches`.
    static func post(_ records: [[UInt8]], to url: String, connections: Int, seconds: Int, workDirectory: String,
                     batch: Int = 1) async throws -> WrkReport {
        let bodies = workDirectory + "/records.txt"
        var text = [UInt8]()
        text.reserveCapacity(records.reduce(0) { $0 + $1.count + 1 })
        for r in records { text += r; text.append(0x0A) }  // canonical JSON never holds a raw newline
        try Data(text).write(to: URL(fileURLWithPath: bodies))
        let script = workDirectory + "/post.lua"
        try lua.write(toFile: script, atomically: true, encoding: .utf8)
        return try await run(["-s", script, url, "--", bodies, "2", String(batch)], connections: connections, seconds: seconds)
    }

    /// `wrk -t2 --latency` GETting `url` for `seconds`; fails on any error answer.
    static func get(_ url: String, connections: Int, seconds: Int) async throws -> WrkReport {
        try await run([url], connections: connections, seconds: seconds)
    }

    /// Runs wrk and waits for it on a thread of its own: reading its output blocks, and a blocked
    /// thread of Swift's cooperative pool (one per core) is a core the server under test loses.
    private static func run(_ arguments: [String], connections: Int, seconds: Int) async throws -> WrkReport {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            Thread.detachNewThread {
                let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                continuation.resume(returning: text)
            }
        }
        let report = WrkReport(text: text)
        if report.text.contains("Non-2xx") { throw CLIError("wrk saw error answers:\n\(report.text)") }
        return report
    }

    static let path = "/usr/bin/wrk"

    /// Fails with an install hint if wrk is missing.
    static func requireWrk(_ bench: String) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw CLIError("\(bench) drives the server with wrk: apt-get install wrk")
        }
    }

    /// Where records are posted: one per request to `POST /v1/records`, more to `POST /v1/batches`.
    static func writeRoute(batch: Int) -> String { batch > 1 ? "/v1/batches" : "/v1/records" }

    /// Requests wrk saw answered ("N requests in …").
    var answered: Int? {
        text.split(separator: "\n").lazy.compactMap { line -> Int? in
            let words = line.split(separator: " ")
            guard words.count > 2, words[1] == "requests", words[2] == "in" else { return nil }
            return Int(words[0])
        }.first
    }

    /// With batches a refused line does not fail its request (the batch answers 200), so a run
    /// checks the ledger instead: every answered batch's records must be in it. Records still in
    /// flight when wrk stopped may be in it too.
    func checkBatches(_ batch: Int, committed: Double) throws {
        guard batch > 1, let answered else { return }
        guard committed >= Double(answered * batch) else {
            throw CLIError("wrk saw \(answered) batches of \(batch) answered, but the ledger grew by \(Int(committed)) records: lines were refused")
        }
    }

    /// The last field of the first line wrk printed that starts with `prefix` ("50%", "99%",
    /// "Requests/sec:").
    func field(_ prefix: String) -> String {
        text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
            .map { String($0.split(separator: " ", omittingEmptySubsequences: true).last ?? "?") } ?? "?"
    }

    /// wrk script: thread k of n posts lines k, k+n, … of the bodies file, never the same twice
    /// unless the pool runs out.
    static let lua = """
        local threadCount = 0
        function setup(thread)
          thread:set("threadIndex", threadCount)
          threadCount = threadCount + 1
        end
        function init(args)
          local path, n, batch = args[1], tonumber(args[2]), tonumber(args[3])
          bodies = {}
          local i, pending = 0, {}
          for line in io.lines(path) do
            if i % n == threadIndex then
              pending[#pending + 1] = line
              if #pending == batch then bodies[#bodies + 1] = table.concat(pending, "\\n"); pending = {} end
            end
            i = i + 1
          end
          next = 0
          headers = { ["Content-Type"] = batch > 1 and "application/x-ndjson" or "application/json" }
          path = wrk.path
        end
        function request()
          next = next % #bodies + 1
          return wrk.format("POST", path, headers, bodies[next])
        end
        """
}
