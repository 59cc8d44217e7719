//! SMPP 3.4 protocol data units: the few an ESME needs (bind, submit, deliver, enquire,
//! unbind, generic_nack), encoded and decoded by hand. Each PDU is a 16-byte header
//! (length, command id, status, sequence number) and a body of C-octet strings, single
//! octets and, at the end, optional parameters (tag, length, value).

use std::fmt;

pub const GENERIC_NACK: u32 = 0x8000_0000;
pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
pub const SUBMIT_SM: u32 = 0x0000_0004;
pub const DELIVER_SM: u32 = 0x0000_0005;
pub const UNBIND: u32 = 0x0000_0006;
pub const ENQUIRE_LINK: u32 = 0x0000_0015;
pub const ALERT_NOTIFICATION: u32 = 0x0000_0102;
/// A response's command id is its request's with the top bit set.
pub const RESP: u32 = 0x8000_0000;

pub const ESME_ROK: u32 = 0x00;
pub const ESME_RINVCMDID: u32 = 0x03;
pub const ESME_RMSGQFUL: u32 = 0x14;
pub const ESME_RTHROTTLED: u32 = 0x58;
/// "Temporary application error": the SMSC is to try again later.
pub const ESME_RX_T_APPN: u32 = 0x64;
/// "Permanent application error".
pub const ESME_RX_P_APPN: u32 = 0x65;

/// Optional parameters read from delivery receipts.
pub const TLV_RECEIPTED_MESSAGE_ID: u16 = 0x001E;
pub const TLV_MESSAGE_STATE: u16 = 0x0427;

/// The largest PDU accepted from a peer; SMPP's own are far smaller.
pub const MAX_PDU: usize = 64 * 1024;

/// The header of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub command_id: u32,
    pub status: u32,
    pub sequence: u32,
}

/// A malformed PDU.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed SMPP PDU: {}", self.0)
    }
}

impl std::error::Error for Malformed {}

/// Writes a PDU: header, then the body `fill` writes.
pub fn encode(header: Header, fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = vec![0; 16];
    fill(&mut out);
    let len = out.len() as u32;
    out[0..4].copy_from_slice(&len.to_be_bytes());
    out[4..8].copy_from_slice(&header.command_id.to_be_bytes());
    out[8..12].copy_from_slice(&header.status.to_be_bytes());
    out[12..16].copy_from_slice(&header.sequence.to_be_bytes());
    out
}

/// Reads the header of a whole PDU (`bytes` is exactly one PDU, its length included).
pub fn header(bytes: &[u8]) -> Result<Header, Malformed> {
    if bytes.len() < 16 {
        return Err(Malformed("shorter than its header"));
    }
    let word = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    if word(0) as usize != bytes.len() {
        return Err(Malformed("length does not match"));
    }
    Ok(Header {
        command_id: word(4),
        status: word(8),
        sequence: word(12),
    })
}

/// Appends a C-octet string (NUL-terminated), refusing one longer than the field allows
/// (`max` includes the NUL) or containing a NUL.
pub fn put_cstr(out: &mut Vec<u8>, text: &str, max: usize) -> Result<(), String> {
    if text.len() >= max || text.contains('\0') {
        return Err(format!(
            "{text:?} does not fit an SMPP field of {} characters",
            max - 1
        ));
    }
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    Ok(())
}

/// A reader over a PDU body.
pub struct Body<'a> {
    bytes: &'a [u8],
}

