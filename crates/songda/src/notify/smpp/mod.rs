//! SMS over SMPP 3.4, the protocol of carriers' SMS centres (SMSC): one transceiver session,
//! kept bound by a task of its own, that submits messages and receives their delivery
//! receipts.
//!
//! - `SONGDA_SMS_URL=smpp://SYSTEM_ID:PASSWORD@HOST:PORT?source=12368`; optional
//!   `system_type=...`, `window=N` (submits awaiting their answer, default 10).
//! - The session binds when the first message is sent or the worker starts, answers and
//!   sends `enquire_link` (every 30 s; a peer silent for 30 s more is dropped), and binds
//!   again after a lost connection with backoff (1 s doubling to 60 s).
//! - Chinese goes as UCS-2; a long text as parts with a concatenation header (`text.rs`).
//! - `ESME_RTHROTTLED` and `ESME_RMSGQFUL` pause the part and resubmit it after 0.1 s,
//!   doubling, within the send's 30 s; the message as a whole is retried by the outbox
//!   after that.
//! - Receipts (`deliver_sm` with esm_class 0x04) are handed to the worker, which records
//!   them as evidence; the SMSC gets `deliver_sm_resp` only once that is done, and a
//!   temporary error if it could not be, so it delivers the receipt again.

pub mod pdu;
pub mod text;

use super::{Accepted, SendError};
use pdu::{Header, Receipt, SubmitSm};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep, timeout};

/// How long one message may take, parts, throttling pauses and waiting for a session
/// included.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const ENQUIRE_EVERY: Duration = Duration::from_secs(30);
const BIND_TIMEOUT: Duration = Duration::from_secs(10);
/// A session up this long was not dropped for its bind: the next lost one backs off from 1 s.
const STEADY: Duration = Duration::from_secs(60);
/// A write the SMSC does not take within this ends the session.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What `SONGDA_SMS_URL` says for SMPP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmppSettings {
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub source: String,
    pub window: usize,
}

impl SmppSettings {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("smpp://")
            .ok_or_else(|| anyhow::anyhow!("an SMPP URL starts with smpp://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (credentials, hostport) =
            rest.trim_end_matches('/').rsplit_once('@').ok_or_else(|| {
                anyhow::anyhow!(
                    "SONGDA_SMS_URL: smpp://SYSTEM_ID:PASSWORD@HOST:PORT, the system id is missing"
                )
            })?;
        let (system_id, password) = credentials.split_once(':').unwrap_or((credentials, ""));
        let decode = |s: &str| super::percent_decode(s, "SONGDA_SMS_URL");
        let (host, port) = hostport
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("SONGDA_SMS_URL: the SMSC's port is missing"))?;
        let port = port
            .parse::<u16>()
            .map_err(|_| anyhow::anyhow!("SONGDA_SMS_URL: bad port {port:?}"))?;
        if host.is_empty() {
            anyhow::bail!("SONGDA_SMS_URL has no host");
        }
        let mut s = Self {
            host: host.to_string(),
            port,
            system_id: decode(system_id)?,
            password: decode(password)?,
            system_type: String::new(),
            source: String::new(),
            window: 10,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "source" => s.source = value.into_owned(),
                "system_type" => s.system_type = value.into_owned(),
                "window" => {
                    s.window = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            anyhow::anyhow!("SONGDA_SMS_URL: window={value:?} is not 1 to 1000")
                        })?
                }
                other => anyhow::bail!("SONGDA_SMS_URL: unknown setting {other:?}"),
            }
        }
        if s.source.is_empty() {
            anyhow::bail!(
                "SONGDA_SMS_URL: ?source= is missing: the number messages come from (e.g. 12368)"
            );
        }
        // Check field lengths now rather than at the first bind.
        pdu::bind_transceiver(1, &s.system_id, &s.password, &s.system_type)
            .map_err(|e| anyhow::anyhow!("SONGDA_SMS_URL: {e}"))?;
        Ok(s)
    }
}

/// A receipt handed to the worker; `done` says whether it was recorded.
pub struct IncomingReceipt {
    pub receipt: Receipt,
    pub done: oneshot::Sender<bool>,
}

struct Submit {
    sm: SubmitSm,
    answer: Answer,
}

/// Where the session is, as senders see it.
#[derive(Clone, Debug)]
enum Link {
    /// Binding for the first time.
    Starting,
    Bound,
    /// Not bound, with the last error; binding again.
    Down(String),
}

