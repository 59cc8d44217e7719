//! Checking an RFC 3161 timestamp token: a CMS SignedData (RFC 5652) whose content is a
//! TSTInfo, signed by a timestamp authority's certificate carried in the token.
//!
//! A token is accepted when its TSTInfo stamps exactly the expected SHA-256 imprint, its
//! signed attributes name that content and its digest, its ESS signing-certificate
//! attribute names the certificate that signed (RFC 3161 2.4.1, RFC 5035), the signature
//! verifies with that certificate's key, the certificate is for timestamping (extended key
//! usage `timeStamping`) and was valid at the stamped time. Whether the certificate is one
//! the reader trusts is a separate answer: it chains to a given certificate, or no
//! certificate was given.

use super::der::{self, Tlv};
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};

// Object identifiers, as their DER contents.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const ATTR_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const ATTR_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const ATTR_SIGNING_CERTIFICATE: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
];
const ATTR_SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
pub(super) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const EXT_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const EXT_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const EXT_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const EXT_NAME_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x1e];
const EXT_CRL_POINTS: &[u8] = &[0x55, 0x1d, 0x1f];
const EXT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
const EXT_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const EXT_KEY_USAGE_EXTENDED: &[u8] = &[0x55, 0x1d, 0x25];
const KP_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
const NAME_CN: &[u8] = &[0x55, 0x04, 0x03];
const NAME_O: &[u8] = &[0x55, 0x04, 0x0a];

/// At most this many certificates in a token: a chain is a handful, and each one carried
/// may cost a signature check per step.
const MAX_CARRIED: usize = 10;

/// What a token that checks out says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The authority's time, `YYYY-MM-DDTHH:MM:SS[.f]Z`.
    pub gen_time: String,
    /// Who signed: the certificate subject's common name and organisation.
    pub authority: String,
    /// The token's serial number, hex.
    pub serial: String,
    /// The authority's policy, dotted OID.
    pub policy: String,
    /// The nonce of the request, big-endian magnitude, if the token carries one.
    pub nonce: Option<Vec<u8>>,
    /// True when the signer chains to a trusted certificate given to [`check`]; false
    /// when none was given.
    pub trusted: bool,
}

/// Checks a DER timestamp token (a CMS ContentInfo) against the SHA-256 `imprint` it must
/// stamp and, when `trusted` is not empty, the certificates (DER) it must chain to.
pub fn check(token: &[u8], imprint: &[u8], trusted: &[Vec<u8>]) -> Result<Stamp, String> {
    let signed = SignedData::parse(token)?;
    let info = TstInfo::parse(signed.content)?;
    if info.imprint_algorithm != SHA256 {
        return Err(format!(
            "the token stamps a {} digest, not SHA-256",
            der::oid_string(&info.imprint_algorithm)
        ));
    }
    if info.imprint != imprint {
        return Err("the token stamps another digest than this tree head's".into());
    }
    let signer = signed.signer_certificate()?;
    let gen_time = info.gen_time;
    signed.check_signed_attributes(&signer)?;
    verify_signature(
        &signer.spki,
        &signed.signature_algorithm,
        &signed.digest_algorithm,
        &signed.signed_message(),
        signed.signature,
    )
    .map_err(|e| format!("the authority's signature: {e}"))?;
    if !signer.time_stamping {
        return Err(format!(
            "the certificate of {} is not for timestamping (no timeStamping extended key usage)",
            signer.subject_name()
        ));
    }
    if !signer.valid_at(gen_time) {
        return Err(format!(
            "the stamped time {} is outside the validity of {}'s certificate ({} to {})",
            der::format_time(gen_time),
            signer.subject_name(),
            der::format_time(signer.not_before),
            der::format_time(signer.not_after)
        ));
    }
    if let Some(id) = &signer.unknown_critical {
        return Err(format!(
            "the certificate of {} has a critical extension this verifier does not know ({id})",
            signer.subject_name()
        ));
    }
    let trusted = if trusted.is_empty() {
        false
    } else {
        chain(&signer, &signed.certificates, trusted, gen_time)?;
        true
    };
    Ok(Stamp {
        gen_time: der::format_time(gen_time),
        authority: signer.subject_name(),
        serial: hex::encode(info.serial),
        policy: der::oid_string(&info.policy),
        nonce: info.nonce,
        trusted,
    })
}

