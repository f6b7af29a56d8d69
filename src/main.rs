//! The `glassmaster` binary: parse the command line, run it, map the result
//! to an exit status (0 success, 1 bad input or result, 2 bad command line).

fn main() -> std::process::ExitCode {
    glassmaster::cli::main()
}