impl<'a> Body<'a> {
    pub fn of(pdu: &'a [u8]) -> Self {
        Self {
            bytes: pdu.get(16..).unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, Malformed> {
        let (&b, rest) = self
            .bytes
            .split_first()
            .ok_or(Malformed("body too short"))?;
        self.bytes = rest;
        Ok(b)
    }

    pub fn cstr(&mut self) -> Result<String, Malformed> {
        let end = self
            .bytes
            .iter()
            .position(|&b| b == 0)
            .ok_or(Malformed("a string without its NUL"))?;
        let text = String::from_utf8_lossy(&self.bytes[..end]).into_owned();
        self.bytes = &self.bytes[end + 1..];
        Ok(text)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.bytes.len() < n {
            return Err(Malformed("body too short"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    /// The optional parameters that end a body.
    pub fn tlvs(mut self) -> Result<Vec<(u16, &'a [u8])>, Malformed> {
        let mut out = Vec::new();
        while !self.bytes.is_empty() {
            let head = self.take(4)?;
            let tag = u16::from_be_bytes([head[0], head[1]]);
            let len = u16::from_be_bytes([head[2], head[3]]) as usize;
            out.push((tag, self.take(len)?));
        }
        Ok(out)
    }
}

/// `bind_transceiver`: one session that both submits and receives delivery receipts.
pub fn bind_transceiver(
    sequence: u32,
    system_id: &str,
    password: &str,
    system_type: &str,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    put_cstr(&mut body, system_id, 16)?;
    put_cstr(&mut body, password, 9)?;
    put_cstr(&mut body, system_type, 13)?;
    body.extend_from_slice(&[0x34, 0, 0]); // interface version 3.4, addr_ton, addr_npi
    put_cstr(&mut body, "", 41)?; // address_range
    Ok(encode(
        Header {
            command_id: BIND_TRANSCEIVER,
            status: 0,
            sequence,
        },
        |out| out.extend_from_slice(&body),
    ))
}

/// A PDU with an empty body: enquire_link, unbind and their responses, generic_nack.
pub fn bare(command_id: u32, status: u32, sequence: u32) -> Vec<u8> {
    encode(
        Header {
            command_id,
            status,
            sequence,
        },
        |_| {},
    )
}

/// `deliver_sm_resp`: its message_id is unused and empty.
pub fn deliver_sm_resp(status: u32, sequence: u32) -> Vec<u8> {
    encode(
        Header {
            command_id: DELIVER_SM | RESP,
            status,
            sequence,
        },
        |out| out.push(0),
    )
}

/// An address as SMPP carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub ton: u8,
    pub npi: u8,
    pub digits: String,
}

impl Address {
    /// A phone number: `+8613800138000` is international (TON 1, NPI 1, E.164) and sent
    /// without its plus; any other number goes as written, TON unknown, NPI E.164.
    pub fn phone(number: &str) -> Self {
        match number.strip_prefix('+') {
            Some(digits) => Self {
                ton: 1,
                npi: 1,
                digits: digits.to_string(),
            },
            None => Self {
                ton: 0,
                npi: 1,
                digits: number.to_string(),
            },
        }
    }

    /// The sender: digits (a service number such as 12368) as a short code of unknown
    /// type, letters as alphanumeric (TON 5).
    pub fn sender(text: &str) -> Self {
        if text.bytes().all(|b| b.is_ascii_digit()) {
            Self {
                ton: 0,
                npi: 0,
                digits: text.to_string(),
            }
        } else {
            Self {
                ton: 5,
                npi: 0,
                digits: text.to_string(),
            }
        }
    }
}

/// One `submit_sm`: one message or one part of a long one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitSm {
    pub source: Address,
    pub destination: Address,
    pub esm_class: u8,
    /// Ask for a delivery receipt (1: on success and failure).
    pub registered_delivery: u8,
    pub data_coding: u8,
    /// At most 254 octets; 140 for one SMS over the air.
    pub short_message: Vec<u8>,
}

impl SubmitSm {
    pub fn encode(&self, sequence: u32) -> Result<Vec<u8>, String> {
        let mut body = Vec::with_capacity(64 + self.short_message.len());
        put_cstr(&mut body, "", 6)?; // service_type: the SMSC's default
        body.extend_from_slice(&[self.source.ton, self.source.npi]);
        put_cstr(&mut body, &self.source.digits, 21)?;
        body.extend_from_slice(&[self.destination.ton, self.destination.npi]);
        put_cstr(&mut body, &self.destination.digits, 21)?;
        body.extend_from_slice(&[self.esm_class, 0, 0]); // protocol_id, priority_flag
        put_cstr(&mut body, "", 17)?; // schedule_delivery_time: now
        put_cstr(&mut body, "", 17)?; // validity_period: the SMSC's default
        body.extend_from_slice(&[self.registered_delivery, 0, self.data_coding, 0]);
        let len = u8::try_from(self.short_message.len())
            .ok()
            .filter(|&n| n < 255)
            .ok_or_else(|| "short_message longer than 254 octets".to_string())?;
        body.push(len);
        body.extend_from_slice(&self.short_message);
        Ok(encode(
            Header {
                command_id: SUBMIT_SM,
                status: 0,
                sequence,
            },
            |out| out.extend_from_slice(&body),
        ))
    }
}

/// The fields of a `deliver_sm` that matter to us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverSm {
    pub source: String,
    pub esm_class: u8,
    pub data_coding: u8,
    pub short_message: Vec<u8>,
    pub tlvs: Vec<(u16, Vec<u8>)>,
}

impl DeliverSm {
    pub fn decode(pdu: &[u8]) -> Result<Self, Malformed> {
        let mut b = Body::of(pdu);
        b.cstr()?; // service_type
        b.u8()?;
        b.u8()?;
        let source = b.cstr()?;
        b.u8()?;
        b.u8()?;
        b.cstr()?; // destination
        let esm_class = b.u8()?;
        b.u8()?; // protocol_id
        b.u8()?; // priority_flag
        b.cstr()?; // schedule_delivery_time
        b.cstr()?; // validity_period
        b.u8()?; // registered_delivery
        b.u8()?; // replace_if_present_flag
        let data_coding = b.u8()?;
        b.u8()?; // sm_default_msg_id
        let len = b.u8()? as usize;
        let short_message = b.take(len)?.to_vec();
        let tlvs = b
            .tlvs()?
            .into_iter()
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        Ok(Self {
            source,
            esm_class,
            data_coding,
            short_message,
            tlvs,
        })
    }

    /// A delivery receipt, not a message from a phone (esm_class message type 0x04).
    pub fn is_receipt(&self) -> bool {
        self.esm_class & 0x3C == 0x04
    }

    fn tlv(&self, tag: u16) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }

    /// The receipt it carries: from the optional parameters where the SMSC sends them,
    /// else from the text of SMPP 3.4 Appendix B
    /// (`id:... sub:... dlvr:... submit date:... done date:... stat:DELIVRD err:...`).
    pub fn receipt(&self) -> Option<Receipt> {
        if !self.is_receipt() {
            return None;
        }
        let text = String::from_utf8_lossy(&self.short_message).into_owned();
        let field = |name: &str| -> Option<String> {
            let lower = text.to_ascii_lowercase();
            let at = lower.find(&format!("{name}:"))? + name.len() + 1;
            let rest = &text[at..];
            // "submit date" and "done date" hold a space-free YYMMDDhhmm; others end at a space.
            Some(rest.split(' ').next().unwrap_or_default().to_string())
        };
        let message_id = self
            .tlv(TLV_RECEIPTED_MESSAGE_ID)
            .map(|v| String::from_utf8_lossy(v.strip_suffix(&[0]).unwrap_or(v)).into_owned())
            .or_else(|| field("id"))?;
        let state = match self.tlv(TLV_MESSAGE_STATE).and_then(|v| v.first()) {
            Some(&s) => MessageState::from_code(s),
            None => MessageState::from_stat(&field("stat")?),
        };
        Some(Receipt {
            message_id,
            state,
            error: field("err").filter(|e| !e.is_empty()),
            done_date: field("done date"),
            text,
        })
    }
}

/// A message's final state, as a delivery receipt reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageState {
    Delivered,
    Expired,
    Deleted,
    Undeliverable,
    Accepted,
    Unknown,
    Rejected,
    Enroute,
}

impl MessageState {
    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Enroute,
            2 => Self::Delivered,
            3 => Self::Expired,
            4 => Self::Deleted,
            5 => Self::Undeliverable,
            6 => Self::Accepted,
            8 => Self::Rejected,
            _ => Self::Unknown,
        }
    }

    fn from_stat(stat: &str) -> Self {
        match stat.to_ascii_uppercase().as_str() {
            "DELIVRD" => Self::Delivered,
            "EXPIRED" => Self::Expired,
            "DELETED" => Self::Deleted,
            "UNDELIV" => Self::Undeliverable,
            "ACCEPTD" => Self::Accepted,
            "REJECTD" => Self::Rejected,
            "ENROUTE" => Self::Enroute,
            _ => Self::Unknown,
        }
    }

    /// The stat word of Appendix B.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "DELIVRD",
            Self::Expired => "EXPIRED",
            Self::Deleted => "DELETED",
            Self::Undeliverable => "UNDELIV",
            Self::Accepted => "ACCEPTD",
            Self::Unknown => "UNKNOWN",
            Self::Rejected => "REJECTD",
            Self::Enroute => "ENROUTE",
        }
    }

    /// The message did not and will not reach the phone.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::Expired | Self::Deleted | Self::Undeliverable | Self::Rejected
        )
    }
}

