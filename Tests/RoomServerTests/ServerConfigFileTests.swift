import RoomServer
import XCTest

/// The TOML config: every key read, and each kind of mistake named with its file and key.
final class ServerConfigFileTests: XCTestCase {
    func testAFullFile() throws {
        let config = try ServerConfigFile.parse("""
            listen = "0.0.0.0:7701"
            threads = 2
            realtime_priority = 10
            metrics = "127.0.0.1:9700"
            log_level = "info"
            max_frame_length = 1048576
            slow_consumer_timeout = 5
            gop_cache_bytes = 1000000
            token_warning = 10.5

            [[apps]]
            app_id = 1234
            app_sign = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            server_secret = "0123456789abcdef0123456789abcdef"
            max_users_per_room = 50
            max_streams_per_room = 5
            messages_per_second = 2

            [[apps]]
            app_id = 99
            anonymous = true
            """, file: "a.toml")
        XCTAssertEqual(config.listen, "0.0.0.0:7701")
        XCTAssertEqual(config.threads, 2)
        XCTAssertEqual(config.realtimePriority, 10)
        XCTAssertEqual(config.metrics, "127.0.0.1:9700")
        XCTAssertEqual(config.maximumFrameLength, 1_048_576)
        XCTAssertEqual(config.slowConsumerTimeoutSeconds, 5)
        XCTAssertEqual(config.tokenWarningSeconds, 10.5)
        XCTAssertEqual(config.apps?.map(\.appID), [1234, 99])
        XCTAssertEqual(config.apps?.first?.maxUsersPerRoom, 50)
        XCTAssertEqual(config.apps?.first?.messagesPerSecond, 2)
        XCTAssertNotNil(config.apps?.first?.appSign)
        XCTAssertEqual(config.apps?.last?.allowsAnonymous, true)
    }

    func testTheUDPMediaPort() throws {
        let config = try ServerConfigFile.parse("""
            udp = "0.0.0.0:7790"
            udp_advertise = "203.0.113.5"
            """, file: "a.toml")
        XCTAssertEqual(config.udp, "0.0.0.0:7790")
        XCTAssertEqual(config.udpAdvertise, "203.0.113.5")
        XCTAssertNil(try ServerConfigFile.parse("", file: "a.toml").udp, "no key, no UDP port")
        for (text, message) in [("udp = 7790", "a.toml: udp must be a string"),
                                ("udp_advertise = [\"203.0.113.5\"]", "a.toml: udp_advertise must be a string")] {
            XCTAssertThrowsError(try ServerConfigFile.parse(text, file: "a.toml"), text) {
                XCTAssertEqual(($0 as? ConfigError)?.description, message)
            }
        }
    }

    func testRoomScenarios() throws {
        let config = try ServerConfigFile.parse("""
            [[apps]]
            app_id = 1
            anonymous = true
            scenario = "call"
            room_scenarios = { lounge = "chatroom", "town hall" = "broadcast" }
            [[apps]]
            app_id = 2
            anonymous = true
            """, file: "a.toml")
        let apps = try XCTUnwrap(config.apps)
        XCTAssertEqual(apps[0].scenario(forRoom: "lounge"), .chatroom)
        XCTAssertEqual(apps[0].scenario(forRoom: "town hall"), .broadcast)
        XCTAssertEqual(apps[0].scenario(forRoom: "r1"), .call, "the app's default for every other room")
        XCTAssertNil(apps[1].scenario(forRoom: "lounge"), "no scenario unless the config gives one")
    }

    func testMistakesNameFileAndKey() {
        let cases: [(String, String)] = [
            ("listen = 7", "a.toml: listen must be a string"),
            ("lisen = \"x\"", "a.toml: lisen is not a known key"),
            ("threads = 999", "a.toml: threads must be between 0 and 256, not 999"),
            ("realtime_priority = 0", "a.toml: realtime_priority must be between 1 and 99, not 0"),
            ("[[apps]]\napp_sign = \"00\"", "a.toml: apps[0].app_id is missing"),
            ("[[apps]]\napp_id = 1\napp_sign = \"00\"", "a.toml: apps[0].app_sign must be 64 hex characters"),
            ("[[apps]]\napp_id = 1\nserver_secret = \"short\"", "a.toml: apps[0].server_secret must be 32 characters, not 5"),
            ("[[apps]]\napp_id = 1", "a.toml: apps[0] needs app_sign, server_secret or anonymous = true"),
            ("[[apps]]\napp_id = 1\nanonymous = true\n[[apps]]\napp_id = 1\nanonymous = true", "a.toml: apps[1].app_id app 1 is defined twice"),
            ("[[apps]]\napp_id = 1\nanonymous = true\ncolour = 1", "a.toml: apps[0].colour is not a known key"),
            ("apps = 3", "a.toml: apps must be an array of tables ([[apps]])"),
            ("[[apps]]\napp_id = 1\nanonymous = true\nscenario = \"party\"",
             "a.toml: apps[0].scenario must be one of call, hq-call, chatroom, broadcast, karaoke, not \"party\""),
            ("[[apps]]\napp_id = 1\nanonymous = true\nroom_scenarios = \"call\"", "a.toml: apps[0].room_scenarios must be a table of room = \"scenario\""),
            ("[[apps]]\napp_id = 1\nanonymous = true\nroom_scenarios = { a = 1 }", "a.toml: apps[0].room_scenarios.a must be a string"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try ServerConfigFile.parse(text, file: "a.toml"), text) {
                XCTAssertEqual(($0 as? ConfigError)?.description, message)
            }
        }
        XCTAssertThrowsError(try ServerConfigFile.parse("listen = ", file: "a.toml")) {
            let description = ($0 as? ConfigError)?.description ?? ""
            XCTAssertTrue(description.hasPrefix("a.toml:1:"), description)
        }
        XCTAssertThrowsError(try ServerConfigFile.load(path: "/nonexistent/rtcbox.toml")) {
            XCTAssertTrue(($0 as? ConfigError)?.description.hasPrefix("/nonexistent/rtcbox.toml: cannot be read") == true)
        }
    }
}
