//! Instance sections that belong to a constraint family rather than to
//! the loader: the top-level keys named by a registered family's
//! [`Family::section`](crate::milp::families::Family::section). The
//! loader sets them aside as YAML values while it reads the rest of the
//! file strictly (an unknown key is still an error), then hands each to
//! its family, which validates it into typed data kept in
//! [`Instance::sections`](super::Instance::sections).

use super::load::Check;
use super::raw::RawInstance;
use super::TaskIx;
use crate::dnn::{AtomIx, Dnn};
use crate::network::{Network, NodeIx};
use serde::de::{DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A family's validated section.
pub type SectionData = Arc<dyn Any + Send + Sync>;

/// The validated sections of the families, by section key.
#[derive(Clone, Default)]
pub struct Sections(BTreeMap<&'static str, SectionData>);

impl Sections {
    /// The data of section `key`, if the instance has it and it is a `T`.
    pub fn get<T: Any>(&self, key: &str) -> Option<&T> {
        self.0.get(key).and_then(|d| d.downcast_ref::<T>())
    }

    /// Sets the data of section `key`.
    pub fn insert(&mut self, key: &'static str, data: SectionData) {
        self.0.insert(key, data);
    }
}

impl fmt::Debug for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// What a family's [`load`](crate::milp::families::Family::load) sees:
/// its section as written, the validated parts of the instance it may
/// refer to, and the problem list.
pub struct SectionInput<'a, 'c> {
    /// The section's key (the start of every field path).
    pub key: &'static str,
    /// The section as written.
    pub value: &'a serde_yaml::Value,
    /// The DNN.
    pub dnn: &'a Dnn,
    /// The network.
    pub network: &'a Network,
    /// Task names, by index.
    pub tasks: &'a [String],
    /// Quantization group names, by index.
    pub groups: &'a [String],
    /// Where problems go.
    pub(crate) check: &'a mut Check<'c>,
}

impl SectionInput<'_, '_> {
    /// Records a problem at field path `path` (below the section's key).
    pub fn err(&mut self, path: &str, msg: impl Into<String>) {
        let p = format!("{}{path}", self.key);
        self.check.err(p, msg);
    }

    /// The section deserialized as a `T` (with `#[serde(default)]` and
    /// `deny_unknown_fields` as the type declares); `None` after
    /// recording serde's problem at its field path.
    pub fn parse<T: DeserializeOwned>(&mut self) -> Option<T> {
        match serde_path_to_error::deserialize(self.value.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                let path = e.path().to_string();
                let path = if path == "." {
                    String::new()
                } else if path.starts_with('[') {
                    path
                } else {
                    format!(".{path}")
                };
                let msg = super::load::serde_message(e.into_inner().to_string(), &path, "");
                self.err(&path, msg);
                None
            }
        }
    }

    /// The tasks named at `path.tasks` (every task when `list` is
    /// `None`); unknown names are recorded and left out.
    pub fn select_tasks(&mut self, path: &str, list: Option<&[String]>) -> Vec<TaskIx> {
        let p = format!("{}{path}", self.key);
        super::rules::select_tasks(&p, list, self.tasks, self.check)
    }

    /// The nodes named at `path.nodes` (every node when `list` is
    /// `None`); unknown names are recorded and left out.
    pub fn select_nodes(&mut self, path: &str, list: Option<&[String]>) -> Vec<NodeIx> {
        let Some(list) = list else {
            return (0..self.network.len()).collect();
        };
        let mut out = Vec::new();
        for (k, name) in list.iter().enumerate() {
            match self.network.node_by_name(name) {
                Some(n) => out.push(n),
                None => self.err(
                    &format!("{path}.nodes[{k}]"),
                    format!("unknown node '{name}'"),
                ),
            }
        }
        out
    }

    /// The atoms whose id or layer matches the glob at `path.atoms` (every
    /// atom when `glob` is `None`); `None` after recording a bad pattern
    /// or one that matches nothing.
    pub fn select_atoms(&mut self, path: &str, glob: Option<&str>) -> Option<Vec<AtomIx>> {
        if glob.is_none() {
            return Some((0..self.dnn.len()).collect());
        }
        let p = format!("{}{path}", self.key);
        super::rules::select_atoms(&p, glob, None, None, self.dnn, self.groups, self.check)
    }
}

/// The instance file: [`RawInstance`] read strictly, and the sections of
/// the registered families set aside, in file order.
pub(crate) struct Split {
    pub raw: RawInstance,
    pub sections: Vec<(&'static str, serde_yaml::Value)>,
}

impl<'de> Deserialize<'de> for Split {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(SplitVisitor)
    }
}

struct SplitVisitor;

impl<'de> Visitor<'de> for SplitVisitor {
    type Value = Split;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // serde_message turns this into the caller's `expected`.
        f.write_str("struct RawInstance")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Split, A::Error> {
        let mut sections = Vec::new();
        let filtered = Filtered {
            inner: map,
            sections: &mut sections,
        };
        let raw = RawInstance::deserialize(serde::de::value::MapAccessDeserializer::new(filtered))?;
        Ok(Split { raw, sections })
    }
}

/// The top-level mapping without the families' sections, which it keeps.
struct Filtered<'s, A> {
    inner: A,
    sections: &'s mut Vec<(&'static str, serde_yaml::Value)>,
}

/// A key read by [`Filtered`]: one of a family's sections, or a key of
/// [`RawInstance`] already passed to its own seed.
enum Key<T> {
    Section(&'static str),
    Field(T),
}

/// Reads a key as a string and routes it: a family's section key is kept
/// aside, any other goes to `seed` (so serde reports an unknown key at its
/// own position, as before).
struct KeySeed<'k, K> {
    seed: &'k mut Option<K>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, K> {
    type Value = Key<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<'_, K> {
    type Value = Key<K::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        if let Some(key) =
            crate::milp::families::all().find_map(|f| f.section().filter(|k| *k == s))
        {
            return Ok(Key::Section(key));
        }
        let seed = self.seed.take().expect("a key seed is used once");
        seed.deserialize(serde::de::value::StrDeserializer::<E>::new(s))
            .map(Key::Field)
            .map_err(|e| {
                // serde lists the fields of RawInstance; the families'
                // sections are keys too.
                let msg = e.to_string();
                if !msg.starts_with("unknown field") {
                    return e;
                }
                let sections: Vec<String> = crate::milp::families::all()
                    .filter_map(|f| f.section())
                    .map(|k| format!("`{k}`"))
                    .collect();
                if sections.is_empty() {
                    return e;
                }
                E::custom(format!(
                    "{msg}, or a family's section: {}",
                    sections.join(", ")
                ))
            })
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = Some(seed);
        loop {
            match self.inner.next_key_seed(KeySeed { seed: &mut seed })? {
                None => return Ok(None),
                Some(Key::Field(v)) => return Ok(Some(v)),
                Some(Key::Section(key)) => {
                    let value: serde_yaml::Value = self.inner.next_value()?;
                    self.sections.push((key, value));
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}
