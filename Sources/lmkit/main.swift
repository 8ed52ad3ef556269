import ArgumentParser
import Foundation
import LMKernels
import LMSupport

// Entry point: library errors (`LMError`) become one line on stderr and exit code 1;
// argument errors keep ArgumentParser's usage message (exit code 64); a run stopped by
// Ctrl-C/SIGTERM exits 130 after its checkpoint.
// Commands that multiply matrices first get OpenBLAS's faster kernel set for this CPU, if
// there is one (a re-execution with OPENBLAS_CORETYPE set; see BLASKernelChoice).
if CommandLine.arguments.count > 1,
   ["pretrain", "finetune", "sample", "eval", "chat", "reward", "ppo"].contains(CommandLine.arguments[1]) {
    BLASKernelChoice.reexecIfBetterKernel()
}
signal(SIGPIPE, SIG_IGN)
BLAS.stopIdleThreads()   // OpenBLAS's pool would spin ~0.1 s of a core; see BLAS
do {
    var command = try LMKit.parseAsRoot()
    try command.run()
    StandardOutput.shared.flush()
    // A run stopped by Ctrl-C (or SIGTERM) has checkpointed and printed its summary, but did
    // not finish: exit 130 like any interrupted program, so `lmkit pretrain … && next` stops.
    if RunOutcome.interrupted { exit(130) }
} catch let error as LMError {
    StandardOutput.shared.flush()
    printError("lmkit: error: \(error)")
    exit(1)
} catch {
    StandardOutput.shared.flush()
    // Option errors (a missing option, a value out of range): one line like LMError's, pointing
    // to --help, exit 64. Help/version requests and a bare `lmkit` keep ArgumentParser's output.
    let code = LMKit.exitCode(for: error)
    let message = LMKit.message(for: error).split(separator: "\n").joined(separator: "; ")
    if code != .success && !message.isEmpty && CommandLine.arguments.count > 1 {
        let hint = LMKit.fullMessage(for: error).split(separator: "\n")
            .first { $0.contains("See '") }.map { " — s" + $0.drop { $0 != "S" }.dropFirst().replacingOccurrences(of: " for more information.", with: "") } ?? ""
        printError("lmkit: error: \(message)\(hint)")
        exit(code.rawValue)
    }
    LMKit.exit(withError: error)
}
