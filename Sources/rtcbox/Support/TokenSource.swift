import Foundation

/// Where the CLI gets a login token that it can get again when the server says it will expire:
/// a file re-read each time, or a command run each time.
enum TokenSource: Sendable {
    case file(String)
    case command(String)

    func fetch() throws -> String {
        switch self {
        case .file(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError(.noInput, "cannot read the token file \"\(path)\"")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw CLIError(.dataError, "the token file \"\(path)\" is empty") }
            return token
        case .command(let command):
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch {
                throw CLIError(.failure, "cannot run the token command: \(error.localizedDescription)")
            }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CLIError(.failure, "the token command exited with status \(process.terminationStatus)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw CLIError(.dataError, "the token command printed no token") }
            return token
        }
    }

    var description: String {
        switch self {
        case .file(let path): return "token file \"\(path)\""
        case .command: return "token command"
        }
    }
}