/// A delivery receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The id the SMSC gave the message in its submit_sm_resp.
    pub message_id: String,
    pub state: MessageState,
    pub error: Option<String>,
    /// YYMMDDhhmm, in the SMSC's time.
    pub done_date: Option<String>,
    /// The receipt's text as received.
    pub text: String,
}

/// The message id of a `submit_sm_resp` (absent when it refused).
pub fn submit_sm_resp_id(pdu: &[u8]) -> Result<Option<String>, Malformed> {
    let mut b = Body::of(pdu);
    if b.is_empty() {
        return Ok(None);
    }
    Ok(Some(b.cstr()?).filter(|id| !id.is_empty()))
}

/// What a command status means, for the evidence: `ESME_RTHROTTLED (0x58)`.
pub fn status_name(status: u32) -> String {
    let name = match status {
        0x00 => "ESME_ROK",
        0x01 => "ESME_RINVMSGLEN",
        0x02 => "ESME_RINVCMDLEN",
        0x03 => "ESME_RINVCMDID",
        0x04 => "ESME_RINVBNDSTS",
        0x05 => "ESME_RALYBND",
        0x08 => "ESME_RSYSERR",
        0x0A => "ESME_RINVSRCADR",
        0x0B => "ESME_RINVDSTADR",
        0x0D => "ESME_RBINDFAIL",
        0x0E => "ESME_RINVPASWD",
        0x0F => "ESME_RINVSYSID",
        0x14 => "ESME_RMSGQFUL",
        0x43 => "ESME_RINVESMCLASS",
        0x45 => "ESME_RSUBMITFAIL",
        0x48 => "ESME_RINVSRCTON",
        0x49 => "ESME_RINVSRCNPI",
        0x50 => "ESME_RINVDSTTON",
        0x51 => "ESME_RINVDSTNPI",
        0x58 => "ESME_RTHROTTLED",
        0x64 => "ESME_RX_T_APPN",
        0x65 => "ESME_RX_P_APPN",
        0x66 => "ESME_RX_R_APPN",
        0xFF => "ESME_RUNKNOWNERR",
        _ => "",
    };
    if name.is_empty() {
        format!("command status 0x{status:08X}")
    } else {
        format!("{name} (0x{status:02X})")
    }
}

