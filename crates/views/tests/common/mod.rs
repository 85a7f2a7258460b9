//! Support for the read-model tests: a log in a temporary directory filled
//! through the writer's core (`Ledger::submit_batch`), and fresh read models
//! built from it.

#![allow(dead_code)]

use std::collections::HashMap;

use dotpha_domain::Timestamp;
use dotpha_store::{Arrival, Ledger, Receipt, ReceiptStatus, RecordedEvent};
use dotpha_views::ReadModel;
use serde_json::{Value, json};

/// Milliseconds since the epoch of an RFC 3339 instant: the `now` of a query.
pub fn ms(instant: &str) -> i64 {
    Timestamp::parse(instant)
        .unwrap_or_else(|| panic!("{instant} is an instant"))
        .unix_millis()
}

/// A log being written, one submission at a time.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub ledger: Ledger,
    sent: u64,
    occurred_at: String,
    /// Each actor's unit: registrations are sent for it.
    homes: HashMap<String, String>,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario::new()
    }
}

impl Scenario {
    /// An empty log.
    pub fn new() -> Scenario {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = Ledger::open(dir.path().join("log.sqlite")).expect("the log opens");
        Scenario {
            dir,
            ledger,
            sent: 0,
            occurred_at: "2021-01-04T08:00:00+07:00".to_owned(),
            homes: HashMap::new(),
        }
    }

    /// Later submissions happen at `instant`.
    pub fn at(&mut self, instant: &str) -> &mut Scenario {
        self.occurred_at = instant.to_owned();
        self
    }

    /// Submits and returns the receipt, whatever it says.
    pub fn try_submit(&mut self, unit: &str, actor: &str, kind: &str, data: Value) -> Receipt {
        self.sent += 1;
        let id = format!("sub-{:08}", self.sent);
        let body = json!({
            "schema": "dotpha.submission.v1",
            "submission_id": id,
            "unit": unit,
            "actor": actor,
            "occurred_at": self.occurred_at,
            "type": kind,
            "data": data,
        })
        .to_string();
        let arrival = Arrival::read(body.as_bytes(), Some(unit), Some(&id)).expect("an id");
        let recorded_at = Timestamp::from_unix_millis(1_614_650_000_000 + self.sent as i64);
        self.ledger
            .submit_batch(vec![arrival], &recorded_at)
            .expect("committed")
            .remove(0)
    }

    /// Submits and asserts it was accepted.
    pub fn submit(&mut self, unit: &str, actor: &str, kind: &str, data: Value) -> Receipt {
        let receipt = self.try_submit(unit, actor, kind, data.clone());
        assert_eq!(
            receipt.status,
            ReceiptStatus::Accepted,
            "{kind} {data}: {:?}",
            receipt.error
        );
        receipt
    }

    /// Every event of the log, in order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.ledger
            .log()
            .events_from(1, usize::MAX >> 1)
            .expect("events read")
    }

    /// A fresh read model named `name` in the log's directory, with every
    /// event applied.
    pub fn read_model(&self, name: &str) -> ReadModel {
        let mut read =
            ReadModel::open(self.dir.path().join(format!("{name}.sqlite"))).expect("opens");
        read.apply(&self.events(), None).expect("applies");
        read
    }

    /// Registers the root unit, by the bootstrap actor `actor`.
    pub fn root(&mut self, actor: &str, code: &str, name: &str, kind: &str) {
        self.submit(
            code,
            actor,
            "unit.registered",
            json!({"code": code, "name": name, "kind": kind, "parent": null}),
        );
        self.homes.insert(actor.to_owned(), code.to_owned());
    }

    /// The unit `actor` belongs to, which their submissions are sent for.
    pub fn home(&self, actor: &str) -> String {
        self.homes
            .get(actor)
            .unwrap_or_else(|| panic!("{actor} is registered here"))
            .clone()
    }

    /// Registers a unit (by `actor`, for the actor's unit).
    pub fn unit(&mut self, actor: &str, code: &str, name: &str, kind: &str, parent: &str) {
        let home = self.home(actor);
        self.submit(
            &home,
            actor,
            "unit.registered",
            json!({"code": code, "name": name, "kind": kind, "parent": parent}),
        );
    }

    /// Registers a cadre (by `actor`).
    pub fn cadre(
        &mut self,
        actor: &str,
        id: &str,
        name: &str,
        unit: &str,
        standing_committee: bool,
    ) {
        let home = self.home(actor);
        self.submit(
            &home,
            actor,
            "cadre.registered",
            json!({"id": id, "full_name": name, "unit": unit, "position": "Cán bộ",
                   "party_member": true, "standing_committee": standing_committee}),
        );
        self.homes.insert(id.to_owned(), unit.to_owned());
    }

    /// Assigns a task with one target (by `actor`, a committee member at
    /// `scope`).
    #[allow(clippy::too_many_arguments)]
    pub fn assign(
        &mut self,
        scope: &str,
        actor: &str,
        task_id: &str,
        cycle: &str,
        assignee: &str,
        title: &str,
        due: &str,
        target: (f64, f64),
    ) {
        self.submit(
            scope,
            actor,
            "task.assigned",
            json!({"task_id": task_id, "cycle": cycle, "assignee": assignee, "title": title,
                   "kind": "breakthrough", "category": "Nông thôn mới", "due": due,
                   "targets": [{"metric": "m", "label": "Chỉ tiêu",
                                "baseline": target.0, "target": target.1}],
                   "origin": "committee"}),
        );
    }
}

impl Scenario {
    /// The writer's state after every submission so far: what the domain
    /// itself holds, to compare a read model with.
    pub fn state(&self) -> &dotpha_domain::State {
        self.ledger.state()
    }
}
