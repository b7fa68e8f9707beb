// "Is this the file?" — the records that list a file's SHA-256, resolved to the document or
// deposit they belong to, with the rendition that matched and whether it is still current
// (a correction replaces a document's renditions; the old ones stay in the log).
import CinnabarCrypto
import Records

/// One record that lists the digest asked about.
public struct FileMatch: Sendable {
    /// The document (DOCUMENT_ISSUED) or deposit (EVIDENCE_DEPOSITED) the file belongs to.
    public let subject: LoggedRecord
    /// The record that lists the digest: the subject itself, or a correction of it.
    public let listedBy: LoggedRecord
    /// The matching rendition of a document (role, format, lang, sha256); nil for evidence.
    public let rendition: JSONValue?
    /// The document's status on the day asked, nil for evidence.
    public let view: DocumentView?
    /// False when a later correction replaced this rendition.
    public let current: Bool
}

extension RecordIndex {
    /// Every document or deposit that lists `sha256`, in log order of the listing record.
    /// With `within`, only matches belonging to that record.
    public func files(sha256: Hash, today: String, within: String? = nil) throws -> [FileMatch] {
        var out: [FileMatch] = []
        let hex = sha256.hex
        for id in try records(withDigest: Array(sha256.bytes)) {
            guard let listedBy = try logged(id) else { continue }
            let subjectID = listedBy.record.type == .documentCorrected ? listedBy.record.target : listedBy.record.recordID
            guard let subjectID, within == nil || within == subjectID, let subject = try logged(subjectID) else { continue }
            if subject.record.type == .evidenceDeposited {
                out.append(FileMatch(subject: subject, listedBy: listedBy, rendition: nil, view: nil, current: true))
                continue
            }
            let view = try documentView(subjectID, today: today)
            let rendition = (listedBy.record.payload["renditions"]?.array ?? []).first { $0["sha256"]?.string == hex }
            let current = view?.renditions.contains { $0["sha256"]?.string == hex } ?? false
            out.append(FileMatch(subject: subject, listedBy: listedBy, rendition: rendition, view: view, current: current))
        }
        return out
    }
}
