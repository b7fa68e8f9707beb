// swift-tools-version:6.0
// Cinnabar: a consortium ledger for public legal services.
// The folder layout follows DESIGN.md §1: pure cores (MerkleLog, SignedNote, Ledger), then
// Storage (RocksDB), then the Node (sequencer), then the edges (API, the `cinnabar` CLI).
import PackageDescription

let package = Package(
    name: "Cinnabar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cinnabar", targets: ["cinnabar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: librocksdb-dev, libsodium-dev, libssl-dev).
        .systemLibrary(name: "CRocksDB", pkgConfig: "rocksdb", providers: [.apt(["librocksdb-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // C where Swift cannot reach: a per-thread reusable OpenSSL digest context, and Ed25519
        // verification with a table per key (128-bit products). Optimised in debug builds too, so
        // that tests verify at the speed the node does.
        .target(name: "CCinnabar", dependencies: ["COpenSSL", "CSodium"], cSettings: [.unsafeFlags(["-O2"])]),
        // A few lines of C++ for what RocksDB 7.8's C API lacks: an atomic flush of several column families.
        .target(name: "CRocksExtras", dependencies: ["CRocksDB"]),

        // Hashing, signatures and randomness from the system libraries.
        .target(name: "CinnabarCrypto", dependencies: ["CCinnabar", "CSodium"]),
        // Pure cores: no I/O, no clock.
        .target(name: "MerkleLog", dependencies: ["CinnabarCrypto"]),
        .target(name: "SignedNote", dependencies: ["CinnabarCrypto", "MerkleLog"]),
        .target(name: "Ledger", dependencies: ["CinnabarCrypto", "MerkleLog", "SignedNote"]),
        // The legal data model: canonical JSON, signed records, permissions, status, codes.
        .target(name: "Records", dependencies: ["CinnabarCrypto", "CQRencode"]),
        // Tendermint (consensus.md): the pure core, its WAL and signer guard over a DurableStore.
        .target(name: "Consensus", dependencies: ["CinnabarCrypto", "MerkleLog", "SignedNote", "Ledger"]),
        // Consensus persistence on real files (fsync'd WAL and signer log).
        .target(name: "ConsensusStorage", dependencies: ["Consensus", "CCinnabar"]),
        // The deterministic simulator of consensus.md §3.2: one thread, seeded PRNG, virtual clock.
        .target(name: "ConsensusSim", dependencies: ["Consensus", "CinnabarCrypto", "MerkleLog", "SignedNote", "Ledger"]),
        // Validator-to-validator links: Noise_IK_25519_ChaChaPoly_SHA256 over TCP (Specs/peer-protocol.md).
        .target(name: "PeerNetwork", dependencies: ["CinnabarCrypto", "CSodium"]),
        // Storage: one RocksDB per node.
        .target(name: "Storage", dependencies: ["CRocksDB", "CRocksExtras", "CinnabarCrypto", "MerkleLog", "SignedNote", "Ledger"]),
        // The node: sequencing submissions into durable, signed blocks.
        .target(name: "Node", dependencies: ["Storage", "Ledger", "Records", "SignedNote", "MerkleLog", "CinnabarCrypto", "Consensus", "ConsensusStorage", "PeerNetwork"]),
        // HTTP edge.
        .target(name: "API", dependencies: [
            "Node", "Storage", "Ledger", "Records", "SignedNote", "MerkleLog",
            .product(name: "Hummingbird", package: "hummingbird"),
        ], resources: [.copy("Web")]),  // the verification page, copied beside the binary (WebRoutes.swift)
        .executableTarget(name: "cinnabar", dependencies: [
            "API", "Node", "Storage", "Ledger", "Records", "SignedNote", "MerkleLog", "CinnabarCrypto", "CCinnabar",
            "Consensus", "ConsensusSim", "ConsensusStorage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "CinnabarCryptoTests", dependencies: ["CinnabarCrypto", "CCinnabar", "CSodium"]),
        .testTarget(name: "MerkleLogTests", dependencies: ["MerkleLog", "CinnabarCrypto"]),
        .testTarget(name: "SignedNoteTests", dependencies: ["SignedNote", "MerkleLog", "CinnabarCrypto"]),
        .testTarget(name: "RecordsTests", dependencies: ["Records", "CinnabarCrypto"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "SignedNote", "MerkleLog", "CinnabarCrypto"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Ledger", "SignedNote", "MerkleLog", "CinnabarCrypto"]),
        .testTarget(name: "ConsensusTests", dependencies: [
            "Consensus", "ConsensusStorage", "ConsensusSim", "Ledger", "SignedNote", "MerkleLog", "CinnabarCrypto",
        ]),
        .testTarget(name: "PeerNetworkTests", dependencies: ["PeerNetwork", "CinnabarCrypto"], exclude: ["Vectors"]),
        .testTarget(name: "NodeTests", dependencies: ["Consensus", "ConsensusStorage", "Node", "PeerNetwork", "Storage", "Ledger", "Records", "SignedNote", "MerkleLog", "CinnabarCrypto"]),
        .testTarget(name: "EndToEndTests", dependencies: ["API", "Node", "Records", "Storage", "Ledger", "SignedNote", "MerkleLog", "CinnabarCrypto", "Consensus", "ConsensusStorage"]),
    ],
    cxxLanguageStandard: .cxx17
)
