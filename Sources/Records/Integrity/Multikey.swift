// Multibase and Multikey: how Data Integrity writes keys and signatures as text. A multibase
// value is a one-character base prefix ('z' = base58btc) then the encoding; a Multikey is a
// multicodec prefix then the raw key (W3C Controlled Identifiers v1.0, "Multibase", "Multikey").
import CinnabarCrypto

/// Multibase values in base58btc, the only base Data Integrity's EdDSA suites use.
public enum Multibase {
    /// The multibase prefix of base58btc.
    public static let base58BTCPrefix: Character = "z"

    /// 'z' followed by the base58btc encoding of `bytes`.
    public static func base58BTC(_ bytes: some Collection<UInt8>) -> String {
        "z" + Base58.encode(bytes)
    }

    /// The bytes of a 'z'-prefixed base58btc multibase value; nil for any other prefix or text.
    public static func decodeBase58BTC(_ text: some StringProtocol) -> [UInt8]? {
        guard text.first == base58BTCPrefix else { return nil }
        return Base58.decode(text.dropFirst())
    }
}

/// Ed25519 keys as Multikey multibase strings (vc-di-eddsa v1.0 §2.1.1): 'z' + base58btc of the
/// multicodec prefix and the 32 key bytes. Public keys read `z6Mk…`.
public enum Multikey {
    /// The multicodec varint of `ed25519-pub` (0xed): 0xed 0x01.
    public static let ed25519PublicKeyPrefix: [UInt8] = [0xED, 0x01]
    /// The multicodec varint of `ed25519-priv` (0x1300): 0x80 0x26, followed by the 32-byte seed.
    public static let ed25519PrivateKeyPrefix: [UInt8] = [0x80, 0x26]

    /// The Multikey multibase text of an Ed25519 public key.
    public static func encode(publicKey: Ed25519PublicKey) -> String {
        Multibase.base58BTC(ed25519PublicKeyPrefix + publicKey.bytes)
    }

    /// The Ed25519 public key in a Multikey multibase string; nil unless it is 'z', the 0xed01
    /// prefix and exactly 32 bytes.
    public static func ed25519PublicKey(multibase: String) -> Ed25519PublicKey? {
        guard let bytes = decode(multibase, prefix: ed25519PublicKeyPrefix) else { return nil }
        return Ed25519PublicKey(bytes: bytes)
    }

    /// The Multikey multibase text of an Ed25519 private key (its seed). A secret: never log it.
    public static func encode(privateKey: Ed25519PrivateKey) -> String {
        Multibase.base58BTC(ed25519PrivateKeyPrefix + privateKey.seed)
    }

    /// The Ed25519 private key in a Multikey multibase string; nil unless it is 'z', the 0x8026
    /// prefix and exactly 32 bytes of seed.
    public static func ed25519PrivateKey(multibase: String) -> Ed25519PrivateKey? {
        guard let seed = decode(multibase, prefix: ed25519PrivateKeyPrefix) else { return nil }
        return Ed25519PrivateKey(seed: seed)
    }

    private static func decode(_ multibase: String, prefix: [UInt8]) -> [UInt8]? {
        guard let bytes = Multibase.decodeBase58BTC(multibase), bytes.count == prefix.count + 32,
              bytes.starts(with: prefix) else { return nil }
        return Array(bytes[prefix.count...])
    }
}
