// Partitions between real validator processes (issue 7 §6, consensus.md §3.5): each node runs in
// its own network namespace on a bridge; a partition is a set of blackhole routes inside the
// namespaces (nothing else on the machine is touched), healed by removing them.
import Foundation
import XCTest

final class PartitionTests: XCTestCase {
    /// 2–2: neither half has a quorum, so nothing is decided and nothing forks; healed, the
    /// writes made during the partition are decided and acknowledged.
    func testATwoTwoPartitionHaltsSafelyAndResumesWhenHealed() throws {
        let lab = try NetworkLab(hosts: 4)
        let c = try Consortium(count: 4, lab: lab)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(8, to: 0)
        try c.waitForSameSize()
        let before = try c.log(0)

        try lab.partition([0, 1], [2, 3])
        // Fewer pending requests than URLSession's connections per host (6), so that the reads
        // below are not queued behind them.
        let pending = c.writeInBackground(4, to: 0)
        Thread.sleep(forTimeInterval: 4)
        for i in c.nodes.indices {
            XCTAssertEqual(try c.log(i).size, before.size, "node \(i) decided a block without a quorum")
        }
        XCTAssertTrue(pending.finished.isEmpty, "a write was acknowledged during a 2–2 partition")

        try lab.heal()
        acked += try pending.wait(timeout: 60)
        acked += try c.write(4, to: 3)
        try c.checkOneLedger(acked: acked)
    }

    /// 1–3: the three keep deciding; the one isolated node makes no progress alone and catches
    /// up once healed.
    func testTheMajorityOfAOneThreePartitionProgressesAndTheOneCatchesUp() throws {
        let lab = try NetworkLab(hosts: 4)
        let c = try Consortium(count: 4, lab: lab)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(6, to: 1)
        try c.waitForSameSize()
        let isolated = try c.log(0)

        try lab.partition([0], [1, 2, 3])
        acked += try c.write(12, to: 2)
        XCTAssertEqual(try c.log(0).size, isolated.size, "the isolated node decided alone")
        XCTAssertGreaterThan(try c.log(1).size, isolated.size)

        try lab.heal()
        try c.waitForSameSize(timeout: 60)
        acked += try c.write(4, to: 0)
        try c.checkOneLedger(acked: acked)
    }
}

/// Hosts on one machine: a bridge with one network namespace per host, joined by veth pairs.
/// Needs CAP_NET_ADMIN (CI and the build machines run tests as root).
final class NetworkLab {
    private let tag: String
    private let subnet: Int
    let hosts: Int

    init(hosts: Int) throws {
        self.hosts = hosts
        subnet = Int.random(in: 1...250)
        tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        do {
            try ip(["link", "add", bridge, "type", "bridge"])
            try ip(["addr", "add", "10.77.\(subnet).254/24", "dev", bridge])
            try ip(["link", "set", bridge, "up"])
            for i in 0..<hosts {
                try ip(["netns", "add", namespace(i)])
                try ip(["link", "add", "cv\(tag)\(i)", "type", "veth", "peer", "name", "cp\(tag)\(i)"])
                try ip(["link", "set", "cv\(tag)\(i)", "netns", namespace(i)])
                try ip(["link", "set", "cp\(tag)\(i)", "master", bridge, "up"])
                try ip(["-n", namespace(i), "addr", "add", "\(address(i))/24", "dev", "cv\(tag)\(i)"])
                try ip(["-n", namespace(i), "link", "set", "cv\(tag)\(i)", "up"])
                try ip(["-n", namespace(i), "link", "set", "lo", "up"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    var bridge: String { "cb\(tag)" }
    func namespace(_ i: Int) -> String { "cn\(tag)\(i)" }
    func address(_ i: Int) -> String { "10.77.\(subnet).\(i + 1)" }

    /// Cuts every link between a host of `a` and a host of `b`, both ways.
    func partition(_ a: [Int], _ b: [Int]) throws {
        for x in a {
            for y in b {
                try ip(["-n", namespace(x), "route", "add", "blackhole", "\(address(y))/32"])
                try ip(["-n", namespace(y), "route", "add", "blackhole", "\(address(x))/32"])
            }
        }
    }

    /// Removes every cut.
    func heal() throws {
        for i in 0..<hosts { try ip(["-n", namespace(i), "route", "flush", "type", "blackhole"]) }
    }

    private func tearDown() {
        for i in 0..<hosts { _ = try? ip(["netns", "del", namespace(i)]) }
        _ = try? ip(["link", "del", bridge])
    }

    private func ip(_ arguments: [String]) throws {
        let (status, output) = try runTool("/usr/sbin/ip", arguments, in: URL(fileURLWithPath: "/"))
        guard status == 0 else { throw ConsortiumFailure("ip \(arguments.joined(separator: " ")): \(output)") }
    }
}

/// Writes sent while a partition lasts: acknowledged only once it heals.
final class PendingWrites: @unchecked Sendable {
    private let lock = NSLock()
    private var acks: [Ack] = []
    private var errors: [String] = []
    private let group = DispatchGroup()

    var finished: [Ack] { lock.lock(); defer { lock.unlock() }; return acks }

    func add(_ work: @escaping @Sendable () throws -> Ack) {
        group.enter()
        Thread.detachNewThread { [self] in
            do {
                let ack = try work()
                lock.lock(); acks.append(ack); lock.unlock()
            } catch {
                lock.lock(); errors.append("\(error)"); lock.unlock()
            }
            group.leave()
        }
    }

    /// Waits for every write; throws if one failed.
    func wait(timeout: TimeInterval) throws -> [Ack] {
        guard group.wait(timeout: .now() + timeout) == .success else { throw ConsortiumFailure("writes still pending after \(timeout) s") }
        lock.lock(); defer { lock.unlock() }
        if let first = errors.first { throw ConsortiumFailure("a write failed after healing: \(first)") }
        return acks
    }
}

extension Consortium {
    /// Starts `n` writes to node `i` without waiting for them.
    func writeInBackground(_ n: Int, to i: Int) -> PendingWrites {
        let pending = PendingWrites()
        for _ in 0..<n { pending.add { [self] in try write(1, to: i)[0] } }
        return pending
    }
}
