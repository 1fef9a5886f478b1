//! Expansion: who a list reaches now. Static members are resolved by
//! address (a local account or alias, the administrators behind
//! `postmaster@`, another list, or an outside address); a dynamic list asks
//! the HR directory. Nested lists are walked breadth first with a visited
//! set, so a list that includes itself, or two lists that include each
//! other, end; every person comes once however many paths reach them; the
//! depth of nesting and the number of recipients are bounded, past which
//! the expansion is refused with a clear error rather than half-sent.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use model::{AccountId, Address, OrgUnitId};
use store::ListRow;

use crate::Error;
use crate::policy::ListKind;

/// Bounds on an expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Levels of lists within lists below the one written to.
    pub max_depth: usize,
    /// Recipients, local and outside together.
    pub max_recipients: usize,
}

impl Default for Limits {
    /// Ten levels; 250,000 recipients, five times the largest académie's staff.
    fn default() -> Limits {
        Limits { max_depth: 10, max_recipients: 250_000 }
    }
}

/// What an address is, to an expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Local accounts (one, or the administrators behind `postmaster@`).
    Accounts(Vec<AccountId>),
    List(ListRow),
    Outside(Address),
    /// A local address that reaches nobody.
    Unknown,
}

/// Where an expansion reads lists, members and people.
pub(crate) trait Source {
    async fn resolve(&self, address: &Address) -> Result<Resolved, Error>;
    async fn static_members(&self, list: i64) -> Result<Vec<String>, Error>;
    async fn directory_members(&self, unit: OrgUnitId, role: Option<&str>) -> Result<Vec<AccountId>, Error>;
}

/// Who a list reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Local accounts, each once, in id order.
    pub local: Vec<AccountId>,
    /// Outside addresses, each once.
    pub remote: Vec<Address>,
    /// The lists walked, the first one included, by id.
    pub lists: Vec<i64>,
    /// Member addresses that reach nobody (a closed account, a typo).
    pub unknown: Vec<String>,
    /// For each list walked, the lists among its members (for cycle reports).
    pub nested: BTreeMap<i64, Vec<i64>>,
}

