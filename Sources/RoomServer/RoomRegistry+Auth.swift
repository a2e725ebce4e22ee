import Foundation
import NIOCore
import RoomAuth
import RoomProtocol

/// Credentials: who may log in (token, AppSign signature, or an anonymous app), what a token allows,
/// its expiry warning and its renewal.
extension RoomRegistry {
    struct Refusal: Error {
        var code: RoomErrorCode
        var message: String
    }

    /// Checks a login's credentials against its app (called under the lock).
    func authenticate(_ session: ServerSession, _ request: LoginRequest, app: AppConfiguration,
                      now: Date = Date()) -> Result<ServerSession.Grant, Refusal> {
        if let token = request.token, !token.isEmpty {
            guard let secret = app.serverSecret else {
                return .failure(Refusal(code: .tokenInvalid, message: "app \(app.appID) does not accept tokens (it has no server secret)"))
            }
            return verify(token, secret: secret, appID: app.appID, userID: request.user.userID, roomID: request.roomID, now: now)
        }
        if let signature = request.signature, !signature.isEmpty {
            guard let sign = app.appSign else {
                return .failure(Refusal(code: .tokenInvalid, message: "app \(app.appID) does not accept app sign logins"))
            }
            guard sign.verify(signature, nonce: session.helloNonce, appID: app.appID, userID: request.user.userID, roomID: request.roomID) else {
                return .failure(Refusal(code: .tokenInvalid, message: "the app sign signature does not match app \(app.appID)'s app sign"))
            }
            return .success(ServerSession.Grant())
        }
        guard app.allowsAnonymous else {
            return .failure(Refusal(code: .tokenInvalid, message: "app \(app.appID) needs a token or an app sign"))
        }
        return .success(ServerSession.Grant())
    }

    private func verify(_ token: String, secret: String, appID: UInt32, userID: String, roomID: String,
                        now: Date) -> Result<ServerSession.Grant, Refusal> {
        do {
            let contents = try TokenVerifier(secret: secret).verifyLogin(token, appID: appID, userID: userID, roomID: roomID, now: now)
            return .success(ServerSession.Grant(payload: contents.payload, expiresAt: contents.expiresAt))
        } catch let error as TokenError {
            let code: RoomErrorCode
            switch error {
            case .expired: code = .tokenExpired
            case .noPrivilege: code = .noPrivilege
            default: code = .tokenInvalid
            }
            return .failure(Refusal(code: code, message: error.description))
        } catch {
            return .failure(Refusal(code: .tokenInvalid, message: "\(error)"))
        }
    }

    /// renew_token: a new token for the same app, user and room replaces the session's grant.
    func renewToken(_ session: ServerSession, _ request: RenewToken) {
        lock.withLock {
            guard let login = session.login, let app = configuration.app(login.appID) else {
                return session.refuse(request.id, .notLoggedIn, "renew_token needs a login first")
            }
            guard let secret = app.serverSecret else {
                return session.refuse(request.id, .tokenInvalid, "app \(app.appID) does not accept tokens (it has no server secret)")
            }
            switch verify(request.token, secret: secret, appID: login.appID, userID: login.user.userID, roomID: login.roomID, now: Date()) {
            case .failure(let refusal):
                session.refuse(request.id, refusal.code, refusal.message)
            case .success(let grant):
                session.grant = grant
                session.send(.result(ResultMessage(id: request.id, tokenExpire: grant.expiresAt)))
                scheduleTokenTimers(session)
                logger.info("token renewed", metadata: ["user": "\(login.user.userID)", "expire": "\(grant.expiresAt ?? 0)"])
            }
        }
    }

    /// Arms token_will_expire (`tokenWarningSeconds` before) and the expiry itself (called under the lock).
    func scheduleTokenTimers(_ session: ServerSession) {
        cancelTokenTimers(session)
        guard let expiresAt = session.grant.expiresAt else { return }
        let now = Date().timeIntervalSince1970
        let untilExpiry = Double(expiresAt) - now
        let untilWarning = max(0, untilExpiry - configuration.tokenWarningSeconds)
        let loop = session.eventLoop
        let warning = loop.scheduleTask(in: .milliseconds(Int64(untilWarning * 1000))) { [weak self, weak session] in
            guard let self, let session else { return }
            self.warnTokenExpiry(session, expiresAt: expiresAt)
        }
        let expiry = loop.scheduleTask(in: .milliseconds(Int64(max(0, untilExpiry) * 1000))) { [weak self, weak session] in
            guard let self, let session else { return }
            self.expireToken(session, expiresAt: expiresAt)
        }
        session.tokenTimers = [warning, expiry]
    }

    func cancelTokenTimers(_ session: ServerSession) {
        for timer in session.tokenTimers { timer.cancel() }
        session.tokenTimers = []
    }

    private func warnTokenExpiry(_ session: ServerSession, expiresAt: Int64) {
        lock.withLock {
            guard let login = session.login, session.grant.expiresAt == expiresAt else { return }
            let remaining = max(0, Int((Double(expiresAt) - Date().timeIntervalSince1970).rounded()))
            session.send(.tokenWillExpire(TokenWillExpire(roomID: login.roomID, remainingSeconds: remaining)))
        }
    }

    private func expireToken(_ session: ServerSession, expiresAt: Int64) {
        lock.withLock {
            guard let login = session.login, session.grant.expiresAt == expiresAt else { return }
            logger.info("token expired, logging the session out", metadata: ["user": "\(login.user.userID)"])
            leave(session, notifySelf: false)
            session.end(.tokenExpired, reason: "the token of user \"\(login.user.userID)\" expired and was not renewed")
        }
    }
}