pub struct Smpp {
    settings: Arc<SmppSettings>,
    link: tokio::sync::watch::Receiver<Link>,
    /// Asks a session that is down to bind again now rather than after its backoff.
    retry_now: Arc<tokio::sync::Notify>,
    submits: mpsc::Sender<Submit>,
    reference: AtomicU8,
    /// Taken by the session task when it starts.
    pending_start: std::sync::Mutex<Option<SessionParts>>,
    /// Taken by the worker's receipt recorder.
    receipts: std::sync::Mutex<Option<mpsc::Receiver<IncomingReceipt>>>,
}

/// What the session task owns.
struct SessionParts {
    submits: mpsc::Receiver<Submit>,
    receipts: mpsc::Sender<IncomingReceipt>,
    link: tokio::sync::watch::Sender<Link>,
}

impl Smpp {
    pub fn new(settings: SmppSettings) -> Self {
        let (submits, submit_rx) = mpsc::channel(settings.window * 4);
        let (receipt_tx, receipts) = mpsc::channel(256);
        let (link_tx, link) = tokio::sync::watch::channel(Link::Starting);
        Self {
            settings: Arc::new(settings),
            link,
            retry_now: Arc::new(tokio::sync::Notify::new()),
            submits,
            reference: AtomicU8::new(rand::random()),
            pending_start: std::sync::Mutex::new(Some(SessionParts {
                submits: submit_rx,
                receipts: receipt_tx,
                link: link_tx,
            })),
            receipts: std::sync::Mutex::new(Some(receipts)),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "smpp://{}@{}:{}",
            self.settings.system_id, self.settings.host, self.settings.port
        )
    }

    /// Starts the session task, once; it binds and stays bound from then on.
    pub fn start(&self) {
        if let Some(parts) = self.pending_start.lock().expect("lock").take() {
            tokio::spawn(session(
                self.settings.clone(),
                parts,
                self.retry_now.clone(),
            ));
        }
    }

    /// The receipts the SMSC reports, for the worker to record (once).
    pub fn take_receipts(&self) -> Option<mpsc::Receiver<IncomingReceipt>> {
        self.start();
        self.receipts.lock().expect("lock").take()
    }

    /// Waits for the first bind; fails at once while the session is down, so that a
    /// message waits in the outbox, not in memory.
    async fn bound(&self) -> Result<(), SendError> {
        let mut link = self.link.clone();
        let ready = timeout(
            BIND_TIMEOUT,
            link.wait_for(|l| !matches!(l, Link::Starting)),
        )
        .await;
        let state = match ready {
            Ok(Ok(state)) => state.clone(),
            Ok(Err(_)) => Link::Down("the SMPP session has stopped".into()),
            Err(_) => Link::Down("still binding to the SMSC".into()),
        };
        match state {
            Link::Bound | Link::Starting => Ok(()),
            Link::Down(why) => {
                self.retry_now.notify_one();
                Err(SendError::transient(format!(
                    "not bound to the SMSC {}:{}: {why}",
                    self.settings.host, self.settings.port
                )))
            }
        }
    }

