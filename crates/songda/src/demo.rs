//! The demo data set: a court, its clerk, a case with parties and documents served in
//! several states, made through the same actions as real use, evidence included.

use crate::actions::accounts::{self, Registration};
use crate::actions::cases::{self, NewPartyInput, UploadInput};
use crate::actions::recipient::{self, ConsentInput};
use crate::actions::{Who, serve};
use crate::secrets::hash_password;
use crate::state::AppState;
use crate::store::{NewUser, Role};
use sha2::{Digest, Sha256};
use songda_core::document::Sha256Hex;
use songda_core::evidence::ClientInfo;

pub const PASSWORD: &str = "songda-demo";
pub const COURT: &str = "北京市朝阳区人民法院";
pub const CASE_NUMBER: &str = "(2026)京0105民初12345号";

pub struct Seeded {
    pub walk_phone: String,
    pub walk_code: String,
}

impl Seeded {
    pub fn describe(&self, url: &str) -> String {
        format!(
            "\nSongda demo is running at {url}\n\n\
             Logins (password for all: {PASSWORD}):\n\
             \x20 admin   admin          outgoing SMS and email at {url}/admin/outbox\n\
             \x20 clerk   clerk          {COURT}\n\
             \x20 party   13800000001    张三 (plaintiff): a refused and a signed service\n\
             \x20 party   13800000002    李四 (defendant): documents waiting to be signed\n\n\
             Walk the whole flow as a new party: register at {url}/register with phone {phone},\n\
             read the SMS code at {url}/admin/outbox (log in as admin in another browser), then bind\n\
             case {CASE_NUMBER} with binding code {code}.\n",
            phone = self.walk_phone,
            code = self.walk_code,
        )
    }
}

fn seed_client() -> ClientInfo {
    ClientInfo {
        ip: "127.0.0.1".into(),
        user_agent: "songda demo seed".into(),
    }
}