/// Reads the certificates of a PEM file (one or more `CERTIFICATE` blocks) or of a DER file.
pub fn read_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        Certificate::parse(bytes)?;
        return Ok(vec![bytes.to_vec()]);
    };
    let found = crate::pem::blocks(text, "CERTIFICATE")?;
    if found.is_empty() {
        return Err("the file holds no PEM certificate".into());
    }
    for der in &found {
        Certificate::parse(der)?;
    }
    Ok(found)
}

struct SignedData<'a> {
    content: &'a [u8],
    certificates: Vec<&'a [u8]>,
    signer_id: SignerId<'a>,
    digest_algorithm: Vec<u8>,
    signed_attributes: Tlv<'a>,
    signature_algorithm: Vec<u8>,
    signature: &'a [u8],
}

enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(&'a [u8]),
}

impl<'a> SignedData<'a> {
    fn parse(token: &'a [u8]) -> Result<Self, String> {
        let info = der::single(token, der::SEQUENCE, "the timestamp token")?;
        let mut info = info.items();
        if info.expect(der::OID, "the token's content type")?.value != SIGNED_DATA {
            return Err("the token is not CMS SignedData".into());
        }
        let explicit = info.expect(der::context(0), "the token's content")?;
        info.finish("the timestamp token")?;
        let signed = der::single(explicit.value, der::SEQUENCE, "SignedData")?;
        let mut s = signed.items();
        s.expect(der::INTEGER, "SignedData version")?;
        s.expect(der::SET, "SignedData digest algorithms")?;
        let mut encap = s.expect(der::SEQUENCE, "the encapsulated content")?.items();
        if encap
            .expect(der::OID, "the encapsulated content type")?
            .value
            != TST_INFO
        {
            return Err("the token does not hold a TSTInfo".into());
        }
        let wrapped = encap.expect(der::context(0), "the TSTInfo")?;
        encap.finish("the encapsulated content")?;
        let content = der::single(wrapped.value, der::OCTET_STRING, "the TSTInfo")?.value;
        let mut certificates = Vec::new();
        if let Some(set) = s.optional(der::context(0), "the token's certificates")? {
            let mut items = set.items();
            while !items.is_empty() {
                certificates.push(items.next_item("a certificate of the token")?.raw);
            }
            if certificates.len() > MAX_CARRIED {
                return Err(format!(
                    "the token carries {} certificates; at most {MAX_CARRIED} are read",
                    certificates.len()
                ));
            }
        }
        s.optional(der::context(1), "the token's revocation lists")?;
        let infos = s.expect(der::SET, "the signer infos")?;
        s.finish("SignedData")?;
        let mut infos = infos.items();
        let signer = infos.expect(der::SEQUENCE, "the signer info")?;
        if !infos.is_empty() {
            return Err("the token has more than one signer".into());
        }
        let mut si = signer.items();
        si.expect(der::INTEGER, "the signer info version")?;
        let sid = si.next_item("the signer's identifier")?;
        let signer_id = match sid.tag {
            der::SEQUENCE => {
                let mut parts = sid.items();
                let issuer = parts.expect(der::SEQUENCE, "the signer's issuer")?.raw;
                let serial = parts.expect(der::INTEGER, "the signer's serial")?.value;
                SignerId::IssuerSerial { issuer, serial }
            }
            tag if tag == der::context_primitive(0) => SignerId::KeyId(sid.value),
            _ => return Err("the signer's identifier is malformed".into()),
        };
        let digest_algorithm = der::algorithm(
            &si.expect(der::SEQUENCE, "the signer's digest algorithm")?,
            "digest algorithm",
        )?;
        let signed_attributes = si
            .optional(der::context(0), "the signed attributes")?
            .ok_or("the token has no signed attributes")?;
        let signature_algorithm = der::algorithm(
            &si.expect(der::SEQUENCE, "the signature algorithm")?,
            "signature algorithm",
        )?;
        let signature = si.expect(der::OCTET_STRING, "the signature")?.value;
        Ok(Self {
            content,
            certificates,
            signer_id,
            digest_algorithm,
            signed_attributes,
            signature_algorithm,
            signature,
        })
    }

