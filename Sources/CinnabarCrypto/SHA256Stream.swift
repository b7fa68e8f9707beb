// SHA-256 of a stream that arrives in pieces (an uploaded file): libsodium's incremental API.
import CSodium

extension SHA256 {
    /// Hashes data given in any number of pieces; `finish()` once.
    public struct Stream {
        private var state = crypto_hash_sha256_state()

        public init() { crypto_hash_sha256_init(&state) }

        /// Adds the next piece.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
        }

        /// The digest of everything added.
        public mutating func finish() -> Hash {
            var out = [UInt8](repeating: 0, count: Hash.byteCount)
            crypto_hash_sha256_final(&state, &out)
            return Hash(bytes: out)!
        }
    }
}