/// Refusals that no retry will change: a bad message, address or number type, or the
/// SMSC's permanent application error.
pub fn is_permanent(status: u32) -> bool {
    matches!(
        status,
        0x01 | 0x0A | 0x0B | 0x43 | 0x48 | 0x49 | 0x50 | 0x51 | 0x65 | 0x66
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bind_is_laid_out_as_smpp_3_4_says() {
        let pdu = bind_transceiver(7, "songda", "secret", "").unwrap();
        let h = header(&pdu).unwrap();
        assert_eq!(
            h,
            Header {
                command_id: 9,
                status: 0,
                sequence: 7
            }
        );
        assert_eq!(&pdu[16..], b"songda\0secret\0\0\x34\0\0\0");
        assert!(bind_transceiver(1, "a-system-id-too-long", "p", "").is_err());
        assert!(bind_transceiver(1, "s", "password10", "").is_err());
    }

    #[test]
    fn a_submit_round_trips_through_the_deliver_reader() {
        let sm = SubmitSm {
            source: Address::sender("12368"),
            destination: Address::phone("+8613800138000"),
            esm_class: 0x40,
            registered_delivery: 1,
            data_coding: 8,
            short_message: vec![5, 0, 3, 9, 2, 1, 0x4F, 0x60],
        };
        let pdu = sm.encode(3).unwrap();
        assert_eq!(header(&pdu).unwrap().command_id, SUBMIT_SM);
        // deliver_sm has submit_sm's layout.
        let d = DeliverSm::decode(&pdu).unwrap();
        assert_eq!(d.source, "12368");
        assert_eq!((d.esm_class, d.data_coding), (0x40, 8));
        assert_eq!(d.short_message, sm.short_message);
        assert!(d.tlvs.is_empty());
        assert!(header(&pdu[..pdu.len() - 1]).is_err());
    }

    fn receipt_pdu(text: &str, tlvs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut pdu = SubmitSm {
            source: Address::phone("13800138000"),
            destination: Address::sender("12368"),
            esm_class: 0x04,
            registered_delivery: 0,
            data_coding: 0,
            short_message: text.as_bytes().to_vec(),
        }
        .encode(1)
        .unwrap();
        for (tag, value) in tlvs {
            pdu.extend_from_slice(&tag.to_be_bytes());
            pdu.extend_from_slice(&(value.len() as u16).to_be_bytes());
            pdu.extend_from_slice(value);
        }
        let len = pdu.len() as u32;
        pdu[0..4].copy_from_slice(&len.to_be_bytes());
        pdu
    }

    #[test]
    fn receipts_are_read_from_the_text_or_the_optional_parameters() {
        let text = "id:abc123 sub:001 dlvr:001 submit date:2612051630 done date:2612051631 stat:DELIVRD err:000 text:hello";
        let r = DeliverSm::decode(&receipt_pdu(text, &[]))
            .unwrap()
            .receipt()
            .unwrap();
        assert_eq!(r.message_id, "abc123");
        assert_eq!(r.state, MessageState::Delivered);
        assert_eq!(r.error.as_deref(), Some("000"));
        assert_eq!(r.done_date.as_deref(), Some("2612051631"));
        let r = DeliverSm::decode(&receipt_pdu(
            "stat:UNDELIV",
            &[
                (TLV_RECEIPTED_MESSAGE_ID, b"x-9\0"),
                (TLV_MESSAGE_STATE, &[5]),
            ],
        ))
        .unwrap()
        .receipt()
        .unwrap();
        assert_eq!(r.message_id, "x-9");
        assert_eq!(r.state, MessageState::Undeliverable);
        assert!(r.state.is_failure());
        // A message from a phone is not a receipt.
        let mut mo = DeliverSm::decode(&receipt_pdu(text, &[])).unwrap();
        mo.esm_class = 0;
        assert!(mo.receipt().is_none());
    }

    #[test]
    fn statuses_are_named_and_sorted_into_permanent_and_temporary() {
        assert_eq!(status_name(0x58), "ESME_RTHROTTLED (0x58)");
        assert_eq!(status_name(0x1234), "command status 0x00001234");
        assert!(is_permanent(0x0B));
        assert!(!is_permanent(ESME_RTHROTTLED));
        assert!(!is_permanent(0x08));
    }
}
