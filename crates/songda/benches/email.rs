//! Email throughput to a local SMTP server (aiosmtpd with its Sink handler, started here):
//! Songda's pooled SMTP transport, one message after another as the outbox worker sends
//! them and eight at a time, as a ratio to a minimal client in the same run: one plain
//! connection that sends the same messages back to back with no library in between, which
//! is about what the server can take. Issue 5 asks for the figure and the ratio.
//!
//! `cargo bench -p songda --bench email` (needs python3 with aiosmtpd, as the tests do).

use songda::notify::EmailTransport;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MESSAGES: usize = 400;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_sink() -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Sink"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with aiosmtpd");
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Server(child), port)
}

const BODY: &str = "张三：\n\n北京市朝阳区人民法院通过电子送达平台向您送达（2026）京0105民初12345号案件的诉讼文书：民事判决书。请登录 https://songda.example/services 查看并签收。\n";

/// One connection, each message sent as soon as the last was accepted.
fn minimal_client(port: u16) -> f64 {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut reply = |expect: &str| loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with(expect), "expected {expect}, got {line}");
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    };
    reply("220");
    writer.write_all(b"EHLO bench\r\n").unwrap();
    reply("250");
    let started = Instant::now();
    for i in 0..MESSAGES {
        writer
            .write_all(b"MAIL FROM:<noreply@songda.example>\r\n")
            .unwrap();
        reply("250");
        writer.write_all(b"RCPT TO:<lisi@example.com>\r\n").unwrap();
        reply("250");
        writer.write_all(b"DATA\r\n").unwrap();
        reply("354");
        let message = format!(
            "From: noreply@songda.example\r\nTo: lisi@example.com\r\nSubject: notice {i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n.\r\n",
            BODY.replace('\n', "\r\n")
        );
        writer.write_all(message.as_bytes()).unwrap();
        reply("250");
    }
    let rate = MESSAGES as f64 / started.elapsed().as_secs_f64();
    writer.write_all(b"QUIT\r\n").unwrap();
    rate
}

async fn songda_transport(port: u16, concurrency: usize) -> f64 {
    let transport = Arc::new(
        EmailTransport::smtp(
            &format!("smtp://127.0.0.1:{port}"),
            "Songda <noreply@songda.example>",
            None,
        )
        .unwrap(),
    );
    // One message first, so the pool holds a connection before the clock starts, as in a
    // running worker.
    transport
        .send(
            "warm-up",
            "lisi@example.com",
            "warm-up",
            BODY,
            Vec::new(),
            0,
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let transport = transport.clone();
        tasks.push(tokio::spawn(async move {
            for i in (t..MESSAGES).step_by(concurrency) {
                transport
                    .send(
                        &format!("bench-{i}"),
                        "lisi@example.com",
                        "【北京市朝阳区人民法院】诉讼文书待签收",
                        BODY,
                        Vec::new(),
                        0,
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let (_server, port) = start_sink();
    println!("email to a local aiosmtpd (Sink handler), {MESSAGES} messages each");
    let minimal = minimal_client(port);
    println!("  minimal client, one connection:         {minimal:>7.0} messages/s");
    for concurrency in [1, 8] {
        let rate = songda_transport(port, concurrency).await;
        println!(
            "  songda SMTP transport (pooled), {concurrency} at a time: {rate:>7.0} messages/s ({:.2} of the minimal client)",
            rate / minimal
        );
    }
}
