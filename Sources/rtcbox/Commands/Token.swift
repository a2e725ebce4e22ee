import ArgumentParser
import Foundation
import RoomAuth
import RoomProtocol

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a login token (token04) for an app, or open one.",
        discussion: """
        Tokens are in the token04 format of the commercial SDK's server assistant (AES-256-GCM with the \
        app's 32-character server secret), so tokens made by its generators log in to rtcbox and the other \
        way round. Without --room, --privilege or --streams the token is a basic one: any room, every \
        privilege, any stream id. With any of them the token names its room (empty: any), its privileges \
        (the ones listed are allowed, the others denied) and the stream ids it may publish. \
        --decode opens a token with the secret and prints what it allows.
        """)

    @Option(name: .long, help: ArgumentHelp("Application id (env RTCBOX_APP_ID).", valueName: "id"))
    var appID: UInt32?

    @Option(name: .long, help: ArgumentHelp("The app's server secret, 32 characters (env RTCBOX_SERVER_SECRET).", valueName: "secret"))
    var secret: String?

    @Option(name: .long, help: ArgumentHelp("The user id the token is for.", valueName: "id"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("The only room the token may log into.", valueName: "id"))
    var room: String?

    @Option(name: .long, help: ArgumentHelp("Allowed privileges, comma-separated: login, publish (the others are denied).", valueName: "list"))
    var privilege: String?

    @Option(name: .long, help: ArgumentHelp("Stream ids the token may publish, comma-separated.", valueName: "list"))
    var streams: String?

    @Option(name: .long, help: ArgumentHelp("Lifetime (e.g. 3600, 90m, 24h).", valueName: "duration"))
    var expire = DurationValue(seconds: 3600)

    @Option(name: .long, help: ArgumentHelp("Open this token with --secret and print its contents instead.", valueName: "token"))
    var decode: String?

    @Flag(name: .long, help: "Print a JSON object instead of the bare token.")
    var json = false

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    func validate() throws {
        guard let secret = secretText else { throw ValidationError("missing --secret (or RTCBOX_SERVER_SECRET)") }
        if secret.utf8.count != 32 { throw ValidationError("the server secret must be 32 characters, not \(secret.utf8.count)") }
        if decode != nil { return }
        guard appIDValue != nil else { throw ValidationError("missing --app-id (or RTCBOX_APP_ID)") }
        guard let user else { throw ValidationError("missing --user") }
        if let problem = Identifier.problem(with: user, kind: .user) { throw ValidationError(problem) }
        if let room, !room.isEmpty, let problem = Identifier.problem(with: room, kind: .room) { throw ValidationError(problem) }
        _ = try privileges()
        for id in streamList ?? [] {
            if let problem = Identifier.problem(with: id, kind: .stream) { throw ValidationError("--streams: \(problem)") }
        }
        if expire.seconds < 1 || expire.seconds > 10 * 365 * 86400 { throw ValidationError("--expire must be between 1 s and 10 years") }
    }

    var secretText: String? { secret ?? environment["RTCBOX_SERVER_SECRET"] }
    var appIDValue: UInt32? { appID ?? environment["RTCBOX_APP_ID"].flatMap { UInt32($0) } }
    var streamList: [String]? {
        streams.map { $0.split(separator: ",", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    func privileges() throws -> (login: Bool, publish: Bool)? {
        guard let privilege else { return nil }
        var result = (login: false, publish: false)
        for name in privilege.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch name {
            case "login", "1": result.login = true
            case "publish", "2": result.publish = true
            default: throw ValidationError("--privilege \"\(name)\" is not login or publish")
            }
        }
        return result
    }

    func run() throws {
        guard let secret = secretText else { throw CLIError(.usage, "missing --secret") }
        if let decode { return try printContents(decode, secret: secret) }
        guard let appID = appIDValue, let user else { throw CLIError(.usage, "missing --app-id or --user") }
        var payload = TokenPayload.basic
        if room != nil || privilege != nil || streams != nil {
            let p = try privileges()
            payload = TokenPayload(roomID: room.flatMap { $0.isEmpty ? nil : $0 }, canLogin: p?.login ?? true,
                                   canPublish: p?.publish ?? true, streamIDs: streamList)
        }
        let token: String
        do {
            token = try Token04.generate(appID: appID, userID: user, secret: secret, seconds: Int64(expire.seconds.rounded()), payload: payload)
        } catch {
            throw CLIError(.usage, "\(error)")
        }
        if json {
            let contents = try Token04.open(token, secret: secret)
            print(Self.render(contents, token: token))
        } else {
            print(token)
        }
    }

    private func printContents(_ token: String, secret: String) throws {
        let contents: Token04.Contents
        do {
            contents = try Token04.open(token, secret: secret)
        } catch {
            throw CLIError(.dataError, "\(error)")
        }
        print(Self.render(contents, token: json ? token : nil))
    }

    static func render(_ c: Token04.Contents, token: String?) -> String {
        var object: [String: Any] = [
            "app_id": c.appID, "user_id": c.userID, "ctime": c.createdAt, "expire": c.expiresAt, "payload": c.payloadText,
            "room_id": c.payload.roomID ?? "", "login": c.payload.canLogin, "publish": c.payload.canPublish,
            "stream_ids": c.payload.streamIDs.map { $0 as Any } ?? NSNull(),
        ]
        if let token { object["token"] = token }
        return JSONLine.render(object, leading: ["token", "app_id", "user_id"])
    }
}
