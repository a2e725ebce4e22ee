import Foundation
import Media
import RoomClient

/// `--stdin-commands`: one JSON object per line on stdin drives a live session, so scripts can act in a
/// room without logging in again. Each line gets a `command_result` event back:
///
///     {"action":"send_message","message":"hi"}
///     {"action":"set_extra_info","key":"topic","value":"standup"}
///     {"action":"custom_command","to":["bob"],"command":"mute"}
///     {"action":"set_stream_extra_info","stream_id":"cam","extra_info":"front"}
///     {"action":"renew_token","token":"04..."}
///     {"action":"send_sei","data":"question 3"}     (publish only: side info with the next video frame)
///     {"action":"mute_video"}  unmute_video, mute_audio, unmute_audio   (publish only: camera / microphone off
///                              and on; the stream stays published; others get remote_*_state_update)
///     {"action":"logout"}
///
/// The end of stdin logs out, as `logout` does.
enum StdinCommands {
    static let actions = ["send_message", "set_extra_info", "custom_command", "set_stream_extra_info", "renew_token", "send_sei",
                           "mute_video", "unmute_video", "mute_audio", "unmute_audio", "logout"]

    /// Reads stdin on its own thread until EOF or `logout`, then raises `stop` (publish passes nil: the end of
    /// its commands does not end the stream).
    static func start(client: RoomClient, writer: EventWriter?, stop: StopSignal?, sideInfo: SideInfoQueue? = nil,
                      publishing: String? = nil) {
        let lines = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                while let line = readLine(strippingNewline: true) {
                    continuation.yield(line)
                }
                continuation.finish()
            }
        }
        Task {
            for await line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let (result, isLogout) = await perform(line, client: client, sideInfo: sideInfo, publishing: publishing)
                emit(result, writer)
                if isLogout {
                    stop?.raise()
                    break
                }
            }
            if let stop { stop.raise() }
        }
    }

    /// Runs one command line; returns its result object and whether it asked to log out.
    static func perform(_ line: String, client: RoomClient, sideInfo: SideInfoQueue? = nil,
                        publishing: String? = nil) async -> ([String: Any], Bool) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return (failure(nil, nil, "the line is not a JSON object"), false)
        }
        let requestID = object["id"]
        guard let action = object["action"] as? String else {
            return (failure(nil, requestID, "the object has no string \"action\" (one of \(actions.joined(separator: ", ")))"), false)
        }
        func text(_ key: String) throws -> String {
            guard let value = object[key] as? String else { throw CLIError(.usage, "\(action) needs a string \"\(key)\"") }
            return value
        }
        do {
            var result: [String: Any] = ["action": action, "ok": true]
            switch action {
            case "send_message":
                result["message_id"] = try await client.sendBroadcastMessage(try text("message"))
            case "set_extra_info":
                try await client.setRoomExtraInfo(key: try text("key"), value: try text("value"))
            case "custom_command":
                guard let to = object["to"] as? [String] else { throw CLIError(.usage, "custom_command needs a list of user ids \"to\"") }
                try await client.sendCustomCommand(try text("command"), to: to)
            case "set_stream_extra_info":
                try await client.setStreamExtraInfo(streamID: try text("stream_id"), extraInfo: try text("extra_info"))
            case "send_sei":
                guard let sideInfo else { throw CLIError(.usage, "send_sei goes with the video of a publish (rtcbox publish --stdin-commands)") }
                do { try sideInfo.send(Array(try text("data").utf8)) } catch let e as SideInfoError { throw CLIError(.dataError, e.reason) }
            case "mute_video", "unmute_video", "mute_audio", "unmute_audio":
                guard let stream = (object["stream_id"] as? String) ?? publishing else {
                    throw CLIError(.usage, "\(action) mutes a stream this session publishes (rtcbox publish --stdin-commands)")
                }
                try await client.setMuted(streamID: stream, action.hasSuffix("video") ? .video : .audio, action.hasPrefix("mute"))
                result["stream_id"] = stream
            case "renew_token":
                if let expire = try await client.renewToken(try text("token")) { result["token_expire"] = expire }
            case "logout":
                if let requestID { result["id"] = requestID }
                return (result, true)
            default:
                throw CLIError(.usage, "unknown action \"\(action)\" (one of \(actions.joined(separator: ", ")))")
            }
            if let requestID { result["id"] = requestID }
            return (result, false)
        } catch let error as RoomClientError {
            var result = failure(action, requestID, error.reason)
            if let code = error.code {
                result["error"] = code.name
                result["error_code"] = Int(code.rawValue)
            }
            return (result, false)
        } catch {
            return (failure(action, requestID, CLIError(error).message), false)
        }
    }

    private static func failure(_ action: String?, _ id: Any?, _ reason: String) -> [String: Any] {
        var result: [String: Any] = ["ok": false, "reason": reason]
        if let action { result["action"] = action }
        if let id { result["id"] = id }
        return result
    }

    private static func emit(_ result: [String: Any], _ writer: EventWriter?) {
        var object = result
        object["event"] = "command_result"
        object["ts"] = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        let line = JSONLine.render(object, leading: ["ts", "event"])
        if let writer {
            writer.write(line: line)
        } else {
            printError(line)
        }
    }
}

/// Renders a JSON object on one line with the given keys first and the rest sorted.
enum JSONLine {
    static func render(_ object: [String: Any], leading: [String]) -> String {
        let keys = leading.filter { object[$0] != nil } + object.keys.filter { !leading.contains($0) }.sorted()
        let parts = keys.map { key -> String in
            let data = (try? JSONSerialization.data(withJSONObject: [object[key] as Any], options: [.withoutEscapingSlashes, .sortedKeys])) ?? Data("[null]".utf8)
            return "\"\(key)\":" + String(decoding: data, as: UTF8.self).dropFirst().dropLast()
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
