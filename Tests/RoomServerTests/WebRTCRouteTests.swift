import Logging
import NIOHTTP1
import RoomAuth
import RoomProtocol
@testable import RoomServer
import XCTest

/// WHIP/WHEP paths and the HTTP status of each room error, without sockets.
final class WebRTCRouteTests: XCTestCase {
    func testPathsNameEndpointsAndSessions() {
        XCTAssertEqual(try WebRTCRoute.parse("/whip/r1/cam").get(), .endpoint(.whip, room: "r1", stream: "cam"))
        XCTAssertEqual(try WebRTCRoute.parse("/whep/r1/cam").get(), .endpoint(.whep, room: "r1", stream: "cam"))
        XCTAssertEqual(try WebRTCRoute.parse("/whip/r1/cam/0a1b").get(), .session(.whip, room: "r1", stream: "cam", id: "0a1b"))
        // Percent-decoded, then checked as the room protocol checks ids.
        XCTAssertEqual(try WebRTCRoute.parse("/whip/room%2D1/cam").get(), .endpoint(.whip, room: "room-1", stream: "cam"))
        guard case .failure(.badID(let why)) = WebRTCRoute.parse("/whip/r%20 1/cam") else { return XCTFail("a space is no id") }
        XCTAssertTrue(why.contains("room id"), why)
        for path in ["/whip", "/whip/", "/whip/r1", "/whip/r1/cam/id/more", "/other/r1/cam"] {
            guard case .failure(.notFound) = WebRTCRoute.parse(path) else { return XCTFail("\(path) names nothing") }
        }
        guard case .failure(.badID) = WebRTCRoute.parse("/whip//cam") else { return XCTFail("an empty room") }
        XCTAssertTrue(WebRTCRoute.claims("/whip/r1/cam"))
        XCTAssertTrue(WebRTCRoute.claims("/whep"))
        XCTAssertFalse(WebRTCRoute.claims("/whipped"))
        XCTAssertFalse(WebRTCRoute.claims("/"))
    }

    func testRoomErrorsBecomeTheStatusesWHIPClientsExpect() {
        XCTAssertEqual(RoomErrorCode.tokenInvalid.httpStatus, .unauthorized)
        XCTAssertEqual(RoomErrorCode.tokenExpired.httpStatus, .unauthorized)
        XCTAssertEqual(RoomErrorCode.noPrivilege.httpStatus, .forbidden)
        XCTAssertEqual(RoomErrorCode.streamNotFound.httpStatus, .notFound)
        XCTAssertEqual(RoomErrorCode.duplicateStream.httpStatus, .conflict)
        XCTAssertEqual(RoomErrorCode.badRequest.httpStatus, .badRequest)
        XCTAssertEqual(RoomErrorCode.rateLimited.httpStatus, .tooManyRequests)
        let refused = WebRTCGateway.Response.refused(.tokenExpired, "the token expired")
        XCTAssertEqual(String(decoding: refused.body, as: UTF8.self), "token_expired: the token expired\n")
        XCTAssertTrue(refused.headers.contains { $0 == ("WWW-Authenticate", "Bearer") })
    }

    func testBearerTokensNameTheirAppAndUser() throws {
        var configuration = ServerConfiguration()
        let secret = "0123456789abcdef0123456789abcdef"
        configuration.apps = [AppConfiguration(appID: 3, serverSecret: "fedcba9876543210fedcba9876543210"),
                              AppConfiguration(appID: 7, serverSecret: secret)]
        let gateway = WebRTCGateway(configuration: configuration, logger: .init(label: "test"), hasUDP: { true },
                                    connect: { throw LocalMember.Refusal(code: .internalError, message: "no server") })
        let token = try Token04.generate(appID: 7, userID: "obs", secret: secret, seconds: 60)
        let who = try gateway.identity(bearer: token, kind: .whip).get()
        XCTAssertEqual(who.appID, 7)
        XCTAssertEqual(who.userID, "obs")
        // Sealed for app 7 with app 3's secret: it opens, but names another app.
        let crossed = try Token04.generate(appID: 7, userID: "obs", secret: "fedcba9876543210fedcba9876543210", seconds: 60)
        guard case .failure(let refusal) = gateway.identity(bearer: crossed, kind: .whip) else { return XCTFail("a crossed token") }
        XCTAssertEqual(refusal.code, .tokenInvalid)
        XCTAssertTrue(refusal.message.contains("names app 7"), refusal.message)
        guard case .failure(let anonymous) = gateway.identity(bearer: nil, kind: .whip) else { return XCTFail("no anonymous app") }
        XCTAssertEqual(anonymous.code, .tokenInvalid)
        // The dev app: anyone, with a fresh whip-/whep- user id.
        let dev = WebRTCGateway(configuration: ServerConfiguration(), logger: .init(label: "test"), hasUDP: { true },
                                connect: { throw LocalMember.Refusal(code: .internalError, message: "no server") })
        let guest = try dev.identity(bearer: nil, kind: .whep).get()
        XCTAssertEqual(guest.appID, 1)
        XCTAssertTrue(guest.userID.hasPrefix("whep-") && guest.userID.count == 13, guest.userID)
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer  abc ")
        XCTAssertEqual(WebRTCGateway.bearer(headers), "abc")
        headers.replaceOrAdd(name: "Authorization", value: "Basic abc")
        XCTAssertNil(WebRTCGateway.bearer(headers))
    }
}
