import CDTLS

/// A failed OpenSSL call, with the text of every entry OpenSSL had queued for it (`ERR_error_string_n`),
/// oldest first. The RTP module never lets an OpenSSL failure pass as a bare status code.
public struct OpenSSLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The OpenSSL function (or step) that failed, e.g. `SSL_do_handshake`.
    public var operation: String
    /// OpenSSL's error queue at the time, one line each (`error:0A000086:SSL routines::certificate verify failed`).
    public var messages: [String]

    public init(operation: String, messages: [String]) {
        self.operation = operation
        self.messages = messages
    }

    public var description: String {
        messages.isEmpty ? "\(operation) failed" : "\(operation) failed: \(messages.joined(separator: "; "))"
    }

    /// Empties this thread's OpenSSL error queue into an error for `operation`. OpenSSL's queue is per
    /// thread, so this must run on the thread of the failed call, before any other OpenSSL call.
    static func drain(_ operation: String) -> OpenSSLError {
        OpenSSLError(operation: operation, messages: drainQueue())
    }

    /// The queued messages (at most 16: a hostile peer cannot grow the list), the queue left empty.
    static func drainQueue() -> [String] {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if messages.count < 16 {
                ERR_error_string_n(code, &buffer, buffer.count)
                messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return messages
    }

    /// Forgets stale entries so that the next failure is reported with its own messages only.
    static func clearQueue() {
        ERR_clear_error()
    }
}
