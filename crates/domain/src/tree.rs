//! The unit tree with its validity dates: the one answer to "is unit X
//! within unit Y?" that the rules, the read models and HTTP all use.
//!
//! A unit has the parent it was registered under, for good: its history
//! stays attached to the unit as it was. A merge (`unit.merged`) closes the
//! unit on its `effective_on` and, from that day, also places it under its
//! successor. So at a date `at`:
//!
//! - [`UnitTree::is_within`] (who may act for, and who may read, what) walks
//!   up by parents, and by successors of merges in effect on `at`: a commune
//!   merged into another district's commune is within both districts from
//!   the merge on, so the body that gave its cadres their tasks still judges
//!   them, and the successor's committee acts for it too;
//! - [`UnitTree::rolls_up_into`] (what a roll-up counts) follows one edge
//!   per unit, so nothing is counted twice: in [`TreeView::Today`] a unit
//!   merged by `at` rolls up into its successor alone, otherwise into its
//!   parent; in [`TreeView::AsItWas`] always into its parent.
//!
//! A merge recorded before its `effective_on` changes nothing until that
//! day. A unit is [`closed_on`](UnitTree::closed_on) a date from its merge's
//! `effective_on` on.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use crate::time::Date;

/// Which tree a roll-up follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TreeView {
    /// Today's tree: a merged unit (and what lies below it) rolls up into
    /// its successor.
    #[default]
    Today,
    /// The tree as it was registered: merged units stay where they were.
    AsItWas,
}

/// One unit's place in the tree. Codes are shared: a parent or successor
/// already in the tree is held as its own key, not copied (a province's
/// tree is held by its writer and by every process that checks access).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Node {
    parent: Option<Arc<str>>,
    /// The successor and the day the merge took effect.
    merged: Option<(Arc<str>, Date)>,
}

/// Units by code, with their parents and merges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitTree {
    nodes: HashMap<Arc<str>, Node>,
}

impl UnitTree {
    /// An empty tree.
    pub fn new() -> UnitTree {
        UnitTree::default()
    }

    /// Adds a unit under `parent` (`None` for the root). A code seen before
    /// keeps its first place (the rules never register one twice).
    pub fn insert(&mut self, code: &str, parent: Option<&str>) {
        if self.nodes.contains_key(code) {
            return;
        }
        let parent = parent.map(|p| self.shared(p));
        self.nodes.insert(
            Arc::from(code),
            Node {
                parent,
                merged: None,
            },
        );
    }

    /// `code` as the tree holds it when it is a unit of the tree, else a new
    /// copy.
    fn shared(&self, code: &str) -> Arc<str> {
        self.nodes
            .get_key_value(code)
            .map_or_else(|| Arc::from(code), |(key, _)| key.clone())
    }

    /// Records that `from` merges into `into` on `effective_on`.
    pub fn merge(&mut self, from: &str, into: &str, effective_on: Date) {
        let into = self.shared(into);
        if let Some(node) = self.nodes.get_mut(from) {
            node.merged = Some((into, effective_on));
        }
    }

    /// How many units it holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether it holds no unit.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether `code` is a unit of the tree.
    pub fn contains(&self, code: &str) -> bool {
        self.nodes.contains_key(code)
    }

