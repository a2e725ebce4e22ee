import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import RoomAuth
import RoomProtocol
import RoomRTP
import RTP

/// WHIP (RFC 9725) and WHEP on the web listener: each session is a `LocalMember` of its room that logs in
/// (user id from the bearer token, or `whip-…`/`whep-…` in an app without credentials) and publishes or plays
/// with the browser's SDP offer; the server's answer goes back as the HTTP answer. Media then flows between
/// the browser and the UDP media port like any rtcbox client's; the member only holds the room session, and
/// ends with it (DELETE, a kick, or the media path failing: the server closes the member's connection then).
final class WebRTCGateway: Sendable {
    /// An answer to one HTTP request.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var type: String? = "text/plain; charset=utf-8"
        var body: [UInt8] = []
        var headers: [(String, String)] = []

        static func text(_ status: HTTPResponseStatus, _ line: String) -> Response {
            Response(status: status, body: Array((line + "\n").utf8))
        }

        static func refused(_ code: RoomErrorCode, _ message: String) -> Response {
            var response = Response.text(code.httpStatus, "\(code.name): \(message)")
            if code.httpStatus == .unauthorized { response.headers.append(("WWW-Authenticate", "Bearer")) }
            return response
        }
    }

    /// The largest offer taken: browsers' are 3-8 KB.
    static let maximumOfferBytes = 64 << 10

    private struct Session {
        let member: LocalMember
        let bearer: String?
        let route: WebRTCRoute
    }

    private let configuration: ServerConfiguration
    private let hasUDP: @Sendable () -> Bool
    /// Whether WHIP/WHEP sessions can be made now (the UDP media port is open): what the room page's
    /// `/server.json` says, so that it picks its WebRTC mode only where it works.
    var takesSessions: Bool { hasUDP() }
    private let connect: @Sendable () async throws -> LocalMember
    private let sessions = NIOLockedValueBox<[String: Session]>([:])
    private let logger: Logger

    init(configuration: ServerConfiguration, logger: Logger, hasUDP: @escaping @Sendable () -> Bool,
         connect: @escaping @Sendable () async throws -> LocalMember) {
        self.configuration = configuration
        self.logger = logger
        self.hasUDP = hasUDP
        self.connect = connect
    }

    var sessionCount: Int { sessions.withLockedValue { $0.count } }

    /// Answers a WHIP/WHEP request whose route parsed; `body` is the whole request body.
    func handle(method: HTTPMethod, route: WebRTCRoute, headers: HTTPHeaders, body: ByteBuffer) async -> Response {
        let bearer = Self.bearer(headers)
        switch (method, route) {
        case (.POST, .endpoint(let kind, let room, let stream)):
            let type = headers["Content-Type"].first?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard type == "application/sdp" else {
                return .text(.unsupportedMediaType, "bad_request: a \(kind.rawValue.uppercased()) offer is Content-Type: application/sdp")
            }
            return await create(kind, room: room, stream: stream, offer: String(buffer: body), bearer: bearer)
        case (.DELETE, .session(_, _, _, let id)):
            return await delete(id, bearer: bearer)
        case (.PATCH, .session(_, _, _, let id)):
            guard sessions.withLockedValue({ $0[id] }) != nil else { return .text(.notFound, "no such session: \(id)") }
            // Every candidate of the server is in its answer, and ICE-lite learns the client's from its checks.
            var response = Response.text(.methodNotAllowed, "trickle ICE and ICE restarts are not supported: end the session and start another")
            response.headers.append(("Allow", "DELETE, OPTIONS"))
            return response
        case (_, .endpoint):
            var response = Response.text(.methodNotAllowed, "a \(route.kind.rawValue.uppercased()) endpoint takes POST (an SDP offer) and OPTIONS")
            response.headers.append(("Allow", "POST, OPTIONS"))
            return response
        case (_, .session):
            var response = Response.text(.methodNotAllowed, "a session takes DELETE (and OPTIONS)")
            response.headers.append(("Allow", "DELETE, PATCH, OPTIONS"))
            return response
        }
    }

    static func bearer(_ headers: HTTPHeaders) -> String? {
        guard let value = headers["Authorization"].first else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Which app and user a bearer token speaks for: the app whose server secret opens it. Without a token, the
    /// first app that takes logins without credentials, with a fresh user id.
    func identity(bearer: String?, kind: WebRTCRoute.Kind) -> Result<(appID: UInt32, userID: String), LocalMember.Refusal> {
        guard let bearer else {
            guard let app = configuration.apps.first(where: \.allowsAnonymous) else {
                return .failure(.init(code: .tokenInvalid, message: "this server's apps need a token: send Authorization: Bearer TOKEN"))
            }
            let suffix = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            return .success((app.appID, "\(kind.rawValue)-\(suffix)"))
        }
        var reasons: [String] = []
        for app in configuration.apps {
            guard let secret = app.serverSecret else { continue }
            do {
                let contents = try Token04.open(bearer, secret: secret)
                if contents.appID == app.appID { return .success((app.appID, contents.userID)) }
                reasons.append("it names app \(contents.appID), opened with app \(app.appID)'s secret")
            } catch let error as TokenError where error == .wrongSecret {
                continue
            } catch {
                return .failure(.init(code: .tokenInvalid, message: "the bearer token: \(error)"))
            }
        }
        return .failure(.init(code: .tokenInvalid, message: reasons.first.map { "the bearer token: \($0)" }
            ?? "the bearer token opens with no app's server secret on this server"))
    }

    /// The tracks a publisher's offer sends (H.264 video, Opus audio), or why it has none.
    static func publishedTracks(_ offer: RTPMediaOffer) -> [TrackInfo] {
        var tracks: [TrackInfo] = []
        // One track per kind, in the section's codec (AAC: rtcbox's own publish --whip).
        for section in offer.media where section.sends {
            guard let codec = section.formats.first?.codec, codec.kind == section.kind,
                  !tracks.contains(where: { $0.kind == TrackKind(section.kind) }) else { continue }
            tracks.append(TrackInfo(codec))
        }
        return tracks
    }

    private func create(_ kind: WebRTCRoute.Kind, room: String, stream: String, offer text: String, bearer: String?) async -> Response {
        guard hasUDP() else {
            return .text(.serviceUnavailable, "internal_error: WebRTC needs the server's UDP media port (serve --udp HOST:PORT)")
        }
        let offer: RTPMediaOffer
        do {
            offer = try RTPMediaOffer(parsing: text)
        } catch {
            return .refused(.badRequest, "the SDP offer: \(error)")
        }
        let tracks = Self.publishedTracks(offer)
        if kind == .whip && tracks.isEmpty {
            return .refused(.badRequest, "the offer sends no H.264 video and no Opus or AAC audio")
        }
        let who: (appID: UInt32, userID: String)
        switch identity(bearer: bearer, kind: kind) {
        case .success(let identity): who = identity
        case .failure(let refusal): return .refused(refusal.code, refusal.message)
        }
        let member: LocalMember
        do {
            member = try await connect()
        } catch {
            return .refused(.internalError, "\(error)")
        }
        do {
            let login = try await member.request { id in
                .login(LoginRequest(id: id, appID: who.appID, roomID: room, user: UserInfo(userID: who.userID, userName: who.userID),
                                    userStatus: false, token: bearer))
            }
            // WHEP plays what is live (a room-protocol play of a stream not yet live would wait for it).
            if kind == .whep, !(login.streams ?? []).contains(where: { $0.streamID == stream }) {
                await member.leave()
                return .refused(.streamNotFound, "no stream \"\(stream)\" is live in room \"\(room)\"")
            }
            let result: ResultMessage
            switch kind {
            case .whip:
                result = try await member.request { id in .publish(PublishRequest(id: id, streamID: stream, tracks: tracks, sdp: text)) }
            case .whep:
                result = try await member.request { id in .play(PlayRequest(id: id, streamID: stream, sdp: text)) }
            }
            guard let answer = result.sdp else {
                await member.leave()
                return .refused(.internalError, "the server answered without SDP")
            }
            let id = (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let route = WebRTCRoute.session(kind, room: room, stream: stream, id: id)
            sessions.withLockedValue { $0[id] = Session(member: member, bearer: bearer, route: route) }
            let logger = self.logger
            member.closed.whenComplete { [weak self] result in
                self?.sessions.withLockedValue { _ = $0.removeValue(forKey: id) }
                let reason = (try? result.get())??.reason ?? "closed"
                logger.info("\(kind.rawValue.uppercased()) session ended", metadata: ["room": "\(room)", "stream": "\(stream)", "reason": "\(reason)"])
            }
            logger.info("\(kind.rawValue.uppercased()) session", metadata: ["room": "\(room)", "stream": "\(stream)", "user": "\(who.userID)"])
            let location = "/\(kind.rawValue)/\(Self.pathSegment(room))/\(Self.pathSegment(stream))/\(id)"
            return Response(status: .created, type: "application/sdp", body: Array(answer.utf8),
                            headers: [("Location", location), ("ETag", "\"\(id)\"")])
        } catch let refusal as LocalMember.Refusal {
            await member.leave()
            return .refused(refusal.code, refusal.message)
        } catch {
            await member.leave()
            return .refused(.internalError, "\(error)")
        }
    }

    private func delete(_ id: String, bearer: String?) async -> Response {
        guard let session = sessions.withLockedValue({ $0[id] }) else {
            return .text(.notFound, "no such session: \(id)")
        }
        guard session.bearer == bearer else {
            return .refused(.noPrivilege, "the session was created with another bearer token")
        }
        sessions.withLockedValue { _ = $0.removeValue(forKey: id) }
        await session.member.leave()
        return .text(.ok, "ended")
    }

    /// Ends every session (the server stops).
    func closeAll() async {
        let all = sessions.withLockedValue { s -> [Session] in
            defer { s.removeAll() }
            return Array(s.values)
        }
        for session in all { await session.member.leave() }
    }

    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}
