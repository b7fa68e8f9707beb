// `cinnabar bench consortium`: four validator processes on loopback (all sharing this machine),
// signed records posted to one of them with wrk, each answered only once its block is decided by
// the four and its checkpoint carries a quorum of their signatures. Beside it, in the same run,
// one validator driven the same way.
import ArgumentParser
import Foundation
import Node

struct BenchConsortium: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consortium",
        abstract: "Committed records/s and receipt latency through a 4-validator consortium on loopback, beside one validator.")

    @Option(help: "Seconds of load on each ledger.") var seconds = 8
    @Option(help: "Concurrent connections (each waits for its receipt).") var connections = 512
    @Option(help: "Validators in the consortium.") var validators = 4
    @Flag(help: "Skip the one-validator run.") var onlyConsortium = false
    @Option(help: "Records per request: above 1, each request posts that many to POST /v1/batches.") var batch = 1

    func run() async throws {
        try WrkReport.requireWrk("bench consortium")
        try checkBatchSize(batch)
        let (verifyRateBefore, cores) = MachineLimits.printVerifyLimit()
        let probe = MachineLimits.temporaryDirectory("consortium-fsync")
        let fsyncs = try MachineLimits.rocksSyncedBatchesPerSecond(directory: probe, puts: 1, valueBytes: 64)
        try? FileManager.default.removeItem(atPath: probe)
        print("limit: synced RocksDB batches (one fsync each) \(rate(fsyncs))/s")
        let base = Int.random(in: 20_000...40_000)

        let single = MachineLimits.temporaryDirectory("consortium-single")
        defer { try? FileManager.default.removeItem(atPath: single) }
        let one = try NodeDirectory.initialise(at: single, origin: "bench.example/cinnabar", validator: "bench", listen: "127.0.0.1:\(base)")
        let oneResult: Double? = onlyConsortium ? nil : try await drive([one], label: "1 validator")

        let dir = MachineLimits.temporaryDirectory("consortium")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let nodes = try NodeDirectory.initialiseConsortium(at: dir, count: validators, origin: "bench.example/cinnabar", host: "127.0.0.1",
                                                           apiPort: base + 1, peerPort: base + 1001)
        let many = try await drive(nodes, label: "\(validators) validators")
        if let oneResult {
            print(String(format: "%d validators = %.0f%% of one validator's rate", validators, 100 * many / oneResult))
        }
        let verifyRate = MachineLimits.printVerifyLimitAfterRun(before: verifyRateBefore)
        print(String(format: "each record is verified by every validator: %.0f%% of the raw verify rate on %d cores (goal: ≥ 5,000 records/s, p99 < 1 s)",
                     100 * many * Double(validators) / (verifyRate * Double(cores)), cores))
    }

    /// Starts a node process per directory, posts to the first for `seconds`, prints and returns
    /// committed records/s (counted in the ledger, not by wrk).
    private func drive(_ nodes: [NodeDirectory], label: String) async throws -> Double {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        var processes: [Process] = []
        defer {
            for p in processes where p.isRunning { p.terminate() }
            for p in processes { p.waitUntilExit() }
        }
        for node in nodes {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["node", "--dir", node.path]
            p.standardOutput = FileHandle.nullDevice
            // CINNABAR_BENCH_LOG_DIR=DIR keeps each node's log (with CINNABAR_TRACE_CONSENSUS=1, its engine trace).
            if let logs = ProcessInfo.processInfo.environment["CINNABAR_BENCH_LOG_DIR"] {
                let path = "\(logs)/\(label.replacingOccurrences(of: " ", with: "-"))-\(processes.count).log"
                try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                    throw CLIError("cannot write the node log \(path)")
                }
                p.standardError = file
            } else {
                p.standardError = FileHandle.nullDevice
            }
            try p.run()
            processes.append(p)
        }
        let url = "http://\(try nodes[0].loadConfig().listen)"
        try await waitForLog(url)

        // Distinct records for the fastest ledger this machine has run (in-process ingest up to
        // 21 k/s): a record posted twice is answered from the duplicate index without growing the
        // log, and the count check after the run refuses such a run (it did, at 12 k per second).
        let pool = 24_000 * seconds
        let records = try await BenchIngest.signedEvidence(count: pool, directory: nodes[0], salt: label)
        let work = MachineLimits.temporaryDirectory("consortium-wrk")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let before = try logState(url)
        let cpuBefore = CPUAccount(processes: processes)
        let report = try await WrkReport.post(records, to: url + WrkReport.writeRoute(batch: batch), connections: connections,
                                        seconds: seconds, workDirectory: work, batch: batch)
        let cpuAfter = CPUAccount(processes: processes)
        try await Task.sleep(for: .milliseconds(300))
        let after = try logState(url)
        let committed = Double(after.size - before.size - (after.height - before.height))
        try report.checkBatches(batch, committed: committed)
        let perSecond = committed / Double(seconds)
        print(String(format: "%@: %@ records/s committed with receipts (%.0f records in %llu blocks), receipt latency p50 %@, p99 %@",
                     label, rate(perSecond), committed, after.height - before.height, report.field("50%"), report.field("99%"))
              + (batch > 1 ? " per batch of \(batch) (POST \(WrkReport.writeRoute(batch: batch)))" : ""))
        print("  " + cpuAfter.since(cpuBefore, records: committed))
        return perSecond
    }

    private func logState(_ url: String) throws -> (size: UInt64, height: UInt64) {
        let object = try NodeClient.json(try NodeClient.send("GET", url + "/v1/log"))
        guard let size = object["size"] as? Int, let height = object["height"] as? Int else { throw CLIError("GET /v1/log: no size") }
        return (UInt64(size), UInt64(height))
    }

    /// Waits until the node answers with a published checkpoint.
    private func waitForLog(_ url: String) async throws {
        for _ in 0..<300 {
            if let state = try? logState(url), state.height >= 1 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("the node at \(url) did not start")
    }
}

/// CPU time of the node processes (from `/proc/PID/stat`) and of the whole machine (`/proc/stat`),
/// so a run can say what a committed record cost and whether the machine was saturated.
struct CPUAccount {
    /// Seconds of CPU (user + system) per node process.
    let nodes: [Double]
    /// Seconds of busy and idle CPU time summed over all cores.
    let machineBusy: Double, machineIdle: Double

    init(processes: [Process]) {
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        nodes = processes.map { p in
            guard let stat = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return 0 }
            // Fields after the command name: state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
            return (user + system) / tick
        }
        let line = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first ?? ""
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        // user nice system idle iowait irq softirq steal
        let idle = ticks.count > 4 ? ticks[3] + ticks[4] : 0
        machineIdle = idle / tick
        machineBusy = (ticks.prefix(8).reduce(0, +) - idle) / tick
    }

    /// One line: CPU per committed record in the nodes, in everything (wrk too), and the idle share.
    func since(_ start: CPUAccount, records: Double) -> String {
        let perNode = zip(nodes, start.nodes).map { $0 - $1 }
        let nodeSeconds = perNode.reduce(0, +)
        let busy = machineBusy - start.machineBusy, idle = machineIdle - start.machineIdle
        let perRecord = { (seconds: Double) in records > 0 ? String(format: "%.0f µs", 1e6 * seconds / records) : "—" }
        return "CPU per committed record: nodes \(perRecord(nodeSeconds)) ("
            + perNode.map { String(format: "%.1f s", $0) }.joined(separator: ", ")
            + "), whole machine \(perRecord(busy)); machine idle "
            + String(format: "%.0f%%", busy + idle > 0 ? 100 * idle / (busy + idle) : 0)
    }
}