    /// Every unit's code, in no particular order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(|code| &**code)
    }

    /// The parent `code` was registered under.
    pub fn parent(&self, code: &str) -> Option<&str> {
        self.nodes.get(code)?.parent.as_deref()
    }

    /// The unit `code` was merged into and the day it took effect, once a
    /// merge is recorded (whatever its date).
    pub fn merge_of(&self, code: &str) -> Option<(&str, Date)> {
        let (into, on) = self.nodes.get(code)?.merged.as_ref()?;
        Some((&**into, *on))
    }

    /// The successor of `code` when `code` is closed on `at` (its merge took
    /// effect on or before `at`).
    pub fn closed_on(&self, code: &str, at: Date) -> Option<&str> {
        self.merge_of(code)
            .filter(|(_, on)| *on <= at)
            .map(|(into, _)| into)
    }

    /// The edges up from `code` that hold on `at` (on every day, for
    /// `None`) for acting and reading: its parent, and its successor once
    /// merged.
    fn up(&self, code: &str, at: Option<Date>) -> impl Iterator<Item = &str> {
        let node = self.nodes.get(code);
        let parent = node.and_then(|n| n.parent.as_deref());
        let successor = match at {
            Some(at) => self.closed_on(code, at),
            None => self.merge_of(code).map(|(into, _)| into),
        };
        parent.into_iter().chain(successor)
    }

    /// The one edge a roll-up follows up from `code` on `at` in `view`.
    fn roll_up(&self, code: &str, view: TreeView, at: Date) -> Option<&str> {
        match (view, self.closed_on(code, at)) {
            (TreeView::Today, Some(successor)) => Some(successor),
            _ => self.parent(code),
        }
    }

    /// Whether `unit` is `ancestor` or lies below it on `at`, going up by
    /// parents and by the successors of merges in effect on `at`. This is
    /// the scope and authority question of the contract ("a unit below
    /// it", "a unit above it") wherever it is asked.
    pub fn is_within(&self, unit: &str, ancestor: &str, at: Date) -> bool {
        self.walk_up(unit, ancestor, Some(at))
    }

    /// Whether `unit` lies within `ancestor` on some day, counting every
    /// recorded merge whatever its date: a merge that would place a unit
    /// below itself, now or later, is refused with this.
    pub fn is_ever_within(&self, unit: &str, ancestor: &str) -> bool {
        self.walk_up(unit, ancestor, None)
    }

    fn walk_up(&self, unit: &str, ancestor: &str, at: Option<Date>) -> bool {
        // The tree is small (thousands of units) and shallow; each unit is
        // visited at most once, which bounds the walk even if a corrupt log
        // held a cycle.
        let mut stack = vec![unit];
        let mut seen = HashSet::new();
        while let Some(code) = stack.pop() {
            if code == ancestor {
                return true;
            }
            if seen.insert(code) {
                stack.extend(self.up(code, at));
            }
        }
        false
    }

    /// Whether `unit`'s figures roll up into `root` on `at` in `view`:
    /// `root` itself, or reached by following one edge per unit (see the
    /// module's documentation).
    pub fn rolls_up_into(&self, unit: &str, root: &str, view: TreeView, at: Date) -> bool {
        let mut code = unit;
        for _ in 0..=self.nodes.len() {
            if code == root {
                return true;
            }
            match self.roll_up(code, view, at) {
                Some(up) => code = up,
                None => return false,
            }
        }
        false
    }

    /// `root` and every unit that rolls up into it on `at` in `view`.
    pub fn subtree(&self, root: &str, view: TreeView, at: Date) -> HashSet<String> {
        let mut inside: HashMap<&str, bool> = HashMap::new();
        inside.insert(root, true);
        let mut out = HashSet::new();
        for code in self.nodes.keys() {
            // Walk up until a unit whose answer is known, then mark the path.
            let mut path = Vec::new();
            let mut at_code = Some(&**code);
            let answer = loop {
                let Some(c) = at_code else { break false };
                if let Some(&known) = inside.get(c) {
                    break known;
                }
                if path.contains(&c) || path.len() > self.nodes.len() {
                    break false;
                }
                path.push(c);
                at_code = self.roll_up(c, view, at);
            };
            for c in path {
                inside.insert(c, answer);
            }
            if answer {
                out.insert(code.to_string());
            }
        }
        if self.contains(root) {
            out.insert(root.to_owned());
        }
        out
    }

    /// The units whose roll-up edge on `at` in `view` leads to `code`.
    pub fn children(&self, code: &str, view: TreeView, at: Date) -> Vec<&str> {
        self.nodes
            .keys()
            .map(|code| &**code)
            .filter(|c| *c != code && self.roll_up(c, view, at) == Some(code))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        Date::parse(text).expect("a date")
    }

    /// A province with two districts; commune X of district A merges into
    /// commune Y of district B on 2025-07-01; village V lies in X.
    fn tree() -> UnitTree {
        let mut t = UnitTree::new();
        t.insert("p", None);
        t.insert("a", Some("p"));
        t.insert("b", Some("p"));
        t.insert("x", Some("a"));
        t.insert("y", Some("b"));
        t.insert("v", Some("x"));
        t.merge("x", "y", day("2025-07-01"));
        t
    }

    #[test]
    fn before_the_merge_a_unit_lies_below_its_parent_only() {
        let t = tree();
        let before = day("2025-06-30");
        assert!(t.is_within("v", "a", before));
        assert!(!t.is_within("v", "b", before));
        assert!(!t.is_within("x", "y", before));
        assert_eq!(t.closed_on("x", before), None);
        assert!(t.rolls_up_into("v", "a", TreeView::Today, before));
    }

    #[test]
    fn from_the_merge_on_a_unit_lies_below_its_parent_and_its_successor() {
        let t = tree();
        let on = day("2025-07-01");
        for ancestor in ["x", "a", "y", "b", "p"] {
            assert!(t.is_within("v", ancestor, on), "v within {ancestor}");
        }
        assert!(!t.is_within("y", "x", on), "the successor is not below");
        assert_eq!(t.closed_on("x", on), Some("y"));
    }

    #[test]
    fn roll_ups_count_a_merged_unit_once() {
        let t = tree();
        let on = day("2026-01-01");
        let today = t.subtree("b", TreeView::Today, on);
        assert!(today.contains("x") && today.contains("v"));
        assert!(!t.subtree("a", TreeView::Today, on).contains("v"));
        let as_was = t.subtree("a", TreeView::AsItWas, on);
        assert!(as_was.contains("x") && as_was.contains("v"));
        assert!(!t.subtree("b", TreeView::AsItWas, on).contains("x"));
        let mut children = t.children("y", TreeView::Today, on);
        children.sort();
        assert_eq!(children, vec!["x"]);
        assert!(t.children("a", TreeView::Today, on).is_empty());
        assert_eq!(t.children("a", TreeView::AsItWas, on), vec!["x"]);
    }

    #[test]
    fn a_loop_in_a_corrupt_tree_ends_the_walks() {
        let mut t = UnitTree::new();
        t.insert("a", Some("b"));
        t.insert("b", Some("a"));
        let at = day("2021-01-01");
        assert!(!t.is_within("a", "c", at));
        assert!(!t.rolls_up_into("a", "c", TreeView::Today, at));
        assert_eq!(t.subtree("c", TreeView::Today, at).len(), 0);
    }
}