    /// The token's certificate that `sid` names.
    fn signer_certificate(&self) -> Result<Certificate<'a>, String> {
        // Other kinds of certificate a token may carry (attribute certificates) are skipped.
        for cert in self
            .certificates
            .iter()
            .filter_map(|raw| Certificate::parse(raw).ok())
        {
            let matches = match self.signer_id {
                SignerId::IssuerSerial { issuer, serial } => {
                    cert.issuer == issuer && cert.serial == serial
                }
                SignerId::KeyId(id) => cert.subject_key_id == Some(id),
            };
            if matches {
                return Ok(cert);
            }
        }
        Err(
            "the token does not carry the certificate that signed it (request it with certReq)"
                .into(),
        )
    }

    /// The bytes signed: the signed attributes with their SET tag (RFC 5652 5.4).
    fn signed_message(&self) -> Vec<u8> {
        let mut bytes = self.signed_attributes.raw.to_vec();
        bytes[0] = der::SET;
        bytes
    }

    fn check_signed_attributes(&self, signer: &Certificate<'_>) -> Result<(), String> {
        let (mut content_type, mut message_digest, mut signing_cert) = (false, false, false);
        let mut attrs = self.signed_attributes.items();
        while !attrs.is_empty() {
            let mut attr = attrs.expect(der::SEQUENCE, "a signed attribute")?.items();
            let kind = attr.expect(der::OID, "a signed attribute's type")?.value;
            let mut values = attr
                .expect(der::SET, "a signed attribute's values")?
                .items();
            let value = values.next_item("a signed attribute's value")?;
            match kind {
                ATTR_CONTENT_TYPE => {
                    if value.tag != der::OID || value.value != TST_INFO {
                        return Err("the signed content type is not TSTInfo".into());
                    }
                    content_type = true;
                }
                ATTR_MESSAGE_DIGEST => {
                    if self.digest_algorithm == SHA1 {
                        return Err(
                            "the token is signed over a SHA-1 digest, which is not accepted".into(),
                        );
                    }
                    let want = hash(&self.digest_algorithm, self.content)?;
                    if value.tag != der::OCTET_STRING || value.value != want.as_slice() {
                        return Err("the signed digest is not the TSTInfo's".into());
                    }
                    message_digest = true;
                }
                ATTR_SIGNING_CERTIFICATE | ATTR_SIGNING_CERTIFICATE_V2 => {
                    let v2 = kind == ATTR_SIGNING_CERTIFICATE_V2;
                    check_signing_certificate(&value, v2, signer.raw)?;
                    signing_cert = true;
                }
                _ => {}
            }
        }
        match (content_type, message_digest, signing_cert) {
            (true, true, true) => Ok(()),
            (false, _, _) => Err("the token does not sign its content type".into()),
            (_, false, _) => Err("the token does not sign its content's digest".into()),
            (_, _, false) => Err(
                "the token does not name its signing certificate (ESS signingCertificate)".into(),
            ),
        }
    }
}

/// The first ESSCertID(v2) must hash the signer's certificate.
fn check_signing_certificate(value: &Tlv<'_>, v2: bool, signer: &[u8]) -> Result<(), String> {
    let mut certs = value
        .items()
        .expect(der::SEQUENCE, "the signing certificate list")?
        .items();
    let mut id = certs
        .expect(der::SEQUENCE, "the signing certificate id")?
        .items();
    let algorithm = if v2 && id.peek_tag() == Some(der::SEQUENCE) {
        der::algorithm(&id.next_item("its hash algorithm")?, "hash algorithm")?
    } else if v2 {
        SHA256.to_vec()
    } else {
        SHA1.to_vec()
    };
    let named = id
        .expect(der::OCTET_STRING, "the signing certificate hash")?
        .value;
    if hash(&algorithm, signer)? != named {
        return Err("the signing certificate the token names is not the one that signed".into());
    }
    Ok(())
}

