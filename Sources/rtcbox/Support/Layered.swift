import Foundation

/// One setting from its layers, highest first: a command-line flag, an RTCBOX_* environment variable,
/// the config file, the default. A malformed environment value is a configuration error (exit 78).
struct Layered {
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    func value<T>(flag: T?, env name: String, file: T?, default fallback: T, what: String = "a valid value",
                  parse: (String) -> T?) throws -> T {
        if let flag { return flag }
        if let text = environment[name], !text.isEmpty {
            guard let parsed = parse(text) else { throw CLIError(.config, "\(name) \"\(text)\" is not \(what)") }
            return parsed
        }
        return file ?? fallback
    }

    func optional<T>(flag: T?, env name: String, file: T?, what: String = "a valid value", parse: (String) -> T?) throws -> T? {
        if let flag { return flag }
        if let text = environment[name], !text.isEmpty {
            guard let parsed = parse(text) else { throw CLIError(.config, "\(name) \"\(text)\" is not \(what)") }
            return parsed
        }
        return file
    }
}