impl Expansion {
    pub fn len(&self) -> usize {
        self.local.len() + self.remote.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(crate) async fn expand(source: &impl Source, root: &ListRow, limits: Limits) -> Result<Expansion, Error> {
    let mut seen: HashSet<i64> = HashSet::from([root.id]);
    let mut queue = VecDeque::from([(root.clone(), 0usize)]);
    let mut local = BTreeSet::new();
    let mut remote = BTreeSet::new();
    let mut out = Expansion::default();
    while let Some((list, depth)) = queue.pop_front() {
        out.lists.push(list.id);
        let children = out.nested.entry(list.id).or_default();
        match list.kind.parse::<ListKind>().map_err(Error::Corrupt)? {
            ListKind::Dynamic => {
                let unit =
                    list.unit.ok_or_else(|| Error::Corrupt(format!("{}: dynamic without a unit", list.address)))?;
                local.extend(source.directory_members(unit, list.role.as_deref()).await?);
            }
            ListKind::Static => {
                for member in source.static_members(list.id).await? {
                    let Ok(address) = Address::parse(&member) else {
                        out.unknown.push(member);
                        continue;
                    };
                    match source.resolve(&address).await? {
                        Resolved::Accounts(ids) => local.extend(ids),
                        Resolved::Outside(a) => {
                            remote.insert(a);
                        }
                        Resolved::Unknown => out.unknown.push(member),
                        Resolved::List(nested) => {
                            children.push(nested.id);
                            if !seen.insert(nested.id) {
                                continue;
                            }
                            if depth + 1 > limits.max_depth {
                                return Err(Error::TooDeep { list: root.address.to_string(), limit: limits.max_depth });
                            }
                            queue.push_back((nested, depth + 1));
                        }
                    }
                }
            }
        }
        if local.len() + remote.len() > limits.max_recipients {
            return Err(Error::TooLarge { list: root.address.to_string(), limit: limits.max_recipients });
        }
    }
    out.local = local.into_iter().collect();
    out.remote = remote.into_iter().collect();
    out.lists.sort_unstable();
    out.unknown.sort();
    out.unknown.dedup();
    Ok(out)
}

/// The cycles among nested lists reachable from `root`, each as the path
/// of list ids that comes back to its start (`[a]` for a list that includes
/// itself, `[a, b]` for two that include each other), each cycle once.
pub fn cycles(nested: &BTreeMap<i64, Vec<i64>>, root: i64) -> Vec<Vec<i64>> {
    fn walk(
        at: i64,
        nested: &BTreeMap<i64, Vec<i64>>,
        path: &mut Vec<i64>,
        done: &mut HashSet<i64>,
        found: &mut Vec<Vec<i64>>,
    ) {
        path.push(at);
        for &next in nested.get(&at).map(Vec::as_slice).unwrap_or_default() {
            if let Some(start) = path.iter().position(|&p| p == next) {
                found.push(path[start..].to_vec());
            } else if !done.contains(&next) {
                walk(next, nested, path, done, found);
            }
        }
        path.pop();
        done.insert(at);
    }
    let mut found = Vec::new();
    walk(root, nested, &mut Vec::new(), &mut HashSet::new(), &mut found);
    found
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// An in-memory directory: lists by address, their members, accounts by
    /// address, and the members of each (unit, role) query.
    #[derive(Default)]
    struct Memory {
        lists: HashMap<String, ListRow>,
        members: HashMap<i64, Vec<String>>,
        accounts: HashMap<String, AccountId>,
        directory: HashMap<(OrgUnitId, Option<String>), Vec<AccountId>>,
    }

    impl Memory {
        fn list(&mut self, id: i64, address: &str, members: &[&str]) -> ListRow {
            let row = ListRow {
                id,
                address: Address::parse(address).unwrap(),
                name: address.into(),
                description: String::new(),
                kind: "static".into(),
                unit: None,
                role: None,
                post_policy: "anyone".into(),
                discussion: false,
                tag: None,
                created_at: 0,
                archive: false,
            };
            self.lists.insert(address.into(), row.clone());
            self.members.insert(id, members.iter().map(|m| m.to_string()).collect());
            row
        }
    }

    impl Source for Memory {
        async fn resolve(&self, address: &Address) -> Result<Resolved, Error> {
            let text = address.to_string();
            Ok(if let Some(list) = self.lists.get(&text) {
                Resolved::List(list.clone())
            } else if let Some(id) = self.accounts.get(&text) {
                Resolved::Accounts(vec![*id])
            } else if address.domain().as_str() == "ac-demo.fr" {
                Resolved::Unknown
            } else {
                Resolved::Outside(address.clone())
            })
        }
        async fn static_members(&self, list: i64) -> Result<Vec<String>, Error> {
            Ok(self.members.get(&list).cloned().unwrap_or_default())
        }
        async fn directory_members(&self, unit: OrgUnitId, role: Option<&str>) -> Result<Vec<AccountId>, Error> {
            Ok(self.directory.get(&(unit, role.map(str::to_owned))).cloned().unwrap_or_default())
        }
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    fn people(m: &mut Memory) {
        m.accounts.insert("claire.martin@ac-demo.fr".into(), 1);
        m.accounts.insert("paul.durand@ac-demo.fr".into(), 2);
        m.accounts.insert("c.martin@ac-demo.fr".into(), 1);
    }

    #[test]
    fn nested_lists_reach_each_person_once() {
        let mut m = Memory::default();
        people(&mut m);
        m.list(20, "b@ac-demo.fr", &["paul.durand@ac-demo.fr", "parent@example.org", "Parent@Example.org"]);
        let a = m.list(
            10,
            "a@ac-demo.fr",
            &["claire.martin@ac-demo.fr", "c.martin@ac-demo.fr", "b@ac-demo.fr", "parent@example.org"],
        );
        let e = run(expand(&m, &a, Limits::default())).unwrap();
        assert_eq!(e.local, vec![1, 2]);
        assert_eq!(e.remote, vec![Address::parse("parent@example.org").unwrap()]);
        assert_eq!(e.lists, vec![10, 20]);
        assert!(e.unknown.is_empty());
        assert!(cycles(&e.nested, 10).is_empty());
    }

    #[test]
    fn a_list_in_itself_or_a_cycle_ends_and_is_reported() {
        let mut m = Memory::default();
        people(&mut m);
        let me = m.list(1, "moi@ac-demo.fr", &["moi@ac-demo.fr", "claire.martin@ac-demo.fr"]);
        let e = run(expand(&m, &me, Limits::default())).unwrap();
        assert_eq!(e.local, vec![1]);
        assert_eq!(cycles(&e.nested, 1), vec![vec![1]]);

        m.list(2, "x@ac-demo.fr", &["y@ac-demo.fr", "claire.martin@ac-demo.fr"]);
        m.list(3, "y@ac-demo.fr", &["x@ac-demo.fr", "paul.durand@ac-demo.fr"]);
        let x = m.lists["x@ac-demo.fr"].clone();
        let e = run(expand(&m, &x, Limits::default())).unwrap();
        assert_eq!(e.local, vec![1, 2]);
        assert_eq!(cycles(&e.nested, 2), vec![vec![2, 3]]);
    }

    #[test]
    fn diamonds_are_not_cycles() {
        let mut m = Memory::default();
        people(&mut m);
        m.list(4, "d@ac-demo.fr", &["claire.martin@ac-demo.fr"]);
        m.list(2, "b@ac-demo.fr", &["d@ac-demo.fr"]);
        m.list(3, "c@ac-demo.fr", &["d@ac-demo.fr"]);
        let a = m.list(1, "a@ac-demo.fr", &["b@ac-demo.fr", "c@ac-demo.fr"]);
        let e = run(expand(&m, &a, Limits::default())).unwrap();
        assert_eq!(e.local, vec![1]);
        assert!(cycles(&e.nested, 1).is_empty());
    }

    #[test]
    fn depth_and_size_are_bounded_with_a_clear_error() {
        let mut m = Memory::default();
        people(&mut m);
        let names: Vec<String> = (0..6).map(|i| format!("n{i}@ac-demo.fr")).collect();
        for i in 0..6 {
            let next = names.get(i + 1).map(String::as_str).unwrap_or("claire.martin@ac-demo.fr");
            m.list(i as i64 + 1, &names[i], &[next]);
        }
        let top = m.lists["n0@ac-demo.fr"].clone();
        let deep = run(expand(&m, &top, Limits { max_depth: 3, max_recipients: 10 })).unwrap_err();
        assert!(matches!(deep, Error::TooDeep { limit: 3, .. }), "{deep}");
        assert!(deep.to_string().contains("n0@ac-demo.fr"));
        assert_eq!(run(expand(&m, &top, Limits::default())).unwrap().local, vec![1]);

        let big = m.list(50, "big@ac-demo.fr", &["a@example.org", "b@example.org", "c@example.org"]);
        let large = run(expand(&m, &big, Limits { max_depth: 3, max_recipients: 2 })).unwrap_err();
        assert!(matches!(large, Error::TooLarge { limit: 2, .. }), "{large}");
    }

    #[test]
    fn dynamic_lists_ask_the_directory_and_unknown_members_are_listed() {
        let mut m = Memory::default();
        people(&mut m);
        m.directory.insert((7, Some("enseignant".into())), vec![5, 6, 1]);
        let mut dynamic = m.list(9, "dyn@ac-demo.fr", &[]);
        dynamic.kind = "dynamic".into();
        dynamic.unit = Some(7);
        dynamic.role = Some("enseignant".into());
        m.lists.insert("dyn@ac-demo.fr".into(), dynamic);
        let s = m.list(8, "s@ac-demo.fr", &["dyn@ac-demo.fr", "parti@ac-demo.fr", "pas une adresse"]);
        let e = run(expand(&m, &s, Limits::default())).unwrap();
        assert_eq!(e.local, vec![1, 5, 6]);
        assert_eq!(e.unknown, vec!["parti@ac-demo.fr".to_string(), "pas une adresse".to_string()]);
    }
}
