//! The whole app for a test: a real nats-server on a free port, the writer
//! and the projection worker in-process, and the HTTP server on
//! 127.0.0.1:0 with a tokens file; plus a small Sơn Dương district
//! submitted through `POST /api/v1/submissions` as staff would.

#![allow(dead_code)]

use std::time::Duration;

use dotpha_testkit::nats::NatsServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

/// Tokens of the test district: (token, unit, cadre).
pub const BOOTSTRAP: &str = "tok-bootstrap-0000000001";
pub const SECRETARY: &str = "tok-secretary-0000000002";
pub const PHUC: &str = "tok-ban-to-chuc-00000003";
pub const MANH: &str = "tok-hop-thanh-0000000004";
pub const TU_THINH: &str = "tok-tu-thinh-00000000005";
pub const PHUC_UNG: &str = "tok-phuc-ung-00000000006";
/// Hợp Thành's party secretary, a member of its Standing Committee; not
/// registered by [`App::district`] (the tests that need them do it).
pub const HT_SECRETARY: &str = "tok-bi-thu-hop-thanh-007";

/// The tokens of the test district.
pub const GRANTS: [(&str, &str, &str); 7] = [
    (BOOTSTRAP, "son-duong", "to-chuc-noi-vu"),
    (SECRETARY, "son-duong", "bi-thu-huyen"),
    (PHUC, "ban-to-chuc", "do-xuan-phuc"),
    (MANH, "hop-thanh", "hoang-the-manh"),
    (TU_THINH, "tu-thinh", "chu-tich-tu-thinh"),
    (PHUC_UNG, "phuc-ung", "chu-tich-phuc-ung"),
    (HT_SECRETARY, "hop-thanh", "bi-thu-hop-thanh"),
];

/// Hợp Thành's task, left in progress for the tests to report on.
pub const HOP_THANH_TASK: &str = "ndp-2021-02";

/// A running app; everything stops when it is dropped.
pub struct App {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A client for it.
    pub http: reqwest::Client,
    stop: watch::Sender<bool>,
    running: Option<dotpha_app::Running>,
    _dir: tempfile::TempDir,
    _nats: NatsServer,
}

impl App {
    /// Starts everything; with `access`, reads need a token too (`--access`).
    pub async fn start(access: bool) -> App {
        App::start_with(access, &GRANTS, &[]).await
    }