    pub async fn send(&self, to: &str, body: &str) -> Result<Accepted, SendError> {
        self.start();
        self.bound().await?;
        let reference = self.reference.fetch_add(1, Ordering::Relaxed);
        let parts = text::parts(body, reference).map_err(SendError::permanent)?;
        let destination = pdu::Address::phone(to);
        if destination.digits.is_empty() || !destination.digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SendError::permanent(format!(
                "{to:?} is not a phone number"
            )));
        }
        let deadline = Instant::now() + SEND_TIMEOUT;
        let mut ids = Vec::with_capacity(parts.len());
        for part in parts {
            let sm = SubmitSm {
                source: pdu::Address::sender(&self.settings.source),
                destination: destination.clone(),
                esm_class: part.esm_class,
                registered_delivery: 1,
                data_coding: part.data_coding,
                short_message: part.short_message,
            };
            match self.submit(sm, deadline).await {
                Ok(id) => ids.push(id),
                Err(e) if ids.is_empty() => return Err(e),
                // The SMSC has the first parts; the retry sends the whole text again under
                // a new reference. Their ids are kept, so that their receipts are recorded.
                Err(e) => {
                    return Err(SendError {
                        permanent: e.permanent,
                        message: format!(
                            "{} (after parts {} were accepted)",
                            e.message,
                            ids.join(", ")
                        ),
                        receipts: ids,
                    });
                }
            }
        }
        Ok(Accepted {
            reference: format!("{}: accepted as {}", self.describe(), ids.join(", ")),
            message_id: Some(ids.join(",")),
            receipts: ids,
        })
    }

    /// Submits one part, pausing and resubmitting while the SMSC says it is throttled.
    async fn submit(&self, sm: SubmitSm, deadline: Instant) -> Result<String, SendError> {
        let mut pause = Duration::from_millis(100);
        loop {
            let (answer, answered) = oneshot::channel();
            let submitted = async {
                self.submits
                    .send(Submit {
                        sm: sm.clone(),
                        answer,
                    })
                    .await
                    .map_err(|_| "the SMPP session has stopped".to_string())?;
                answered.await.map_err(|_| {
                    "the connection to the SMSC was lost before it answered".to_string()
                })
            };
            let (status, id) = match tokio::time::timeout_at(deadline, submitted).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) => return Err(SendError::transient(e)),
                Err(_) => {
                    return Err(SendError::transient(format!(
                        "no answer from the SMSC within {} s",
                        SEND_TIMEOUT.as_secs()
                    )));
                }
            };
            match status {
                pdu::ESME_ROK => {
                    return id.ok_or_else(|| {
                        SendError::transient("the SMSC accepted without a message id")
                    });
                }
                pdu::ESME_RTHROTTLED | pdu::ESME_RMSGQFUL if Instant::now() + pause < deadline => {
                    tracing::debug!(status = %pdu::status_name(status), ?pause, "SMSC throttling: pausing");
                    sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                s if pdu::is_permanent(s) => {
                    return Err(SendError::permanent(format!(
                        "the SMSC refused: {}",
                        pdu::status_name(s)
                    )));
                }
                s => {
                    return Err(SendError::transient(format!(
                        "the SMSC refused: {}",
                        pdu::status_name(s)
                    )));
                }
            }
        }
    }
}

/// Keeps a session bound for as long as the process runs.
async fn session(
    settings: Arc<SmppSettings>,
    parts: SessionParts,
    retry_now: Arc<tokio::sync::Notify>,
) {
    let SessionParts {
        mut submits,
        receipts,
        link,
    } = parts;
    let mut backoff = Duration::from_secs(1);
    loop {
        let why = match bind(&settings).await {
            Ok(stream) => {
                tracing::info!(host = %settings.host, port = settings.port, system_id = %settings.system_id, "SMPP session bound");
                link.send_replace(Link::Bound);
                let since = Instant::now();
                match bound(stream, settings.window, &mut submits, &receipts).await {
                    Ended::Stopped => return,
                    Ended::Lost(why) => {
                        tracing::warn!(host = %settings.host, port = settings.port, "SMPP session lost: {why}");
                        // A session that held for a while starts the backoff afresh; one
                        // dropped soon after its bind keeps doubling it.
                        if since.elapsed() > STEADY {
                            backoff = Duration::from_secs(1);
                        }
                        why
                    }
                }
            }
            Err(e) => {
                tracing::warn!(host = %settings.host, port = settings.port, ?backoff, "SMPP bind failed: {e}");
                e
            }
        };
        link.send_replace(Link::Down(why));
        // A sender waiting on a session that is down cuts the pause short, though never
        // below a second between binds.
        sleep(Duration::from_secs(1)).await;
        tokio::select! {
            _ = sleep(backoff.saturating_sub(Duration::from_secs(1))) => {}
            _ = retry_now.notified() => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(60));
    }
}

async fn bind(settings: &SmppSettings) -> Result<TcpStream, String> {
    let attempt = async {
        let mut stream = TcpStream::connect((settings.host.as_str(), settings.port))
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let bind = pdu::bind_transceiver(
            1,
            &settings.system_id,
            &settings.password,
            &settings.system_type,
        )?;
        stream.write_all(&bind).await.map_err(|e| e.to_string())?;
        let resp = read_pdu(&mut stream).await?;
        let h = pdu::header(&resp).map_err(|e| e.to_string())?;
        if h.command_id != pdu::BIND_TRANSCEIVER | pdu::RESP {
            return Err(format!(
                "the SMSC answered the bind with command 0x{:08X}",
                h.command_id
            ));
        }
        if h.status != pdu::ESME_ROK {
            return Err(format!(
                "the SMSC refused the bind: {}",
                pdu::status_name(h.status)
            ));
        }
        Ok(stream)
    };
    timeout(BIND_TIMEOUT, attempt)
        .await
        .map_err(|_| format!("no answer to the bind within {} s", BIND_TIMEOUT.as_secs()))?
}

