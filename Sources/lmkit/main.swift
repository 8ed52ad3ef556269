import ArgumentParser
import Foundation
import LMSupport

// Entry point: library errors (`LMError`) become one line on stderr and exit code 1;
// argument errors keep ArgumentParser's usage message (exit code 64).
signal(SIGPIPE, SIG_IGN)
do {
    var command = try LMKit.parseAsRoot()
    try command.run()
    StandardOutput.shared.flush()
} catch let error as LMError {
    StandardOutput.shared.flush()
    printError("lmkit: error: \(error)")
    exit(1)
} catch {
    StandardOutput.shared.flush()
    LMKit.exit(withError: error)
}