fn hash(algorithm: &[u8], bytes: &[u8]) -> Result<Vec<u8>, String> {
    let algorithm = match algorithm {
        SHA256 => &digest::SHA256,
        SHA384 => &digest::SHA384,
        SHA512 => &digest::SHA512,
        SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => {
            return Err(format!(
                "unsupported digest algorithm {}",
                der::oid_string(other)
            ));
        }
    };
    Ok(digest::digest(algorithm, bytes).as_ref().to_vec())
}

struct TstInfo {
    policy: Vec<u8>,
    imprint_algorithm: Vec<u8>,
    imprint: Vec<u8>,
    serial: Vec<u8>,
    gen_time: time::OffsetDateTime,
    nonce: Option<Vec<u8>>,
}

impl TstInfo {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let info = der::single(bytes, der::SEQUENCE, "the TSTInfo")?;
        let mut i = info.items();
        i.expect(der::INTEGER, "the TSTInfo version")?;
        let policy = i.expect(der::OID, "the TSA policy")?.value.to_vec();
        let mut imprint = i.expect(der::SEQUENCE, "the message imprint")?.items();
        let imprint_algorithm = der::algorithm(
            &imprint.expect(der::SEQUENCE, "the imprint's algorithm")?,
            "imprint algorithm",
        )?;
        let hashed = imprint
            .expect(der::OCTET_STRING, "the imprint's digest")?
            .value
            .to_vec();
        let serial = i.expect(der::INTEGER, "the serial number")?.value.to_vec();
        let gen_time = der::time(&i.expect(der::GENERALIZED_TIME, "genTime")?, "genTime")?;
        i.optional(der::SEQUENCE, "the accuracy")?;
        i.optional(der::BOOLEAN, "the ordering")?;
        let nonce = i
            .optional(der::INTEGER, "the nonce")?
            .map(|n| strip_sign_byte(n.value).to_vec());
        Ok(Self {
            policy,
            imprint_algorithm,
            imprint: hashed,
            serial,
            gen_time,
            nonce,
        })
    }
}

/// An INTEGER's contents without the 0x00 that keeps a positive number positive.
pub(super) fn strip_sign_byte(contents: &[u8]) -> &[u8] {
    match contents {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => contents,
    }
}

/// The parts of an X.509 certificate this check needs.
struct Certificate<'a> {
    raw: &'a [u8],
    tbs: &'a [u8],
    signature_algorithm: Vec<u8>,
    signature: &'a [u8],
    serial: &'a [u8],
    issuer: &'a [u8],
    subject: &'a [u8],
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
    spki: Tlv<'a>,
    subject_key_id: Option<&'a [u8]>,
    time_stamping: bool,
    /// basicConstraints cA.
    is_ca: bool,
    /// basicConstraints pathLenConstraint.
    path_len: Option<u64>,
    /// keyUsage, if present: whether keyCertSign is set.
    may_sign_certificates: Option<bool>,
    /// A critical extension not known here, which makes the certificate unusable.
    unknown_critical: Option<String>,
}

