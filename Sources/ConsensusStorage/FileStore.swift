// The real-disk `DurableStore`: one directory of files written with POSIX calls, fsync'd on
// `sync`, with the directory fsync'd whenever an entry is created, renamed or removed, so that
// what consensus.md §2.8 calls durable survives power loss on Linux file systems.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCinnabar
import Consensus

/// An I/O failure, with the call and errno.
public struct FileStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let path: String
    public let errno: Int32

    public var code: String { "io_error" }
    public var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
}

/// Files in one directory. Not thread-safe: one replica owns it.
public final class FileStore: DurableStore {
    public let directory: String
    /// Open append descriptors, and whether the file's directory entry is durable yet.
    private var appenders: [String: Int32] = [:]
    private var newEntries: Set<String> = []

    /// Opens (creating if needed) `directory`.
    public init(directory: String) throws {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw FileStoreError(call: "mkdir", path: directory, errno: errno) }
    }

    deinit {
        for fd in appenders.values { close(fd) }
    }

    private func path(_ name: String) -> String {
        precondition(!name.isEmpty && !name.contains("/") && name != "." && name != "..", "bad file name")
        return directory + "/" + name
    }

    public func read(_ name: String) throws -> [UInt8]? {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileStoreError(call: "open", path: path(name), errno: errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileStoreError(call: "read", path: path(name), errno: errno)
            }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    private func appender(_ name: String) throws -> Int32 {
        if let fd = appenders[name] { return fd }
        let existed = access(path(name), F_OK) == 0
        let fd = open(path(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileStoreError(call: "open", path: path(name), errno: errno) }
        appenders[name] = fd
        if !existed { newEntries.insert(name) }
        return fd
    }

    public func append(_ name: String, _ bytes: [UInt8]) throws {
        let fd = try appender(name)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileStoreError(call: "write", path: path(name), errno: errno)
            }
            done += n
        }
        // A large append (a proposed block in the WAL): start writing it back now, so that the
        // fsync that follows, after the value is evaluated, has less left to wait for.
        if bytes.count >= FileStore.earlyWritebackBytes { _ = ccinnabar_start_writeback(fd) }
    }

    /// Appends at least this large start their write-back at once (`sync_file_range`).
    static let earlyWritebackBytes = 64 << 10

    public func sync(_ name: String) throws {
        let fd = try appender(name)
        guard fsync(fd) == 0 else { throw FileStoreError(call: "fsync", path: path(name), errno: errno) }
        if newEntries.remove(name) != nil { try syncDirectory() }
    }

    public func truncate(_ name: String, to count: Int) throws {
        let fd = try appender(name)
        guard ftruncate(fd, off_t(count)) == 0 else { throw FileStoreError(call: "ftruncate", path: path(name), errno: errno) }
        guard fsync(fd) == 0 else { throw FileStoreError(call: "fsync", path: path(name), errno: errno) }
        if newEntries.remove(name) != nil { try syncDirectory() }
    }

    public func replace(_ name: String, with bytes: [UInt8]) throws {
        let temporary = name + ".tmp"
        try remove(temporary)
        try append(temporary, bytes)
        try sync(temporary)
        if let fd = appenders.removeValue(forKey: temporary) { close(fd) }
        if let fd = appenders.removeValue(forKey: name) { close(fd) }
        guard rename(path(temporary), path(name)) == 0 else {
            throw FileStoreError(call: "rename", path: path(name), errno: errno)
        }
        newEntries.remove(name)
        try syncDirectory()
    }

    public func remove(_ name: String) throws {
        guard try unlinkIfPresent(name) else { return }
        try syncDirectory()
    }

    public func discard(_ name: String) throws {
        _ = try unlinkIfPresent(name)
    }

    /// Closes and unlinks the file; false if it did not exist. The directory is not synced.
    private func unlinkIfPresent(_ name: String) throws -> Bool {
        if let fd = appenders.removeValue(forKey: name) { close(fd) }
        newEntries.remove(name)
        guard unlink(path(name)) == 0 else {
            if errno == ENOENT { return false }
            throw FileStoreError(call: "unlink", path: path(name), errno: errno)
        }
        return true
    }

    public func names() throws -> [String] {
        guard let dir = opendir(directory) else { throw FileStoreError(call: "opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." && !name.hasSuffix(".tmp") { out.append(name) }
        }
        return out.sorted()
    }

    /// Fsyncs the directory: every entry created so far is durable after it.
    private func syncDirectory() throws {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileStoreError(call: "open", path: directory, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileStoreError(call: "fsync", path: directory, errno: errno) }
        newEntries.removeAll()
    }
}
