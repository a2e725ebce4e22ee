import FFmpegKit
import Foundation
import Media
import RoomClient
import RoomProtocol

/// Exit statuses (sysexits), the contract scripts branch on. Documented in README and man pages.
enum ExitStatus: Int32 {
    case ok = 0
    case failure = 1
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case tempFailure = 75
    case refused = 77
    case config = 78
    case interrupted = 130
}

/// A failure the CLI reports as one line, with its exit status.
struct CLIError: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String

    var description: String { message }

    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Maps any error from the libraries to a line and a status.
    init(_ error: Error) {
        switch error {
        case let e as CLIError:
            self = e
        case let e as RoomClientError:
            self.init(Self.status(for: e), e.description)
        case let e as WindowUnavailable:
            self.init(.unavailable, e.description)
        case let e as FFmpegError:
            let status: ExitStatus
            if e.isNotFound { status = .noInput }
            else if e.isInvalidData { status = .dataError }
            else if e.isUnreachable { status = .unavailable }
            else { status = .failure }
            self.init(status, e.description)
        default:
            self.init(.failure, "\(error)")
        }
    }

    static func status(for error: RoomClientError) -> ExitStatus {
        switch error {
        case .unreachable, .connectionLost, .timedOut: return .unavailable
        case .protocolViolation: return .failure
        case .reconnectFailed: return .tempFailure
        case .invalidCredentials: return .usage
        case .refused, .sessionEnded:
            switch error.code {
            case .serverShutdown: return .unavailable
            case .badRequest, .invalidID, .unsupportedVersion, .frameTooLarge: return .usage
            case .internalError: return .tempFailure
            case .slowConsumer: return .tempFailure
            default: return .refused
            }
        }
    }
}

/// Writes `rtcbox CMD: line` to stderr: a warning that does not stop the command.
func printWarning(_ line: String) {
    printError("\(Multicall.commandName(for: Multicall.arguments(argv: CommandLine.arguments))): \(line)")
}

/// Writes one line to stderr, unbuffered.
func printError(_ line: String) {
    try? FileHandle.standardError.write(contentsOf: Data((line + "\n").utf8))
}
