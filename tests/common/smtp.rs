//! A small SMTP server on 127.0.0.1 for the email sink's tests: it speaks enough of RFC 5321
//! (EHLO, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client to hold
//! a real conversation, and keeps what it was told.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;

#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent after DATA (headers and body), dot-unstuffed.
    pub data: String,
    /// The user name and password the client authenticated with.
    pub auth: Option<(String, String)>,
}

pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let m = Arc::clone(&mails);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    let _ = session(conn, &m);
                });
            }
        });
        SmtpServer { port, mails }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

fn b64(text: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn session(conn: TcpStream, mails: &Mutex<Vec<Mail>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut out = conn.try_clone()?;
    let mut input = BufReader::new(conn);
    let mut say = |line: &str| out.write_all(format!("{line}\r\n").as_bytes());
    say("220 localhost ESMTP figwatch-test")?;
    let mut mail = Mail::default();
    let mut auth = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            say("250-localhost")?;
            say("250-AUTH PLAIN LOGIN")?;
            say("250 8BITMIME")?;
        } else if upper.starts_with("AUTH PLAIN") {
            let arg = command.get(10..).unwrap_or("").trim().to_string();
            let arg = if arg.is_empty() {
                say("334 ")?;
                line.clear();
                input.read_line(&mut line)?;
                line.trim().to_string()
            } else {
                arg
            };
            let decoded = b64(&arg);
            let mut parts = decoded.split('\0').skip(1);
            let user = parts.next().unwrap_or("").to_string();
            let pass = parts.next().unwrap_or("").to_string();
            auth = Some((user, pass));
            say("235 2.7.0 Authentication successful")?;
        } else if upper.starts_with("AUTH LOGIN") {
            say("334 VXNlcm5hbWU6")?;
            line.clear();
            input.read_line(&mut line)?;
            let user = b64(&line);
            say("334 UGFzc3dvcmQ6")?;
            line.clear();
            input.read_line(&mut line)?;
            auth = Some((user, b64(&line)));
            say("235 2.7.0 Authentication successful")?;
        } else if upper.starts_with("MAIL FROM:") {
            mail = Mail {
                from: command[10..].trim().trim_matches(['<', '>']).to_string(),
                auth: auth.clone(),
                ..Mail::default()
            };
            say("250 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to
                .push(command[8..].trim().trim_matches(['<', '>']).to_string());
            say("250 OK")?;
        } else if upper == "DATA" {
            say("354 End data with <CR><LF>.<CR><LF>")?;
            let mut data = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mail.data = data;
            mails.lock().unwrap().push(std::mem::take(&mut mail));
            say("250 OK: queued")?;
        } else if upper == "RSET" || upper == "NOOP" {
            say("250 OK")?;
        } else if upper == "QUIT" {
            say("221 Bye")?;
            return Ok(());
        } else {
            say("502 Command not implemented")?;
        }
    }
}
