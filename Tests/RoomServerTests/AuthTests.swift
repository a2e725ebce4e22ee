import Foundation
import RoomAuth
import RoomClient
import RoomProtocol
import RoomServer
import XCTest

/// Credentials on a server with two real apps: tokens, AppSign signatures, privileges, expiry, renewal.
final class AuthTests: XCTestCase {
    static let secretA = "0123456789abcdef0123456789abcdef"
    static let secretB = "fedcba9876543210fedcba9876543210"
    static let signA = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

    func harness(tokenWarning: Double = 30) async throws -> ServerHarness {
        try await ServerHarness { config in
            config.apps = [
                AppConfiguration(appID: 1001, appSign: try? AppSign(hex: Self.signA), serverSecret: Self.secretA, maxUsersPerRoom: 2),
                AppConfiguration(appID: 1002, serverSecret: Self.secretB),
            ]
            config.tokenWarningSeconds = tokenWarning
        }
    }

    func token(_ user: String, app: UInt32 = 1001, secret: String = secretA, seconds: Int64 = 60,
               payload: TokenPayload = .basic) throws -> String {
        try Token04.generate(appID: app, userID: user, secret: secret, seconds: seconds, payload: payload)
    }

    func assertRefused(_ client: RoomClient, room: String = "r1", _ code: RoomErrorCode,
                       file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await client.login(roomID: room, userStatus: false)
            XCTFail("login was accepted", file: file, line: line)
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testTokenLoginsAndEachRefusal() async throws {
        let h = try await harness()
        let alice = h.client("alice", appID: 1001, token: try token("alice"))
        _ = try await alice.login(roomID: "r1", userStatus: false)
        // The same user id in the other app is another user: both stay logged in.
        let aliceB = h.client("alice", appID: 1002, token: try token("alice", app: 1002, secret: Self.secretB))
        _ = try await aliceB.login(roomID: "r1", userStatus: false)
        XCTAssertNil(alice.endReason)

        await assertRefused(h.client("bob", appID: 1001, token: try token("bob", secret: Self.secretB)), .tokenInvalid)
        await assertRefused(h.client("bob", appID: 1001, token: try token("carol")), .tokenInvalid)
        await assertRefused(h.client("bob", appID: 1001, token: try token("bob", app: 1002)), .tokenInvalid)
        await assertRefused(h.client("bob", appID: 1001, token: "04" + "garbage"), .tokenInvalid)
        await assertRefused(h.client("bob", appID: 1001), .tokenInvalid)
        await assertRefused(h.client("bob", appID: 999, token: try token("bob")), .appNotFound)
        let expired = try Token04.generate(appID: 1001, userID: "bob", secret: Self.secretA, seconds: 5,
                                           now: Date().addingTimeInterval(-60))
        await assertRefused(h.client("bob", appID: 1001, token: expired), .tokenExpired)
        await assertRefused(h.client("bob", appID: 1001, token: try token("bob", payload: TokenPayload(roomID: "r2"))), .noPrivilege)
        await assertRefused(h.client("bob", appID: 1001, token: try token("bob", payload: TokenPayload(roomID: nil, canLogin: false))), .noPrivilege)
        // Tokens go to the app that has a server secret; app 1002 has no app sign.
        await assertRefused(h.client("bob", appID: 1002, appSign: Self.signA), .tokenInvalid)
        await alice.logout()
        await aliceB.logout()
        await h.stop()
    }

    func testPublishPrivilegeAndStreamList() async throws {
        let h = try await harness()
        let viewer = h.client("viewer", appID: 1001, token: try token("viewer", payload: TokenPayload(roomID: "r1", canPublish: false)))
        _ = try await viewer.login(roomID: "r1", userStatus: false)
        do {
            _ = try await viewer.publish(streamID: "cam", tracks: [videoTrack])
            XCTFail("publish without the publish privilege was accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .noPrivilege)
        }
        let listed = h.client("listed", appID: 1001, token: try token("listed", payload: TokenPayload(roomID: "r1", streamIDs: ["a", "b"])))
        _ = try await listed.login(roomID: "r1", userStatus: false)
        _ = try await listed.publish(streamID: "a", tracks: [videoTrack])
        do {
            _ = try await listed.publish(streamID: "c", tracks: [videoTrack])
            XCTFail("a stream id outside the list was accepted")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .noPrivilege)
            XCTAssertTrue(error.reason.contains("\"c\""), error.reason)
        }
        await viewer.logout()
        await listed.logout()
        await h.stop()
    }

    func testAppSignProvesItselfWithoutSendingIt() async throws {
        let h = try await harness()
        let good = h.client("signer", appID: 1001, appSign: Self.signA)
        _ = try await good.login(roomID: "r1", userStatus: false)
        let wrong = String(Self.signA.reversed())
        await assertRefused(h.client("other", appID: 1001, appSign: wrong), .tokenInvalid)
        await good.logout()
        await h.stop()
    }

    func testRoomUserLimitAndTakeoverStillWorksWhenFull() async throws {
        let h = try await harness()
        let a = h.client("a", appID: 1001, token: try token("a"))
        let b = h.client("b", appID: 1001, token: try token("b"))
        _ = try await a.login(roomID: "r1", userStatus: false)
        _ = try await b.login(roomID: "r1", userStatus: false)
        await assertRefused(h.client("c", appID: 1001, token: try token("c")), .roomFull)
        // b logging in again takes over its own place; a full room does not stop that.
        let b2 = h.client("b", appID: 1001, token: try token("b"))
        _ = try await b2.login(roomID: "r1", userStatus: false)
        await a.logout()
        await b2.logout()
        await h.stop()
    }

    func testTokenWillExpireRenewAndExpiry() async throws {
        let h = try await harness(tokenWarning: 1)
        // A renewing client: gets token_will_expire about 1 s before expiry, renews, stays logged in.
        let renewing = h.client("renewing", appID: 1001, token: try token("renewing", seconds: 2))
        let renewLog = EventLog(renewing)
        _ = try await renewing.login(roomID: "r1", userStatus: false)
        guard case .tokenWillExpire(let notice)? = await renewLog.wait(3, for: { if case .tokenWillExpire = $0 { return true } else { return false } }) else {
            return XCTFail("no token_will_expire")
        }
        XCTAssertLessThanOrEqual(notice.remainingSeconds, 2)
        // A renewal with a token for someone else is refused; the right one is accepted.
        do {
            try await renewing.renewToken(try token("somebody", seconds: 30))
            XCTFail("a token for another user renewed the session")
        } catch let error as RoomClientError {
            XCTAssertEqual(error.code, .tokenInvalid)
        }
        let expire = try await renewing.renewToken(try token("renewing", seconds: 30))
        XCTAssertNotNil(expire)

        // A client that does not renew is logged out with token_expired, shown as kicked_out.
        let lapsing = h.client("lapsing", appID: 1001, token: try token("lapsing", seconds: 2))
        let lapseLog = EventLog(lapsing)
        _ = try await lapsing.login(roomID: "r1", userStatus: false)
        let kicked = await lapseLog.wait(4) { $0.roomState == .kickedOut }
        XCTAssertEqual(kicked?.roomStateCode, .tokenExpired)
        try await Task.sleep(for: .milliseconds(500))
        XCTAssertNil(renewing.endReason, "the renewed session ended: \(String(describing: renewing.endReason))")
        await renewing.logout()
        await h.stop()
    }
}