async fn upload(
    state: &AppState,
    who: &Who,
    case: songda_core::ids::CaseId,
    title: &str,
    doc_type: &str,
    lines: &[&str],
) -> anyhow::Result<crate::store::DocumentRecord> {
    let bytes = crate::pdf::sample_pdf(title, lines);
    let tmp = state.blobs.tmp_path();
    tokio::fs::write(&tmp, &bytes).await?;
    let sha = Sha256Hex::from_bytes(&Sha256::digest(&bytes).into());
    cases::add_document(
        state,
        who,
        case,
        UploadInput {
            title,
            doc_type,
            tmp: &tmp,
            sha256: sha,
            size: bytes.len() as u64,
            time_limit: "",
            time_limit_days: "",
            corrects: "",
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo upload {title}: {}", e.message))
}

async fn party_account(
    state: &AppState,
    name: &str,
    phone: &str,
    email: &str,
) -> anyhow::Result<Who> {
    let user = accounts::register(
        state,
        &Registration {
            name,
            phone,
            email,
            password: PASSWORD,
        },
        &seed_client(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo party {name}: {}", e.message))?;
    state.store.mark_phone_verified(phone, state.now()).await?;
    let user = state.store.user(user.id).await?;
    Ok(Who {
        user,
        client: seed_client(),
    })
}

fn e(err: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", err.code, err.message)
}

pub async fn seed(state: &AppState) -> anyhow::Result<Seeded> {
    let now = state.now();
    let hash = hash_password(PASSWORD)?;
    let court = state.store.ensure_court(COURT, now).await?;
    state
        .store
        .create_user(
            &NewUser {
                role: Role::Admin,
                name: "平台管理员",
                login: Some("admin"),
                phone: None,
                email: None,
                password_hash: &hash,
                phone_verified_at: Some(now),
                court_id: None,
            },
            now,
        )
        .await?;
    let clerk = state
        .store
        .create_user(
            &NewUser {
                role: Role::Clerk,
                name: "王书记员",
                login: Some("clerk"),
                phone: None,
                email: None,
                password_hash: &hash,
                phone_verified_at: Some(now),
                court_id: Some(court.id),
            },
            now,
        )
        .await?;
    let clerk = Who {
        user: clerk,
        client: seed_client(),
    };

    let case = cases::create_case(state, &clerk, CASE_NUMBER, "张三诉李四买卖合同纠纷")
        .await
        .map_err(e)?;
    let summons = upload(
        state,
        &clerk,
        case.id,
        "民事传票",
        "summons",
        &[
            "案号：(2026)京0105民初12345号",
            "被传唤人：李四",
            "传唤事由：开庭审理",
            "应到时间：2026年12月15日 09:30",
            "应到处所：本院第三法庭",
        ],
    )
    .await?;
    let notice = upload(
        state,
        &clerk,
        case.id,
        "应诉通知书",
        "notice",
        &[
            "李四：",
            "本院已受理原告张三诉你买卖合同纠纷一案。",
            "请在收到起诉状副本之日起十五日内提交答辩状。",
        ],
    )
    .await?;
    let complaint = upload(
        state,
        &clerk,
        case.id,
        "起诉状副本",
        "complaint_copy",
        &[
            "原告：张三",
            "被告：李四",
            "诉讼请求：判令被告支付货款人民币八万元。",
        ],
    )
    .await?;
    let evidence = upload(
        state,
        &clerk,
        case.id,
        "证据材料（原告）",
        "evidence",
        &["证据一：买卖合同", "证据二：送货单", "证据三：微信聊天记录"],
    )
    .await?;
    let hearing = upload(
        state,
        &clerk,
        case.id,
        "开庭通知书",
        "notice",
        &[
            "张三：",
            "本案定于2026年12月15日09:30在本院第三法庭公开开庭审理。",
        ],
    )
    .await?;

    let zhang = party_account(state, "张三", "13800000001", "zhangsan@example.com").await?;
    let li = party_account(state, "李四", "13800000002", "lisi@example.com").await?;
    let mut codes = Vec::new();
    for (name, role, phone, email) in [
        ("张三", "plaintiff", "13800000001", "zhangsan@example.com"),
        ("李四", "defendant", "13800000002", "lisi@example.com"),
        ("王五", "third_party", "13800000003", "wangwu@example.com"),
    ] {
        let (party, code) = cases::add_party(
            state,
            &clerk,
            case.id,
            &NewPartyInput {
                name,
                role,
                phone,
                email: Some(email),
                consent_basis: None,
            },
        )
        .await
        .map_err(e)?;
        codes.push((party, code));
    }
    for (who, idx) in [(&zhang, 0), (&li, 1)] {
        recipient::bind_case(state, who, CASE_NUMBER, &codes[idx].1)
            .await
            .map_err(e)?;
        recipient::confirm_address(
            state,
            who,
            case.id,
            &ConsentInput {
                channels: &["sms".into(), "email".into()],
                email: who.user.email.as_deref(),
                phone: None,
                acknowledged: true,
            },
        )
        .await
        .map_err(e)?;
    }
    // 李四: the complaint copy signed, the summons and notice waiting.
    let signed = serve::serve(
        state,
        &clerk,
        case.id,
        codes[1].0.id,
        &[complaint.id, evidence.id],
    )
    .await
    .map_err(e)?;
    recipient::record_access(state, &li, &signed, None, false)
        .await
        .map_err(e)?;
    recipient::sign(state, &li, signed.service.id, true)
        .await
        .map_err(e)?;
    serve::serve(
        state,
        &clerk,
        case.id,
        codes[1].0.id,
        &[summons.id, notice.id],
    )
    .await
    .map_err(e)?;
    // 张三: one refused (wrong document), one signed.
    let wrong = serve::serve(state, &clerk, case.id, codes[0].0.id, &[notice.id])
        .await
        .map_err(e)?;
    recipient::refuse(
        state,
        &zhang,
        wrong.service.id,
        "wrong_document",
        Some("这份应诉通知书是发给被告的，不是给我的。"),
    )
    .await
    .map_err(e)?;
    let ok = serve::serve(state, &clerk, case.id, codes[0].0.id, &[hearing.id])
        .await
        .map_err(e)?;
    recipient::record_access(state, &zhang, &ok, None, false)
        .await
        .map_err(e)?;
    recipient::sign(state, &zhang, ok.service.id, true)
        .await
        .map_err(e)?;

    Ok(Seeded {
        walk_phone: "13800000003".into(),
        walk_code: codes[2].1.clone(),
    })
}
