//! Command line of kvstore: parse the arguments, bind, serve.

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use kvstore::{server, store::Store, VERSION};

const DEFAULT_LISTEN: &str = "127.0.0.1:3900";

const USAGE: &str = "\
Usage: kvstore [--listen ADDR:PORT]

A tiny in-memory HTTP key-value store.

Options:
  --listen ADDR:PORT  address to serve on (default 127.0.0.1:3900); port 0
                      picks a free port. The first line on stdout is always
                      `listening on ADDR:PORT` with the bound address.
  -V, --version       print the version and exit
  -h, --help          print this help and exit

API: PUT /<key> stores the body, GET /<key> returns it, DELETE /<key>
removes it, GET / lists the keys (one per line, sorted).
";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve(String),
    Version,
    Help,
}

fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut listen = DEFAULT_LISTEN.to_owned();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--listen" => {
                listen = args
                    .next()
                    .ok_or("--listen needs a value, e.g. 127.0.0.1:3900")?
            }
            _ => match arg.strip_prefix("--listen=") {
                Some(value) => listen = value.to_owned(),
                None => return Err(format!("unknown argument '{arg}'")),
            },
        }
    }
    Ok(Command::Serve(listen))
}

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let command = match args
        .map_err(|a| format!("argument is not UTF-8: {a:?}"))
        .and_then(parse_args)
    {
        Ok(command) => command,
        Err(msg) => {
            eprintln!("kvstore: {msg}\nTry 'kvstore --help' for more information.");
            return ExitCode::from(2);
        }
    };
    let listen = match command {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("kvstore {VERSION}");
            return ExitCode::SUCCESS;
        }
        Command::Serve(listen) => listen,
    };
    let listener = match TcpListener::bind(&listen) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("kvstore: cannot listen on {listen}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts and tests read the real port (useful with port 0) from this line.
    match listener.local_addr() {
        Ok(addr) => {
            let mut stdout = std::io::stdout();
            let _ = writeln!(stdout, "listening on {addr}").and_then(|()| stdout.flush());
        }
        Err(err) => eprintln!("kvstore: cannot read the bound address: {err}"),
    }
    server::serve(listener, Arc::new(Store::new()));
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn parses_arguments() {
        assert_eq!(parse(&[]), Ok(Command::Serve(DEFAULT_LISTEN.into())));
        assert_eq!(
            parse(&["--listen", "0.0.0.0:80"]),
            Ok(Command::Serve("0.0.0.0:80".into()))
        );
        assert_eq!(
            parse(&["--listen=[::1]:0"]),
            Ok(Command::Serve("[::1]:0".into()))
        );
        assert_eq!(parse(&["--listen", "x", "--version"]), Ok(Command::Version));
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
        assert!(parse(&["serve"]).is_err());
    }
}
