//! Counting the commands Redis executes, with `MONITOR`, between two marks.
//!
//! A reader thread holds a `MONITOR` connection and keeps, for each command
//! Redis reports, who sent it and its name. Commands a Lua script runs
//! (`[0 lua]`) are left out: they cost no round trip. Round trips are
//! counted per client, a `MULTI … EXEC` block as one. Rule: `MONITOR`
//! slows Redis down, so it is attached only in passes that count, never in
//! passes that time.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The prefix of the `ECHO` marks the benchmark sends.
const MARK_PREFIX: &str = "kdesk-bench-mark:";

/// How long a mark may take to come back through the monitor.
const MARK_TIMEOUT: Duration = Duration::from_secs(20);

/// One command as `MONITOR` showed it.
#[derive(Clone, Debug)]
struct Seen {
    /// `ip:port` of the client, or "lua".
    client: String,
    name: String,
    /// For `ECHO`, its argument (to find marks).
    echo: Option<String>,
}

/// A live `MONITOR` connection and what it has seen.
pub struct Monitor {
    stream: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    reader: Option<thread::JoinHandle<()>>,
}

/// Commands and round trips between two marks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Counted {
    pub commands: u64,
    pub round_trips: u64,
    /// Top-level commands by name.
    pub by_command: BTreeMap<String, u64>,
}

impl Monitor {
    /// Connects to `127.0.0.1:port` and starts monitoring.
    pub fn attach(port: u16) -> Result<Monitor> {
        let address = format!("127.0.0.1:{port}");
        let mut stream = TcpStream::connect(&address).map_err(|e| {
            Error::with_source(ErrorKind::Redis, format!("cannot reach redis at {address}: {e}"), e)
        })?;
        stream.write_all(b"MONITOR\r\n").map_err(|e| {
            Error::with_source(ErrorKind::Redis, format!("cannot send MONITOR: {e}"), e)
        })?;
        let reading = stream.try_clone().map_err(|e| {
            Error::with_source(ErrorKind::Redis, format!("cannot share the monitor socket: {e}"), e)
        })?;
        // Redis must have taken MONITOR before any mark is sent on another
        // connection, or the mark may run first and never be seen.
        let mut reading = BufReader::with_capacity(1 << 20, reading);
        let mut first = Vec::new();
        reading.read_until(b'\n', &mut first).map_err(|e| {
            Error::with_source(ErrorKind::Redis, format!("no answer to MONITOR: {e}"), e)
        })?;
        if !first.starts_with(b"+OK") {
            let message =
                format!("redis answered MONITOR with '{}'", String::from_utf8_lossy(&first).trim());
            return Err(Error::new(ErrorKind::Redis, message));
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = thread::spawn(move || read_lines(reading, &sink));
        Ok(Monitor { stream, seen, reader: Some(reader) })
    }

    /// Sends a mark through `connection` and waits until the monitor saw it.
    pub fn mark(&self, connection: &mut redis::Connection, label: &str) -> Result<()> {
        let text = format!("{MARK_PREFIX}{label}");
        redis::cmd("ECHO")
            .arg(&text)
            .query::<String>(connection)
            .map_err(|e| Error::redis("ECHO", e))?;
        let deadline = Instant::now() + MARK_TIMEOUT;
        while Instant::now() < deadline {
            if self.position(&text).is_some() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(2));
        }
        let message = format!("mark '{label}' never came back through MONITOR");
        Err(Error::new(ErrorKind::Redis, message))
    }

    /// Counts what was executed between marks `from` and `to`.
    pub fn between(&self, from: &str, to: &str) -> Counted {
        let seen = match self.seen.lock() {
            Ok(seen) => seen.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let find = |label: &str| {
            let text = format!("{MARK_PREFIX}{label}");
            seen.iter().position(|s| s.echo.as_deref() == Some(text.as_str()))
        };
        let (Some(start), Some(end)) = (find(from), find(to)) else {
            return Counted::default();
        };
        count(&seen[start + 1..end])
    }

    fn position(&self, text: &str) -> Option<usize> {
        let seen = self.seen.lock().ok()?;
        seen.iter().position(|s| s.echo.as_deref() == Some(text))
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

fn count(seen: &[Seen]) -> Counted {
    let mut counted = Counted::default();
    let mut in_transaction: BTreeMap<&str, bool> = BTreeMap::new();
    for command in seen {
        if command.client == "lua" || command.echo.as_deref().is_some_and(is_mark) {
            continue;
        }
        counted.commands += 1;
        *counted.by_command.entry(command.name.clone()).or_default() += 1;
        let open = in_transaction.entry(command.client.as_str()).or_default();
        match command.name.as_str() {
            "MULTI" => {
                *open = true;
                counted.round_trips += 1;
            }
            "EXEC" | "DISCARD" => *open = false,
            _ if *open => {}
            _ => counted.round_trips += 1,
        }
    }
    counted
}

fn is_mark(text: &str) -> bool {
    text.starts_with(MARK_PREFIX)
}

fn read_lines(mut reader: BufReader<TcpStream>, sink: &Mutex<Vec<Seen>>) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if let Some(seen) = parse(&line) {
            match sink.lock() {
                Ok(mut all) => all.push(seen),
                Err(_) => break,
            }
        }
    }
}

/// `+1796402421.795748 [0 127.0.0.1:59984] "SET" "key" …`
fn parse(line: &[u8]) -> Option<Seen> {
    let open = line.iter().position(|&b| b == b'[')?;
    let close = open + line[open..].iter().position(|&b| b == b']')?;
    let source = std::str::from_utf8(&line[open + 1..close]).ok()?;
    let client = source.split_whitespace().nth(1)?.to_string();
    let rest = &line[close + 1..];
    let mut quoted = rest.split(|&b| b == b'"');
    quoted.next()?;
    let name = String::from_utf8_lossy(quoted.next()?).to_ascii_uppercase();
    let echo = (name == "ECHO")
        .then(|| {
            quoted.next()?;
            Some(String::from_utf8_lossy(quoted.next()?).into_owned())
        })
        .flatten();
    Some(Seen { client, name, echo })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(client: &str, name: &str) -> Seen {
        Seen { client: client.into(), name: name.into(), echo: None }
    }

    #[test]
    fn parses_a_monitor_line_and_a_mark() {
        let line = b"+1796402421.795748 [0 127.0.0.1:59984] \"set\" \"ocr_task:x\" \"{}\"\r\n";
        let parsed = parse(line).unwrap();
        assert_eq!((parsed.client.as_str(), parsed.name.as_str()), ("127.0.0.1:59984", "SET"));
        let line = b"+1.0 [0 127.0.0.1:1] \"ECHO\" \"kdesk-bench-mark:a\"\r\n";
        assert_eq!(parse(line).unwrap().echo.as_deref(), Some("kdesk-bench-mark:a"));
        let line = b"+1.0 [0 lua] \"HGETALL\" \"k\"\r\n";
        assert_eq!(parse(line).unwrap().client, "lua");
    }

    #[test]
    fn a_transaction_is_one_round_trip_and_lua_is_none() {
        let commands = [
            seen("c1", "MULTI"),
            seen("c2", "XREAD"),
            seen("c1", "HSET"),
            seen("c1", "EXPIRE"),
            seen("c1", "EXEC"),
            seen("c1", "EVALSHA"),
            seen("lua", "HGETALL"),
        ];
        let counted = count(&commands);
        assert_eq!(counted.round_trips, 3);
        assert_eq!(counted.commands, 6);
        assert_eq!(counted.by_command.get("HGETALL"), None);
    }
}
