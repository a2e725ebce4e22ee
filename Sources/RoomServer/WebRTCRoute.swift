import Foundation
import NIOHTTP1
import RoomProtocol

/// What a WHIP (RFC 9725) or WHEP request on the web listener names: an endpoint, `POST /whip/ROOM/STREAM`
/// (publish) or `POST /whep/ROOM/STREAM` (play), or a session the endpoint created, the `Location` it answered:
/// `/whip/ROOM/STREAM/ID` (DELETE ends it). Ids are percent-decoded and checked as the room protocol checks them.
enum WebRTCRoute: Equatable {
    enum Kind: String {
        case whip, whep
    }

    case endpoint(Kind, room: String, stream: String)
    case session(Kind, room: String, stream: String, id: String)

    /// Whether a path belongs to WHIP or WHEP at all (what is not is the room page's).
    static func claims(_ path: String) -> Bool {
        path.hasPrefix("/whip/") || path.hasPrefix("/whep/") || path == "/whip" || path == "/whep"
    }

    /// The route of a path (without its query), or a one-line reason it names none.
    static func parse(_ path: String) -> Result<WebRTCRoute, WebRTCRouteError> {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard let first = parts.first, let kind = Kind(rawValue: first) else { return .failure(.notFound(path)) }
        let rest = parts.dropFirst()
        guard rest.count == 2 || rest.count == 3 else {
            return .failure(.notFound("\(path): a \(kind.rawValue.uppercased()) endpoint is /\(kind.rawValue)/ROOM/STREAM"))
        }
        var ids: [String] = []
        for (index, raw) in rest.enumerated() {
            guard let id = raw.removingPercentEncoding, !id.isEmpty else {
                return .failure(.badID("\(path): segment \(index + 2) is empty or badly percent-encoded"))
            }
            if index < 2, let problem = Identifier.problem(with: id, kind: index == 0 ? .room : .stream) {
                return .failure(.badID(problem))
            }
            ids.append(id)
        }
        if ids.count == 2 { return .success(.endpoint(kind, room: ids[0], stream: ids[1])) }
        return .success(.session(kind, room: ids[0], stream: ids[1], id: ids[2]))
    }

    var kind: Kind {
        switch self {
        case .endpoint(let kind, _, _), .session(let kind, _, _, _): return kind
        }
    }
}

enum WebRTCRouteError: Error, Equatable {
    case notFound(String)
    case badID(String)
}

/// The HTTP status a WHIP/WHEP client gets for a room error (the body names the error: `duplicate_stream: ...`).
extension RoomErrorCode {
    var httpStatus: HTTPResponseStatus {
        switch self {
        case .tokenInvalid, .tokenExpired: return .unauthorized
        case .noPrivilege: return .forbidden
        case .streamNotFound, .appNotFound, .userNotFound: return .notFound
        case .duplicateStream, .alreadyLoggedIn, .kickedOut: return .conflict
        case .roomFull, .serverShutdown: return .serviceUnavailable
        case .rateLimited: return .tooManyRequests
        case .badRequest, .invalidID, .valueTooLong, .frameTooLarge, .unsupportedVersion, .notLoggedIn, .notPublishing:
            return .badRequest
        case .internalError, .slowConsumer, .sessionExpired: return .internalServerError
        }
    }
}
