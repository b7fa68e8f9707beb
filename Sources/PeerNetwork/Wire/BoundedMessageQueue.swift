// The per-peer send queue: bounded in bytes, and when full it forgets the oldest messages, since
// consensus re-sends what matters on its timers (consensus.md §2.7). Pure code; the link locks it.

/// A FIFO of messages whose charged size never exceeds `maxBytes`.
struct BoundedMessageQueue {
    /// What each message costs beyond its bytes, so that empty messages are bounded too.
    static let perMessageOverheadBytes = 64

    /// The bound on `bytes`.
    let maxBytes: Int
    /// The charged size of the queued messages: their bytes plus the per-message overhead.
    private(set) var bytes = 0
    private var messages: [[UInt8]] = []
    private var head = 0  // messages[..<head] are taken

    init(maxBytes: Int) {
        precondition(maxBytes > 0, "a queue holds something")
        self.maxBytes = maxBytes
    }

    /// The number of queued messages.
    var count: Int { messages.count - head }
    var isEmpty: Bool { count == 0 }

    static func cost(of message: [UInt8]) -> Int { message.count + perMessageOverheadBytes }

    /// Appends `message`, first dropping the oldest messages until it fits. Returns how many
    /// messages were dropped; a message that alone exceeds the bound is itself dropped (1).
    mutating func append(_ message: [UInt8]) -> Int {
        let cost = Self.cost(of: message)
        guard cost <= maxBytes else { return 1 }
        var dropped = 0
        while bytes + cost > maxBytes, popFirst() != nil { dropped += 1 }
        messages.append(message)
        bytes += cost
        return dropped
    }

    /// Takes the oldest message.
    mutating func popFirst() -> [UInt8]? {
        guard head < messages.count else { return nil }
        let message = messages[head]
        messages[head] = []
        head += 1
        bytes -= Self.cost(of: message)
        if head * 2 >= messages.count {  // compact once half the array is taken: amortised O(1)
            messages.removeFirst(head)
            head = 0
        }
        return message
    }

    /// Puts back in front a message whose sending failed, if it fits; otherwise it is the oldest
    /// and is dropped. Returns the number dropped (0 or 1).
    mutating func pushFront(_ message: [UInt8]) -> Int {
        let cost = Self.cost(of: message)
        guard bytes + cost <= maxBytes else { return 1 }
        if head > 0 {
            head -= 1
            messages[head] = message
        } else {
            messages.insert(message, at: 0)
        }
        bytes += cost
        return 0
    }
}
