import ArgumentParser
import FFmpegKit
import Foundation
import Logging
import Media
import RoomClient

@main
enum Main {
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        // Logs go to stderr: stdout is for media and events.
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        FFmpegLibrary.setLogLevel(.quiet)  // commands raise it with -v (OutputOptions.applyToLibav)
        InterruptHandler.shared.install()
        let arguments = Multicall.arguments(argv: CommandLine.arguments)
        let name = Multicall.commandName(for: arguments)
        let command: ParsableCommand
        do {
            command = try Rtcbox.parseAsRoot(arguments)
        } catch {
            let code = Rtcbox.exitCode(for: error)
            if code == .success { Rtcbox.exit(withError: error) }  // --help, --version
            let text = Rtcbox.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            printError("\(name): \(text.replacingOccurrences(of: "Error: ", with: "")) (see '\(name) --help')")
            exit(code.rawValue)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var c = command
                try c.run()
            }
            exit(0)
        } catch let error as CLIError {
            fail(name, error)
        } catch let error as RoomClientError {
            fail(name, CLIError(error))
        } catch let error as FFmpegError {
            fail(name, CLIError(error))
        } catch let error as WindowUnavailable {
            fail(name, CLIError(error))
        } catch {
            // ArgumentParser's own errors (help, validation in run) keep its handling.
            Rtcbox.exit(withError: error)
        }
    }

    static func fail(_ name: String, _ e: CLIError) -> Never {
        printError("\(name): \(e.message)")
        exit(e.status.rawValue)
    }
}

/// Busybox-style dispatch: a link named `publish` or `rtcbox-publish` runs `rtcbox publish`.
enum Multicall {
    static func arguments(argv: [String]) -> [String] {
        let rest = Array(argv.dropFirst())
        let base = URL(fileURLWithPath: argv.first ?? "rtcbox").lastPathComponent
        let names = Rtcbox.subcommandNames
        if names.contains(base) { return [base] + rest }
        if base.hasPrefix("rtcbox-"), names.contains(String(base.dropFirst("rtcbox-".count))) {
            return [String(base.dropFirst("rtcbox-".count))] + rest
        }
        return rest
    }

    /// "rtcbox publish" for messages, from the first argument when it names a subcommand.
    static func commandName(for arguments: [String]) -> String {
        if let first = arguments.first, Rtcbox.subcommandNames.contains(first) { return "rtcbox \(first)" }
        return "rtcbox"
    }
}