    /// Starts everything with these tokens, over a log that already holds
    /// `history` (each `(unit, body)` decided in order through the writer's
    /// core, and every one accepted), as after a restore.
    pub async fn start_with(
        access: bool,
        grants: &[(&str, &str, &str)],
        history: &[(String, Vec<u8>)],
    ) -> App {
        let nats = NatsServer::start();
        let dir = tempfile::tempdir().expect("a temp data dir");
        let data = dir.path().to_owned();
        if !history.is_empty() {
            seed(&data.join("log.sqlite"), history);
        }
        let grants: Vec<Value> = grants
            .iter()
            .map(|(token, unit, cadre)| json!({"token": token, "unit": unit, "cadre": cadre}))
            .collect();
        let tokens_file = data.join("tokens.json");
        std::fs::write(&tokens_file, json!({ "tokens": grants }).to_string())
            .expect("write the tokens file");
        let mut settings = dotpha_app::Settings::new(&data, nats.url());
        settings.access = if access {
            dotpha_app::Access::Closed(tokens_file)
        } else {
            dotpha_app::Access::Tokens(tokens_file)
        };
        let (stop, shutdown) = watch::channel(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let running = dotpha_app::App::new(settings)
            .start(listener, shutdown)
            .await
            .expect("the system starts");
        App {
            url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a client"),
            stop,
            running: Some(running),
            _dir: dir,
            _nats: nats,
        }
    }

    /// Starts the app and submits the district; returns it with the last
    /// position, already applied by the read model.
    pub async fn with_district(access: bool) -> (App, u64) {
        let app = App::start(access).await;
        let head = app.district().await;
        app.wait_for(head, access.then_some(SECRETARY)).await;
        (app, head)
    }

    /// Waits (up to a minute: a loaded CI machine runs several apps at
    /// once) until the read model has applied `position`.
    pub async fn wait_for(&self, position: u64, token: Option<&str>) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let response = self
                .get(&format!("/api/v1/cycles?min_position={position}"), token)
                .await;
            let applied = response
                .headers()
                .get("x-dotpha-position")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if applied.is_some_and(|a| a >= position) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the read model did not reach position {position} (at {applied:?}, {})",
                response.status()
            );
        }
    }

    /// The log file the writer keeps (`DIR/log.sqlite`).
    pub fn log_path(&self) -> std::path::PathBuf {
        self._dir.path().join("log.sqlite")
    }

    /// Stops the services and waits for them.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(running) = self.running.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(30), running.wait()).await;
            if let Ok(Err(error)) = stopped {
                panic!("the system stopped with an error: {error}");
            }
        }
    }

    /// `GET path` with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the server answers")
    }

    /// `GET path` as JSON.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let response = self.get(path, token).await;
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("GET {path}: {status} is not JSON ({e}): {text}"));
        (status, value)
    }

    /// `POST /api/v1/submissions` with `{type, data}` (and `extra` members).
    pub async fn act_with(
        &self,
        token: Option<&str>,
        kind: &str,
        data: Value,
        extra: Value,
    ) -> (StatusCode, Value) {
        let mut body = json!({ "type": kind, "data": data });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let mut request = self
            .http
            .post(format!("{}/api/v1/submissions", self.url))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("POST {kind}: {status} is not JSON ({e}): {text}"));
        (status, value)
    }

    /// Submits and insists on acceptance; returns the last event's position.
    pub async fn act(&self, token: &str, kind: &str, data: Value) -> u64 {
        let (status, receipt) = self.act_with(Some(token), kind, data, json!({})).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{kind} was not accepted: {receipt:#}"
        );
        assert_eq!(receipt["status"], "accepted", "{receipt:#}");
        receipt["events"]
            .as_array()
            .and_then(|e| e.last())
            .and_then(|e| e["position"].as_u64())
            .expect("an accepted receipt lists its events")
    }

    /// A district as the article tells it, small: the district, its
    /// Organisation agency, three communes and a village, five cadres, the
    /// 2021 cycle and five tasks in every state from assigned to evaluated.
    pub async fn district(&self) -> u64 {
        // The first submission of an empty log registers the root, sent by
        // the bootstrap actor, who also registers the first committee member.
        self.act(
            BOOTSTRAP,
            "unit.registered",
            json!({"code": "son-duong", "name": "Huyện Sơn Dương", "kind": "district", "parent": null}),
        )
        .await;
        self.act(
            BOOTSTRAP,
            "cadre.registered",
            json!({
            "id": "bi-thu-huyen", "full_name": "Nguyễn Văn Mẫu (dữ liệu mẫu)", "unit": "son-duong",
            "position": "Bí thư Huyện ủy", "party_member": true, "standing_committee": true}),
        )
        .await;
        for (code, name, kind, parent) in [
            ("ban-to-chuc", "Ban Tổ chức Huyện ủy", "agency", "son-duong"),
            ("hop-thanh", "Xã Hợp Thành", "commune", "son-duong"),
            ("tu-thinh", "Xã Tú Thịnh", "commune", "son-duong"),
            ("phuc-ung", "Xã Phúc Ứng", "commune", "son-duong"),
            ("dong-dien", "Thôn Đồng Diễn", "village", "hop-thanh"),
        ] {
            self.act(
                SECRETARY,
                "unit.registered",
                json!({"code": code, "name": name, "kind": kind, "parent": parent}),
            )
            .await;
        }
        for (id, name, unit, position) in [
            (
                "do-xuan-phuc",
                "Đỗ Xuân Phúc",
                "ban-to-chuc",
                "Trưởng Ban Tổ chức Huyện ủy",
            ),
            (
                "hoang-the-manh",
                "Hoàng Thế Mạnh",
                "hop-thanh",
                "Chủ tịch UBND xã Hợp Thành",
            ),
            (
                "chu-tich-tu-thinh",
                "Lê Thị Mẫu (dữ liệu mẫu)",
                "tu-thinh",
                "Chủ tịch UBND xã",
            ),
            (
                "chu-tich-phuc-ung",
                "Phạm Văn Mẫu (dữ liệu mẫu)",
                "phuc-ung",
                "Chủ tịch UBND xã",
            ),
        ] {
            self.act(
                SECRETARY,
                "cadre.registered",
                json!({
                "id": id, "full_name": name, "unit": unit, "position": position,
                "party_member": true, "standing_committee": false}),
            )
            .await;
        }
        self.act(
            SECRETARY,
            "cycle.opened",
            json!({"cycle": "2021", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
        )
        .await;
        self.act(SECRETARY, "task.assigned", json!({
            "task_id": "ndp-2021-01", "cycle": "2021", "assignee": "do-xuan-phuc",
            "title": "100% trưởng thôn, tổ dân phố là đảng viên", "kind": "breakthrough",
            "category": "Xây dựng Đảng", "due": "2021-12-15", "origin": "committee",
            "targets": [{"metric": "truong-thon-dang-vien", "label": "Trưởng thôn, tổ dân phố là đảng viên",
                         "baseline": 388, "target": 400}]})).await;
        self.act(SECRETARY, "task.assigned", json!({
            "task_id": HOP_THANH_TASK, "cycle": "2021", "assignee": "hoang-the-manh",
            "title": "Xã Hợp Thành đạt tiêu chí môi trường và an toàn thực phẩm", "kind": "breakthrough",
            "category": "Nông thôn mới", "due": "2021-11-30", "origin": "committee",
            "description": "Tiêu chí 17 của Bộ tiêu chí quốc gia xã nông thôn mới 2021–2025.",
            "targets": [
                {"metric": "cam-ket-attp", "label": "Cơ sở ký cam kết an toàn thực phẩm", "baseline": 12, "target": 48},
                {"metric": "ho-phan-loai-rac", "label": "Hộ phân loại rác tại nguồn", "baseline": 0, "target": 350}]}))
            .await;
        self.act(MANH, "task.registered", json!({
            "task_id": "ndp-2021-03", "cycle": "2021", "title": "Nâng cao chất lượng sinh hoạt chi bộ",
            "kind": "new", "category": "Xây dựng Đảng", "due": "2021-12-20",
            "targets": [{"metric": "chi-bo-tot", "label": "Chi bộ sinh hoạt đạt chất lượng", "baseline": 5, "target": 9}]}))
            .await;
        self.act(
            SECRETARY,
            "task.approved",
            json!({"task_id": "ndp-2021-03", "comment": "Đồng ý"}),
        )
        .await;
        self.act(SECRETARY, "task.assigned", json!({
            "task_id": "ndp-2021-04", "cycle": "2021", "assignee": "chu-tich-tu-thinh",
            "title": "Giải quyết dứt điểm hồ sơ đất đai tồn đọng", "kind": "difficult",
            "category": "Đất đai", "due": "2021-10-31", "origin": "backlog",
            "backlog_ref": "Kết luận kiểm tra 2020, mục 3",
            "targets": [{"metric": "ho-so", "label": "Hồ sơ tồn đọng còn lại", "baseline": 40, "target": 0}]}))
            .await;
        self.act(SECRETARY, "task.assigned", json!({
            "task_id": "ndp-2021-05", "cycle": "2021", "assignee": "chu-tich-phuc-ung",
            "title": "Đường giao thông nông thôn được cứng hóa", "kind": "breakthrough",
            "category": "Nông thôn mới", "due": "2021-12-10", "origin": "committee",
            "targets": [{"metric": "km", "label": "Km đường được cứng hóa", "baseline": 20, "target": 32}]}))
            .await;
        for (token, task, solutions) in [
            (
                PHUC,
                "ndp-2021-01",
                vec![
                    "Tổ chức cơ sở đảng giới thiệu đảng viên ưu tú ứng cử trưởng thôn",
                    "Bồi dưỡng, kết nạp trưởng thôn đủ tiêu chuẩn vào Đảng",
                    "Đảng ủy xã phân công cán bộ xã là đảng viên làm trưởng thôn",
                ],
            ),
            (
                MANH,
                HOP_THANH_TASK,
                vec![
                    "Cơ sở kinh doanh thực phẩm ký cam kết an toàn thực phẩm và môi trường",
                    "Thí điểm thu gom rác hữu cơ, vô cơ ở thôn Đồng Diễn",
                    "Hướng dẫn hộ gia đình phân loại rác tại nhà",
                ],
            ),
            (
                TU_THINH,
                "ndp-2021-04",
                vec!["Rà soát từng hồ sơ", "Đối thoại với các hộ"],
            ),
            (
                PHUC_UNG,
                "ndp-2021-05",
                vec!["Huy động nhân dân hiến đất, góp công"],
            ),
        ] {
            self.act(
                token,
                "plan.submitted",
                json!({
                "task_id": task, "solutions": solutions,
                "milestones": [{"title": "Sơ kết 6 tháng", "due": "2021-06-30"},
                               {"title": "Tổng kết", "due": "2021-11-30"}]}),
            )
            .await;
        }
        self.act(
            MANH,
            "work.delegated",
            json!({
            "task_id": HOP_THANH_TASK, "delegation_id": "thi-diem-dong-dien", "to": "dong-dien",
            "description": "Thí điểm thu gom rác hữu cơ, vô cơ", "due": "2021-06-30"}),
        )
        .await;
        for (token, task, as_of, values) in [
            (
                PHUC,
                "ndp-2021-01",
                "2021-04-30",
                json!([{"metric": "truong-thon-dang-vien", "value": 393}]),
            ),
            (
                PHUC,
                "ndp-2021-01",
                "2021-09-30",
                json!([{"metric": "truong-thon-dang-vien", "value": 400}]),
            ),
            (
                MANH,
                HOP_THANH_TASK,
                "2021-03-31",
                json!([{"metric": "cam-ket-attp", "value": 20}, {"metric": "ho-phan-loai-rac", "value": 60}]),
            ),
            (
                MANH,
                HOP_THANH_TASK,
                "2021-06-30",
                json!([{"metric": "cam-ket-attp", "value": 30}, {"metric": "ho-phan-loai-rac", "value": 140}]),
            ),
            (
                TU_THINH,
                "ndp-2021-04",
                "2021-08-31",
                json!([{"metric": "ho-so", "value": 6}]),
            ),
            (
                PHUC_UNG,
                "ndp-2021-05",
                "2021-09-30",
                json!([{"metric": "km", "value": 29}]),
            ),
        ] {
            self.act(
                token,
                "progress.reported",
                json!({
                "task_id": task, "as_of": as_of, "values": values, "confidence": "high",
                "note": "Đã họp thôn, người dân đồng thuận"}),
            )
            .await;
        }
        self.act(
            SECRETARY,
            "task.evaluated",
            json!({
            "task_id": "ndp-2021-01", "rating": "excellent", "score": 95,
            "comment": "Hoàn thành vượt tiến độ, 400/400 trưởng thôn là đảng viên"}),
        )
        .await;
        self.act(
            SECRETARY,
            "task.evaluated",
            json!({
            "task_id": "ndp-2021-04", "score": 78,
            "comment": "Giải quyết được 34/40 hồ sơ, còn 6 hồ sơ chuyển năm sau"}),
        )
        .await;
        self.act(
            SECRETARY,
            "task.evaluated",
            json!({
            "task_id": "ndp-2021-05", "rating": "good", "score": 82,
            "comment": "Đạt 9/12 km, huy động tốt sức dân"}),
        )
        .await
    }
}

/// Splits RFC 4180 CSV (quoted fields may hold commas, quotes, newlines).
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// The quarter [`evaluated`] decides, and the milestone due in it.
pub const Q2: &str = "2021-q2";
pub const SIX_MONTHS: &str = "Sơ kết 6 tháng";

/// The district, with Q2 and the year 2021 open; Hợp Thành's chair done on
/// time with two major errors found, self-assessed and decided good; Phúc
/// Ứng's done on time and decided excellent (beside one good: over the
/// quota); Tú Thịnh's done after the quarter. Returns the last position.
pub async fn evaluated(app: &App) -> u64 {
    app.district().await;
    app.act(
        SECRETARY,
        "period.opened",
        json!({"period": Q2, "kind": "quarter", "starts_on": "2021-04-01", "ends_on": "2021-06-30"}),
    )
    .await;
    app.act(
        SECRETARY,
        "period.opened",
        json!({"period": "2021", "kind": "year", "starts_on": "2021-01-01", "ends_on": "2021-12-31"}),
    )
    .await;
    for (token, task, on) in [
        (MANH, HOP_THANH_TASK, "2021-06-25"),
        (PHUC_UNG, "ndp-2021-05", "2021-06-20"),
        (TU_THINH, "ndp-2021-04", "2021-07-05"),
    ] {
        app.act(
            token,
            "milestone.completed",
            json!({"task_id": task, "milestone": SIX_MONTHS, "completed_on": on}),
        )
        .await;
    }
    app.act(
        SECRETARY,
        "product.reviewed",
        json!({"task_id": HOP_THANH_TASK, "milestone": SIX_MONTHS, "major_errors": 2,
               "comment": "Báo cáo sơ kết thiếu số liệu hai thôn"}),
    )
    .await;
    app.act(
        MANH,
        "assessment.self_submitted",
        json!({"period": Q2, "general_points": 27.5, "note": "Hoàn thành mốc sơ kết đúng hạn"}),
    )
    .await;
    app.act(
        SECRETARY,
        "assessment.decided",
        json!({"cadre": "hoang-the-manh", "period": Q2, "peer_group": "chu-tich-xa",
               "general_points": 26}),
    )
    .await;
    app.act(
        SECRETARY,
        "assessment.decided",
        json!({"cadre": "chu-tich-phuc-ung", "period": Q2, "peer_group": "chu-tich-xa",
               "general_points": 25}),
    )
    .await
}

/// Decides `history` into a new log at `path`, in batches, as the writer
/// would; panics naming any submission that is not accepted.
fn seed(path: &std::path::Path, history: &[(String, Vec<u8>)]) {
    let mut ledger = dotpha_store::Ledger::open(path).expect("a new log");
    let recorded_at = dotpha_domain::Timestamp::from_unix_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    );
    for batch in history.chunks(512) {
        let arrivals = batch
            .iter()
            .map(|(unit, body)| {
                dotpha_store::Arrival::read(body, Some(unit), None).expect("a submission id")
            })
            .collect();
        let receipts = ledger
            .submit_batch(arrivals, &recorded_at)
            .expect("committed");
        for receipt in receipts {
            assert_eq!(
                receipt.status,
                dotpha_store::ReceiptStatus::Accepted,
                "{}: {:?}",
                receipt.submission_id,
                receipt.error
            );
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
