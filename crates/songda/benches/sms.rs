//! SMS throughput to a local SMS centre (the smpp34 simulator server behind the stories'
//! `smsc.py`, started here without receipts): Songda's SMPP transport, one message after
//! another as the outbox worker sends them and ten at a time, each as a ratio to a minimal
//! client in the same run: one plain connection that binds and submits the same PDUs, one
//! at a time and then with ten in flight, with nothing in between. Issue 5 asks for the
//! figure and the ratio.
//!
//! `cargo bench -p songda --bench sms` (needs python3 with smpp34, as the tests do).

use songda::notify::smpp::pdu::{self, Address, SubmitSm};
use songda::notify::smpp::{Smpp, SmppSettings};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MESSAGES: usize = 2000;
const WINDOW: usize = 10;
const TEXT: &str = "【北京市朝阳区人民法院】李四：您有一份诉讼文书待签收，请登录查看。";

/// The SMSC process, and the folder it writes to (removed when it stops).
struct Server {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smsc() -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new("python3")
        .args([
            "-c",
            include_str!("../tests/stories/smsc.py"),
            &port.to_string(),
        ])
        .arg(dir.path())
        .arg("--no-receipts")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with smpp34");
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the SMSC did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Server { child, _dir: dir }, port)
}

fn submit(sequence: u32) -> Vec<u8> {
    SubmitSm {
        source: Address::sender("12368"),
        destination: Address::phone("13800138000"),
        esm_class: 0,
        registered_delivery: 0,
        data_coding: 8,
        short_message: TEXT.encode_utf16().flat_map(u16::to_be_bytes).collect(),
    }
    .encode(sequence)
    .unwrap()
}

fn read_pdu(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut pdu = vec![0u8; u32::from_be_bytes(len) as usize];
    pdu[..4].copy_from_slice(&len);
    stream.read_exact(&mut pdu[4..]).unwrap();
    pdu
}

/// One connection; `window` submits in flight. Returns messages per second.
fn minimal_client(port: u16, window: usize) -> f64 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .write_all(&pdu::bind_transceiver(1, "bench", "pw", "").unwrap())
        .unwrap();
    assert_eq!(pdu::header(&read_pdu(&mut stream)).unwrap().status, 0);
    let started = Instant::now();
    let (mut sent, mut answered) = (0usize, 0usize);
    while answered < MESSAGES {
        while sent < MESSAGES && sent - answered < window {
            stream.write_all(&submit(sent as u32 + 2)).unwrap();
            sent += 1;
        }
        let resp = read_pdu(&mut stream);
        let h = pdu::header(&resp).unwrap();
        if h.command_id == pdu::SUBMIT_SM | pdu::RESP {
            assert_eq!(h.status, 0);
            answered += 1;
        }
    }
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

/// Songda's transport, `concurrent` sends at a time. Returns messages per second.
async fn songda(port: u16, concurrent: usize) -> f64 {
    let settings = SmppSettings::parse(&format!(
        "smpp://bench:pw@127.0.0.1:{port}?source=12368&window={WINDOW}"
    ))
    .unwrap();
    let smpp = Arc::new(Smpp::new(settings));
    // Bound before the clock starts, as a running worker's session is.
    smpp.send("13800138000", TEXT).await.unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrent {
        let smpp = smpp.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..MESSAGES / concurrent {
                smpp.send("13800138000", TEXT).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    MESSAGES as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "SMS to a local SMS centre (smpp34 simulator), {MESSAGES} one-part Chinese messages each"
    );
    let (_smsc, port) = start_smsc();
    let minimal_one = minimal_client(port, 1);
    let minimal_window = minimal_client(port, WINDOW);
    let one = runtime.block_on(songda(port, 1));
    let ten = runtime.block_on(songda(port, WINDOW));
    println!("  minimal client, one at a time:         {minimal_one:>6.0} messages/s");
    println!("  minimal client, {WINDOW} in flight:          {minimal_window:>6.0} messages/s");
    println!(
        "  songda SMPP transport, 1 at a time:    {one:>6.0} messages/s ({:.2} of the minimal client one at a time)",
        one / minimal_one
    );
    println!(
        "  songda SMPP transport, {WINDOW} at a time:   {ten:>6.0} messages/s ({:.2} of the minimal client with {WINDOW} in flight)",
        ten / minimal_window
    );
}