async fn read_pdu<R: AsyncReadExt + Unpin>(r: &mut R) -> Result<Vec<u8>, String> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "the SMSC closed the connection".to_string(),
        _ => e.to_string(),
    })?;
    let n = u32::from_be_bytes(len) as usize;
    if !(16..=pdu::MAX_PDU).contains(&n) {
        return Err(format!("a PDU of {n} bytes"));
    }
    let mut pdu = vec![0u8; n];
    pdu[..4].copy_from_slice(&len);
    r.read_exact(&mut pdu[4..])
        .await
        .map_err(|e| e.to_string())?;
    Ok(pdu)
}

enum Ended {
    /// Every sender is gone: the process is stopping.
    Stopped,
    Lost(String),
}

/// Runs a bound session until the connection is lost or the process stops.
async fn bound(
    stream: TcpStream,
    window: usize,
    submits: &mut mpsc::Receiver<Submit>,
    receipts: &mpsc::Sender<IncomingReceipt>,
) -> Ended {
    let (mut reader, mut writer) = stream.into_split();
    // Reading is not cancel-safe, so a task of its own reads and hands over whole PDUs.
    let (incoming_tx, mut incoming) = mpsc::channel::<Result<Vec<u8>, String>>(64);
    let read_task = tokio::spawn(async move {
        loop {
            let pdu = read_pdu(&mut reader).await;
            let failed = pdu.is_err();
            if incoming_tx.send(pdu).await.is_err() || failed {
                return;
            }
        }
    });
    // deliver_sm_resp to send once the worker has recorded a receipt.
    let (acks_tx, mut acks) = mpsc::channel::<Vec<u8>>(256);
    let mut waiting = Waiting::new();
    let mut sequence: u32 = 1;
    let mut next_sequence = move || {
        sequence = if sequence >= 0x7FFF_FFFF {
            2
        } else {
            sequence + 1
        };
        sequence
    };
    let mut enquire = tokio::time::interval_at(Instant::now() + ENQUIRE_EVERY, ENQUIRE_EVERY);
    let mut last_heard = Instant::now();
    // Set when the SMSC asked to unbind: answered, then the session ends.
    let mut unbinding = false;
    let ended = loop {
        let out: Vec<u8> = tokio::select! {
            read = incoming.recv() => {
                let pdu = match read {
                    Some(Ok(pdu)) => pdu,
                    Some(Err(e)) => break Ended::Lost(e),
                    None => break Ended::Lost("the reader stopped".into()),
                };
                last_heard = Instant::now();
                match handle(&pdu, &mut waiting, receipts, &acks_tx) {
                    Ok(Handled::Reply(reply)) => reply,
                    Ok(Handled::Done) => continue,
                    Ok(Handled::Unbind(reply)) => {
                        unbinding = true;
                        reply
                    }
                    Err(e) => break Ended::Lost(e),
                }
            }
            Some(ack) = acks.recv() => ack,
            submit = submits.recv(), if waiting.len() < window => {
                let Some(submit) = submit else { break Ended::Stopped };
                // Its sender gave up waiting (and the outbox will try again): not sent.
                if submit.answer.is_closed() {
                    continue;
                }
                let seq = next_sequence();
                match submit.sm.encode(seq) {
                    Ok(bytes) => {
                        waiting.insert(seq, (Instant::now(), submit.answer));
                        bytes
                    }
                    Err(e) => {
                        tracing::error!("submit_sm not encodable: {e}");
                        let _ = submit.answer.send((pdu::ESME_RX_P_APPN, None));
                        continue;
                    }
                }
            }
            _ = enquire.tick() => {
                if last_heard.elapsed() > ENQUIRE_EVERY * 2 {
                    break Ended::Lost(format!("no word from the SMSC for {} s", last_heard.elapsed().as_secs()));
                }
                // A submit the SMSC never answered: its sender has long given up; its
                // place in the window is freed. Several of them mean the SMSC is not
                // answering this session: bind again.
                let before = waiting.len();
                waiting.retain(|_, (at, _)| at.elapsed() < SEND_TIMEOUT);
                if before - waiting.len() >= window.min(3) {
                    break Ended::Lost(format!("{} submits went unanswered", before - waiting.len()));
                }
                pdu::bare(pdu::ENQUIRE_LINK, 0, next_sequence())
            }
        };
        match timeout(WRITE_TIMEOUT, writer.write_all(&out)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => break Ended::Lost(e.to_string()),
            Err(_) => {
                break Ended::Lost(format!(
                    "the SMSC took nothing for {} s",
                    WRITE_TIMEOUT.as_secs()
                ));
            }
        }
        if unbinding {
            break Ended::Lost("the SMSC unbound".into());
        }
    };
    if matches!(ended, Ended::Stopped) {
        let unbind = pdu::bare(pdu::UNBIND, 0, next_sequence());
        let _ = timeout(Duration::from_secs(5), writer.write_all(&unbind)).await;
    }
    read_task.abort();
    // Dropping `waiting` tells each waiting sender the connection was lost.
    ended
}