impl<'a> Certificate<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, String> {
        let what = "a certificate";
        let cert = der::single(raw, der::SEQUENCE, what)?;
        let mut c = cert.items();
        let tbs = c.expect(der::SEQUENCE, what)?;
        let signature_algorithm = der::algorithm(&c.expect(der::SEQUENCE, what)?, what)?;
        let signature = bit_string(c.expect(der::BIT_STRING, what)?.value)?;
        let mut t = tbs.items();
        t.optional(der::context(0), what)?;
        let serial = t.expect(der::INTEGER, what)?.value;
        t.expect(der::SEQUENCE, what)?;
        let issuer = t.expect(der::SEQUENCE, what)?.raw;
        let mut validity = t.expect(der::SEQUENCE, what)?.items();
        let not_before = der::time(&validity.next_item(what)?, "notBefore")?;
        let not_after = der::time(&validity.next_item(what)?, "notAfter")?;
        let subject = t.expect(der::SEQUENCE, what)?.raw;
        let spki = t.expect(der::SEQUENCE, what)?;
        t.optional(der::context_primitive(1), what)?;
        t.optional(der::context_primitive(2), what)?;
        let (mut subject_key_id, mut time_stamping) = (None, false);
        let (mut is_ca, mut path_len, mut may_sign_certificates) = (false, None, None);
        let mut unknown_critical = None;
        if let Some(wrapped) = t.optional(der::context(3), what)? {
            let mut exts = der::single(wrapped.value, der::SEQUENCE, what)?.items();
            while !exts.is_empty() {
                let mut ext = exts.expect(der::SEQUENCE, what)?.items();
                let id = ext.expect(der::OID, what)?.value;
                let critical = ext
                    .optional(der::BOOLEAN, what)?
                    .is_some_and(|b| b.value != [0]);
                let value = ext.expect(der::OCTET_STRING, what)?.value;
                match id {
                    EXT_BASIC_CONSTRAINTS => {
                        let mut bc = der::single(value, der::SEQUENCE, what)?.items();
                        if let Some(ca) = bc.optional(der::BOOLEAN, what)? {
                            is_ca = ca.value != [0];
                        }
                        if let Some(n) = bc.optional(der::INTEGER, what)? {
                            path_len = Some(
                                n.value
                                    .iter()
                                    .fold(0u64, |acc, b| acc.saturating_mul(256) + u64::from(*b)),
                            );
                        }
                    }
                    EXT_KEY_USAGE => {
                        // Bit 5 of the BIT STRING: keyCertSign.
                        let bits = der::single(value, der::BIT_STRING, what)?.value;
                        may_sign_certificates =
                            Some(bits.get(1).is_some_and(|first| first & 0x04 != 0));
                    }
                    EXT_SUBJECT_ALT_NAME | EXT_NAME_CONSTRAINTS | EXT_CRL_POINTS | EXT_POLICIES
                    | EXT_AUTHORITY_KEY_ID => {}
                    other
                        if critical
                            && !matches!(other, EXT_SUBJECT_KEY_ID | EXT_KEY_USAGE_EXTENDED) =>
                    {
                        unknown_critical.get_or_insert_with(|| der::oid_string(other));
                    }
                    _ => {}
                }
                match id {
                    EXT_SUBJECT_KEY_ID => {
                        subject_key_id = Some(der::single(value, der::OCTET_STRING, what)?.value);
                    }
                    EXT_KEY_USAGE_EXTENDED => {
                        let mut usages = der::single(value, der::SEQUENCE, what)?.items();
                        while !usages.is_empty() {
                            if usages.expect(der::OID, what)?.value == KP_TIME_STAMPING {
                                time_stamping = true;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Self {
            raw,
            tbs: tbs.raw,
            signature_algorithm,
            signature,
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            spki,
            subject_key_id,
            time_stamping,
            is_ca,
            path_len,
            may_sign_certificates,
            unknown_critical,
        })
    }

    fn valid_at(&self, t: time::OffsetDateTime) -> bool {
        self.not_before <= t && t <= self.not_after
    }

    /// Whether this certificate may issue others, `below` CA certificates down the chain.
    fn may_issue(&self, below: u64, at: time::OffsetDateTime) -> bool {
        self.is_ca
            && self.may_sign_certificates != Some(false)
            && self.path_len.is_none_or(|n| below <= n)
            && self.unknown_critical.is_none()
            && self.valid_at(at)
    }

    /// "CN, O" of the subject, or its DER in hex if it has neither.
    fn subject_name(&self) -> String {
        let mut parts = Vec::new();
        for wanted in [NAME_CN, NAME_O] {
            let mut rdns = der::Der::new(
                der::single(self.subject, der::SEQUENCE, "subject")
                    .map(|s| s.value)
                    .unwrap_or_default(),
            );
            while let Ok(set) = rdns.next_item("subject") {
                let mut atvs = set.items();
                while let Ok(atv) = atvs.next_item("subject") {
                    let mut atv = atv.items();
                    if let (Ok(id), Ok(value)) = (atv.next_item("id"), atv.next_item("value"))
                        && id.value == wanted
                        && let Ok(text) = std::str::from_utf8(value.value)
                    {
                        parts.push(text.to_string());
                    }
                }
            }
        }
        if parts.is_empty() {
            hex::encode(self.subject)
        } else {
            parts.join(", ")
        }
    }
}

/// A BIT STRING's bytes (no unused bits, as keys and signatures have).
fn bit_string(contents: &[u8]) -> Result<&[u8], String> {
    match contents.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err("a bit string with unused bits".into()),
    }
}

/// Verifies `signature` over `message` with the key in `spki` (a SubjectPublicKeyInfo).
fn verify_signature(
    spki: &Tlv<'_>,
    algorithm: &[u8],
    digest_algorithm: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let mut s = spki.items();
    let mut key_algorithm = s.expect(der::SEQUENCE, "the public key algorithm")?.items();
    let key_type = key_algorithm.expect(der::OID, "the public key type")?.value;
    let curve = key_algorithm
        .optional(der::OID, "the curve")?
        .map(|c| c.value);
    let key = bit_string(s.expect(der::BIT_STRING, "the public key")?.value)?;
    let digest = match algorithm {
        SHA256_WITH_RSA | ECDSA_SHA256 => SHA256,
        SHA384_WITH_RSA | ECDSA_SHA384 => SHA384,
        SHA512_WITH_RSA | ECDSA_SHA512 => SHA512,
        _ => digest_algorithm,
    };
    let scheme: &'static dyn sig::VerificationAlgorithm = match (key_type, curve, digest) {
        (RSA_ENCRYPTION, _, SHA256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (RSA_ENCRYPTION, _, SHA384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (RSA_ENCRYPTION, _, SHA512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (EC_PUBLIC_KEY, Some(P256), SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P256), SHA384) => &sig::ECDSA_P256_SHA384_ASN1,
        (EC_PUBLIC_KEY, Some(P384), SHA256) => &sig::ECDSA_P384_SHA256_ASN1,
        (EC_PUBLIC_KEY, Some(P384), SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
        (ED25519, _, _) => &sig::ED25519,
        _ => {
            return Err(format!(
                "unsupported signature: key {} with {}",
                der::oid_string(key_type),
                der::oid_string(algorithm)
            ));
        }
    };
    let fits_key = match algorithm {
        RSA_ENCRYPTION | SHA256_WITH_RSA | SHA384_WITH_RSA | SHA512_WITH_RSA => {
            key_type == RSA_ENCRYPTION
        }
        ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512 => key_type == EC_PUBLIC_KEY,
        ED25519 => key_type == ED25519,
        _ => false,
    };
    if !fits_key {
        return Err(format!(
            "the signature algorithm {} does not fit a {} key",
            der::oid_string(algorithm),
            der::oid_string(key_type)
        ));
    }
    UnparsedPublicKey::new(scheme, key)
        .verify(message, signature)
        .map_err(|_| "the signature does not verify".to_string())
}

/// The signer must be one of `trusted`, or be issued (and signed) by one, possibly through
/// certificates the token carries. Every issuer on the way must be a CA allowed to sign
/// certificates (basicConstraints, keyUsage, path length) and valid at the stamped time.
fn chain(
    signer: &Certificate<'_>,
    carried: &[&[u8]],
    trusted: &[Vec<u8>],
    at: time::OffsetDateTime,
) -> Result<(), String> {
    let trusted: Vec<Certificate<'_>> = trusted
        .iter()
        .map(|t| Certificate::parse(t))
        .collect::<Result<_, _>>()?;
    let carried: Vec<Certificate<'_>> = carried
        .iter()
        .filter_map(|c| Certificate::parse(c).ok())
        .collect();
    // `below`: how many CA certificates lie between the parent and the signer.
    let issued_by = |child: &Certificate<'_>, parent: &Certificate<'_>, below: u64| {
        child.issuer == parent.subject
            && parent.may_issue(below, at)
            && verify_signature(
                &parent.spki,
                &child.signature_algorithm,
                &[],
                child.tbs,
                child.signature,
            )
            .is_ok()
    };
    let mut current = Certificate::parse(signer.raw)?;
    for below in 0..=MAX_CARRIED as u64 {
        if trusted.iter().any(|t| t.raw == current.raw)
            || trusted.iter().any(|t| issued_by(&current, t, below))
        {
            return Ok(());
        }
        match carried
            .iter()
            .find(|c| c.raw != current.raw && issued_by(&current, c, below))
        {
            Some(parent) => current = Certificate::parse(parent.raw)?,
            None => break,
        }
    }
    Err(format!(
        "the timestamp was signed by {}, whose certificate does not chain to the trusted TSA certificate",
        signer.subject_name()
    ))
}
