// Reading the JSON files in Vectors/ (each names its source inside).
import Foundation

/// Decodes `Vectors/<name>` beside this file, with snake_case keys.
func loadVectorFile<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(T.self, from: Data(contentsOf: url))
}

/// Bytes from lower- or upper-case hex; a malformed fixture is a broken test, so it traps.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex)
    precondition(digits.count % 2 == 0, "odd-length hex")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}