/// What to do after a PDU from the SMSC.
enum Handled {
    Done,
    /// Answer this at once.
    Reply(Vec<u8>),
    /// Answer this, then end the session (the SMSC unbound).
    Unbind(Vec<u8>),
}

/// The SMSC's command status and message id for one submit.
type Answer = oneshot::Sender<(u32, Option<String>)>;
/// Submits awaiting their answer, by sequence number, with when they went.
type Waiting = HashMap<u32, (Instant, Answer)>;

/// Handles one PDU from the SMSC.
fn handle(
    bytes: &[u8],
    waiting: &mut Waiting,
    receipts: &mpsc::Sender<IncomingReceipt>,
    acks: &mpsc::Sender<Vec<u8>>,
) -> Result<Handled, String> {
    let Header {
        command_id,
        status,
        sequence,
    } = pdu::header(bytes).map_err(|e| e.to_string())?;
    match command_id {
        c if c == pdu::SUBMIT_SM | pdu::RESP => {
            if let Some((_, answer)) = waiting.remove(&sequence) {
                let id = pdu::submit_sm_resp_id(bytes).map_err(|e| e.to_string())?;
                let _ = answer.send((status, id));
            }
            Ok(Handled::Done)
        }
        pdu::GENERIC_NACK => {
            if let Some((_, answer)) = waiting.remove(&sequence) {
                let _ = answer.send((
                    if status == 0 {
                        pdu::ESME_RINVCMDID
                    } else {
                        status
                    },
                    None,
                ));
            }
            Ok(Handled::Done)
        }
        pdu::ENQUIRE_LINK => Ok(Handled::Reply(pdu::bare(
            pdu::ENQUIRE_LINK | pdu::RESP,
            0,
            sequence,
        ))),
        pdu::UNBIND => Ok(Handled::Unbind(pdu::bare(
            pdu::UNBIND | pdu::RESP,
            0,
            sequence,
        ))),
        pdu::DELIVER_SM => {
            let deliver = match pdu::DeliverSm::decode(bytes) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("a deliver_sm we cannot read: {e}");
                    return Ok(Handled::Reply(pdu::deliver_sm_resp(
                        pdu::ESME_RX_P_APPN,
                        sequence,
                    )));
                }
            };
            if !deliver.is_receipt() {
                // A message from a phone: not something the platform takes; acknowledged
                // so the SMSC does not repeat it.
                return Ok(Handled::Reply(pdu::deliver_sm_resp(
                    pdu::ESME_ROK,
                    sequence,
                )));
            }
            let Some(receipt) = deliver.receipt() else {
                tracing::error!(text = %String::from_utf8_lossy(&deliver.short_message), "a delivery receipt without a message id or state");
                return Ok(Handled::Reply(pdu::deliver_sm_resp(
                    pdu::ESME_RX_P_APPN,
                    sequence,
                )));
            };
            let (done, recorded) = oneshot::channel();
            match receipts.try_send(IncomingReceipt { receipt, done }) {
                Ok(()) => {
                    let acks = acks.clone();
                    tokio::spawn(async move {
                        let status = match recorded.await {
                            Ok(true) => pdu::ESME_ROK,
                            _ => pdu::ESME_RX_T_APPN,
                        };
                        let _ = acks.send(pdu::deliver_sm_resp(status, sequence)).await;
                    });
                    Ok(Handled::Done)
                }
                // Too many receipts wait for the worker: the SMSC keeps this one and
                // delivers it again.
                Err(_) => Ok(Handled::Reply(pdu::deliver_sm_resp(
                    pdu::ESME_RX_T_APPN,
                    sequence,
                ))),
            }
        }
        // alert_notification has no response; responses to what we never sent are dropped.
        pdu::ALERT_NOTIFICATION => Ok(Handled::Done),
        c if c & pdu::RESP != 0 => Ok(Handled::Done),
        _ => Ok(Handled::Reply(pdu::bare(
            pdu::GENERIC_NACK,
            pdu::ESME_RINVCMDID,
            sequence,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_to(pdu: &[u8]) -> Handled {
        let (receipts, _r) = mpsc::channel(1);
        let (acks, _a) = mpsc::channel(1);
        handle(pdu, &mut HashMap::new(), &receipts, &acks).unwrap()
    }

    #[test]
    fn the_session_answers_the_smsc_as_smpp_3_4_says() {
        let Handled::Unbind(reply) = answer_to(&pdu::bare(pdu::UNBIND, 0, 7)) else {
            panic!("an unbind ends the session")
        };
        assert_eq!(
            pdu::header(&reply).unwrap(),
            Header {
                command_id: pdu::UNBIND | pdu::RESP,
                status: 0,
                sequence: 7
            }
        );
        let Handled::Reply(reply) = answer_to(&pdu::bare(pdu::ENQUIRE_LINK, 0, 8)) else {
            panic!("enquire_link is answered")
        };
        assert_eq!(
            pdu::header(&reply).unwrap().command_id,
            pdu::ENQUIRE_LINK | pdu::RESP
        );
        // A command we do not know: generic_nack, invalid command id.
        let Handled::Reply(reply) = answer_to(&pdu::bare(0x0000_0003, 0, 9)) else {
            panic!("an unknown command is answered")
        };
        assert_eq!(
            pdu::header(&reply).unwrap(),
            Header {
                command_id: pdu::GENERIC_NACK,
                status: pdu::ESME_RINVCMDID,
                sequence: 9
            }
        );
        assert!(matches!(
            answer_to(&pdu::bare(pdu::ALERT_NOTIFICATION, 0, 10)),
            Handled::Done
        ));
        // A deliver_sm cut short, and a receipt without an id: refused for good, not lost
        // silently.
        let Handled::Reply(reply) = answer_to(&pdu::bare(pdu::DELIVER_SM, 0, 11)) else {
            panic!("answered")
        };
        assert_eq!(pdu::header(&reply).unwrap().status, pdu::ESME_RX_P_APPN);
        let receipt_without_id = pdu::SubmitSm {
            source: pdu::Address::phone("13800138000"),
            destination: pdu::Address::sender("12368"),
            esm_class: 0x04,
            registered_delivery: 0,
            data_coding: 0,
            short_message: b"stat:DELIVRD".to_vec(),
        }
        .encode(12)
        .unwrap();
        let mut as_deliver = receipt_without_id.clone();
        as_deliver[4..8].copy_from_slice(&pdu::DELIVER_SM.to_be_bytes());
        let Handled::Reply(reply) = answer_to(&as_deliver) else {
            panic!("answered")
        };
        assert_eq!(pdu::header(&reply).unwrap().status, pdu::ESME_RX_P_APPN);
    }

    #[test]
    fn smpp_urls_say_account_smsc_and_sender() {
        let s =
            SmppSettings::parse("smpp://court%2B1:p%40ss@smsc.example:2775?source=12368&window=20")
                .unwrap();
        assert_eq!(
            (
                s.system_id.as_str(),
                s.password.as_str(),
                s.host.as_str(),
                s.port
            ),
            ("court+1", "p@ss", "smsc.example", 2775)
        );
        assert_eq!((s.source.as_str(), s.window), ("12368", 20));
        for bad in [
            "smpp://smsc:2775?source=1",
            "smpp://id:pw@smsc?source=1",
            "smpp://id:pw@smsc:2775",
            "smpp://id:pw@smsc:2775?source=1&window=0",
            "smpp://id:pw@smsc:2775?source=1&speed=3",
            "smpp://id:password10@smsc:2775?source=1",
            "http://id:pw@smsc:2775?source=1",
        ] {
            assert!(SmppSettings::parse(bad).is_err(), "{bad}");
        }
    }
}
